from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np

import blobenv
from blobenv import BlobEnv, heuristic, registration, rules, solver
from tests.fresh_interpreter import modules_loaded_by


def test_every_variant_is_registered_with_string_entry_points_and_the_limit():
    for variant in registration.VARIANTS:
        spec = gym.spec(variant.env_id)
        assert spec.entry_point == "blobenv.blob_env:BlobEnv"
        assert spec.vector_entry_point == "blobenv.vector_env:BlobVectorEnv"
        assert spec.max_episode_steps == 200
        assert spec.reward_threshold == variant.reward_threshold
        assert spec.kwargs == variant.kwargs


def test_variants_make_the_documented_games():
    moving = gym.make("BlobMoving-v0").unwrapped
    assert moving.moving_food and moving.moving_enemy and moving.obs_type == "rgb"
    assert gym.make("BlobCoords-v0").unwrapped.obs_type == "coords"
    food = gym.make("BlobMovingFood-v0").unwrapped
    assert food.moving_food and not food.moving_enemy
    enemy = gym.make("BlobMovingEnemy-v0").unwrapped
    assert enemy.moving_enemy and not enemy.moving_food
    assert gym.make("Blob-5x5-v0").observation_space.shape == (5, 5, 3)
    assert isinstance(gym.make("Blob-v0").unwrapped, BlobEnv)
    assert gym.spec("Blob-v0").reward_threshold == 20.0


def test_register_envs_is_idempotent_and_keeps_existing_specs():
    before = {v.env_id: gym.spec(v.env_id) for v in registration.VARIANTS}
    blobenv.register_envs()
    blobenv.register_envs()
    assert {v.env_id: gym.spec(v.env_id) for v in registration.VARIANTS} == before
    assert all(gym.spec(env_id) is spec for env_id, spec in before.items())


def test_import_blobenv_loads_no_heavy_or_optional_modules():
    code = "import blobenv, gymnasium\ngymnasium.make('Blob-v0')"
    assert modules_loaded_by(code, ("tensorflow", "keras", "cv2", "pygame")) == []


def test_module_prefixed_id_works_in_a_fresh_interpreter():
    code = "import gymnasium\nprint(type(gymnasium.make('blobenv:Blob-v0').unwrapped).__name__)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "BlobEnv"


def test_thresholds_sit_a_little_below_the_best_known_mean_return():
    for env_id, size in (("Blob-v0", 10), ("BlobCoords-v0", 10), ("Blob-5x5-v0", 5)):
        optimum = solver.optimal_returns(range(2000), size=size).mean()
        assert 1.0 < optimum - gym.spec(env_id).reward_threshold < 2.0
    # Moving blobs: the first episode of each of 4,000 sub-envs under the cautious heuristic.
    for env_id in ("BlobMoving-v0", "BlobMovingFood-v0", "BlobMovingEnemy-v0"):
        envs = gym.make_vec(env_id, num_envs=4000)
        moving_enemy = gym.spec(env_id).kwargs.get("moving_enemy", False)
        _, infos = envs.reset(seed=0)
        returns, done = np.zeros(4000), np.zeros(4000, dtype=bool)
        while not done.all():
            cells = (infos[key] for key in rules.POSITION_KEYS)
            actions = heuristic.cautious_actions(*cells, 10, moving_enemy)
            _, rewards, terminations, truncations, infos = envs.step(actions)
            returns += np.where(done, 0.0, rewards)
            done |= terminations | truncations
        assert 0.5 < returns.mean() - gym.spec(env_id).reward_threshold < 2.5, env_id
