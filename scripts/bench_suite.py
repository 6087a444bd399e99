"""The classic suite: our agents beside Stable-Baselines3 with the RL Zoo's hyperparameters.

    python scripts/bench_suite.py                          # every row, seeds 0 1 2, two workers
    python scripts/bench_suite.py --rows dqn/CartPole-v1 --seeds 0 1 --out results/suite

Each row (`agents.benchmarks.suite.SUITE`) trains our agent, and SB3's algorithm of the same name
with the RL Zoo's hyperparameters where SB3 has it (DQN, DDPG, TD3, PPO), for the row's budget,
once per seed, in one process pool; both are evaluated greedily on the same seeded episodes.
Writes bench_suite.md (the table, also printed), bench_suite.json (every figure) and
bench_suite.png (the curves) to --out. SB3 is the `[compare]` extra (pip install -e
".[compare]"); without it, ours runs alone and the script says so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from agents.atomic import write_json, write_text
from agents.benchmarks.suite import SUITE, SuiteConfig, describe_run, run_suite, sb3_version
from agents.benchmarks.suite_report import markdown_table, plot_curves


def build_parser() -> argparse.ArgumentParser:
    """The parser of bench_suite.py."""
    parser = argparse.ArgumentParser(
        prog="bench_suite.py",
        description="\n\n".join(__doc__.split("\n\n")[:2]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--rows", nargs="+", choices=list(SUITE), default=list(SUITE), metavar="ROW",
        help=f"rows to run, from: {' '.join(SUITE)} (default: all)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="(default: 0 1 2)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel runs (default: 2)")
    parser.add_argument(
        "--steps", type=int, help="env steps per run, for every row (default: each row's own)"
    )
    parser.add_argument(
        "--curve-points", type=int, default=10, help="evaluations per run (default: 10)"
    )
    parser.add_argument(
        "--curve-episodes", type=int, default=100, help="episodes per curve point (default: 100)"
    )
    parser.add_argument(
        "--val-episodes", type=int, default=100,
        help="our validation episodes (the best weights are kept; 0: none) (default: 100)",
    )  # fmt: skip
    parser.add_argument(
        "--eval-episodes", type=int, default=100, help="final evaluation episodes (default: 100)"
    )
    parser.add_argument("--no-sb3", action="store_true", help="run ours alone")
    parser.add_argument("--out", default="results/suite", help="(default: results/suite)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the suite; returns the exit status."""
    args = build_parser().parse_args(argv)
    config = SuiteConfig(
        rows=tuple(args.rows), seeds=tuple(args.seeds), jobs=args.jobs,
        curve_points=args.curve_points, curve_episodes=args.curve_episodes,
        val_episodes=args.val_episodes, eval_episodes=args.eval_episodes, steps=args.steps,
        with_sb3=not args.no_sb3,
    )  # fmt: skip
    try:
        config.check()
    except ValueError as error:
        print(f"bench_suite.py: error: {error}", file=sys.stderr)
        return 2
    if not args.no_sb3 and sb3_version() is None:
        print('Stable-Baselines3 is not installed (pip install -e ".[compare]"): ours alone')
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python scripts/bench_suite.py " + " ".join(sys.argv[1:] if argv is None else argv)

    def save(results: dict, run: dict) -> None:
        print(describe_run(run), flush=True)
        write_json(out / "bench_suite.json", {"command": command, **results})

    results = run_suite(config, save)
    table = markdown_table(results)
    write_json(out / "bench_suite.json", {"command": command, **results, "table": table})
    write_text(out / "bench_suite.md", table + "\n")
    plot_curves(results, out / "bench_suite.png")
    print(table)
    print(f"results: {out}/bench_suite.md, bench_suite.json, bench_suite.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
