from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

import blobenv
from blobenv import BlobEnv, registration, rules

BLOB_IDS = [variant.env_id for variant in registration.VARIANTS]
START = {"player": (1, 1), "food": (3, 3), "enemy": (5, 1)}


@pytest.mark.parametrize("env_id", BLOB_IDS)
@pytest.mark.parametrize("obs_type", ["rgb", "coords"])
@pytest.mark.parametrize("render_mode", [None, *BlobEnv.metadata["render_modes"]])
def test_check_env_passes_without_warnings(env_id, obs_type, render_mode, monkeypatch):
    monkeypatch.setitem(BlobEnv.metadata, "render_fps", 1000)  # a human window waits per frame
    env = gym.make(env_id, obs_type=obs_type, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize("env_id", BLOB_IDS)
def test_seeded_rollouts_of_two_envs_are_identical(env_id):
    def rollout() -> list:
        env = gym.make(env_id)
        env.action_space.seed(5)
        obs, info = env.reset(seed=11)
        trajectory = [(obs, info)]
        for _ in range(300):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            trajectory.append((obs, reward, terminated, truncated, info))
            if terminated or truncated:
                trajectory.append(env.reset())
        return trajectory

    first, second = rollout(), rollout()
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
            else:
                assert x == y


@pytest.mark.parametrize("env_id", BLOB_IDS)
def test_pickled_env_continues_identically(env_id):
    env = gym.make(env_id, render_mode="rgb_array").unwrapped
    env.reset(seed=3)
    env.step(0)
    copy = pickle.loads(pickle.dumps(env))
    for action in (4, 6, 8, 1):
        a, b = env.step(action), copy.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]
    np.testing.assert_array_equal(env.render(), copy.render())


def test_pickling_drops_an_open_window():
    env = BlobEnv(render_mode="human")
    env.reset(seed=0)
    copy = pickle.loads(pickle.dumps(env))
    assert copy._window is None
    copy.step(8)  # the copy opens its own window
    assert copy._window is not None
    copy.close()
    env.close()


def test_reset_from_given_cells_and_the_info():
    env = BlobEnv()
    obs, info = env.reset(options=START)
    assert info == {
        "player": (1, 1),
        "food": (3, 3),
        "enemy": (5, 1),
        "distance": 2,
        "is_success": False,
    }
    assert all(type(v) is int for key in ("player", "food", "enemy") for v in info[key])
    assert type(info["distance"]) is int
    assert tuple(obs[1, 1].tolist()) == (0, 175, 255)


def test_walk_to_the_food_step_by_step():
    env = BlobEnv()
    env.reset(options=START)
    obs, reward, terminated, truncated, info = env.step(0)
    assert (reward, terminated, truncated) == (-1.0, False, False)
    assert info["player"] == (2, 2) and info["distance"] == 1 and not info["is_success"]
    obs, reward, terminated, truncated, info = env.step(0)
    assert (reward, terminated, truncated) == (25.0, True, False)
    assert info["is_success"] is True and info["distance"] == 0
    assert type(reward) is float and type(terminated) is bool


def test_walking_into_the_enemy_loses():
    env = BlobEnv()
    env.reset(options=START)
    env.step(4)
    env.step(4)
    _, reward, terminated, _, info = env.step(4)
    assert info["player"] == (4, 1)
    _, reward, terminated, _, info = env.step(4)
    assert (reward, terminated, info["is_success"]) == (-300.0, True, False)


@pytest.mark.parametrize("obs_type", ["rgb", "coords"])
def test_every_call_returns_a_fresh_observation(obs_type):
    env = BlobEnv(obs_type=obs_type)
    first, _ = env.reset(seed=0)
    second, *_ = env.step(8)
    third, *_ = env.step(8)
    assert not np.shares_memory(first, second) and not np.shares_memory(second, third)
    np.testing.assert_array_equal(second, third)


def test_coords_observation_offsets():
    env = BlobEnv(obs_type="coords", size=7)
    obs, _ = env.reset(options={"player": (0, 6), "food": (6, 0), "enemy": (3, 3)})
    assert obs.tolist() == [0, 12, 3, 9]
    assert obs in env.observation_space


def test_time_limit_truncates_at_200_steps_through_make():
    env = gym.make("Blob-v0")
    env.reset(options=START)
    for _ in range(199):
        *_, terminated, truncated, _ = env.step(rules.STAY)
        assert not terminated and not truncated
    *_, terminated, truncated, _ = env.step(rules.STAY)
    assert truncated and not terminated
    assert env.spec.max_episode_steps == 200


def test_moving_blobs_use_the_env_generator():
    env = BlobEnv(moving_food=True, moving_enemy=True)
    env.reset(seed=2, options={"player": (0, 0), "food": (5, 5), "enemy": (8, 8)})
    moved = False
    for _ in range(5):
        *_, info = env.step(rules.STAY)
        moved |= info["food"] != (5, 5)
    assert moved


def test_step_before_reset_is_a_clear_error():
    with pytest.raises(ResetNeeded, match=r"Call reset\(\) before step\(\)"):
        BlobEnv().step(0)
    with pytest.raises(ResetNeeded, match=r"Call reset\(\) before render\(\)"):
        BlobEnv(render_mode="rgb_array").render()


@pytest.mark.parametrize("action", [9, -1, 1.0, "1", np.array([1]), None])
def test_invalid_actions_name_the_action_and_the_space(action):
    env = BlobEnv()
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=r"invalid: expected an int in the action space Discrete\(9\)"
    ):
        env.step(action)


def test_numpy_integer_actions_are_accepted():
    env = BlobEnv()
    env.reset(options=START)
    assert env.step(np.int64(0))[4]["player"] == (2, 2)
    assert env.step(np.array(5))[4]["player"] == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": 2}, ValueError, "size must be between 3 and 1000, got 2"),
        ({"size": 10**6}, ValueError, "got 1000000"),
        ({"size": 10.0}, TypeError, "size must be an int"),
        ({"obs_type": "pixels"}, ValueError, r"obs_type must be one of \['rgb', 'coords'\]"),
        ({"render_mode": "rgb"}, ValueError, r"\['human', 'rgb_array', 'ansi'\], got 'rgb'"),
        ({"cell_px": 0}, ValueError, "cell_px must be an int from 1 to 100"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        BlobEnv(**kwargs)


def test_bad_reset_options_are_clear_errors():
    env = BlobEnv(size=5)
    with pytest.raises(ValueError, match="options must be empty or hold exactly"):
        env.reset(options={"player": (0, 0), "goal": (1, 1)})
    with pytest.raises(ValueError, match="must lie on the grid"):
        env.reset(options={**START, "enemy": (5, 0)})


def test_render_modes():
    env = BlobEnv(size=4, cell_px=5, render_mode="rgb_array")
    env.reset(options={"player": (0, 0), "food": (3, 3), "enemy": (3, 0)})
    frame = env.render()
    assert frame.shape == (20, 20, 3) and tuple(frame[0, 0].tolist()) == (0, 175, 255)
    assert tuple(frame[19, 19].tolist()) == (0, 255, 0)
    env = BlobEnv(size=4, render_mode="ansi")
    env.reset(options={"player": (0, 0), "food": (3, 3), "enemy": (3, 0)})
    assert env.render() == "P..E\n....\n....\n...F\n"


def test_human_mode_shows_the_frame_with_step_and_return_in_the_title():
    import pygame

    env = gym.make("Blob-v0", render_mode="human")
    env.reset(options=START)
    env.step(0)
    try:
        assert pygame.display.get_caption()[0] == "Blob  step 1  return -1"
        shown = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
        assert shown.shape == (300, 300, 3)
        assert tuple(shown[2 * 30 + 15, 2 * 30 + 15].tolist()) == (0, 175, 255)
    finally:
        env.close()
    assert not pygame.display.get_init()
    env.close()


def test_keys_to_action_cover_every_move_in_screen_directions():
    keys = BlobEnv().get_keys_to_action()
    direction = {"w": (0, -1), "s": (0, 1), "a": (-1, 0), "d": (1, 0), " ": (0, 0)}
    direction |= {"q": (-1, -1), "e": (1, -1), "z": (-1, 1), "c": (1, 1)}
    assert set(keys.values()) == set(range(9))
    for combo, action in keys.items():
        dx = sum(direction[k][0] for k in combo)
        dy = sum(direction[k][1] for k in combo)
        assert (dx, dy) == tuple(rules.ACTIONS[action].tolist()), combo


def test_gymnasium_play_drives_the_env_with_keys():
    import pygame
    from gymnasium.utils.play import play

    actions = []

    def record(obs, next_obs, action, reward, terminated, truncated, info):
        actions.append(action)
        pygame.event.post(pygame.event.Event(pygame.QUIT))

    pygame.display.init()
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_d))
    env = gym.make("Blob-v0", render_mode="rgb_array")
    play(env, fps=1000, noop=rules.STAY, callback=record, seed=0)
    assert actions == [4]


def test_import_registers_the_ids():
    assert blobenv.BlobEnv is BlobEnv
    for env_id in BLOB_IDS:
        assert env_id in gym.registry
