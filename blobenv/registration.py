"""The Blob ids that Gymnasium knows, and registering them.

Each variant is one row of :data:`VARIANTS`. A reward threshold sits a little below the best mean
return known for its game, over random starts:

- static food and enemy: the exact optimum from ``blobenv.solver`` (``optimal_returns`` over
  20,000 seeds): +21.32 on 10 x 10 (threshold 20.0), +23.64 on 5 x 5 (threshold 22.0);
- moving blobs: the exact optimum from ``blobenv.moving_solver`` (``mean_optimal_return``, the
  exact mean over every start on 10 x 10) is +15.39 with food and enemy moving, +16.34 with
  the food alone and +20.56 with the enemy alone. The thresholds (13.0, 15.0 and 18.5) sit
  below ``blobenv.heuristic``'s cautious play, which never ends a move within the enemy's reach
  and otherwise closes in on the food: +14.4, +15.9 and +20.0 (99.7%, 100% and 99.8% success)
  over 20,000 episodes each (``tests/blobenv/test_registration.py`` plays 4,000).

This module imports only Gymnasium's registry: the env classes load when an env is made.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from gymnasium.envs.registration import register, registry

ENTRY_POINT = "blobenv.blob_env:BlobEnv"
VECTOR_ENTRY_POINT = "blobenv.vector_env:BlobVectorEnv"
MAX_EPISODE_STEPS = 200


class Variant(NamedTuple):
    """One registered id: its keyword arguments to ``BlobEnv`` and its reward threshold."""

    env_id: str
    kwargs: dict[str, Any]
    reward_threshold: float
    summary: str


VARIANTS = (
    Variant("Blob-v0", {}, 20.0, "10 x 10, static food and enemy, rgb observations"),
    Variant("BlobCoords-v0", {"obs_type": "coords"}, 20.0, "Blob-v0 with the tutorial's coords"),
    Variant(
        "BlobMoving-v0",
        {"moving_food": True, "moving_enemy": True},
        13.0,
        "Blob-v0 with food and enemy taking a random step after each move",
    ),
    Variant(
        "BlobMovingFood-v0",
        {"moving_food": True},
        15.0,
        "Blob-v0 with the food taking a random step after each move",
    ),
    Variant(
        "BlobMovingEnemy-v0",
        {"moving_enemy": True},
        18.5,
        "Blob-v0 with the enemy taking a random step after each move",
    ),
    Variant("Blob-5x5-v0", {"size": 5}, 22.0, "5 x 5, static, rgb: a quick game for tests"),
)


def register_envs() -> None:
    """Register every variant with Gymnasium; ids already registered are left as they are."""
    for variant in VARIANTS:
        if variant.env_id in registry:
            continue
        register(
            id=variant.env_id,
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
            max_episode_steps=MAX_EPISODE_STEPS,
            reward_threshold=variant.reward_threshold,
            kwargs=dict(variant.kwargs),
        )
