"""CEMAgent and EpisodeParameterMemory: learning, the elite update, per-sub-env draws, state."""

from __future__ import annotations

import math

import gymnasium
import keras
import numpy as np
import pytest

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.cem import CEMAgent, EpisodeParameterMemory
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.memory import SequentialMemory
from agents.serialization import load_agent
from tests.agents.toy_envs import ContextBandit, Corridor

CONTEXTS = 3
BLOB = {"size": 5, "obs_type": "coords", "moving_food": True, "max_episode_steps": 9}


def linear_model(inputs: int = CONTEXTS, actions: int = CONTEXTS, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(actions)])


def make_agent(model=None, memory=None, **kwargs) -> CEMAgent:
    defaults = dict(batch_size=20, nb_steps_warmup=0, train_interval=10, elite_frac=0.3,
                    noise_ampl=0.05)  # fmt: skip
    model = model or linear_model()
    agent = CEMAgent(
        model,
        model.outputs[0].shape[-1],
        memory or EpisodeParameterMemory(20),
        **{**defaults, **kwargs},
    )
    agent.compile()
    return agent


def greedy(agent: CEMAgent, obs: np.ndarray) -> np.ndarray:
    agent.training = False
    return agent.forward(obs)


class EpisodeLog(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rewards: list[float] = []

    def on_episode_end(self, episode, logs=None):
        self.rewards.append(logs["episode_reward"])


@pytest.mark.parametrize("num_envs", [1, 4])
def test_learns_the_context_bandit_to_its_optimum(num_envs):
    env = (
        ContextBandit(CONTEXTS)
        if num_envs == 1
        else gymnasium.vector.SyncVectorEnv([lambda: ContextBandit(CONTEXTS)] * num_envs)
    )
    agent = make_agent()
    history = agent.fit(env, nb_steps=3000, verbose=0, seed=0)
    np.testing.assert_array_equal(greedy(agent, np.eye(CONTEXTS)), np.arange(CONTEXTS))
    assert (
        agent.test(ContextBandit(CONTEXTS), nb_episodes=3, verbose=0).history["episode_reward"]
        == [10.0] * 3
    )
    scores = history.history["mean_best_reward"]
    assert len(scores) == len(history.history["episode_reward"])
    assert np.nanmax(scores) == 10.0


def test_the_elite_update_matches_a_hand_computation():
    agent = make_agent(batch_size=4, elite_frac=0.5, noise_ampl=0.5, noise_decay_const=0.01,
                       memory=EpisodeParameterMemory(4))  # fmt: skip
    n = agent.num_weights
    assert n == CONTEXTS * CONTEXTS + CONTEXTS
    params = np.arange(4 * n, dtype=float).reshape(4, n) ** 1.5
    for row, total in zip(params, [3.0, 9.0, 1.0, 7.0], strict=True):
        agent.memory.append(row, total)

    assert agent.update_distribution(step=100) == 8.0  # the elite: the returns 9 and 7

    elite = params[[1, 3]]
    noise = 0.5 * math.exp(-100 * 0.01)
    np.testing.assert_allclose(agent.theta[:n], (elite[0] + elite[1]) / 2)
    np.testing.assert_allclose(agent.theta[n:], np.abs(elite[0] - elite[1]) / 2 + noise)
    kernel, bias = agent.get_weights()
    np.testing.assert_allclose(np.concatenate([kernel.ravel(), bias]), agent.theta[:n], rtol=1e-6)


def test_updates_wait_for_the_warmup_and_a_full_batch_then_come_every_train_interval():
    agent = make_agent(batch_size=3, elite_frac=0.34, train_interval=3, nb_steps_warmup=45,
                       memory=EpisodeParameterMemory(3))  # fmt: skip
    initial = agent.theta.copy()
    # Episodes 0-5 end at steps 10, ..., 60: episode 0 finds one episode stored, and episode 3
    # (at step 40) is inside the warm-up.
    history = agent.fit(ContextBandit(CONTEXTS), nb_steps=60, verbose=0, seed=0)
    np.testing.assert_array_equal(agent.theta, initial)
    assert all(math.isnan(score) for score in history.history["mean_best_reward"])
    history = agent.fit(ContextBandit(CONTEXTS), nb_steps=30, verbose=0, seed=1)  # 6, 7, 8
    assert not np.array_equal(agent.theta, initial)
    scores = history.history["mean_best_reward"]
    assert not math.isnan(scores[0]) and math.isnan(scores[1]) and math.isnan(scores[2])


def test_each_sub_env_acts_with_its_own_weights_and_stores_them_with_its_return():
    env = gymnasium.vector.SyncVectorEnv([lambda: ContextBandit(CONTEXTS, length=7)] * 2)
    agent = make_agent(nb_steps_warmup=10**6)  # no updates: the draws are the initial theta's
    log = EpisodeLog()
    agent.fit(env, nb_steps=40, verbose=0, seed=3, callbacks=[log])
    values, arrays = agent.get_state()
    sampled = arrays["sampled_weights"]
    assert sampled.shape == (2, agent.num_weights)
    n = CONTEXTS * CONTEXTS
    agent.training = True
    for context in range(CONTEXTS):
        obs = np.tile(np.eye(CONTEXTS, dtype=np.float32)[context], (2, 1))
        expected = [np.argmax(obs[0] @ w[:n].reshape(CONTEXTS, CONTEXTS) + w[n:]) for w in sampled]
        np.testing.assert_array_equal(agent.forward(obs), expected)
    agent.training = False
    assert not np.array_equal(sampled[0], sampled[1])
    # Both sub-envs ended episodes at steps 7 and 14 of theirs: four episodes, their own returns.
    np.testing.assert_array_equal(arrays["episode_memory.total_rewards"], log.rewards)
    assert len(set(map(tuple, arrays["episode_memory.params"]))) == 4


def test_a_new_fit_drops_the_returns_of_the_episodes_it_cuts_short():
    perfect = np.concatenate([np.eye(CONTEXTS).ravel(), np.zeros(CONTEXTS + 12)])  # std 0
    agent = make_agent(nb_steps_warmup=10**6, theta_init=perfect)
    agent.fit(ContextBandit(CONTEXTS), nb_steps=15, verbose=0, seed=0)  # stops mid-episode
    assert agent.get_state()[1]["episode_returns"][0] == 5.0
    agent.fit(ContextBandit(CONTEXTS), nb_steps=10, verbose=0, seed=1)
    np.testing.assert_array_equal(agent.get_state()[1]["episode_memory.total_rewards"], [10, 10])


def test_same_seeds_give_identical_runs():
    def run():
        agent = make_agent()
        agent.fit(ContextBandit(CONTEXTS), nb_steps=400, verbose=0, seed=7)
        return agent.theta

    np.testing.assert_array_equal(run(), run())


def test_save_and_load_agent_round_trip_gives_identical_greedy_actions(tmp_path):
    agent = make_agent(theta_init=np.concatenate([np.zeros(12), np.full(12, 2.0)]))
    agent.fit(ContextBandit(CONTEXTS), nb_steps=600, verbose=0, seed=0)
    agent.save(tmp_path / "cem")
    loaded = load_agent(tmp_path / "cem")
    assert isinstance(loaded, CEMAgent) and loaded.compiled
    assert loaded.get_config() == agent.get_config()
    obs = np.random.default_rng(0).random((50, CONTEXTS)).astype(np.float32)
    np.testing.assert_array_equal(greedy(loaded, obs), greedy(agent, obs))
    np.testing.assert_allclose(loaded.theta[:12], agent.theta[:12], rtol=1e-6)


def test_weights_files_set_the_mean_and_keep_the_deviations(tmp_path):
    agent = make_agent()
    agent.fit(ContextBandit(CONTEXTS), nb_steps=300, verbose=0, seed=0)
    path = str(tmp_path / "cem.weights.h5")
    agent.save_weights(path)
    other = make_agent(model=linear_model(seed=5))
    other.load_weights(path)
    np.testing.assert_allclose(other.theta[:12], agent.theta[:12], rtol=1e-6)
    np.testing.assert_array_equal(other.theta[12:], np.ones(12))
    obs = np.eye(CONTEXTS)
    np.testing.assert_array_equal(greedy(other, obs), greedy(agent, obs))


def blob_agent(seed: int) -> CEMAgent:
    model = linear_model(inputs=4, actions=9, seed=seed)
    return make_agent(model=model, batch_size=10, elite_frac=0.3, train_interval=2,
                      memory=EpisodeParameterMemory(15))  # fmt: skip


class StopAt(keras.callbacks.Callback):
    """Stops fit after the batched env step reaching `step` (mid-episode: Blob saves its state)."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_env_step_end(self, logs=None):
        if self.model.step >= self.step:
            self.model.stop_training = True


@pytest.mark.parametrize("include_memory", [False, True])
def test_a_run_stopped_mid_episode_and_resumed_from_a_checkpoint_goes_on_exactly(
    tmp_path, include_memory
):
    def env():
        return gymnasium.make_vec("Blob-v0", num_envs=2, **BLOB)

    whole = blob_agent(0)
    whole.fit(env(), nb_steps=400, verbose=0, seed=4)

    stopped = blob_agent(0)
    stopped.fit(env(), nb_steps=400, verbose=0, seed=4, callbacks=[StopAt(203)])
    assert stopped.resumes_exactly and stopped.step < 400
    save_checkpoint(stopped, tmp_path, include_memory=include_memory)
    resumed = blob_agent(9)  # other weights: everything must come from the checkpoint
    load_checkpoint(resumed, tmp_path)
    resumed.fit(env(), nb_steps=400 - resumed.step, verbose=0, resume=True)

    assert (resumed.step, resumed.episode) == (whole.step, whole.episode)
    np.testing.assert_array_equal(resumed.theta, whole.theta)
    (values, arrays), (whole_values, whole_arrays) = resumed.get_state(), whole.get_state()
    del values["network"], whole_values["network"]  # Keras numbers the models' names
    assert values == whole_values
    assert sorted(arrays) == sorted(whole_arrays)
    for key, array in whole_arrays.items():
        np.testing.assert_array_equal(arrays[key], array, err_msg=key)


def test_a_state_of_another_network_or_a_damaged_memory_is_refused_before_anything_changes():
    agent = make_agent()
    agent.fit(ContextBandit(CONTEXTS), nb_steps=200, verbose=0, seed=0)
    values, arrays = agent.get_state()
    other = make_agent(model=linear_model(inputs=4))
    with pytest.raises(ValueError, match="another network"):
        other.set_state(values, arrays)
    fresh = make_agent()
    before = fresh.theta.copy()
    damaged = {**arrays, "episode_memory.size": np.array(99)}
    with pytest.raises(ValueError, match="episode memory"):
        fresh.set_state(values, damaged)
    wrong_rows = {**arrays, "sampled_weights": np.zeros((3, 5))}
    with pytest.raises(ValueError, match="sampled_weights"):
        fresh.set_state(values, wrong_rows)
    negative = {**arrays, "theta": -np.ones_like(arrays["theta"])}
    with pytest.raises(ValueError, match="deviations"):
        fresh.set_state(values, negative)
    np.testing.assert_array_equal(fresh.theta, before)
    assert len(fresh.memory) == 0


def test_the_memory_keeps_the_last_limit_episodes_and_samples_distinct_ones():
    memory = EpisodeParameterMemory(3)
    assert len(memory) == 0
    for k in range(5):
        memory.append(np.full(2, k), float(k))
    assert len(memory) == 3
    params, returns = memory.sample(3, np.random.default_rng(0))
    assert sorted(returns) == [2.0, 3.0, 4.0]
    np.testing.assert_array_equal(params[:, 0], returns)
    params, returns = memory.sample(2, np.random.default_rng(0))
    assert len(set(returns)) == 2
    with pytest.raises(ValueError, match="cannot sample 4 episodes from 3"):
        memory.sample(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="3 entries; this memory holds 2"):
        memory.append(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="finite"):
        memory.append(np.array([np.nan, 0.0]), 1.0)
    with pytest.raises(ValueError, match="total_reward"):
        memory.append(np.zeros(2), math.inf)


def test_the_memory_state_restores_the_ring_exactly():
    memory = EpisodeParameterMemory(4)
    for k in range(6):
        memory.append(np.array([k, -k]), float(k))
    copy = EpisodeParameterMemory.from_config(memory.get_config())
    copy.load_state_dict(memory.state_dict())
    for a, b in zip(
        copy.sample(3, np.random.default_rng(1)),
        memory.sample(3, np.random.default_rng(1)),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    copy.append(np.zeros(2), 9.0)
    memory.append(np.zeros(2), 9.0)
    for key, array in memory.state_dict().items():
        np.testing.assert_array_equal(copy.state_dict()[key], array)
    with pytest.raises(ValueError, match="limit=4"):
        EpisodeParameterMemory(5).load_state_dict(memory.state_dict())
    with pytest.raises(ValueError, match="window_length must be 1"):
        EpisodeParameterMemory(5, window_length=4)
    with pytest.raises(ValueError, match="limit"):
        EpisodeParameterMemory(0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"elite_frac": 0.0}, ValueError, r"elite_frac must be a number in \(0, 1\]"),
        ({"elite_frac": 1.5}, ValueError, "elite_frac"),
        ({"elite_frac": "0.2"}, ValueError, "elite_frac"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
        ({"batch_size": 10, "elite_frac": 0.05}, ValueError, "batch_size \\* elite_frac"),
        ({"batch_size": 30}, ValueError, "keeps 20 episodes, fewer than batch_size=30"),
        ({"train_interval": 0}, ValueError, "train_interval"),
        ({"nb_steps_warmup": -1}, ValueError, "nb_steps_warmup"),
        ({"noise_ampl": -0.1}, ValueError, "noise_ampl"),
        ({"noise_decay_const": math.nan}, ValueError, "noise_decay_const"),
        ({"memory_interval": 2}, ValueError, "memory_interval must be 1"),
        ({"theta_init": np.zeros(5)}, ValueError, r"theta_init must have shape \(24,\)"),
        ({"theta_init": -np.ones(24)}, ValueError, "deviations"),
        ({"memory": SequentialMemory(100)}, TypeError, "EpisodeParameterMemory"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, error, match):
    kwargs = {"memory": EpisodeParameterMemory(20), **kwargs}
    with pytest.raises(error, match=match):
        CEMAgent(linear_model(), CONTEXTS, **{"batch_size": 20, "elite_frac": 0.2, **kwargs})


def test_a_model_or_env_that_does_not_fit_is_refused():
    with pytest.raises(ValueError, match=r"nb_actions=2"):
        CEMAgent(linear_model(), 2, EpisodeParameterMemory(50))
    with pytest.raises(TypeError, match="keras.Model"):
        CEMAgent("model", 2, EpisodeParameterMemory(50))
    agent = make_agent()
    with pytest.raises(ValueError, match=r"shape \(3,\), the env gives \(5,\)"):
        agent.fit(Corridor(5), nb_steps=10)
    with pytest.raises(ValueError, match="nb_actions=3"):
        make_agent(model=linear_model(inputs=5)).fit(Corridor(5), nb_steps=10)
    with pytest.raises(ValueError, match="Discrete"):
        agent.fit(gymnasium.make("MountainCarContinuous-v0"), nb_steps=10)
    with pytest.raises(RuntimeError, match="compile"):
        CEMAgent(linear_model(), CONTEXTS, EpisodeParameterMemory(50)).fit(
            ContextBandit(CONTEXTS), nb_steps=10
        )
