"""A run's figures: greedy evaluation on fixed seeds, against the exact optimum where known.

The optimum is Blob's (static games, `blobenv.solver`) or a tabular env's (value iteration on its
transition table, `blobenv.tabular_solver`, over the same episode limit as the evaluation).

Training, validation and evaluation episodes draw their seeds from disjoint ranges, so that
choosing the best weights on validation does not leak into the evaluation reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.environments import is_blob, resolve_env_id
from agents.evaluation import episode_limit, evaluate
from blobenv import tabular_solver

#: Evaluation episode i starts from reset(seed=EVAL_SEED_START + i); training seeds stay below.
EVAL_SEED_START = 1_000_000
#: Validation episodes (choosing the best weights during training) start here.
VALIDATION_SEED_START = 2_000_000
#: At most this many evaluation or validation episodes, so the two seed ranges never overlap.
MAX_EPISODES = VALIDATION_SEED_START - EVAL_SEED_START


def evaluation_seeds(count: int) -> list[int]:
    """The fixed evaluation seeds, disjoint from the training seeds (which stay below them)."""
    return list(range(EVAL_SEED_START, EVAL_SEED_START + count))


def validation_seeds(count: int) -> list[int]:
    """The fixed validation seeds, disjoint from the training and the evaluation seeds."""
    return list(range(VALIDATION_SEED_START, VALIDATION_SEED_START + count))


def check_episodes(name: str, value: Any, minimum: int = 0) -> None:
    """Checks an episode count: every episode needs a seed of its own set, so at most MAX_EPISODES.

    Raises:
        ValueError: If `value` is not an int in [minimum, MAX_EPISODES]; the message names `name`.
    """
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not is_int or not minimum <= value <= MAX_EPISODES:
        raise ValueError(f"{name} must be an int in [{minimum}, {MAX_EPISODES}], got {value!r}")


def validation_interval(steps: int) -> int:
    """Env steps between validations of a run of `steps` env steps: a tenth of it."""
    return max(1, steps // 10)


def blob_optimum(env_id: str, env_kwargs: dict[str, Any], seeds: Sequence[int]) -> Any:
    """The exact optimal return per seed (expected, where blobs move); None if no Blob game.

    Static games from `blobenv.solver`, moving ones from `blobenv.moving_solver` (solved once
    per process and game, a few seconds on 10 x 10).
    """
    options = blob_options(env_id, env_kwargs)
    if options is None:
        return None
    seeds, size = [int(seed) for seed in seeds], int(options.get("size", 10))
    food, enemy = bool(options.get("moving_food")), bool(options.get("moving_enemy"))
    if food or enemy:
        from blobenv import moving_solver

        return moving_solver.optimal_returns(seeds, size, food, enemy)
    from blobenv.solver import optimal_returns

    return optimal_returns(seeds, size)


def blob_options(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The Blob game's keyword arguments (the id's, then `env_kwargs`); None if no Blob id."""
    spec = resolve_env_id(env_id)
    return {**spec.kwargs, **env_kwargs} if is_blob(spec) else None


def tabular_optimum(env_id: str, env_kwargs: dict[str, Any], seeds: Sequence[int]) -> Any:
    """The exact optimal expected return per seed, or None if the env has no transition table.

    Solved once per process for each id and kwargs (see `blobenv.tabular_solver`), with the
    horizon of the evaluation's episodes (`agents.evaluation.episode_limit`).
    """
    if not tabular_solver.has_transition_table(env_id, **env_kwargs):
        return None
    return tabular_solver.optimal_returns(env_id, seeds, episode_limit(env_id), **env_kwargs)


def evaluate_agent(
    agent: Any, env_id: str, seeds: Sequence[int], env_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Greedy evaluation on `seeds`: mean return, success rate and ratio to the optimum.

    Args:
        agent: The agent (its test policy acts).
        env_id: A registered id.
        seeds: One episode per seed.
        env_kwargs: The env's keyword arguments.

    Returns:
        `episodes`, `seeds` (first and last), `mean_return`, `std_return`, `mean_length`,
        `episodes_cut` (the episodes that reached the time limit without terminating, see
        `agents.evaluation.episode_limit`); the `success_rate` for Blob envs;
        `optimal_mean_return` and `ratio_to_optimum` for Blob games; for envs with a
        transition table (FrozenLake, Taxi, CliffWalking), `optimal_mean_return` (the exact
        optimum over the same seeds and episode limit) and, when it is positive,
        `ratio_to_optimum`, else (a ratio to a negative optimum would read backwards:
        CliffWalking's is -13) `gap_to_optimum` = optimum - mean return.
    """
    env_kwargs = dict(env_kwargs or {})
    result = evaluate(agent, env_id, seeds, **env_kwargs)
    summary: dict[str, Any] = {
        "episodes": len(seeds),
        "seeds": [int(seeds[0]), int(seeds[-1])],
        "mean_return": float(result.returns.mean()),
        "std_return": float(result.returns.std()),
        "mean_length": float(result.lengths.mean()),
        "episodes_cut": int(result.cut.sum()),
    }
    blob = is_blob(resolve_env_id(env_id))
    if blob:
        summary["success_rate"] = float(result.successes.mean())
    optimum = blob_optimum(env_id, env_kwargs, seeds)
    if optimum is not None:
        summary["optimal_mean_return"] = float(np.mean(optimum))
        summary["ratio_to_optimum"] = summary["mean_return"] / summary["optimal_mean_return"]
    elif not blob:
        summary.update(_against_tabular_optimum(env_id, env_kwargs, seeds, summary["mean_return"]))
    return summary


def _against_tabular_optimum(
    env_id: str, env_kwargs: dict[str, Any], seeds: Sequence[int], mean_return: float
) -> dict[str, float]:
    """`optimal_mean_return` and the ratio to it (or, unless positive, the gap); {} if none."""
    optimum = tabular_optimum(env_id, env_kwargs, seeds)
    if optimum is None:
        return {}
    best = float(np.mean(optimum))
    if best > 0:
        return {"optimal_mean_return": best, "ratio_to_optimum": mean_return / best}
    return {"optimal_mean_return": best, "gap_to_optimum": best - mean_return}


def validation(
    env_id: str,
    episodes: int,
    every: int,
    env_kwargs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A `callbacks.PeriodicEvaluation` that keeps the weights best on the validation seeds.

    Args:
        env_id: The env to validate on.
        episodes: Validation episodes per point (seeded from VALIDATION_SEED_START).
        every: Env steps between points.
        env_kwargs: The env's keyword arguments.
        **kwargs: For `PeriodicEvaluation` (`best`, `best_weights`, `on_best`).
    """
    from callbacks import PeriodicEvaluation

    check_episodes("validation episodes", episodes, minimum=1)
    seeds = validation_seeds(episodes)
    return PeriodicEvaluation(
        lambda agent: evaluate_agent(agent, env_id, seeds, env_kwargs), every, **kwargs
    )


def describe_evaluation(summary: dict[str, Any]) -> str:
    """One line for people: mean return, success rate, against the optimum, episodes cut."""
    line = (
        f"greedy evaluation over {summary['episodes']} episodes: mean return "
        f"{summary['mean_return']:.2f} ± {summary['std_return']:.2f}"
    )
    if "success_rate" in summary:
        line += f", success rate {100 * summary['success_rate']:.1f}%"
    if "ratio_to_optimum" in summary:
        line += (
            f", {100 * summary['ratio_to_optimum']:.1f}% of the optimum "
            f"({summary['optimal_mean_return']:.2f})"
        )
    elif "gap_to_optimum" in summary:
        line += (
            f", {summary['gap_to_optimum']:.2f} below the optimum "
            f"({summary['optimal_mean_return']:.2f})"
        )
    if summary.get("episodes_cut"):
        line += f", {summary['episodes_cut']} episodes reached the time limit"
    return line
