"""Measures how fast tabular Q-learning reaches 90% and 95% of the optimum on coords Blob.

Trains a `QLearningAgent` on `gymnasium.make_vec("Blob-v0", obs_type="coords")` and, every
`--eval-every` env steps, plays 500 seeded greedy episodes and compares their mean return with
the exact optimum of the same starts (`blobenv.solver.optimal_returns`). Prints a Markdown table
of env steps and training seconds (evaluation excluded) to 90% and 95%, and optionally writes
every learning curve as JSON.

    python scripts/tune_qlearning.py                                  # the agent's defaults
    python scripts/tune_qlearning.py --settings defaults tutorial --stop-at 2 --budget 5000000
    python scripts/tune_qlearning.py --learning-rate 0.5 --epsilon 0.1 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import gymnasium

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.evaluation import evaluate
from agents.qlearning import QLearningAgent
from blobenv.solver import optimal_returns

ENV_ID = "Blob-v0"
TUTORIAL = {
    "learning_rate": 0.1, "gamma": 0.95, "epsilon": 0.9, "epsilon_decay": 0.9998,
    "min_epsilon": 0.0, "initial_q": (-5.0, 0.0),
}  # fmt: skip
SETTINGS = {"defaults": {}, "tutorial": TUTORIAL}
HYPERPARAMETERS = ("learning_rate", "gamma", "epsilon", "epsilon_decay", "min_epsilon")


def measure(
    settings: dict[str, Any],
    seed: int,
    budget: int,
    eval_every: int,
    num_envs: int,
    eval_seeds: Sequence[int],
    stop_at: float = 0.95,
) -> dict[str, Any]:
    """Trains one agent and records its greedy return after every `eval_every` env steps.

    Args:
        settings: Keyword arguments of `QLearningAgent` (beyond the spaces and the seed).
        seed: Seeds the agent and the training envs.
        budget: Env steps to train at most.
        eval_every: Env steps between evaluations.
        num_envs: Sub-envs of the training vector env.
        eval_seeds: One evaluation episode per seed.
        stop_at: Stops once the greedy return reaches this fraction of the optimum.

    Returns:
        The optimum, the learning curve and the steps and seconds to 90% and 95%.
    """
    env = gymnasium.make_vec(ENV_ID, num_envs=num_envs, obs_type="coords")
    agent = QLearningAgent(
        env.single_observation_space, int(env.single_action_space.n), seed=seed, **settings
    )
    optimum = float(optimal_returns(eval_seeds).mean())
    curve, seconds = [], 0.0
    while agent.step < budget and (not curve or curve[-1]["fraction"] < stop_at):
        start = time.perf_counter()
        chunk = min(eval_every, budget - agent.step)
        agent.fit(env, nb_steps=chunk, verbose=0, seed=seed if not curve else None)
        seconds += time.perf_counter() - start
        returns = evaluate(agent, ENV_ID, eval_seeds, obs_type="coords").returns
        curve.append({
            "steps": agent.step, "episodes": agent.episode, "seconds": round(seconds, 2),
            "epsilon": agent.epsilon, "mean_return": float(returns.mean()),
            "fraction": float(returns.mean() / optimum),
        })  # fmt: skip
    env.close()
    result: dict[str, Any] = {"settings": settings, "seed": seed, "optimum": optimum}
    for target in (0.90, 0.95):
        first = next((point for point in curve if point["fraction"] >= target), None)
        result[f"steps_to_{target:.0%}"] = first["steps"] if first else None
        result[f"seconds_to_{target:.0%}"] = first["seconds"] if first else None
    result["curve"] = curve
    return result


def markdown_table(results: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    """One row per run: steps and seconds to 90% and 95%, and the last greedy return."""
    lines = [
        "| settings | seed | steps to 90% | s to 90% | steps to 95% | s to 95% | last: steps, "
        "return (% of optimum) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, result in zip(names, results, strict=True):
        last = result["curve"][-1]
        cells = [
            "-" if result[key] is None else f"{result[key]:,}"
            for key in ("steps_to_90%", "seconds_to_90%", "steps_to_95%", "seconds_to_95%")
        ]
        lines.append(
            f"| {name} | {result['seed']} | {' | '.join(cells)} | {last['steps']:,}, "
            f"{last['mean_return']:+.2f} ({last['fraction']:.0%}) |"
        )
    return "\n".join(lines)


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
    eval_seeds = list(range(1_000_000, 1_000_000 + args.eval_episodes))
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
        directory = os.path.dirname(os.path.abspath(args.json))
        tmp = os.path.join(directory, f".{os.path.basename(args.json)}.tmp")
        with open(tmp, "w", encoding="utf-8") as file:
            json.dump({"command": sys.argv, "runs": results}, file, indent=2)
        os.replace(tmp, args.json)
    return results


if __name__ == "__main__":
    main()
