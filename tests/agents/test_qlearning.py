from __future__ import annotations

import json
import os
from types import SimpleNamespace

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.evaluation import evaluate
from agents.qlearning import QLearningAgent, space_from_config, space_to_config
from agents.transitions import TransitionBatch
from tests.gym_ids import TAXI

BLOB_COORDS = spaces.MultiDiscrete([19] * 4)


def frozen_lake() -> gymnasium.Env:
    return gymnasium.make("FrozenLake-v1", is_slippery=False)


def trained_frozen_lake_agent(nb_steps: int = 3_000) -> QLearningAgent:
    env = frozen_lake()
    agent = QLearningAgent(env.observation_space, int(env.action_space.n), seed=0)
    agent.fit(env, nb_steps=nb_steps, verbose=0, seed=0)
    return agent


def test_solves_non_slippery_frozen_lake_on_the_shortest_path():
    agent = trained_frozen_lake_agent()
    history = agent.test(frozen_lake(), nb_episodes=3, verbose=0)
    assert history.history["episode_reward"] == [1.0, 1.0, 1.0]
    # 6 moves is the shortest way from the top-left corner to the goal.
    assert history.history["nb_episode_steps"] == [6, 6, 6]


def test_blob_coords_learns_above_random_in_a_short_vector_run():
    env = gymnasium.make_vec("Blob-v0", num_envs=64, obs_type="coords")
    agent = QLearningAgent(env.single_observation_space, 9, seed=0)
    agent.fit(env, nb_steps=300_000, verbose=0, seed=0)
    seeds = range(10_000, 10_200)
    learned = evaluate(agent, "Blob-v0", seeds, obs_type="coords")

    class RandomAgent:
        training = False
        rng = np.random.default_rng(0)

        def forward(self, obs):
            return self.rng.integers(0, 9, len(obs))

    random = evaluate(RandomAgent(), "Blob-v0", seeds, obs_type="coords")
    # Measured: random -197 (87 of 200 episodes end on the enemy); this run -127 (7).
    assert learned.returns.mean() > random.returns.mean() + 25
    assert (learned.returns < -250).sum() < (random.returns < -250).sum() / 4


@pytest.mark.slow
def test_learns_taxi_to_a_positive_mean_return():
    env = gymnasium.make(TAXI)
    agent = QLearningAgent(env.observation_space, int(env.action_space.n), seed=0)
    agent.fit(env, nb_steps=60_000, verbose=0, seed=0)
    history = agent.test(env, nb_episodes=20, verbose=0, seed=1)
    assert np.mean(history.history["episode_reward"]) > 0


def test_fit_logs_td_error_and_epsilon_per_episode():
    env = gymnasium.make("Blob-v0", obs_type="coords")
    agent = QLearningAgent(env.observation_space, 9, epsilon=0.5, epsilon_decay=0.9, seed=0)
    history = agent.fit(env, nb_episodes=5, verbose=0, seed=0)
    assert history.history["eps"] == pytest.approx([0.5 * 0.9**k for k in range(5)])
    # A fresh table of zeros is 1 off for every -1 step reward.
    assert all(value > 0.5 for value in history.history["td_error"])


def test_epsilon_decays_once_per_finished_episode_of_a_vector_env():
    env = gymnasium.make_vec("Blob-v0", num_envs=8, obs_type="coords")
    agent = QLearningAgent(env.single_observation_space, 9, epsilon=0.5, epsilon_decay=0.99)
    agent.fit(env, nb_steps=3_000, verbose=0, seed=0)
    assert agent.episode >= 20
    assert agent.epsilon == pytest.approx(0.5 * 0.99**agent.episode)


def test_epsilon_decays_once_per_episode_down_to_its_floor():
    agent = QLearningAgent(spaces.Discrete(3), 2, epsilon=0.5, epsilon_decay=0.5, min_epsilon=0.1)
    agent.end_episode(0)
    assert agent.epsilon == 0.25
    agent.end_episode(1)
    agent.end_episode(0)
    assert agent.epsilon == 0.1


def test_config_gives_the_constructors_epsilon_not_the_decayed_one():
    agent = QLearningAgent(spaces.Discrete(3), 2, epsilon=0.5, epsilon_decay=0.5)
    agent.end_episode(0)
    assert agent.epsilon == 0.25
    assert agent.get_config()["epsilon"] == 0.5
    assert QLearningAgent.from_config(agent.get_config()).epsilon == 0.5
    values, _ = agent.get_state()
    assert values["epsilon"] == 0.25  # the current epsilon is state


def test_terminated_transition_does_not_bootstrap_and_truncated_does():
    agent = QLearningAgent(spaces.Discrete(3), 2, learning_rate=0.5, gamma=0.9)
    agent.table[:] = [[0.0, 0.0], [4.0, 10.0], [0.0, 0.0]]
    obs, actions = np.array([0, 2]), np.array([1, 0])
    batch = TransitionBatch(
        obs, actions, np.array([1.0, 1.0]), np.array([1, 1]),
        terminated=np.array([True, False]), truncated=np.array([False, True]),
    )  # fmt: skip
    metrics = agent.backward(batch)
    # Row 0 terminated: target 1. Row 1 truncated: target 1 + 0.9 * max(4, 10) = 10.
    assert agent.table[0, 1] == pytest.approx(0.5 * 1.0)
    assert agent.table[2, 0] == pytest.approx(0.5 * 10.0)
    assert metrics == {"td_error": pytest.approx((1.0 + 10.0) / 2)}


def test_multi_discrete_states_index_rows_like_ravel_multi_index_with_start():
    space = spaces.MultiDiscrete([[3, 4], [5, 2]], start=[[1, -2], [0, 3]], seed=0)
    agent = QLearningAgent(space, 2)
    obs = np.stack([space.sample() for _ in range(100)])
    expected = np.ravel_multi_index((obs - space.start).reshape(100, -1).T, (3, 4, 5, 2))
    np.testing.assert_array_equal(agent.state_index(obs), expected)
    assert agent.table.shape == (3 * 4 * 5 * 2, 2)


def test_discrete_start_offsets_the_rows():
    agent = QLearningAgent(spaces.Discrete(4, start=-2), 2)
    np.testing.assert_array_equal(agent.state_index(np.array([-2, 1])), [0, 3])


@pytest.mark.parametrize(
    "obs",
    [np.array([[19, 0, 0, 0]]), np.array([[0, -1, 0, 0]])],
    ids=["above", "below"],
)
def test_state_outside_the_space_is_refused(obs):
    agent = QLearningAgent(BLOB_COORDS, 9)
    with pytest.raises(ValueError, match=r"outside MultiDiscrete"):
        agent.forward(obs)


def test_observation_of_the_wrong_shape_or_dtype_is_refused():
    agent = QLearningAgent(BLOB_COORDS, 9)
    with pytest.raises(ValueError, match=r"shape \(batch, \*\(4,\)\)"):
        agent.forward(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="must be integers"):
        agent.forward(np.zeros((2, 4)))


def test_non_discrete_observation_space_is_refused():
    with pytest.raises(TypeError, match="Discrete or MultiDiscrete.*obs_type='coords'"):
        QLearningAgent(spaces.Box(0, 255, (10, 10, 3), np.uint8), 9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"nb_actions": 0},
        {"learning_rate": 0.0},
        {"gamma": 1.5},
        {"epsilon": -0.1},
        {"epsilon_decay": 0.0},
        {"initial_q": (0.0, -5.0)},
        {"initial_q": "tutorial"},
        {"nb_actions": None},
        {"learning_rate": "0.1"},
        {"gamma": None},
        {"epsilon": "0.2"},
        {"epsilon_decay": None},
        {"min_epsilon": "0"},
        {"epsilon": True},
    ],
)
def test_invalid_hyperparameters_are_refused(kwargs):
    arguments = {"observation_space": spaces.Discrete(3), "nb_actions": 2, **kwargs}
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        QLearningAgent(**arguments)


def test_too_large_table_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        QLearningAgent(spaces.MultiDiscrete([1000] * 3), 200)


def test_fit_refuses_an_env_with_other_spaces():
    agent = QLearningAgent(spaces.Discrete(500), 6)
    with pytest.raises(ValueError, match="observation space"):
        agent.fit(frozen_lake(), nb_steps=10, verbose=0)
    agent = QLearningAgent(spaces.Discrete(16), 6)
    with pytest.raises(ValueError, match="4 actions"):
        agent.fit(frozen_lake(), nb_steps=10, verbose=0)


def test_env_spaces_may_differ_from_the_agent_only_in_integer_dtype():
    agent = QLearningAgent(BLOB_COORDS, 9)
    same = SimpleNamespace(
        observation_space=spaces.MultiDiscrete([19] * 4, dtype=np.int32),
        action_space=spaces.Discrete(9),
    )
    agent.check_env(same)
    other = SimpleNamespace(
        observation_space=spaces.MultiDiscrete([19] * 4, start=[1] * 4),
        action_space=spaces.Discrete(9),
    )
    with pytest.raises(ValueError, match="observation space"):
        agent.check_env(other)


def test_untouched_states_are_explored_evenly_while_training_and_greedy_in_test():
    agent = QLearningAgent(spaces.Discrete(2), 4, epsilon=0.0, seed=0)
    agent.training = True
    actions = agent.forward(np.zeros(4000, dtype=np.int64))
    assert np.bincount(actions, minlength=4) == pytest.approx([1000] * 4, rel=0.1)
    agent.training = False
    assert (agent.forward(np.zeros(10, dtype=np.int64)) == 0).all()


def test_tutorial_settings_and_uniform_initial_table():
    agent = QLearningAgent.tutorial(BLOB_COORDS, 9, seed=0)
    config = agent.get_config()
    assert {k: config[k] for k in ("learning_rate", "gamma", "epsilon", "epsilon_decay")} == {
        "learning_rate": 0.1, "gamma": 0.95, "epsilon": 0.9, "epsilon_decay": 0.9998,
    }  # fmt: skip
    assert agent.table.min() >= -5 and agent.table.max() < 0 and agent.table.std() > 1


def test_config_is_json_and_rebuilds_the_same_agent():
    agent = QLearningAgent.tutorial(spaces.MultiDiscrete([3, 4], start=[1, 2]), 5, seed=3)
    config = json.loads(json.dumps(agent.get_config()))
    clone = QLearningAgent.from_config(config)
    assert clone.get_config() == agent.get_config()
    assert clone.observation_space == agent.observation_space
    np.testing.assert_array_equal(clone.table, agent.table)


@pytest.mark.parametrize(
    "space",
    [spaces.Discrete(4, start=1, dtype=np.int32), spaces.MultiDiscrete([[2, 3]], start=[[0, -1]])],
)
def test_space_description_round_trips(space):
    assert space_from_config(json.loads(json.dumps(space_to_config(space)))) == space


def test_space_description_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="Discrete or MultiDiscrete space description"):
        space_from_config({"type": "Box"})


def test_weights_round_trip_gives_identical_greedy_actions(tmp_path):
    agent = trained_frozen_lake_agent(2_000)
    path = tmp_path / "table.npz"
    agent.save_weights(path)
    clone = QLearningAgent(spaces.Discrete(16), 4)
    clone.load_weights(path)
    agent.training = clone.training = False
    states = np.arange(16)
    np.testing.assert_array_equal(clone.forward(states), agent.forward(states))
    np.testing.assert_array_equal(clone.table, agent.table)
    assert os.listdir(tmp_path) == ["table.npz"]  # no temporary file left behind


def test_save_weights_without_overwrite_keeps_the_file(tmp_path):
    agent = QLearningAgent(spaces.Discrete(3), 2)
    path = tmp_path / "table.npz"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        agent.save_weights(path, overwrite=False)
    assert path.read_bytes() == b"keep"


def test_load_weights_refuses_a_table_of_another_shape(tmp_path):
    QLearningAgent(spaces.Discrete(5), 2).save_weights(tmp_path / "small.npz")
    with pytest.raises(ValueError, match=r"shape \(5, 2\).*shape \(16, 4\)"):
        QLearningAgent(spaces.Discrete(16), 4).load_weights(tmp_path / "small.npz")


@pytest.mark.parametrize("content", [b"not a zip file", None], ids=["corrupt", "no table array"])
def test_load_weights_refuses_a_file_that_is_not_a_table(tmp_path, content):
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, other=np.zeros((16, 4)))
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="not a Q-table .npz file"):
        QLearningAgent(spaces.Discrete(16), 4).load_weights(path)


def test_load_weights_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Q-table file"):
        QLearningAgent(spaces.Discrete(16), 4).load_weights(tmp_path / "missing.npz")


def test_get_and_set_weights_copy_the_table():
    agent = QLearningAgent(spaces.Discrete(3), 2)
    weights = agent.get_weights()
    weights[0][0, 0] = 7.0
    assert agent.table[0, 0] == 0.0
    agent.set_weights(weights)
    assert agent.table[0, 0] == 7.0
    with pytest.raises(ValueError, match="shape"):
        agent.set_weights([np.zeros((2, 2))])
