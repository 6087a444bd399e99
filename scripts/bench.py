"""Speed benchmarks: a table of named benchmarks, any subset run from the command line.

    python scripts/bench.py                      # every benchmark, table + bench.json
    python scripts/bench.py --only env --seconds 5 --out results/bench.json

Each benchmark is a function in :data:`BENCHMARKS` that takes the time budget per measurement
and returns result rows. The env benchmarks are here, the agent ones (DQN against the tutorial's
loop, replay sampling, XLA, memory use) in scripts/bench_agents.py. Rates of single-threaded work
are per second of this process's CPU time (``time.process_time``), which on an idle machine is
the wall-clock rate and on a busy one is not diluted by the other processes; see bench_agents.py
for TensorFlow's. Rates compared in one row are measured in alternating short rounds and compared
by their medians, so whatever load remains (caches, frequency) hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

if __package__ in (None, ""):  # run as `python scripts/bench.py`: import `scripts` too
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import blobenv  # noqa: E402, F401  (registers the Blob ids)

ROUNDS = 10
VECTOR_ENVS = 1024
#: The default of --seconds.
DEFAULT_SECONDS = 4.0
#: The benchmarks of scripts/bench_agents.py, in the order they run.
AGENT_BENCHMARKS = ("tutorial", "default", "sampling", "xla", "memory")


class Result(NamedTuple):
    """One row of the results table."""

    benchmark: str
    metric: str
    value: float
    unit: str
    target: str = ""


def single_env_rate(env: gym.Env, seconds: float) -> float:
    """Step an env with random actions, resetting when an episode ends.

    Args:
        env: The env, already reset.
        seconds: How much CPU time to step it for.

    Returns:
        Steps per CPU second.
    """
    sample = env.action_space.sample
    steps, start = 0, time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(100):
            _, _, terminated, truncated, _ = env.step(sample())
            if terminated or truncated:
                env.reset()
        steps += 100
        now = time.process_time()
        if now >= deadline:
            return steps / (now - start)


def vector_env_rate(envs: gym.vector.VectorEnv, seconds: float) -> float:
    """Step a vector env with random actions (it autoresets).

    Args:
        envs: The vector env, already reset.
        seconds: How much CPU time to step it for.

    Returns:
        Sub-env steps per CPU second.
    """
    sample = envs.action_space.sample
    steps, start = 0, time.process_time()
    deadline = start + seconds
    while True:
        envs.step(sample())
        steps += envs.num_envs
        now = time.process_time()
        if now >= deadline:
            return steps / (now - start)


def interleaved_rates(
    measures: dict[str, Callable[[float], float]], seconds: float
) -> dict[str, float]:
    """Run several rate measurements in alternating rounds and return each one's median.

    Args:
        measures: Name to a function that measures a rate over a given number of seconds.
        seconds: Total time for each measurement, split over :data:`ROUNDS` rounds.

    Returns:
        Name to the median rate.
    """
    rates: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(ROUNDS):
        for name, measure in measures.items():
            rates[name].append(measure(seconds / ROUNDS))
    return {name: float(np.median(values)) for name, values in rates.items()}


def _made(env_id: str, **kwargs: Any) -> gym.Env:
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)
    return env


def bench_env(seconds: float) -> list[Result]:
    """Single-env steps/s of Blob-v0 against FrozenLake-v1, both through ``gymnasium.make``.

    Args:
        seconds: Time for each of the two measurements.

    Returns:
        The two rates and their ratio (target: at least 0.5).
    """
    blob, lake = _made("Blob-v0"), _made("FrozenLake-v1")
    rates = interleaved_rates(
        {
            "Blob-v0": lambda s: single_env_rate(blob, s),
            "FrozenLake-v1": lambda s: single_env_rate(lake, s),
        },
        seconds,
    )
    ratio = rates["Blob-v0"] / rates["FrozenLake-v1"]
    return [
        Result("env", "Blob-v0 steps/s", rates["Blob-v0"], "steps/s"),
        Result("env", "FrozenLake-v1 steps/s", rates["FrozenLake-v1"], "steps/s"),
        Result("env", "Blob / FrozenLake", ratio, "x", ">= 0.5"),
    ]


def bench_vector(seconds: float) -> list[Result]:
    """Steps/s of the native vector env at 1024 sub-envs against the single env.

    Args:
        seconds: Time for each of the two measurements.

    Returns:
        The two rates and their ratio (target: at least 50).
    """
    blob = _made("Blob-v0")
    envs = gym.make_vec("Blob-v0", num_envs=VECTOR_ENVS)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    rates = interleaved_rates(
        {
            "vector": lambda s: vector_env_rate(envs, s),
            "single": lambda s: single_env_rate(blob, s),
        },
        seconds,
    )
    envs.close()
    return [
        Result("vector", f"BlobVectorEnv x{VECTOR_ENVS} steps/s", rates["vector"], "steps/s"),
        Result("vector", "Blob-v0 single env steps/s", rates["single"], "steps/s"),
        Result("vector", "vector / single", rates["vector"] / rates["single"], "x", ">= 50"),
    ]


def agent_benchmark(name: str) -> Callable[[float], list[Result]]:
    """Benchmark `name` of scripts/bench_agents.py, imported when it runs (it loads TensorFlow).

    Args:
        name: One of :data:`AGENT_BENCHMARKS`.

    Returns:
        A function of the time budget, like the others in :data:`BENCHMARKS`.
    """

    def run(seconds: float) -> list[Result]:
        from scripts import bench_agents

        return bench_agents.BENCHMARKS[name](seconds)

    return run


BENCHMARKS: dict[str, Callable[[float], list[Result]]] = {
    "env": bench_env,
    "vector": bench_vector,
    # "memory" comes last: it reports the peak resident memory of everything before it.
    **{name: agent_benchmark(name) for name in AGENT_BENCHMARKS},
}


def markdown_table(results: Sequence[Result]) -> str:
    """Format results as a Markdown table.

    Args:
        results: The rows.

    Returns:
        The table, one line per row plus the header.
    """
    lines = ["| benchmark | metric | value | unit | target |", "|---|---|---|---|---|"]
    for r in results:
        value = f"{r.value:,.0f}" if r.value >= 1000 else f"{r.value:.2f}"
        lines.append(f"| {r.benchmark} | {r.metric} | {value} | {r.unit} | {r.target} |")
    return "\n".join(lines)


def write_json(path: str, payload: dict[str, Any]) -> None:
    """Write JSON atomically: to a temporary file beside ``path``, then renamed over it.

    Args:
        path: The destination file.
        payload: JSON-able data.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

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
    """Run the chosen benchmarks, print a Markdown table and write the JSON file.

    Args:
        argv: The command-line arguments; None for ``sys.argv[1:]``.

    Returns:
        The result rows.
    """
    args = parse_args(argv)
    results = [row for name in args.only for row in BENCHMARKS[name](args.seconds)]
    print(markdown_table(results))
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
