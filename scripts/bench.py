"""Speed benchmarks: a table of named benchmarks, any subset run from the command line.

    python scripts/bench.py                      # every benchmark, table + bench.json
    python scripts/bench.py --only env --seconds 5 --out results/bench.json

Each benchmark is a function of `agents.benchmarks` that takes the time budget per measurement
and returns result rows: the env benchmarks in `agents.benchmarks.env`, the DQN against the
tutorial's loop and XLA in `agents.benchmarks.dqn`, replay sampling and memory use in
`agents.benchmarks.replay`. Rates of single-threaded work are per second of this process's CPU
time (``time.process_time``), which on an idle machine is the wall-clock rate and on a busy one
is not diluted by the other processes; TensorFlow's work is timed by the wall clock, with the
ratio by CPU time beside it. Rates compared in one row are measured in alternating short rounds
and compared by their medians, so whatever load remains (caches, frequency) hits both alike.
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np

from agents.atomic import write_json
from agents.benchmarks import distributed, dqn, env, replay, update_rate
from agents.benchmarks.measure import DEFAULT_SECONDS, Result, markdown_table

BENCHMARKS: dict[str, Callable[[float], list[Result]]] = {
    "env": env.bench_env,
    "vector": env.bench_vector,
    "tutorial": dqn.bench_tutorial,
    "default": dqn.bench_default,
    "sampling": replay.bench_sampling,
    "xla": dqn.bench_xla,
    "updates": update_rate.bench_updates,
    "distributed": distributed.bench_distributed,
    # "memory" comes last: it reports the peak resident memory of everything before it.
    "memory": replay.bench_memory,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv: The arguments, without the program name; None for ``sys.argv[1:]``.

    Returns:
        The options: ``only`` (list of benchmark names), ``seconds``, ``out``.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks to run, of: {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help="CPU seconds per measurement; the agent benchmarks scale their step counts by it "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--out", default="bench.json", help="JSON results file (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in BENCHMARKS]
    if unknown or not args.only:
        parser.error(f"--only takes names from {list(BENCHMARKS)}, got {args.only}")
    if args.seconds <= 0:
        parser.error(f"--seconds must be positive, got {args.seconds}")
    return args


def main(argv: Sequence[str] | None = None) -> list[Result]:
    """Runs the chosen benchmarks, prints a Markdown table and writes the JSON file.

    Args:
        argv: The command-line arguments; None for ``sys.argv[1:]``.

    Returns:
        The result rows.
    """
    args = parse_args(argv)
    results = [row for name in args.only for row in BENCHMARKS[name](args.seconds)]
    print(markdown_table(results))
    Path(args.out).absolute().parent.mkdir(parents=True, exist_ok=True)
    write_json(
        args.out,
        {
            "only": args.only,
            "seconds": args.seconds,
            "clock": "env, vector, sampling: time.process_time (CPU time of this process); "
            "tutorial, default, xla: time.perf_counter (wall clock), ratios also by CPU time",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "gymnasium": gym.__version__,
            "cpus": os.cpu_count(),
            "results": [r._asdict() for r in results],
        },
    )
    return results


if __name__ == "__main__":
    main()
