"""DQNAgent: learning a known optimum, exact targets, target updates, weights and bad input."""

from __future__ import annotations

import gymnasium
import keras
import numpy as np
import pytest

from agents.dqn import DQNAgent
from agents.env_driver import EnvDriver
from agents.memory import PrioritizedMemory, SequentialMemory
from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy
from agents.transitions import TransitionBatch
from tests.agents.toy_envs import Corridor

GAMMA = 0.9


def dense_model(inputs: int = 5, actions: int = 2, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(actions),
        ]
    )


def make_agent(memory=None, model=None, lr=1e-2, **kwargs) -> DQNAgent:
    defaults = dict(
        policy=EpsGreedyQPolicy(0.3), gamma=GAMMA, nb_steps_warmup=50,
        target_model_update=50, batch_size=32,
    )  # fmt: skip
    agent = DQNAgent(
        model or dense_model(),
        2,
        memory if memory is not None else SequentialMemory(2000, gamma=GAMMA),
        **{**defaults, **kwargs},
    )
    agent.compile(keras.optimizers.Adam(lr))
    return agent


@pytest.mark.parametrize(
    "options",
    [
        # The plain DQN's path is part of the double-dueling run's; it runs with `-m slow`.
        pytest.param({}, marks=pytest.mark.slow),
        {"enable_double_dqn": True, "enable_dueling_network": True},
        # PER with 3-step returns: its memory's tests cover both; the learning run is slow.
        pytest.param(
            {"memory": PrioritizedMemory(2000, n_step=3, gamma=GAMMA)}, marks=pytest.mark.slow
        ),
    ],
    ids=["plain", "double-dueling", "per-3step"],
)
def test_learns_the_optimal_q_values_of_a_corridor(options):
    env = Corridor(5)
    agent = make_agent(lr=3e-3, **options)
    agent.fit(env, nb_steps=2000, verbose=0, seed=0)
    q_values, optimal = agent.model(env.all_observations()).numpy(), env.optimal_q(GAMMA)
    tolerance = 0.08
    if "memory" in options:
        # Uncorrected 3-step returns evaluate the exploring policy (30% random moves) over the
        # window: the detours (left) are undervalued and the greedy values a little low too.
        q_values, optimal, tolerance = q_values[:, 1], optimal[:, 1], 0.15
        assert (agent.model(env.all_observations()).numpy().argmax(axis=1) == 1).all()
    np.testing.assert_allclose(q_values, optimal, atol=tolerance)
    history = agent.test(env, nb_episodes=2, verbose=0)
    assert history.history["nb_episode_steps"] == [4, 4]


def train_once(agent, *batch) -> np.ndarray:
    """One update through the agent's compiled train step; returns its TD errors."""
    stacked = [np.stack([array]) for array in batch]
    _, _, td_errors, _, _ = agent._train_many_fn(*stacked, None, np.int32(1))
    return td_errors.numpy()[0]


def fixed_batch(rng):
    obs = rng.normal(size=(8, 5)).astype(np.float32)
    next_obs = rng.normal(size=(8, 5)).astype(np.float32)
    actions = rng.integers(0, 2, 8)
    rewards = rng.normal(size=8).astype(np.float32)
    discounts = np.array([GAMMA, 0.0, GAMMA**3, GAMMA, 0.0, GAMMA, GAMMA**2, GAMMA], np.float32)
    weights = np.ones(8, np.float32)
    return obs, actions, rewards, next_obs, discounts, weights


@pytest.mark.parametrize("double", [False, True])
def test_td_errors_match_a_numpy_calculation(double):
    agent = make_agent(enable_double_dqn=double)
    # Make the target network differ from the online one, so double DQN matters.
    agent.target_model.set_weights([w * 1.7 + 0.1 for w in agent.model.get_weights()])
    obs, actions, rewards, next_obs, discounts, weights = fixed_batch(np.random.default_rng(1))
    online_next = agent.model(next_obs).numpy()
    target_next = agent.target_model(next_obs).numpy()
    q = agent.model(obs).numpy()
    chooser = online_next if double else target_next
    bootstrap = target_next[np.arange(8), chooser.argmax(axis=1)]
    expected = rewards + discounts * bootstrap - q[np.arange(8), actions]
    td_errors = train_once(agent, obs, actions, rewards, next_obs, discounts, weights)
    np.testing.assert_allclose(td_errors, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("double", [False, True])
def test_td_errors_of_stored_rows_are_those_an_update_computes_without_updating(double):
    agent = make_agent(enable_double_dqn=double)
    agent.target_model.set_weights([w * 1.3 - 0.05 for w in agent.model.get_weights()])
    obs, actions, rewards, next_obs, discounts, weights = fixed_batch(np.random.default_rng(2))
    before = agent.get_weights()
    td_errors = agent.td_errors((obs, actions, rewards, next_obs, discounts, None))
    assert td_errors.shape == (8,) and td_errors.dtype == np.float32
    for kept, now in zip(before, agent.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)
    updated = train_once(agent, obs, actions, rewards, next_obs, discounts, weights)
    np.testing.assert_allclose(td_errors, updated, rtol=1e-5, atol=1e-5)
    empty = (obs[:0], actions[:0], rewards[:0], next_obs[:0], discounts[:0], None)
    assert agent.td_errors(empty).shape == (0,)


@pytest.mark.parametrize("dueling_type", ["avg", "max", "naive"])
def test_dueling_head_combines_value_and_advantages(dueling_type):
    agent = make_agent(enable_dueling_network=True, dueling_type=dueling_type)
    obs = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    head = keras.Model(agent.model.inputs, agent.model.get_layer("value_advantages").output)
    value_advantages = head(obs).numpy()
    value, advantages = value_advantages[:, :1], value_advantages[:, 1:]
    offset = {
        "avg": advantages.mean(axis=1, keepdims=True),
        "max": advantages.max(axis=1, keepdims=True),
        "naive": 0.0,
    }[dueling_type]
    np.testing.assert_allclose(agent.model(obs).numpy(), value + advantages - offset, atol=1e-5)


def test_hard_target_update_every_n_steps():
    agent = make_agent(target_model_update=100, nb_steps_warmup=10)
    env = Corridor(5)
    agent.fit(env, nb_steps=99, verbose=0, seed=0)
    online, target = agent.model.get_weights(), agent.target_model.get_weights()
    assert any(not np.allclose(o, t) for o, t in zip(online, target, strict=True))
    agent.fit(env, nb_steps=1, verbose=0)
    for o, t in zip(agent.model.get_weights(), agent.target_model.get_weights(), strict=True):
        np.testing.assert_array_equal(o, t)


def test_soft_target_update_moves_by_tau():
    tau = 0.25
    agent = make_agent(target_model_update=tau)
    before = agent.target_model.get_weights()
    train_once(agent, *fixed_batch(np.random.default_rng(2)))
    online = agent.model.get_weights()
    for old, new, o in zip(before, agent.target_model.get_weights(), online, strict=True):
        np.testing.assert_allclose(new, tau * o + (1 - tau) * old, rtol=1e-5, atol=1e-6)


def test_terminated_does_not_bootstrap_and_truncated_does():
    memory = SequentialMemory(10, gamma=GAMMA)
    obs = np.eye(5, dtype=np.float32)
    memory.append(TransitionBatch.single(obs[0], 1, 0.0, obs[1], True, False))
    memory.append(TransitionBatch.single(obs[1], 1, 0.0, obs[2], False, True))
    rng = np.random.default_rng(0)
    discounts = {}
    for _ in range(25):
        batch = memory.sample(2, rng)
        discounts.update(zip(batch.indices.tolist(), batch.discounts.tolist(), strict=True))
    assert discounts == {
        0: 0.0,
        1: pytest.approx(GAMMA),
    }
    agent = make_agent()
    next_obs = obs[[1, 2]]
    q = agent.model(obs[[0, 1]]).numpy()[:, 1]
    target_next = agent.target_model(next_obs).numpy().max(axis=1)
    td = train_once(
        agent, obs[[0, 1]], np.array([1, 1]), np.zeros(2, np.float32), next_obs,
        np.array([0.0, GAMMA], np.float32), np.ones(2, np.float32),
    )  # fmt: skip
    np.testing.assert_allclose(td, [0 - q[0], GAMMA * target_next[1] - q[1]], atol=1e-5)


def test_fused_updates_match_one_at_a_time():
    batches = [fixed_batch(np.random.default_rng(seed)) for seed in (3, 4, 5)]
    one_by_one, fused = make_agent(), make_agent()
    for batch in batches:
        train_once(one_by_one, *batch)
    # A fourth, padding batch is stacked but not run: only the first `count` are.
    stacked = [np.stack(arrays) for arrays in zip(*batches, batches[0], strict=True)]
    losses, _, td_errors, _, _ = fused._train_many_fn(*stacked, None, np.int32(3))
    assert losses.shape == (4,) and td_errors.shape == (4, 8)
    assert losses.numpy()[3] == 0 and not td_errors.numpy()[3].any()
    for a, b in zip(one_by_one.model.get_weights(), fused.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_rewards_are_clipped_as_they_are_stored_before_n_step_sums():
    agent = make_agent(memory=SequentialMemory(10, n_step=2, gamma=GAMMA), reward_clip=5.0)
    obs = np.eye(5, dtype=np.float32)
    for k, (reward, terminated) in enumerate([(-300.0, False), (2.0, False), (25.0, True)]):
        agent.backward(TransitionBatch.single(obs[k], 0, reward, obs[k + 1], terminated, False))
    rewards = {}
    for _ in range(30):
        batch = agent.memory.sample(2, np.random.default_rng(len(rewards)))
        rewards.update(zip(batch.indices.tolist(), batch.rewards.tolist(), strict=True))
    assert sorted(rewards.values()) == pytest.approx(sorted([-5 + GAMMA * 2, 2 + GAMMA * 5, 5]))


def test_prioritized_memory_gets_the_td_errors_back():
    memory = PrioritizedMemory(500, gamma=GAMMA)
    agent = make_agent(memory=memory, nb_steps_warmup=40)
    agent.fit(Corridor(5), nb_steps=200, verbose=0, seed=0)
    leaves = memory.state_dict()["priorities"][: len(memory)]
    assert len(np.unique(np.round(leaves, 6))) > 10


def test_same_seeds_give_identical_runs():
    def run():
        agent = make_agent(model=dense_model(seed=3))
        agent.fit(Corridor(5), nb_steps=300, verbose=0, seed=7)
        return agent.model.get_weights()

    for a, b in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_weights_round_trip_gives_identical_greedy_actions(tmp_path):
    env = Corridor(5)
    agent = make_agent()
    agent.fit(env, nb_steps=300, verbose=0, seed=0)
    path = tmp_path / "corridor.weights.h5"
    agent.save_weights(str(path))
    other = make_agent(model=dense_model(seed=9))
    other.load_weights(str(path))
    obs = env.all_observations()
    agent.training = other.training = False
    np.testing.assert_array_equal(agent.forward(obs), other.forward(obs))
    for o, t in zip(other.model.get_weights(), other.target_model.get_weights(), strict=True):
        np.testing.assert_array_equal(o, t)


def test_vector_env_fit_learns_too():
    env = gymnasium.vector.SyncVectorEnv([lambda: Corridor(5)] * 4)
    agent = make_agent(train_interval=4)
    agent.fit(env, nb_steps=2000, verbose=0, seed=0)
    agent.training = False
    assert (agent.forward(Corridor(5).all_observations()) == 1).all()


def test_a_train_freq_round_runs_its_updates_in_one_call_at_its_end():
    calls = []
    agent = make_agent(nb_steps_warmup=8, batch_size=4, train_freq=4, target_model_update=6)
    update, copy = agent._update, agent.update_target_model
    agent._update = lambda step, count: calls.append((step, count)) or update(step, count)
    # The copy runs in `backward`, before the step counts the env step that ends the round.
    agent.update_target_model = lambda: calls.append((agent.step + 1, "copy")) or copy()
    agent.fit(Corridor(5), nb_steps=30, verbose=0, seed=0)
    updates = [call for call in calls if call[1] != "copy"]
    # Steps 9-28 make their 20 updates in rounds of 4, at the ends of the rounds; the target
    # copies due at steps 6, 12, 18 and 24 wait for the round that holds them to end.
    assert updates == [(12, 4), (16, 4), (20, 4), (24, 4), (28, 4)]
    assert [step for step, what in calls if what == "copy"] == [8, 12, 20, 24]
    assert int(agent.optimizer.iterations) == 20
    assert DQNAgent.from_config(agent.get_config()).train_freq == 4


def test_bad_input_gets_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=r"nb_actions=3"):
        DQNAgent(dense_model(), 3, SequentialMemory(10, gamma=GAMMA), gamma=GAMMA)
    with pytest.raises(ValueError, match="gamma"):
        DQNAgent(dense_model(), 2, SequentialMemory(10), gamma=GAMMA)
    with pytest.raises(TypeError, match="keras.Model"):
        DQNAgent("model", 2, SequentialMemory(10, gamma=GAMMA), gamma=GAMMA)
    with pytest.raises(ValueError, match="reward_clip"):
        DQNAgent(dense_model(), 2, SequentialMemory(10, gamma=GAMMA), gamma=GAMMA, reward_clip=0)
    with pytest.raises(ValueError, match="dueling_type"):
        DQNAgent(dense_model(), 2, SequentialMemory(10, gamma=GAMMA), gamma=GAMMA,
                 enable_dueling_network=True, dueling_type="mean")  # fmt: skip
    uncompiled = DQNAgent(dense_model(), 2, SequentialMemory(10, gamma=GAMMA), gamma=GAMMA)
    with pytest.raises(RuntimeError, match="compile"):
        uncompiled.fit(Corridor(5), nb_steps=10)
    agent = make_agent()
    with pytest.raises(ValueError, match=r"shape \(5,\), the env gives \(7,\)"):
        agent.fit(Corridor(7), nb_steps=10)
    with pytest.raises(
        ValueError, match="a DQNAgent needs a Discrete action space, the env has Box.*use a DDPG"
    ):
        agent.fit(gymnasium.make("MountainCarContinuous-v0"), nb_steps=10)
    other = make_agent(model=dense_model(inputs=7))
    path = tmp_path / "seven.weights.h5"
    other.save_weights(str(path))
    with pytest.raises(ValueError, match="cannot load"):
        agent.load_weights(str(path))
    with pytest.raises(FileNotFoundError):
        agent.load_weights(str(tmp_path / "missing.weights.h5"))
    corrupt = tmp_path / "corrupt.weights.h5"
    corrupt.write_bytes(b"not an h5 file")
    with pytest.raises(ValueError, match="cannot load"):
        agent.load_weights(str(corrupt))


def test_an_annealed_test_policy_acts_with_its_test_value():
    test_policy = LinearAnnealedPolicy(
        EpsGreedyQPolicy(), value_max=1.0, value_min=0.5, value_test=0.0, nb_steps=100
    )
    agent = make_agent(test_policy=test_policy)
    eps_seen = []
    probe = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: eps_seen.append(test_policy.inner_policy.eps)
    )
    agent.test(Corridor(5), nb_episodes=1, nb_max_episode_steps=5, callbacks=[probe], verbose=0)
    agent.fit(Corridor(5), nb_steps=60, verbose=0, seed=0)
    agent.test(Corridor(5), nb_episodes=1, nb_max_episode_steps=5, callbacks=[probe], verbose=0)
    assert len(eps_seen) >= 2 and set(eps_seen) == {0.0}
    assert test_policy.metrics == {"eps": 0.0}


def test_one_annealed_policy_for_both_anneals_in_fit_and_uses_its_test_value_in_test():
    policy = LinearAnnealedPolicy(
        EpsGreedyQPolicy(), value_max=1.0, value_min=0.5, value_test=0.0, nb_steps=100
    )
    agent = make_agent(policy=policy, test_policy=policy)
    eps_seen = []
    probe = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: eps_seen.append(policy.inner_policy.eps)
    )
    agent.fit(Corridor(5), nb_steps=50, callbacks=[probe], verbose=0, seed=0)
    assert eps_seen[-1] == pytest.approx(1.0 - 0.5 * 49 / 100)
    eps_seen.clear()
    agent.test(Corridor(5), nb_episodes=1, nb_max_episode_steps=5, callbacks=[probe], verbose=0)
    assert set(eps_seen) == {0.0}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("nb_actions", None, "integer >= 1"),
        ("nb_actions", 2.5, "integer >= 1"),
        ("gamma", "0.9", r"number in \[0, 1\]"),
        ("gamma", None, r"number in \[0, 1\]"),
        ("batch_size", "32", "integer >= 1"),
        ("batch_size", 32.5, "integer >= 1"),
        ("nb_steps_warmup", None, "integer >= 0"),
        ("train_freq", 0, "integer >= 1"),
        ("train_freq", 2.0, "integer >= 1"),
        ("train_interval", "4", r"number in \(0, inf\)"),
        ("target_model_update", None, r"number in \(0, inf\)"),
        ("delta_clip", "1", r"number in \(0, inf\]"),
        ("reward_scale", None, r"number in \(0, inf\)"),
        ("reward_clip", "5", r"number in \(0, inf\]"),
        ("gamma", True, r"number in \[0, 1\]"),
    ],
)
def test_a_non_numeric_hyperparameter_gets_a_value_error_naming_it(name, value, expected):
    arguments = {"nb_actions": 2, "gamma": GAMMA, name: value}
    with pytest.raises(ValueError, match=f"{name} must be an? {expected}, got {value!r}"):
        DQNAgent(dense_model(), memory=SequentialMemory(10, gamma=GAMMA), **arguments)


def test_an_update_computes_the_next_acting_q_values_and_forward_uses_them_only_for_those():
    env = Corridor(5)
    agent = make_agent(nb_steps_warmup=10, batch_size=4)
    agent.fit(env, nb_steps=30, verbose=0, seed=0)
    driver = EnvDriver(env, read_masks=False)
    driver.reset(seed=0)
    agent.check_env(driver)
    agent.training = True
    agent._update(agent.step, 1)
    cached_obs, cached_q = agent._prefetched
    np.testing.assert_array_equal(cached_obs, driver.obs)
    np.testing.assert_allclose(cached_q, agent.model(driver.obs).numpy(), atol=1e-5)
    other = driver.obs + 1
    assert agent._take_prefetched(other) is None and agent._prefetched is None  # used once
    agent._update(agent.step, 1)
    agent.set_weights(agent.get_weights())
    assert agent._take_prefetched(driver.obs) is None  # weights changed: recomputed
    agent._update(agent.step, 1)
    prefetched = agent._take_prefetched(driver.obs.copy())  # equal contents suffice
    np.testing.assert_allclose(prefetched, agent._q_fn(driver.obs).numpy(), atol=1e-5)
