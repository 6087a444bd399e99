"""Interpreter start-up with and without blobenv's gymnasium import hook.

    python scripts/bench_startup.py [--runs 200] [--gymnasium-runs 10] [--instruction-runs 3]
                                    [--wheel PATH] [--out runs/bench_startup.json]

The project's wheel (built from this checkout unless ``--wheel`` is given) is installed into a
scratch virtual environment, where ``python -c pass`` and ``python -c 'import gymnasium'`` run
alternately with and without the hook's ``.pth``; `agents.benchmarks.startup` says why that is
fair. Three measures: wall time, the child's CPU time, and, when valgrind is installed, the
instructions executed. Prints a Markdown table (medians, half the interquartile range, the ratio
of the medians, the median of the paired differences with a bootstrap 95% interval) and writes
all samples to a JSON file.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.atomic import write_json
from agents.benchmarks import startup

ROOT = Path(__file__).resolve().parents[1]


def run_count(minimum: int) -> Callable[[str], int]:
    """Returns an argparse type for a run count of at least `minimum`."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum} runs, got {value}")
        return value

    return parse


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Runs the benchmark, prints its table and writes its JSON.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        What was written to the JSON file.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=run_count(2), default=200, help="`-c pass` runs each")
    parser.add_argument(
        "--gymnasium-runs", type=run_count(0), default=10, help="`import gymnasium` runs each"
    )
    parser.add_argument(
        "--instruction-runs",
        type=run_count(0),
        default=3,
        help="`-c pass` runs each under callgrind (skipped, with a note, without valgrind)",
    )
    parser.add_argument("--wheel", type=Path, help="an already built blobenv wheel")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_startup.json"))
    args = parser.parse_args(argv)
    if args.wheel is not None and not args.wheel.is_file():
        parser.error(f"--wheel {args.wheel}: no such file (expected a blobenv-*.whl)")
    instruction_runs = args.instruction_runs
    if instruction_runs and shutil.which("valgrind") is None:
        print("valgrind not found: no instruction counts.", file=sys.stderr)
        instruction_runs = 0

    with tempfile.TemporaryDirectory(prefix="bench_startup_") as scratch:
        work = Path(scratch)
        wheel = args.wheel or startup.build_wheel(ROOT, work)
        python, purelib = startup.make_venv(work / "venv", wheel)
        pth = purelib / f"{startup.HOOK}.pth"
        rows, samples = startup.compare(
            python, pth, args.runs, args.gymnasium_runs, instruction_runs
        )

    print(startup.markdown(rows))
    result = {
        "python": sys.version,
        "platform": platform.platform(),
        "wheel": wheel.name,
        "rows": [
            {"command": command, "figure": figure, "runs": runs, "summary": summary}
            for command, figure, runs, summary in rows
        ],
        "samples": samples,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"\nWrote {args.out}")
    return result


if __name__ == "__main__":
    main()
