"""PPOAgent: GAE, the loss terms, learning both action kinds, persistence, bad input."""

import gymnasium
import keras
import numpy as np
import pytest

from agents import load_agent
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.networks import actor_critic
from agents.ppo import PPOAgent, gae, ppo_loss_terms
from tests.agents.toy_envs import ContextBandit, Corridor, Reach, greedy_gap

GAMMA = 0.9


def make_agent(env_fn=ContextBandit, seed=0, lr=3e-3, **kwargs):
    keras.utils.set_random_seed(seed)
    env = env_fn()
    model = actor_critic(env.observation_space, env.action_space, 32)
    settings = {"n_steps": 32, "batch_size": 32, "n_epochs": 4, "gamma": GAMMA, **kwargs}
    agent = PPOAgent(model, env.action_space, **settings)
    agent.compile(keras.optimizers.Adam(lr))
    agent.seed(seed)
    return agent


def test_gae_stops_at_episode_ends_and_bootstraps_truncations_but_not_terminations():
    # Step 1 is truncated (V of its final obs is 10), step 3 terminated (its 7 is ignored),
    # step 4 ends the rollout mid-episode (bootstraps from 6).
    rewards = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    values = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    next_values = np.array([1.0, 10.0, 2.0, 7.0, 6.0])
    terminated = np.array([False, False, False, True, False])
    done = np.array([False, True, False, True, False])
    advantages, returns = gae(rewards, values, next_values, terminated, done, 0.9, 0.8)
    # deltas 1.4, 10, 3.3, 2, 7.9; A[t] = delta[t] + 0.72 * A[t + 1] within an episode.
    np.testing.assert_allclose(advantages, [1.4 + 0.72 * 10, 10.0, 3.3 + 0.72 * 2, 2.0, 7.9])
    np.testing.assert_allclose(returns, advantages + values)


def test_loss_terms_match_hand_computed_values():
    ratios = np.array([1.5, 0.5, 1.1, 0.7], np.float32)
    old = np.array([-1.0, -0.5, -2.0, -0.1], np.float32)
    advantages = np.array([1.0, 1.0, -1.0, -1.0], np.float32)
    values = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    old_values = np.array([0.0, 2.0, 3.5, 4.0], np.float32)
    returns = np.full(4, 2.0, np.float32)
    entropy = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    args = (old + np.log(ratios), old, advantages, values, old_values, returns, entropy, 0.2)
    terms = {name: float(value) for name, value in ppo_loss_terms(*args).items()}
    # min(r A, clip(r) A): 1.2, 0.5, -1.1, -0.8; three ratios beyond 1 +- 0.2.
    assert terms["policy_loss"] == pytest.approx(-(1.2 + 0.5 - 1.1 - 0.8) / 4, abs=1e-6)
    assert terms["clip_fraction"] == pytest.approx(0.75)
    assert terms["value_loss"] == pytest.approx((1 + 0 + 1 + 4) / 4)
    assert terms["entropy"] == pytest.approx(0.25)
    assert terms["approx_kl"] == pytest.approx(np.mean(ratios - 1 - np.log(ratios)), rel=1e-4)
    clipped = ppo_loss_terms(*args, clip_range_vf=0.5)  # values 0.5, 2, 3, 4
    assert float(clipped["value_loss"]) == pytest.approx((1.5**2 + 0 + 1 + 4) / 4)


def test_learns_a_discrete_env_on_a_vector_env_and_bootstraps_through_its_time_limit():
    agent = make_agent()
    env = gymnasium.vector.SyncVectorEnv([ContextBandit] * 4)
    history = agent.fit(env, nb_steps=3000, verbose=0, seed=0)
    assert agent.updates == 3000 // (32 * 4)
    result = agent.test(ContextBandit(), nb_episodes=20, verbose=0, seed=1)
    assert np.mean(result.history["episode_reward"]) >= 9.5
    assert set(history.history) >= set(agent.metrics_names)
    # Reward 1 every step and a time limit (not an end): V -> 1 / (1 - gamma) = 10, where
    # treating the limit as terminal would give about 6.5.
    values = agent._value_fn(np.eye(3, dtype=np.float32)).numpy()
    assert np.all(values > 8.5), values


def test_rollout_rows_follow_each_sub_env_of_a_vector_env_through_its_autoresets():
    agent = make_agent(lambda: Corridor(3), n_steps=1000)
    env = gymnasium.vector.SyncVectorEnv([lambda: Corridor(3), lambda: Corridor(3, start=1)])
    agent.fit(env, nb_steps=60, verbose=0, seed=0)  # episodes of other lengths, no update
    data = agent._rollout_arrays()
    for i in (0, 1):
        rows = data["env_ids"] == i
        position = data["obs"][rows].argmax(axis=1)
        moved = np.clip(position + np.where(data["actions"][rows] == 1, 1, -1), 0, 2)
        np.testing.assert_array_equal(data["next_obs"][rows].argmax(axis=1), moved)
        going_on = ~data["done"][rows][:-1]
        np.testing.assert_array_equal(
            data["obs"][rows][1:][going_on], data["next_obs"][rows][:-1][going_on]
        )
        # V(next_obs) everywhere, as the definition has it, gives the agent's advantages.
        next_values = agent._value_fn(data["next_obs"][rows]).numpy()
        done = data["done"][rows] | (np.arange(rows.sum()) == rows.sum() - 1)
        expected, _ = gae(
            data["rewards"][rows], data["values"][rows], next_values,
            data["terminated"][rows], done, GAMMA, agent.gae_lambda,
        )  # fmt: skip
        np.testing.assert_allclose(data["advantages"][rows], expected, rtol=1e-5, atol=1e-6)
    assert data["done"].sum() > 4 and len(data["env_ids"]) < 2 * len(agent._rollout)


def test_learns_a_continuous_env_with_normalized_rewards_and_observations():
    agent = make_agent(Reach, n_steps=64, batch_size=64, n_epochs=5, normalize_reward=True,
                       normalize_obs=True)  # fmt: skip
    agent.fit(gymnasium.vector.SyncVectorEnv([Reach] * 4), nb_steps=6000, verbose=0, seed=0)
    assert greedy_gap(agent) < 0.15  # standing still loses about 2.9
    obs_mean, obs_var, obs_count = agent.statistics.get("obs")
    assert obs_count > 6000 and obs_mean.shape == obs_var.shape == (1,)
    assert agent.statistics.get("return")[1] > 0


def test_the_loss_uses_the_unclipped_sampled_action():
    agent = make_agent(Reach, n_steps=1000)
    agent.log_std.value.assign([1.0])  # std e: most draws leave [-1, 1]
    agent.fit(Reach(), nb_steps=200, verbose=0, seed=0)
    actions = np.concatenate([step["actions"] for step in agent._rollout])
    assert np.abs(actions).max() > 1.5 and actions.dtype == np.float32


def test_saved_and_loaded_agents_act_identically(tmp_path):
    agent = make_agent(Reach, n_steps=50, normalize_obs=True)
    agent.fit(Reach(), nb_steps=200, verbose=0, seed=0)
    agent.save(tmp_path / "agent")
    loaded = load_agent(tmp_path / "agent")
    assert isinstance(loaded, PPOAgent) and loaded.get_config() == agent.get_config()
    for ours, theirs in zip(loaded.get_weights(), agent.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)

    path = str(tmp_path / "ppo.weights.h5")
    agent.save_weights(path)
    other = make_agent(Reach, seed=5, normalize_obs=True)
    other.load_weights(path)
    np.testing.assert_array_equal(other.log_std.value.numpy(), agent.log_std.value.numpy())
    obs = np.linspace(-1, 1, 9, dtype=np.float32)[:, None]
    agent.training = other.training = False
    np.testing.assert_array_equal(other.forward(obs), agent.forward(obs))
    with pytest.raises(ValueError, match="cannot load"):
        make_agent().load_weights(path)


def test_a_checkpoint_restores_the_normalization_statistics_and_continues_exactly(tmp_path):
    settings = {"n_steps": 50, "normalize_obs": True, "normalize_reward": True}
    agent = make_agent(Reach, **settings)
    agent.fit(Reach(), nb_steps=200, verbose=0, seed=0)  # 4 whole rollouts
    save_checkpoint(agent, tmp_path)
    resumed = make_agent(Reach, seed=7, **settings)
    load_checkpoint(resumed, tmp_path)
    assert resumed.updates == agent.updates == 4
    for ours, theirs in zip(resumed.statistics.weights, agent.statistics.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.name)
    assert agent.statistics.get("return")[1] != 1.0 and agent.statistics.get("obs")[2] == 200

    for each in (agent, resumed):
        each.fit(Reach(), nb_steps=100, verbose=0, seed=3)
    assert resumed.updates == agent.updates == 6
    for name, variables in agent._state_variables().items():
        for ours, theirs in zip(resumed._state_variables()[name], variables, strict=True):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)


def test_a_second_fit_ends_the_rollout_in_progress_as_a_truncation():
    agent = make_agent(Corridor, n_steps=30)
    agent.fit(Corridor(), nb_steps=20, verbose=0, seed=0)
    agent.fit(Corridor(), nb_steps=20, verbose=0, seed=1)
    assert agent.updates == 1 and len(agent._rollout) == 10


def test_bad_arguments_get_clear_errors():
    bandit = ContextBandit()
    model = actor_critic(bandit.observation_space, bandit.action_space, 8)
    space = bandit.action_space
    for name, value in [("n_steps", 0), ("batch_size", 1.5), ("n_epochs", True)]:
        with pytest.raises(ValueError, match=f"{name} must be an integer >= 1"):
            PPOAgent(model, space, **{name: value})
    numbers = [("gamma", 1.1), ("gae_lambda", -0.1), ("clip_range", 0), ("clip_range_vf", 0.0),
               ("ent_coef", -1), ("max_grad_norm", 0)]  # fmt: skip
    for name, value in numbers:
        with pytest.raises(ValueError, match=f"{name} must be a number in"):
            PPOAgent(model, space, **{name: value})
    with pytest.raises(ValueError, match="normalize_obs must be a bool"):
        PPOAgent(model, space, normalize_obs="yes")
    with pytest.raises(TypeError, match="needs a Discrete or Box action space"):
        PPOAgent(model, gymnasium.spaces.MultiDiscrete([2, 2]))
    with pytest.raises(ValueError, match="1-D Box action space"):
        PPOAgent(model, gymnasium.spaces.Box(-1, 1, (2, 2)))
    with pytest.raises(ValueError, match=r"policy output \(batch, 4\)"):
        PPOAgent(model, gymnasium.spaces.Discrete(4))
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        PPOAgent("mlp", space)
    agent = make_agent()
    with pytest.raises(
        ValueError, match="a PPOAgent needs a Discrete action space, the env has Box"
    ):
        agent.fit(Reach(), nb_steps=10, verbose=0)
    wide = ContextBandit()
    wide.observation_space = gymnasium.spaces.Box(0, 1, (4,), np.float32)
    with pytest.raises(ValueError, match=r"takes observations of shape \(3,\), the env gives \(4,"):
        agent.fit(wide, nb_steps=10, verbose=0)
    wider = make_agent(lambda: ContextBandit(contexts=4))
    with pytest.raises(ValueError, match=r"acts in Discrete\(4\), the env's actions are Discrete"):
        wider.fit(ContextBandit(), nb_steps=10, verbose=0)


def test_anneal_lr_decays_the_rate_linearly_to_zero_over_the_budget():
    from agents import presets
    from agents.builders import ppo_gradient_steps

    config = presets.config("ppo", "CartPole-v1", steps=1024, n_epochs=2, anneal_lr=True)
    env = presets.make_env("ppo", "CartPole-v1", config)
    agent = presets.build("ppo", env, config, seed=0)
    assert float(agent.optimizer.learning_rate) == pytest.approx(config.lr)
    agent.fit(env, nb_steps=config.steps // 2, verbose=0, seed=0)
    assert float(agent.optimizer.learning_rate) == pytest.approx(config.lr / 2, rel=1e-5)
    agent.fit(env, nb_steps=config.steps // 2, verbose=0, resume=True)
    assert int(agent.optimizer.iterations) == ppo_gradient_steps(config) == 4 * 2
    assert float(agent.optimizer.learning_rate) == 0.0
