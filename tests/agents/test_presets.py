"""agents.presets: every row builds a compiled agent for its env; lookups and mismatches."""

from __future__ import annotations

import math

import gymnasium
import keras
import pytest

import agents
from agents import networks, presets
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.presets import GENERIC, PRESETS


@pytest.mark.parametrize(("agent", "env_id"), sorted(PRESETS), ids=lambda value: str(value))
def test_every_row_builds_a_compiled_agent_that_acts(agent, env_id):
    row = PRESETS[(agent, env_id)]
    assert row.chosen_by and presets.agent_name(row.config) == agent
    generic = {"dqn": "CartPole-v1", "cem": "CartPole-v1", "sarsa": "CartPole-v1"}
    generic["ppo"] = "CartPole-v1"
    generic.update(ddpg="Pendulum-v1", td3="Pendulum-v1", naf="Pendulum-v1")
    env_id = generic.get(agent, "FrozenLake-v1") if env_id == GENERIC else env_id
    if env_id not in gymnasium.registry:  # Taxi-v3 is Taxi-v4 before Gymnasium 1.3
        pytest.skip(f"this Gymnasium {gymnasium.__version__} does not register {env_id}")
    small = {
        "dqn": {"memory_size": 100, "hidden_units": 8},
        "ddpg": {"memory_size": 100, "hidden_layers": "8"},
        "td3": {"memory_size": 100, "hidden_layers": "8"},
        "naf": {"memory_size": 100, "hidden_units": 8},
        "ppo": {"hidden_units": 8, "n_steps": 4, "batch_size": 8},
    }.get(agent, {})
    config = presets.config(agent, env_id, **small, num_envs=2)
    env = presets.make_env(agent, env_id, config)
    try:
        built = presets.build(agent, env, config, seed=0)
        assert built.compiled
        obs, _ = env.reset(seed=0)
        assert len(built.forward(obs)) == 2
    finally:
        env.close()


def test_blob_ids_get_the_measured_row_and_other_ids_the_generic_one():
    assert presets.config("dqn", "Blob-v0") == presets.DQNConfig()
    assert presets.config("dqn", "blobenv:Blob-v0") == presets.DQNConfig()
    generic = presets.config("dqn", "Acrobot-v1")
    assert generic == PRESETS[("dqn", GENERIC)].config
    assert (generic.gamma, generic.reward_clip, generic.train_episode_steps) == (0.99, math.inf, 0)
    assert presets.config("qlearning", "Blob-v0").obs_type == "coords"
    assert presets.config("qlearning", "Taxi-v3").obs_type is None
    assert presets.config("qlearning", "CliffWalking-v1") == PRESETS[("qlearning", GENERIC)].config


def test_the_classic_ids_have_rows_of_their_own_with_their_measured_budgets():
    assert presets.config("dqn", "CartPole-v1").steps == 50_000
    assert presets.config("dqn", "MountainCar-v0").steps == 120_000
    assert presets.config("qlearning", "FrozenLake-v1").steps == 200_000
    assert presets.config("qlearning", "Taxi-v4") == presets.config("qlearning", "Taxi-v3")
    for key in [("dqn", "CartPole-v1"), ("dqn", "MountainCar-v0"), ("qlearning", "Taxi-v4")]:
        assert "README" in PRESETS[key].chosen_by


def test_build_without_a_config_uses_the_envs_preset():
    env = gymnasium.make_vec("CartPole-v1", num_envs=2)
    agent = presets.build("dqn", env)
    env.close()
    assert agent.gamma == presets.config("dqn", "CartPole-v1").gamma == 0.99
    assert agent.model.name.startswith("mlp") or "mlp" in agent.base_model.name


def test_overrides_mismatches_and_unknown_agents_are_clear_errors():
    assert presets.config("dqn", "Blob-v0", steps=7).steps == 7
    with pytest.raises(ValueError, match="has no field nosuch"):
        presets.config("dqn", "Blob-v0", nosuch=1)
    with pytest.raises(ValueError, match="unknown agent 'a2c'"):
        presets.config("a2c", "Blob-v0")
    env = gymnasium.make("Blob-v0")
    with pytest.raises(ValueError, match="does not configure the agent"):
        presets.build("qlearning", env, presets.DQNConfig())
    with pytest.raises(ValueError, match="needs Discrete or MultiDiscrete"):
        presets.build("qlearning", env)
    env.close()


def test_the_network_names_configs_offer_are_those_networks_build_makes():
    for name in presets.NETWORKS:
        shape = (10, 10, 3) if name in ("blob_cnn", "tutorial_cnn") else (4,)
        assert networks.build(name, shape, 2, hidden_units=8).output_shape == (None, 2)
    with pytest.raises(ValueError, match="network must be one of"):
        networks.build("resnet", (4,), 2)


def test_presets_is_reachable_from_the_package():
    assert agents.presets is presets


def test_grad_clip_and_scale_obs_reach_the_optimizer_and_the_network():
    env = gymnasium.make("MountainCar-v0")
    small = {"memory_size": 100, "hidden_units": 8}
    clipped = presets.build(
        "dqn", env, presets.config("dqn", "CartPole-v1", **small, grad_clip=10.0)
    )
    assert clipped.optimizer.global_clipnorm == 10.0
    assert "bounds_scaling" not in [layer.name for layer in clipped.model.layers]
    scaled = presets.build("dqn", env, presets.config("dqn", "MountainCar-v0", **small))
    assert scaled.optimizer.global_clipnorm is None
    assert "bounds_scaling" in [layer.name for layer in scaled.model.layers]
    with pytest.raises(ValueError, match="grad_clip"):
        presets.check_config(presets.config("dqn", "CartPole-v1", grad_clip=0.0))


def test_the_dqns_anneal_lr_decays_the_rate_linearly_to_zero_over_the_budgets_updates(tmp_path):
    from agents.builders import dqn_updates

    small = {"memory_size": 500, "hidden_units": 8, "num_envs": 1}
    config = presets.config("dqn", "CartPole-v1", **small, steps=300, warmup=100, anneal_lr=True)
    env = presets.make_env("dqn", "CartPole-v1", config)
    agent = presets.build("dqn", env, config, seed=0)
    assert float(agent.optimizer.learning_rate) == pytest.approx(config.lr)
    agent.fit(env, nb_steps=200, verbose=0, seed=0)  # 100 of the 200 updates
    assert float(agent.optimizer.learning_rate) == pytest.approx(config.lr / 2, rel=1e-5)
    save_checkpoint(agent, tmp_path, include_memory=True)
    restored = presets.build("dqn", env, config, seed=1)
    load_checkpoint(restored, tmp_path)  # a resumed run goes on down the same line
    assert float(restored.optimizer.learning_rate) == pytest.approx(config.lr / 2, rel=1e-5)
    restored.fit(env, nb_steps=100, verbose=0, resume=True)
    assert int(restored.optimizer.iterations) == dqn_updates(config) == 200
    assert float(restored.optimizer.learning_rate) == 0.0
    constant = presets.build("dqn", env, presets.config("dqn", "CartPole-v1", **small), seed=0)
    schedule = keras.optimizers.schedules.LearningRateSchedule
    assert not isinstance(constant.optimizer._learning_rate, schedule)
