from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode

from blobenv import BlobEnv, BlobVectorEnv, rules

INFO_KEYS = ("player", "food", "enemy", "distance", "is_success")


def starts(*games: tuple) -> dict:
    return {key: np.array([game[i] for game in games]) for i, key in enumerate(rules.POSITION_KEYS)}


def test_make_vec_returns_the_native_env_with_the_time_limit():
    envs = gym.make_vec("Blob-v0", num_envs=3)
    assert type(envs) is BlobVectorEnv
    assert envs.num_envs == 3 and envs.max_episode_steps == 200
    assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert envs.single_observation_space == gym.make("Blob-v0").observation_space
    assert envs.observation_space.shape == (3, 10, 10, 3)
    envs = gym.make_vec("BlobCoords-v0", num_envs=2, max_episode_steps=7)
    assert envs.obs_type == "coords" and envs.max_episode_steps == 7
    assert gym.make_vec("Blob-5x5-v0", num_envs=2).size == 5


@pytest.mark.parametrize("obs_type", ["rgb", "coords"])
def test_single_and_vector_env_agree_from_the_same_seeds(obs_type):
    seeds = [3, 14, 15, 92, 65]
    envs = BlobVectorEnv(num_envs=5, obs_type=obs_type)
    singles = [gym.wrappers.TimeLimit(BlobEnv(obs_type=obs_type), 200) for _ in seeds]
    obs, infos = envs.reset(seed=seeds)
    for i, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        single_obs, info = env.reset(seed=seed)
        np.testing.assert_array_equal(obs[i], single_obs)
        for key in INFO_KEYS:
            assert np.array(info[key]).tolist() == infos[key][i].tolist()
    rng = np.random.default_rng(0)
    running = np.ones(5, dtype=bool)
    for _ in range(200):
        actions = rng.integers(0, 9, size=5)
        obs, rewards, terminations, truncations, infos = envs.step(actions)
        for i in np.flatnonzero(running):
            single_obs, reward, terminated, truncated, info = singles[i].step(actions[i])
            np.testing.assert_array_equal(obs[i], single_obs)
            assert (rewards[i], terminations[i], truncations[i]) == (reward, terminated, truncated)
            for key in INFO_KEYS:
                assert np.array(info[key]).tolist() == infos[key][i].tolist()
            running[i] = not (terminated or truncated)
        if not running.any():
            break
    assert not running.any()


def test_an_int_seed_seeds_sub_env_i_with_seed_plus_i():
    envs = BlobVectorEnv(num_envs=3)
    _, infos = envs.reset(seed=40)
    for i in range(3):
        _, info = BlobEnv().reset(seed=40 + i)
        assert tuple(infos["player"][i].tolist()) == info["player"]
        assert tuple(infos["enemy"][i].tolist()) == info["enemy"]


def test_seeded_vector_runs_are_reproducible_and_seeds_matter():
    def run(seed) -> list[np.ndarray]:
        envs = gym.make_vec("BlobMoving-v0", num_envs=8)
        out = [envs.reset(seed=seed)[0]]
        rng = np.random.default_rng(1)
        for _ in range(60):
            out.append(envs.step(rng.integers(0, 9, size=8))[0])
        return out

    first, second, other = run(7), run(7), run([7, 8, 9, 10, 11, 12, 13, None])
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any((a != c).any() for a, c in zip(first, other, strict=True))


def test_next_step_autoreset_after_termination():
    envs = BlobVectorEnv(num_envs=2)
    envs.reset(options=starts(((0, 0), (1, 1), (5, 5)), ((0, 0), (9, 9), (5, 5))))
    obs, rewards, terminations, truncations, infos = envs.step(np.array([0, 8]))
    assert rewards.tolist() == [25.0, -1.0]
    assert terminations.tolist() == [True, False] and truncations.tolist() == [False, False]
    assert infos["is_success"].tolist() == [True, False]
    # The next step restarts game 0, ignoring its action, and steps game 1 as usual.
    obs, rewards, terminations, truncations, infos = envs.step(np.array([0, 0]))
    assert rewards.tolist() == [0.0, -1.0]
    assert terminations.tolist() == [False, False] and truncations.tolist() == [False, False]
    assert infos["is_success"].tolist() == [False, False]
    assert tuple(infos["player"][1].tolist()) == (1, 1)
    restarted = [tuple(infos[key][0].tolist()) for key in rules.POSITION_KEYS]
    assert len(set(restarted)) == 3
    assert infos["distance"][0] == max(
        abs(a - b) for a, b in zip(restarted[0], restarted[1], strict=True)
    )
    expected = BlobEnv()
    np.testing.assert_array_equal(
        obs[0], expected.reset(options=dict(zip(rules.POSITION_KEYS, restarted, strict=True)))[0]
    )


def test_truncation_after_max_episode_steps_then_autoreset():
    envs = BlobVectorEnv(num_envs=2, max_episode_steps=3)
    envs.reset(options=starts(((0, 0), (9, 9), (5, 5)), ((0, 0), (3, 3), (5, 5))))
    flags = []
    for _ in range(5):
        _, rewards, terminations, truncations, _ = envs.step(np.array([8, 0]))
        flags.append((rewards.tolist(), terminations.tolist(), truncations.tolist()))
    assert flags[:4] == [
        ([-1.0, -1.0], [False, False], [False, False]),
        ([-1.0, -1.0], [False, False], [False, False]),
        ([-1.0, 25.0], [False, True], [True, True]),  # truncated on the step food is reached too
        ([0.0, 0.0], [False, False], [False, False]),
    ]


def test_autoreset_matches_gymnasiums_sync_vector_env_flags():
    def history(envs: gym.vector.VectorEnv) -> list:
        envs.reset(seed=[5, 6, 7])
        out = []
        for step in range(40):
            actions = np.array([step % 9, 8, (3 * step) % 9])
            _, rewards, terminations, truncations, _ = envs.step(actions)
            out.append((rewards.tolist(), terminations.tolist(), truncations.tolist()))
            if (terminations | truncations).any():
                break
        _, rewards, terminations, truncations, _ = envs.step(np.array([8, 8, 8]))  # autoreset
        out.append((rewards.tolist(), terminations.tolist(), truncations.tolist()))
        return out

    sync = gym.vector.SyncVectorEnv(
        [lambda: gym.wrappers.TimeLimit(BlobEnv(), 12) for _ in range(3)]
    )
    native = BlobVectorEnv(num_envs=3, max_episode_steps=12)
    expected = history(sync)
    assert 0.0 in expected[-1][0]  # the last step restarted a sub-env
    assert history(native) == expected


def test_infos_are_vector_dicts_with_masks_and_fresh_arrays():
    envs = BlobVectorEnv(num_envs=4)
    _, first = envs.reset(seed=0)
    _, _, _, _, second = envs.step(np.zeros(4, dtype=np.int64))
    for infos in (first, second):
        assert set(infos) == set(INFO_KEYS) | {f"_{key}" for key in INFO_KEYS}
        for key in INFO_KEYS:
            assert infos[f"_{key}"].dtype == bool and infos[f"_{key}"].all()
            assert len(infos[key]) == 4
        assert infos["player"].shape == (4, 2)
    for key in INFO_KEYS:
        assert not np.shares_memory(first[key], second[key])
        assert not np.shares_memory(first[f"_{key}"], second[f"_{key}"])


def test_render_gives_one_frame_or_text_per_sub_env():
    envs = BlobVectorEnv(num_envs=3, size=4, cell_px=2, render_mode="rgb_array")
    obs, infos = envs.reset(seed=1)
    frames = envs.render()
    assert len(frames) == 3 and all(f.shape == (8, 8, 3) for f in frames)
    np.testing.assert_array_equal(frames[2][::2, ::2], obs[2])
    texts = BlobVectorEnv(num_envs=2, size=4, render_mode="ansi")
    texts.reset(seed=1)
    assert [t.count("\n") for t in texts.render()] == [4, 4]


def test_errors():
    envs = BlobVectorEnv(num_envs=2)
    with pytest.raises(ResetNeeded, match=r"Call reset\(\) before step\(\)"):
        envs.step(np.array([0, 0]))
    envs.reset(seed=0)
    for bad in (np.array([0, 9]), np.array([0]), np.array([0.0, 1.0]), [[0, 1]]):
        with pytest.raises(ValueError, match=r"expected 2 ints in the action space"):
            envs.step(bad)
    with pytest.raises(ValueError, match="seed must be None, an int or 2 seeds, got 3"):
        envs.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="num_envs must be at least 1, got 0"):
        BlobVectorEnv(num_envs=0)
    with pytest.raises(TypeError, match="max_episode_steps must be an int"):
        BlobVectorEnv(max_episode_steps=2.5)
    with pytest.raises(ValueError, match=r"render_mode must be None or one of"):
        BlobVectorEnv(render_mode="human")
    with pytest.raises(ValueError, match="obs_type must be one of"):
        BlobVectorEnv(obs_type="image")
    with pytest.raises(ValueError, match="player and food must start on different cells"):
        envs.reset(options=starts(((0, 0), (0, 0), (5, 5)), ((0, 0), (1, 1), (5, 5))))


def test_actions_as_a_list_are_accepted():
    envs = BlobVectorEnv(num_envs=2)
    envs.reset(options=starts(((0, 0), (9, 9), (5, 5)), ((3, 3), (9, 9), (5, 5))))
    *_, infos = envs.step([0, 1])
    assert infos["player"].tolist() == [[1, 1], [2, 2]]
