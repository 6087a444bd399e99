"""NAFAgent: the quadratic Q, exact targets, learning a continuous env, persistence, bad input."""

from __future__ import annotations

import gymnasium
import keras
import numpy as np
import pytest

from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.losses import td_loss
from agents.memory import PrioritizedMemory, SequentialMemory
from agents.naf import NAFAgent, lower_triangular
from agents.networks import entry_count, naf_networks
from agents.random import GaussianWhiteNoiseProcess, OrnsteinUhlenbeckProcess
from agents.serialization import load_agent
from tests.agents.toy_envs import Reach

GAMMA = 0.9


def dense(inputs: int, outputs: int, activation: str | None = None) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(outputs, activation=activation),
        ]
    )


def random_agent(nb_actions: int, mode: str, inputs: int = 4, **kwargs) -> NAFAgent:
    """An agent of small random networks (nonzero L entries, off the diagonal too)."""
    keras.utils.set_random_seed(0)
    models = (
        dense(inputs, 1),
        dense(inputs, entry_count(nb_actions, mode)),
        dense(inputs, nb_actions, "tanh"),
    )
    agent = NAFAgent(
        nb_actions, *models, SequentialMemory(100, gamma=GAMMA), covariance_mode=mode,
        gamma=GAMMA, **kwargs,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(1e-3))
    return agent


def reach_agent(seed: int = 0, process=None, memory=None, **kwargs) -> NAFAgent:
    keras.utils.set_random_seed(seed)
    env = Reach()
    models = naf_networks(env.observation_space, env.action_space, hidden_units=32)
    defaults = dict(
        random_process=process or GaussianWhiteNoiseProcess(sigma=0.5, size=1), gamma=GAMMA,
        batch_size=32, nb_steps_warmup=100, target_model_update=0.05,
    )  # fmt: skip
    memory = memory if memory is not None else SequentialMemory(5000, gamma=GAMMA)
    agent = NAFAgent(1, *models, memory, **{**defaults, **kwargs})
    agent.compile(keras.optimizers.Adam(3e-3))
    return agent


def numpy_q(agent: NAFAgent, obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """V - 1/2 (a - mu)^T L L^T (a - mu), with L built in NumPy from the L model's entries."""
    n, entries = agent.nb_actions, agent.L_model(obs).numpy()
    rows, cols = np.tril_indices(n) if agent.covariance_mode == "full" else (np.arange(n),) * 2
    lower = np.zeros((len(obs), n, n))
    lower[:, rows, cols] = np.where(rows == cols, np.exp(entries), entries)
    offset = actions - agent.mu_model(obs).numpy()
    quadratic = np.einsum("bi,bij,bkj,bk->b", offset, lower, lower, offset)
    return agent.V_model(obs).numpy()[:, 0] - 0.5 * quadratic


@pytest.mark.parametrize("mode", ["full", "diag"])
def test_q_matches_a_numpy_calculation_is_positive_definite_and_maximal_at_mu(mode):
    agent = random_agent(3, mode)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(6, 4)).astype(np.float32)
    actions = rng.uniform(-1, 1, size=(6, 3)).astype(np.float32)
    np.testing.assert_allclose(agent.q_values(obs, actions), numpy_q(agent, obs, actions), 1e-5)

    lower = lower_triangular(agent.L_model(obs), 3, mode).numpy()
    precision = lower @ lower.transpose(0, 2, 1)
    assert (np.linalg.eigvalsh(precision) > 0).all()
    if mode == "diag":
        assert np.count_nonzero(precision - np.eye(3) * precision) == 0
    else:
        assert np.count_nonzero(np.tril(lower, -1)) == 6 * 3  # off-diagonal entries used

    mu = agent.mu_model(obs).numpy()
    best = agent.q_values(obs, mu)
    np.testing.assert_allclose(best, agent.V_model(obs).numpy()[:, 0], rtol=1e-6)
    for _ in range(5):
        assert (agent.q_values(obs, mu + rng.normal(scale=0.3, size=mu.shape)) < best).all()


def train_once(agent, *batch):
    """One update through the agent's compiled train step; returns (loss, TD errors)."""
    losses, _, td_errors = agent._train_many_fn(*(np.stack([array]) for array in batch))
    return float(losses[0]), td_errors.numpy()[0]


def test_td_errors_bootstrap_from_the_target_value_only_where_the_discount_says():
    agent = random_agent(2, "full", reward_scale=0.5, target_model_update=0.25)
    agent.target_V_model.set_weights([w * 1.5 + 0.1 for w in agent.V_model.get_weights()])
    rng = np.random.default_rng(1)
    obs, next_obs = (rng.normal(size=(8, 4)).astype(np.float32) for _ in range(2))
    actions = rng.uniform(-1, 1, size=(8, 2)).astype(np.float32)
    rewards = rng.normal(size=8).astype(np.float32)
    discounts = np.array([GAMMA, 0, GAMMA**2, GAMMA, 0, GAMMA, GAMMA, 0], np.float32)
    weights = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    target_before = agent.target_V_model.get_weights()
    targets = 0.5 * rewards + discounts * agent.target_V_model(next_obs).numpy()[:, 0]
    expected = targets - numpy_q(agent, obs, actions)

    loss, td_errors = train_once(agent, obs, actions, rewards, next_obs, discounts, weights)

    np.testing.assert_allclose(td_errors, expected, rtol=1e-5, atol=1e-5)
    assert loss == pytest.approx(np.mean(weights * 0.5 * expected**2), rel=1e-5)
    # Soft update: the target moves a quarter of the way to V's new weights.
    pairs = zip(
        target_before, agent.target_V_model.get_weights(), agent.V_model.get_weights(), strict=True
    )
    for old, new, online in pairs:
        np.testing.assert_allclose(new, 0.25 * online + 0.75 * old, rtol=1e-5, atol=1e-6)


def test_hard_target_update_every_n_steps_and_the_huber_loss():
    agent = reach_agent(target_model_update=100, nb_steps_warmup=10, delta_clip=1.0)
    agent.fit(Reach(), nb_steps=99, verbose=0, seed=0)
    online, target = agent.V_model.get_weights(), agent.target_V_model.get_weights()
    assert any(not np.allclose(o, t) for o, t in zip(online, target, strict=True))
    agent.fit(Reach(), nb_steps=1, verbose=0)
    for o, t in zip(agent.V_model.get_weights(), agent.target_V_model.get_weights(), strict=True):
        np.testing.assert_array_equal(o, t)
    errors = np.array([0.5, -3.0], np.float32)
    np.testing.assert_allclose(td_loss(errors, agent.delta_clip).numpy(), [0.125, 2.5])


def greedy_returns(agent: NAFAgent, env: Reach, starts: np.ndarray) -> np.ndarray:
    """The undiscounted return of the greedy policy from every start position, in one batch."""
    agent.training = False
    position, total = starts.astype(np.float32)[:, None], np.zeros(len(starts))
    for _ in range(env.horizon):
        action = np.clip(agent.forward(position), -1, 1)
        position = np.clip(position + 0.5 * action, -1, 1)
        total -= np.abs(position[:, 0] - env.target)
    return total


def assert_near_optimal(agent: NAFAgent, tolerance: float) -> None:
    env, starts = Reach(), np.linspace(-1, 1, 21)
    optimal = np.array([env.optimal_return(start) for start in starts])
    returns = greedy_returns(agent, env, starts)
    assert np.mean(optimal - returns) < tolerance, (returns, optimal)


def test_learns_a_continuous_env_to_near_optimal_greedy_returns():
    agent = reach_agent()
    history = agent.fit(Reach(), nb_steps=1500, verbose=0, seed=0)
    # Staying put falls 2.7 short of the optimum on average; the learned policy falls short by
    # a few hundredths a step, next to the target, where the reward -|x - target| has its kink.
    assert_near_optimal(agent, tolerance=0.2)
    assert set(history.history) >= {"loss", "mean_q", "noise_sigma"}
    test = agent.test(Reach(), nb_episodes=3, verbose=0, seed=5)
    assert test.history["nb_episode_steps"] == [5, 5, 5]


# NAF's learning and resume tests run in the default run; its vector-env one with `-m slow`.
@pytest.mark.slow
def test_a_vector_env_with_prioritized_replay_trains_too():
    env = gymnasium.vector.SyncVectorEnv([Reach] * 4)
    agent = reach_agent(
        memory=PrioritizedMemory(5000, gamma=GAMMA),
        random_process=OrnsteinUhlenbeckProcess(0.5, sigma=1.0, dt=0.5, size=1),
    )
    agent.fit(env, nb_steps=2000, verbose=0, seed=0)
    assert agent.step >= 2000
    assert agent.random_process.x_prev.shape == (4, 1)  # one noise stream per sub-env
    assert_near_optimal(agent, tolerance=0.2)


def test_saved_and_loaded_agents_and_weights_act_identically(tmp_path):
    agent = reach_agent(process=OrnsteinUhlenbeckProcess(0.15, size=1))
    agent.fit(Reach(), nb_steps=300, verbose=0, seed=0)
    obs = np.linspace(-1, 1, 9, dtype=np.float32)[:, None]
    agent.training = False
    agent.save(tmp_path / "agent")
    loaded = load_agent(tmp_path / "agent")
    assert isinstance(loaded, NAFAgent) and loaded.get_config() == agent.get_config()
    np.testing.assert_array_equal(loaded.forward(obs), agent.forward(obs))
    np.testing.assert_array_equal(loaded.q_values(obs, obs), agent.q_values(obs, obs))

    path = tmp_path / "naf.weights.h5"
    agent.save_weights(str(path))
    other = reach_agent(seed=9)
    other.load_weights(str(path))
    other.training = False
    np.testing.assert_array_equal(other.forward(obs), agent.forward(obs))
    for o, t in zip(other.V_model.get_weights(), other.target_V_model.get_weights(), strict=True):
        np.testing.assert_array_equal(o, t)


class StopAtEpisodeEnd(keras.callbacks.Callback):
    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_episode_end(self, episode, logs=None):
        if self.model.step >= self.step:
            self.model.stop_training = True


def make_resumable(seed: int = 0) -> NAFAgent:
    # A fixed start: each fit resets the env (Reach cannot save its state), as the end of an
    # episode does in an uninterrupted run.
    process = OrnsteinUhlenbeckProcess(0.3, sigma=0.8, dt=0.5, size=1)
    return reach_agent(seed, process=process, nb_steps_warmup=20, target_model_update=30)


def test_stopped_and_resumed_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path):
    def env():
        return Reach(start=-1.0)

    uninterrupted = make_resumable()
    uninterrupted.fit(env(), nb_steps=160, verbose=0, seed=0)

    stopped = make_resumable()
    stopped.fit(env(), nb_steps=160, verbose=0, seed=0, callbacks=[StopAtEpisodeEnd(80)])
    assert 80 <= stopped.step < 160
    save_checkpoint(stopped, tmp_path, include_memory=True)
    resumed = make_resumable(seed=7)  # other weights: everything must come from the checkpoint
    resumed.random_process.sample(resumed.rng, np.arange(3))  # and another noise state
    load_checkpoint(resumed, tmp_path)
    np.testing.assert_array_equal(resumed.random_process.x_prev, stopped.random_process.x_prev)
    resumed.fit(env(), nb_steps=160 - resumed.step, verbose=0)

    assert (resumed.step, resumed.episode) == (uninterrupted.step, uninterrupted.episode)
    for name in ("online", "target", "optimizer"):
        ours, theirs = (a._state_variables()[name] for a in (resumed, uninterrupted))
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    np.testing.assert_array_equal(
        resumed.random_process.x_prev, uninterrupted.random_process.x_prev
    )


def test_a_checkpoint_of_another_random_process_or_network_is_refused(tmp_path):
    agent = make_resumable()
    agent.fit(Reach(), nb_steps=40, verbose=0, seed=0)
    save_checkpoint(agent, tmp_path)
    gaussian = reach_agent(process=GaussianWhiteNoiseProcess(size=1))
    with pytest.raises(ValueError, match=r"unknown arrays \['random_process.x_prev'\]"):
        load_checkpoint(gaussian, tmp_path)
    values, arrays = agent.get_state()
    with pytest.raises(ValueError, match="random process OrnsteinUhlenbeckProcess, this agent a G"):
        gaussian.set_state(values, arrays)
    arrays["random_process.x_prev"] = np.zeros((1, 2))
    with pytest.raises(ValueError, match=r"x_prev.*shape \(n, 1\)"):
        make_resumable().set_state(values, arrays)
    keras.utils.set_random_seed(0)
    wider = NAFAgent(
        1, *naf_networks(Reach().observation_space, Reach().action_space, 8),
        SequentialMemory(10, gamma=GAMMA), OrnsteinUhlenbeckProcess(0.3, size=1), gamma=GAMMA,
    )  # fmt: skip
    wider.compile()
    with pytest.raises(ValueError, match="another V_model"):
        wider.set_state(*agent.get_state())


def test_bad_arguments_get_clear_errors(tmp_path):
    memory = SequentialMemory(10, gamma=GAMMA)
    v, lower, mu = dense(4, 1), dense(4, 3), dense(4, 2)
    with pytest.raises(ValueError, match="same observations.*L_model"):
        NAFAgent(2, v, dense(5, 3), mu, memory, gamma=GAMMA)
    with pytest.raises(ValueError, match=r"L_model's output must have shape \(batch, 3 for"):
        NAFAgent(2, v, dense(4, 2), mu, memory, gamma=GAMMA)
    NAFAgent(2, v, dense(4, 2), mu, memory, covariance_mode="diag", gamma=GAMMA)
    with pytest.raises(ValueError, match=r"mu_model's output must have shape \(batch, nb_actions"):
        NAFAgent(2, v, lower, dense(4, 3), memory, gamma=GAMMA)
    with pytest.raises(ValueError, match=r"V_model's output must have shape \(batch, 1\)"):
        NAFAgent(2, dense(4, 2), lower, mu, memory, gamma=GAMMA)
    with pytest.raises(TypeError, match="L_model must be a keras.Model"):
        NAFAgent(2, v, "L", mu, memory, gamma=GAMMA)
    with pytest.raises(ValueError, match="covariance_mode"):
        NAFAgent(2, v, lower, mu, memory, covariance_mode="dense", gamma=GAMMA)
    with pytest.raises(ValueError, match="random process has size 3, the agent nb_actions=2"):
        NAFAgent(2, v, lower, mu, memory, GaussianWhiteNoiseProcess(size=3), gamma=GAMMA)
    with pytest.raises(TypeError, match="random_process"):
        NAFAgent(2, v, lower, mu, memory, random_process="ou", gamma=GAMMA)
    with pytest.raises(ValueError, match="gamma"):
        NAFAgent(2, v, lower, mu, SequentialMemory(10), gamma=GAMMA)
    with pytest.raises(TypeError, match="replay memory"):
        NAFAgent(2, v, lower, mu, [], gamma=GAMMA)
    with pytest.raises(ValueError, match="target_model_update"):
        NAFAgent(2, v, lower, mu, memory, gamma=GAMMA, target_model_update=0)
    with pytest.raises(ValueError, match="delta_clip"):
        NAFAgent(2, v, lower, mu, memory, gamma=GAMMA, delta_clip="huge")
    with pytest.raises(ValueError, match="Box action space"):
        naf_networks(Reach().observation_space, gymnasium.spaces.Discrete(2))
    with pytest.raises(ValueError, match="finite action bounds"):
        naf_networks(Reach().observation_space, gymnasium.spaces.Box(-np.inf, np.inf, (1,)))

    agent = reach_agent()
    with pytest.raises(ValueError, match="a NAFAgent needs a Box action space.*use a DQN"):
        agent.fit(gymnasium.make("CartPole-v1"), nb_steps=10)
    with pytest.raises(ValueError, match=r"shape \(1,\), the env gives \(3,\)"):
        agent.fit(gymnasium.make("Pendulum-v1"), nb_steps=10)
    with pytest.raises(ValueError, match="nb_actions=2, the env has Box"):
        random_agent(2, "full", inputs=1).fit(Reach(), nb_steps=10)
    two = reach_agent()
    two.save_weights(str(tmp_path / "reach.weights.h5"))
    with pytest.raises(ValueError, match="cannot load"):
        random_agent(1, "full", inputs=1).load_weights(str(tmp_path / "reach.weights.h5"))
    (tmp_path / "bad.weights.h5").write_bytes(b"not an h5 file")
    with pytest.raises(ValueError, match="cannot load"):
        agent.load_weights(str(tmp_path / "bad.weights.h5"))
    with pytest.raises(ValueError, match="end in '.weights.h5'"):
        agent.save_weights(str(tmp_path / "weights.h5"))
