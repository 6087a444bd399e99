"""Greedy evaluation of an agent over a fixed set of seeded episodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from agents.env_driver import DEFAULT_MAX_EPISODE_STEPS
from agents.environments import resolve_env_id


class Evaluation(NamedTuple):
    """Per-episode results of `evaluate`, in the order of the seeds.

    Attributes:
        returns: Undiscounted return of each episode.
        successes: Whether each episode ended with info["is_success"] True (False if the env
            reports no success).
        lengths: Steps of each episode.
        cut: Whether each episode was cut by the time limit (`episode_limit`) instead of
            terminating: truncated by the env's own limit or by DEFAULT_MAX_EPISODE_STEPS.
    """

    returns: np.ndarray
    successes: np.ndarray
    lengths: np.ndarray
    cut: np.ndarray


def episode_limit(env_id: str) -> int:
    """The most steps an evaluation episode of `env_id` lasts.

    The id's `max_episode_steps`, else DEFAULT_MAX_EPISODE_STEPS, so that a policy stuck in a
    loop (CliffWalking's, walking into a wall) cannot hang a run.
    """
    return resolve_env_id(env_id).max_episode_steps or DEFAULT_MAX_EPISODE_STEPS


def evaluate(agent: Any, env_id: str, seeds: Sequence[int], **env_kwargs: Any) -> Evaluation:
    """Plays one episode per seed with the agent's test policy, all seeds in one batch.

    Episode i starts from `env.reset(seed=seeds[i])`, so two agents evaluated on the same seeds
    face the same start states (and `blobenv.solver.optimal_returns(seeds)` gives the optimum).
    An episode is cut at `episode_limit(env_id)` steps: the id's `max_episode_steps`, or
    DEFAULT_MAX_EPISODE_STEPS if the id has none.

    Args:
        agent: A compiled agent.
        env_id: A registered Gymnasium id.
        seeds: One seed per episode.
        **env_kwargs: Passed to `gymnasium.make_vec`.

    Returns:
        The per-episode results.
    """
    seeds = [int(seed) for seed in seeds]
    limit = episode_limit(env_id)
    n = len(seeds)
    returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
    successes, running = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    cut = np.zeros(n, dtype=bool)
    env, obs = _seeded_vector_env(env_id, seeds, env_kwargs)
    training, agent.training = agent.training, False
    try:
        while running.any():
            obs, rewards, terminated, truncated, infos = env.step(agent.forward(obs))
            returns[running] += rewards[running]
            lengths[running] += 1
            done = running & (terminated | truncated | (lengths >= limit))
            if "is_success" in infos:
                successes[done] = np.asarray(infos["is_success"], dtype=bool)[done]
            cut[done] = ~np.asarray(terminated, dtype=bool)[done]
            running &= ~done
    finally:
        agent.training = training
        env.close()
    return Evaluation(returns, successes, lengths, cut)


def _seeded_vector_env(
    env_id: str, seeds: list[int], env_kwargs: dict[str, Any]
) -> tuple[gymnasium.vector.VectorEnv, Any]:
    """A vector env of one sub-env per seed, reset with sub-env i on `seeds[i]`.

    The id's native vector env where it takes one seed per sub-env (Blob's does); otherwise,
    as for CartPole's, which takes one int for all, Gymnasium's sync vector env of the id.
    """
    env = gymnasium.make_vec(env_id, num_envs=len(seeds), **env_kwargs)
    try:
        return env, env.reset(seed=seeds)[0]
    except (gymnasium.error.Error, TypeError, ValueError, AssertionError):
        if isinstance(env, gymnasium.vector.SyncVectorEnv):
            env.close()
            raise
    env.close()
    env = gymnasium.make_vec(env_id, num_envs=len(seeds), vectorization_mode="sync", **env_kwargs)
    try:
        return env, env.reset(seed=seeds)[0]
    except BaseException:
        env.close()
        raise
