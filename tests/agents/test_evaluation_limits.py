"""Every test episode ends: the env's own time limit, else a cap; the episodes cut are reported."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.env_driver import DEFAULT_MAX_EPISODE_STEPS, EnvDriver, time_limit
from agents.qlearning import QLearningAgent
from tests.agents.test_core import AlwaysRight
from tests.agents.toy_envs import Corridor
from tests.gym_ids import TAXI

CLIFF_START, UP = 36, 0


def untrained_cliff_table() -> QLearningAgent:
    """A table of zeros: greedy, it walks up into the wall forever (CliffWalking has no limit)."""
    return QLearningAgent(gymnasium.spaces.Discrete(48), 4, seed=0)


class EndlessVectorEnv(gymnasium.vector.VectorEnv):
    """Two sub-envs whose episodes never end, without a partial reset."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, max_episode_steps: int | None = None):
        self.num_envs = 2
        self.single_observation_space = gymnasium.spaces.Discrete(3)
        self.single_action_space = gymnasium.spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, 2)
        self.action_space = batch_space(self.single_action_space, 2)
        if max_episode_steps is not None:
            self.max_episode_steps = max_episode_steps

    def reset(self, *, seed=None, options=None):
        return np.zeros(2, dtype=np.int64), {}

    def step(self, actions):
        never = np.zeros(2, dtype=bool)
        return np.zeros(2, dtype=np.int64), np.zeros(2), never, never, {}


def test_an_untrained_table_on_cliff_walking_is_cut_at_the_default_limit():
    history = untrained_cliff_table().test(gymnasium.make("CliffWalking-v1"), verbose=0)
    assert history.history["nb_episode_steps"] == [DEFAULT_MAX_EPISODE_STEPS]
    assert history.history["episode_reward"] == [-DEFAULT_MAX_EPISODE_STEPS]
    assert history.history["episode_cut"] == [True]


def test_a_vector_env_without_a_limit_is_cut_through_a_partial_reset():
    env = gymnasium.make_vec("CliffWalking-v1", num_envs=2)
    history = untrained_cliff_table().test(env, nb_episodes=2, verbose=0)
    assert history.history["nb_episode_steps"] == [DEFAULT_MAX_EPISODE_STEPS] * 2
    assert history.history["episode_cut"] == [True, True]


def test_the_envs_own_limit_comes_first_and_terminated_episodes_are_not_cut():
    agent = QLearningAgent(gymnasium.spaces.Discrete(500), 6, seed=0)
    history = agent.test(gymnasium.make(TAXI), nb_episodes=2, verbose=0)
    assert history.history["nb_episode_steps"] == [200, 200]  # its TimeLimit, not 10,000
    assert history.history["episode_cut"] == [True, True]
    history = AlwaysRight().test(Corridor(3), nb_episodes=2, verbose=0)
    assert history.history["episode_cut"] == [False, False]
    cliff = gymnasium.make("CliffWalking-v1", max_episode_steps=20_000)
    assert EnvDriver(cliff, None, DEFAULT_MAX_EPISODE_STEPS).nb_max_episode_steps is None


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_nb_max_episode_steps_cuts_vector_episodes_and_restarts_them(mode):
    env = gymnasium.make_vec(
        "CliffWalking-v1", num_envs=2, vector_kwargs={"autoreset_mode": mode, "copy": False}
    )
    driver = EnvDriver(env, nb_max_episode_steps=3)
    driver.reset(seed=0)
    for _ in range(2):
        batch = driver.step(np.full(2, UP))
        assert not batch.done.any()
    batch = driver.step(np.full(2, UP))
    assert batch.truncated.all() and not batch.terminated.any()
    assert batch.next_obs.tolist() == [0, 0]  # the top-left corner, where the cut found it
    assert driver.obs.tolist() == [CLIFF_START] * 2 and driver.next_valid.all()
    history = untrained_cliff_table().test(env, nb_episodes=4, nb_max_episode_steps=3, verbose=0)
    assert history.history["episode_reward"] == [-3.0] * 4
    assert history.history["episode_cut"] == [True] * 4


def test_a_vector_env_that_cannot_be_cut_is_refused():
    agent = AlwaysRight()
    with pytest.raises(ValueError, match="no partial reset.*max_episode_steps=M"):
        agent.test(EndlessVectorEnv(), verbose=0)
    with pytest.raises(ValueError, match="no partial reset"):
        agent.fit(EndlessVectorEnv(), nb_steps=4, nb_max_episode_steps=2, verbose=0)
    own = EndlessVectorEnv(max_episode_steps=5)
    assert time_limit(own) == 5 and EnvDriver(own, None, 10).nb_max_episode_steps is None


def test_time_limits_are_read_from_wrappers_specs_and_native_vector_envs():
    assert time_limit(gymnasium.make(TAXI)) == 200
    assert time_limit(gymnasium.make("CliffWalking-v1")) is None
    assert time_limit(gymnasium.make("CliffWalking-v1", max_episode_steps=7)) == 7
    assert time_limit(gymnasium.make_vec("CliffWalking-v1", num_envs=2)) is None
    assert time_limit(gymnasium.make_vec("CliffWalking-v1", num_envs=2, max_episode_steps=7)) == 7
    assert time_limit(gymnasium.make_vec("Blob-v0", num_envs=2)) == 200
    assert time_limit(blobenv.BlobVectorEnv(num_envs=2, max_episode_steps=9)) == 9
    assert time_limit(Corridor(3)) is None


def test_a_vector_drivers_state_keeps_each_sub_envs_step_count():
    env = gymnasium.make_vec("Blob-v0", num_envs=2, size=5, obs_type="coords")
    driver = EnvDriver(env)
    driver.reset(seed=0)
    for _ in range(2):
        driver.step(np.full(2, 8))  # stay: no episode ends
    values, arrays = driver.get_state()
    assert values["episode_steps"] == [2, 2]
    other = EnvDriver(gymnasium.make_vec("Blob-v0", num_envs=2, size=5, obs_type="coords"))
    other.set_state(values, arrays)
    assert other.get_state()[0]["episode_steps"] == [2, 2]
    other.set_state({**values, "episode_steps": 0}, arrays)  # an older state's single count
    assert other.get_state()[0]["episode_steps"] == [0, 0]
    with pytest.raises(ValueError, match="episode_steps must be 2 ints >= 0"):
        other.set_state({**values, "episode_steps": [1]}, arrays)
