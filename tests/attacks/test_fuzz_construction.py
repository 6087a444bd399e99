"""A fuzz of agent construction: any hyperparameters build, or fail naming the argument.

Every case either builds or raises ValueError/TypeError whose message names one of the
arguments given; no other exception type (AttributeError, OverflowError, ...) may escape.
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import presets

#: Values of the wrong type or out of every range, mixed with some that are fine.
GARBAGE = [None, "1", "nan", True, False, -1, 0, 1, 2, 0.5, 1.5, -0.5, math.nan, math.inf,
           -math.inf, [], {}, (1,), 10**30, 1e-300]  # fmt: skip
VALUES = st.one_of(st.sampled_from(GARBAGE), st.integers(-5, 300), st.floats(-2, 2))
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_builds_or_names(build, names) -> None:
    """Builds, or fails naming an argument of `names` ("nb_actions" may say "actions")."""
    try:
        build()
    except (ValueError, TypeError) as error:
        assert any(name.removeprefix("nb_") in str(error) for name in names), (names, error)


def overrides(names):
    return st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=3)


SMALL_DQN = presets.DQNConfig(
    steps=10, network="mlp", hidden_units=4, memory_size=50, warmup=5, batch_size=4, num_envs=1
)
DQN_FIELDS = [item.name for item in dataclasses.fields(presets.DQNConfig)]
QLEARNING_FIELDS = [item.name for item in dataclasses.fields(presets.QLearningConfig)]


@pytest.fixture(scope="module")
def coords_env():
    env = gymnasium.make("Blob-v0", size=5, obs_type="coords")
    yield env
    env.close()


@pytest.fixture(scope="module")
def vector_env():
    env = gymnasium.make("CartPole-v1")
    yield env
    env.close()


@FUZZ
@given(changes=overrides(DQN_FIELDS))
def test_presets_build_dqn(vector_env, changes):
    config = dataclasses.replace(SMALL_DQN, **changes)
    assert_builds_or_names(lambda: presets.build("dqn", vector_env, config), changes)


@FUZZ
@given(changes=overrides(QLEARNING_FIELDS))
def test_presets_build_qlearning(coords_env, changes):
    config = dataclasses.replace(presets.QLearningConfig(), **changes)
    assert_builds_or_names(lambda: presets.build("qlearning", coords_env, config), changes)


QLEARNING_ARGS = ["nb_actions", "learning_rate", "gamma", "epsilon", "epsilon_decay",
                  "min_epsilon", "initial_q", "seed"]  # fmt: skip


@FUZZ
@given(changes=overrides(QLEARNING_ARGS))
def test_qlearning_agent(coords_env, changes):
    from agents.qlearning import QLearningAgent

    kwargs = {"nb_actions": 9, **changes}
    space = coords_env.observation_space
    assert_builds_or_names(lambda: QLearningAgent(space, **kwargs), changes)


DQN_ARGS = ["nb_actions", "memory", "policy", "test_policy", "gamma", "batch_size",
            "nb_steps_warmup", "train_interval", "target_model_update", "enable_double_dqn",
            "enable_dueling_network", "dueling_type", "delta_clip", "reward_scale",
            "reward_clip"]  # fmt: skip


@pytest.fixture(scope="module")
def dqn_parts():
    from agents import networks
    from agents.memory import SequentialMemory

    return networks.build("mlp", (4,), 9, 4), SequentialMemory(50, gamma=0.99)


@FUZZ
@given(changes=overrides(DQN_ARGS))
def test_dqn_agent(dqn_parts, changes):
    from agents.dqn import DQNAgent

    model, memory = dqn_parts
    kwargs = {"nb_actions": 9, "memory": memory, **changes}
    assert_builds_or_names(lambda: DQNAgent(model, **kwargs), changes)


#: Small configs of the keras-rl agents, each with the env id its actions fit.
SMALL_KERAS_RL = {
    "ddpg": (presets.DDPGConfig(hidden_layers="4", memory_size=50, batch_size=4), "Pendulum-v1"),
    "td3": (presets.TD3Config(hidden_layers="4", memory_size=50, batch_size=4), "Pendulum-v1"),
    "naf": (presets.NAFConfig(hidden_units=4, memory_size=50, batch_size=4), "Pendulum-v1"),
    "sarsa": (presets.SARSAConfig(hidden_units=4), "CartPole-v1"),
    "cem": (presets.CEMConfig(num_envs=1), "CartPole-v1"),
    "ppo": (presets.PPOConfig(hidden_units=4, num_envs=1), "Pendulum-v1"),
}


@pytest.mark.parametrize("agent", sorted(SMALL_KERAS_RL))
def test_presets_build_the_keras_rl_agents(agent):
    small, env_id = SMALL_KERAS_RL[agent]
    env = gymnasium.make(env_id)
    fields = [item.name for item in dataclasses.fields(small)]

    @FUZZ
    @given(changes=overrides(fields))
    def fuzz(changes):
        config = dataclasses.replace(small, **changes)
        assert_builds_or_names(lambda: presets.build(agent, env, config), changes)

    try:
        fuzz()
    finally:
        env.close()
