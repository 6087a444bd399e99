"""Env speed: Blob's single env against FrozenLake, its native vector env against the single.

Both are timed by this process's CPU time (`time.process_time`), which on an idle machine is the
wall-clock rate and on a busy one is not diluted by the other processes.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym

import blobenv  # noqa: F401  (registers the Blob ids)
from agents.benchmarks.measure import Result, interleaved_rates

#: Sub-envs of the vector env measured.
VECTOR_ENVS = 1024


def single_env_rate(env: gym.Env, seconds: float) -> float:
    """Steps an env with random actions, resetting when an episode ends.

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
    """Steps a vector env with random actions (it autoresets).

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


def _made(env_id: str, **kwargs: Any) -> gym.Env:
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)
    return env


def bench_env(seconds: float) -> list[Result]:
    """Single-env steps/s of Blob-v0 against FrozenLake-v1, both through `gymnasium.make`.

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
    """Steps/s of the native vector env at `VECTOR_ENVS` sub-envs against the single env.

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
