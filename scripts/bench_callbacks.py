"""Benchmarks of the callbacks package: what logging costs a DQN's `agent.fit`.

Run: `python scripts/bench_callbacks.py --steps 2000 --repeats 4`. It trains one DQN on Blob and
times `fit` calls alternately without callbacks and with `ModifiedTensorBoard` plus
`TrainIntervalLogger` (the same agent, in the same process, so both see the same machine load),
then prints steps/s for each as mean ± std over the repeats, and their ratio. On a busy machine
the two rates are noisy; the share of the logged fit's time spent inside the callbacks' hooks
(timed in the same calls) is the steadier figure: the ratio is about 1 minus that share. The
measurement is `agents.benchmarks.logging_overhead.bench_logging_overhead`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agents.benchmarks.logging_overhead import bench_logging_overhead


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark from the command line and prints its figures.

    Args:
        argv: Command-line arguments (default `sys.argv[1:]`).

    Returns:
        The exit status: 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Blob-v0", help="Gymnasium env id")
    parser.add_argument("--steps", type=int, default=2_000, help="env steps per timed fit")
    parser.add_argument("--repeats", type=int, default=4, help="timed pairs of fit calls")
    parser.add_argument("--warmup", type=int, default=500, help="untimed env steps first")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = bench_logging_overhead(args.env, args.steps, args.repeats, args.warmup, args.seed)
    print(f"agent.fit on {args.env}, {args.steps} steps x {args.repeats} repeats")
    print(f"  no callbacks:                       {_rate(result, 'plain')}")
    print(f"  ModifiedTensorBoard + progress bar: {_rate(result, 'logged')}")
    print(f"  ratio: {result['ratio']:.1%}")
    print(f"  time inside the callbacks' hooks: {result['callback_share']:.2%} of the logged fits")
    return 0


def _rate(result: dict[str, Any], kind: str) -> str:
    return f"{result[f'{kind}_mean']:.0f} ± {result[f'{kind}_std']:.0f} steps/s"


if __name__ == "__main__":
    sys.exit(main())
