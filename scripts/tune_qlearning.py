"""Measures how fast tabular Q-learning reaches 90% and 95% of the optimum on coords Blob.

Trains a `QLearningAgent` on `gymnasium.make_vec("Blob-v0", obs_type="coords")` and, every
`--eval-every` env steps, plays 500 seeded greedy episodes and compares their mean return with
the exact optimum of the same starts (`agents.benchmarks.qlearning_speed`). Prints a Markdown
table of env steps and training seconds (evaluation excluded) to 90% and 95%, and optionally
writes every learning curve as JSON.

    python scripts/tune_qlearning.py                                  # the agent's defaults
    python scripts/tune_qlearning.py --settings defaults tutorial --stop-at 2 --budget 5000000
    python scripts/tune_qlearning.py --learning-rate 0.5 --epsilon 0.1 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from agents.atomic import write_json
from agents.benchmarks.qlearning_speed import ENV_ID, SETTINGS, markdown_table, measure
from agents.scoring import evaluation_seeds

HYPERPARAMETERS = ("learning_rate", "gamma", "epsilon", "epsilon_decay", "min_epsilon")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; hyperparameter flags override every chosen setting."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=["defaults"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--budget", type=int, default=8_000_000, help="env steps per run, at most")
    parser.add_argument("--eval-every", type=int, default=250_000)
    parser.add_argument("--eval-episodes", type=int, default=500)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--stop-at", type=float, default=0.95, help="fraction of the optimum")
    for name in HYPERPARAMETERS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=float)
    parser.add_argument("--initial-q", type=float, nargs="+", help="a value, or low high")
    parser.add_argument("--json", help="write every run's learning curve to this file")
    args = parser.parse_args(argv)
    for name in ("budget", "eval_every", "eval_episodes", "num_envs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Runs every (settings, seed) pair, prints the table and writes the JSON if asked."""
    args = parse_args(argv)
    overrides = {name: getattr(args, name) for name in HYPERPARAMETERS}
    overrides = {name: value for name, value in overrides.items() if value is not None}
    if args.initial_q is not None:
        overrides["initial_q"] = args.initial_q[0] if len(args.initial_q) == 1 else args.initial_q
    # The evaluation starts are disjoint from any training seed's first resets.
    eval_seeds = evaluation_seeds(args.eval_episodes)
    import keras  # noqa: F401  (imported by fit; loaded here so no run's timing includes it)

    results, names = [], []
    for name in args.settings:
        for seed in args.seeds:
            settings = {**SETTINGS[name], **overrides}
            result = measure(
                settings, seed, args.budget, args.eval_every, args.num_envs, eval_seeds,
                args.stop_at,
            )  # fmt: skip
            results.append(result)
            names.append(name + (" (modified)" if overrides else ""))
            print(markdown_table(results[-1:], names[-1:]).splitlines()[-1], flush=True)
    print(f"\n{ENV_ID} coords, {args.num_envs} envs, {args.eval_episodes} evaluation episodes\n")
    print(markdown_table(results, names))
    if args.json:
        write_json(args.json, {"command": sys.argv, "runs": results})
    return results


if __name__ == "__main__":
    main()
