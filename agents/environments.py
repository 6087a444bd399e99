"""Making and checking the envs of a run: any registered Gymnasium id, Blob's included."""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium

from blobenv.registration import ENTRY_POINT, VARIANTS


def resolve_env_id(env_id: str) -> gymnasium.envs.registration.EnvSpec:
    """The registered spec of `env_id` (a `module:` prefix is imported first, as `make` does).

    Raises:
        ValueError: If no env is registered under that id.
    """
    if not isinstance(env_id, str):
        raise ValueError(f"an env id must be a str, got {env_id!r}")
    module, _, name = env_id.rpartition(":")
    try:
        if module:
            importlib.import_module(module)
        return gymnasium.spec(name)
    except (gymnasium.error.Error, ImportError) as error:
        blob_ids = ", ".join(variant.env_id for variant in VARIANTS)
        raise ValueError(
            f"unknown env id {env_id!r}: {error} (Blob ids: {blob_ids}; any registered "
            "Gymnasium id works)"
        ) from error


def first_registered(*env_ids: str) -> str:
    """The first of `env_ids` this Gymnasium registers (Taxi-v4 from 1.3 on, Taxi-v3 before).

    Raises:
        ValueError: If it registers none of them.
    """
    for env_id in env_ids:
        if env_id in gymnasium.registry:
            return env_id
    raise ValueError(f"Gymnasium {gymnasium.__version__} registers none of {list(env_ids)}")


def is_blob(spec: gymnasium.envs.registration.EnvSpec | None) -> bool:
    """Whether `spec` is one of the Blob games."""
    return spec is not None and spec.entry_point == ENTRY_POINT


def make_env(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    num_envs: int = 1,
    max_episode_steps: int | None = None,
) -> Any:
    """`gymnasium.make`, or `gymnasium.make_vec` when `num_envs` > 1.

    Args:
        env_id: A registered id.
        env_kwargs: Keyword arguments of the env.
        num_envs: Sub-envs; above 1, a vector env (the id's native one where it has one).
        max_episode_steps: The time limit of its episodes (None: the id's own).

    Raises:
        ValueError: If the env cannot be made with these arguments.
    """
    env_kwargs = dict(env_kwargs or {})
    limit = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    try:
        if num_envs > 1:
            return gymnasium.make_vec(env_id, num_envs=num_envs, **limit, **env_kwargs)
        return gymnasium.make(env_id, **limit, **env_kwargs)
    except (gymnasium.error.Error, TypeError, ValueError, ImportError) as error:
        raise ValueError(f"cannot make {env_id} with {env_kwargs}: {error}") from error


def spaces_of(env: Any) -> tuple[gymnasium.Space, gymnasium.Space]:
    """The (observation, action) spaces of one sub-env of `env`, a single or vector env."""
    if isinstance(env, gymnasium.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


def env_name(env: Any) -> str:
    """The env's id, or its class's name when it was not made from an id."""
    spec = getattr(env, "spec", None)
    return spec.id if spec is not None else type(env).__name__
