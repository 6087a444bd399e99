"""How fast tabular Q-learning reaches 90% and 95% of the optimum on coords Blob.

A `QLearningAgent` trains on `gymnasium.make_vec("Blob-v0", obs_type="coords")` and, every
`eval_every` env steps, plays seeded greedy episodes whose mean return is compared with the
exact optimum of the same starts (`blobenv.solver.optimal_returns`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.evaluation import evaluate
from agents.qlearning import QLearningAgent
from blobenv.solver import optimal_returns

ENV_ID = "Blob-v0"
#: The tutorial's settings, as `QLearningAgent.tutorial` has them.
TUTORIAL = {
    "learning_rate": 0.1, "gamma": 0.95, "epsilon": 0.9, "epsilon_decay": 0.9998,
    "min_epsilon": 0.0, "initial_q": (-5.0, 0.0),
}  # fmt: skip
#: Named keyword arguments of `QLearningAgent`: its own defaults, and the tutorial's.
SETTINGS = {"defaults": {}, "tutorial": TUTORIAL}
#: The fractions of the optimum whose steps and seconds are reported.
TARGETS = (0.90, 0.95)


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
        The optimum, the learning curve and the steps and seconds (evaluation excluded) to 90%
        and 95% (None where not reached).
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
    for target in TARGETS:
        first = next((point for point in curve if point["fraction"] >= target), None)
        result[f"steps_to_{target:.0%}"] = first["steps"] if first else None
        result[f"seconds_to_{target:.0%}"] = first["seconds"] if first else None
    result["curve"] = curve
    return result


def markdown_table(results: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    """One row per run: steps and seconds to 90% and 95%, and the last greedy return.

    Args:
        results: What `measure` returned, one per run.
        names: The name of each run's settings.

    Returns:
        The table, header included.
    """
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
