"""DDPGAgent and TD3Agent: the targets, the delayed actor, learning, persistence, bad input."""

import gymnasium
import keras
import numpy as np
import pytest

from agents import load_agent, networks
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.ddpg import DDPGAgent
from agents.env_driver import EnvDriver
from agents.memory import SequentialMemory
from agents.random import GaussianWhiteNoiseProcess, OrnsteinUhlenbeckProcess
from agents.td3 import TD3Agent
from tests.agents.toy_envs import Corridor, Reach, greedy_gap

GAMMA = 0.9


def make_agent(cls=DDPGAgent, seed=0, process="gaussian", units=(64, 64), **kwargs):
    keras.utils.set_random_seed(seed)
    space = Reach().action_space
    actor = networks.actor_mlp((1,), space.low, space.high, units)
    critic, action_input = networks.critic_mlp((1,), (1,), units)
    noise = {
        "gaussian": GaussianWhiteNoiseProcess(sigma=0.5, size=1),
        "ou": OrnsteinUhlenbeckProcess(0.3, sigma=0.8, dt=0.5, size=1),
        None: None,
    }[process]
    settings = {
        "memory": SequentialMemory(5000, gamma=GAMMA), "gamma": GAMMA, "batch_size": 64,
        "nb_steps_warmup_critic": 100, "nb_steps_warmup_actor": 100,
        "target_model_update": 0.02, "random_process": noise, **kwargs,
    }  # fmt: skip
    agent = cls(1, actor, critic, action_input, **settings)
    agent.compile([keras.optimizers.Adam(1e-3), keras.optimizers.Adam(2e-3)])
    agent.seed(seed)
    return agent


# DDPG's run is the longer; TD3 (DDPG with twin critics and delayed updates) is the default one.
@pytest.mark.parametrize("cls", [pytest.param(DDPGAgent, marks=pytest.mark.slow), TD3Agent])
def test_learns_a_continuous_env_to_near_optimal_greedy_returns(cls):
    agent = make_agent(cls)
    history = agent.fit(Reach(), nb_steps=1500, verbose=0, seed=0)
    # The optimum averages about -0.9 over the starts; standing still gets -3.75.
    assert greedy_gap(agent) < 0.15
    assert set(history.history) >= {"loss", "mean_q", "noise_sigma"}


def test_a_vector_env_trains_with_one_noise_stream_per_sub_env_and_clipped_actions():
    agent = make_agent(TD3Agent, process="ou")
    agent.random_process.sigma = 5.0  # far beyond the bounds: the driver clips
    env = gymnasium.vector.SyncVectorEnv([Reach] * 4)
    agent.fit(env, nb_steps=400, verbose=0, seed=0)
    assert agent.step >= 400 and agent.random_process.x_prev.shape == (4, 1)
    actions = agent.memory.state_dict()["actions"]
    assert actions.dtype == np.float32 and actions.shape == (len(agent.memory), 1)
    assert np.abs(actions).max() == 1.0  # clipped to the bounds, and the bounds reached


def test_critic_targets_take_the_smaller_twin_of_the_smoothed_clipped_target_action():
    agent = make_agent(TD3Agent, target_noise_clip=0.3)
    obs = np.array([[[0.2], [-0.9], [0.95]]], np.float32)
    actions = np.array([[[0.5], [-1.0], [0.1]]], np.float32)
    rewards = np.array([[1.0, -2.0, 0.5]], np.float32)
    next_obs = np.array([[[0.4], [-1.0], [1.0]]], np.float32)
    discounts = np.array([[GAMMA, 0.0, GAMMA]], np.float32)
    noise = np.array([[[0.3], [-0.3], [0.3]]], np.float32)
    low, high = np.array([-1.0], np.float32), np.array([1.0], np.float32)
    target_actions = np.clip(agent.target_actor(next_obs[0]).numpy() + noise[0], low, high)
    twins = [critic([target_actions, next_obs[0]]).numpy()[:, 0] for critic in agent.target_critics]
    expected_targets = rewards[0] + discounts[0] * np.minimum(*twins)
    q = agent.critic([actions[0], obs[0]]).numpy()[:, 0]
    on = np.array([False])
    _, _, td = agent._train_many_fn(
        obs, actions, rewards, next_obs, discounts, np.ones((1, 3), np.float32), noise, on, on,
        low, high,
    )  # fmt: skip
    np.testing.assert_allclose(td.numpy()[0], expected_targets - q, rtol=1e-5, atol=1e-6)
    assert not np.allclose(*twins)  # two different critics


def test_td_errors_of_stored_rows_use_the_twin_targets_without_noise_and_update_nothing():
    agent = make_agent(TD3Agent)
    env = Reach()
    agent.check_env(EnvDriver(env))  # the action bounds
    obs, next_obs = np.array([[0.2], [-0.9]], np.float32), np.array([[0.4], [-1.0]], np.float32)
    actions, rewards = np.array([[0.5], [-1.0]], np.float32), np.array([1.0, -2.0], np.float32)
    discounts = np.array([GAMMA, 0.0], np.float32)
    before = agent.get_weights()
    td = agent.td_errors((obs, actions, rewards, next_obs, discounts, None))
    target_actions = np.clip(agent.target_actor(next_obs).numpy(), -1.0, 1.0)
    twins = [critic([target_actions, next_obs]).numpy()[:, 0] for critic in agent.target_critics]
    q = agent.critic([actions, obs]).numpy()[:, 0]
    expected = rewards + discounts * np.minimum(*twins) - q
    np.testing.assert_allclose(td, expected, rtol=1e-5, atol=1e-6)
    for kept, now in zip(before, agent.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)


def test_td3_updates_the_actor_every_policy_delay_critic_updates():
    agent = make_agent(TD3Agent, nb_steps_warmup_critic=0, nb_steps_warmup_actor=0)
    env = Reach()
    agent.fit(env, nb_steps=64, verbose=0, seed=0)  # fills the memory; one update per step
    changed, start = [], agent.updates
    for _ in range(4):
        before = [w.copy() for w in agent.actor.get_weights()]
        critic_before = agent.critic.get_weights()[0].copy()
        agent._update(agent.step + 1, 1)
        changed.append(not np.array_equal(before[0], agent.actor.get_weights()[0]))
        assert not np.array_equal(critic_before, agent.critic.get_weights()[0])
    assert changed == [(start + k) % 2 == 0 for k in range(4)]
    assert changed.count(True) == 2


def test_saved_and_loaded_agents_act_identically(tmp_path):
    agent = make_agent(TD3Agent, process="ou")
    agent.fit(Reach(), nb_steps=200, verbose=0, seed=0)
    agent.save(tmp_path / "agent")
    loaded = load_agent(tmp_path / "agent")
    assert isinstance(loaded, TD3Agent) and loaded.get_config() == agent.get_config()
    obs = np.linspace(-1, 1, 9, dtype=np.float32)[:, None]
    agent.training = loaded.training = False
    np.testing.assert_array_equal(loaded.forward(obs), agent.forward(obs))
    for ours, theirs in zip(loaded.critics, agent.critics, strict=True):
        np.testing.assert_array_equal(ours([obs, obs]).numpy(), theirs([obs, obs]).numpy())

    path = tmp_path / "ddpg.weights.h5"
    agent.save_weights(str(path))
    other = make_agent(TD3Agent, seed=5)
    other.load_weights(str(path))
    other.training = False
    np.testing.assert_array_equal(other.forward(obs), agent.forward(obs))
    with pytest.raises(ValueError, match="cannot load"):
        make_agent(DDPGAgent).load_weights(str(path))  # one critic, not two


class StopAtEpisodeEnd(keras.callbacks.Callback):
    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_episode_end(self, episode, logs=None):
        if self.model.step >= self.step:
            self.model.stop_training = True


# TD3's resume is the default run's; DDPG's (the same state, less of it) runs with `-m slow`.
@pytest.mark.parametrize("cls", [pytest.param(DDPGAgent, marks=pytest.mark.slow), TD3Agent])
def test_stopped_and_resumed_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path, cls):
    env = lambda: Reach(start=-1.0)  # noqa: E731
    settings = {"process": "ou", "nb_steps_warmup_critic": 20, "nb_steps_warmup_actor": 40}
    uninterrupted = make_agent(cls, **settings)
    uninterrupted.fit(env(), nb_steps=160, verbose=0, seed=0)

    stopped = make_agent(cls, **settings)
    stopped.fit(env(), nb_steps=160, verbose=0, seed=0, callbacks=[StopAtEpisodeEnd(80)])
    assert 80 <= stopped.step < 160
    save_checkpoint(stopped, tmp_path, include_memory=True)
    resumed = make_agent(cls, seed=7, **settings)  # other weights, rng and noise state
    resumed.random_process.sample(resumed.rng, np.arange(3))
    load_checkpoint(resumed, tmp_path)
    resumed.fit(env(), nb_steps=160 - resumed.step, verbose=0)

    assert (resumed.step, resumed.updates) == (uninterrupted.step, uninterrupted.updates)
    for name, variables in uninterrupted._state_variables().items():
        for ours, theirs in zip(resumed._state_variables()[name], variables, strict=True):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    np.testing.assert_array_equal(
        resumed.random_process.x_prev, uninterrupted.random_process.x_prev
    )


def test_a_checkpoint_of_another_agent_or_number_of_critics_is_refused(tmp_path):
    agent = make_agent(DDPGAgent, twin_critics=True)
    agent.fit(Reach(), nb_steps=20, verbose=0, seed=0)
    save_checkpoint(agent, tmp_path)
    with pytest.raises(ValueError, match="holds a DDPGAgent, not a TD3Agent"):
        load_checkpoint(make_agent(TD3Agent), tmp_path)
    with pytest.raises(
        ValueError, match=r"not fit this DDPGAgent: .* unknown arrays \['critic1_0000'"
    ):
        load_checkpoint(make_agent(DDPGAgent), tmp_path)


def test_bad_arguments_get_clear_errors():
    space = Reach().action_space
    actor = networks.actor_mlp((1,), space.low, space.high, (8,))
    critic, action_input = networks.critic_mlp((1,), (1,), (8,))
    memory = SequentialMemory(100, gamma=GAMMA)
    ok = {"memory": memory, "gamma": GAMMA}
    with pytest.raises(ValueError, match="critic_action_input must be one of the critic's"):
        DDPGAgent(1, actor, critic, keras.Input((1,)), **ok)
    one_input = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="two inputs, the action and the observation"):
        DDPGAgent(1, actor, one_input, one_input.inputs[0], **ok)
    wide = networks.actor_mlp((1,), [-1, -1], [1, 1], (8,))
    with pytest.raises(ValueError, match=r"actor's output must have shape \(batch, nb_actions=1\)"):
        DDPGAgent(1, wide, critic, action_input, **ok)
    with pytest.raises(ValueError, match="the random process has size 2, the agent nb_actions=1"):
        noise = GaussianWhiteNoiseProcess(size=2)
        DDPGAgent(1, actor, critic, action_input, random_process=noise, **ok)
    with pytest.raises(TypeError, match="random_process must be a random process"):
        DDPGAgent(1, actor, critic, action_input, random_process="ou", **ok)
    with pytest.raises(ValueError, match="gamma"):
        DDPGAgent(1, actor, critic, action_input, memory=memory, gamma=0.5)
    with pytest.raises(ValueError, match="policy_delay must be an integer >= 1"):
        TD3Agent(1, actor, critic, action_input, policy_delay=0, **ok)
    with pytest.raises(ValueError, match="target_model_update"):
        DDPGAgent(1, actor, critic, action_input, target_model_update=0, **ok)
    agent = make_agent()
    with pytest.raises(ValueError, match="a DDPGAgent needs a Box action space.*use a DQNAgent"):
        agent.fit(Corridor(), nb_steps=10, verbose=0)
    with pytest.raises(
        ValueError, match=r"nb_actions=1, the env's actions are Box\(-2.0, 2.0, \(2,\)"
    ):
        two = Reach()
        two.action_space = gymnasium.spaces.Box(-2, 2, (2,), np.float32)
        agent.fit(two, nb_steps=10, verbose=0)
    unbounded = Reach()
    unbounded.action_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    with pytest.raises(ValueError, match="nb_steps_random=10 draws uniform actions, but Box"):
        make_agent(nb_steps_random=10).fit(unbounded, nb_steps=10, verbose=0)
    with pytest.raises(ValueError, match="takes no metrics"):
        agent.compile("adam", metrics=["mae"])
