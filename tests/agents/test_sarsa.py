"""SARSAAgent: learning a corridor, on-policy targets, bootstrapping, persistence, bad input."""

from __future__ import annotations

import itertools

import gymnasium
import keras
import numpy as np
import pytest

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.policy import EpsGreedyQPolicy, GreedyQPolicy, LinearAnnealedPolicy
from agents.sarsa import NO_ACTION, SARSAAgent
from agents.serialization import load_agent
from agents.transitions import TransitionBatch
from tests.agents.toy_envs import Corridor

GAMMA = 0.9
BLOB = {"size": 5, "moving_food": True, "moving_enemy": True, "max_episode_steps": 9}


def dense_model(inputs: int = 5, actions: int = 2, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(actions),
        ]
    )


def make_agent(model=None, lr=3e-3, optimizer=None, **kwargs) -> SARSAAgent:
    defaults = {"policy": EpsGreedyQPolicy(0.2), "gamma": GAMMA}
    agent = SARSAAgent(model or dense_model(), 2, **{**defaults, **kwargs})
    agent.compile(optimizer or keras.optimizers.Adam(lr))
    return agent


def blob_env(num_envs: int):
    if num_envs == 1:
        return gymnasium.make("Blob-v0", **BLOB)
    return gymnasium.make_vec("Blob-v0", num_envs=num_envs, **BLOB)


def blob_agent(seed: int = 0) -> SARSAAgent:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((5, 5, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
         keras.layers.Dense(16, activation="relu"), keras.layers.Dense(9)]
    )  # fmt: skip
    policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), value_min=0.1, nb_steps=200)
    agent = SARSAAgent(model, 9, policy=policy, gamma=GAMMA, nb_steps_warmup=5)
    agent.compile(keras.optimizers.Adam(1e-2))
    return agent


class StopAt(keras.callbacks.Callback):
    """Stops fit after the batched env step in which the agent's step reaches `step`."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_env_step_end(self, logs=None):
        if self.model.step >= self.step:
            self.model.stop_training = True


class Actions(keras.callbacks.Callback):
    """Records the actions of every batched env step."""

    def __init__(self):
        super().__init__()
        self.taken: list[list[int]] = []

    def on_action_end(self, actions, logs=None):
        self.taken.append(np.asarray(actions).tolist())


def test_learns_a_corridor_to_its_optimal_greedy_return():
    env = Corridor(5)
    agent = make_agent()
    history = agent.fit(env, nb_steps=2000, verbose=0, seed=0)
    assert {"loss", "mean_q"} <= set(history.history)
    q_values = agent.model(env.all_observations()).numpy()
    assert (q_values.argmax(axis=1) == 1).all()
    # The values of the exploring policy: at most the optimum, and near it close to the goal.
    assert q_values[-1, 1] == pytest.approx(1.0, abs=0.1)
    assert (q_values[:, 1] <= env.optimal_q(GAMMA)[:, 1] + 0.1).all()
    result = agent.test(env, nb_episodes=2, verbose=0)
    assert result.history["episode_reward"] == [1.0, 1.0]
    assert result.history["nb_episode_steps"] == [4, 4]


@pytest.mark.parametrize("num_envs", [1, 3])
def test_the_bootstrapped_action_is_the_action_taken_next(num_envs):
    env = Corridor() if num_envs == 1 else gymnasium.vector.SyncVectorEnv([Corridor] * num_envs)
    agent = make_agent(policy=EpsGreedyQPolicy(0.5), nb_steps_warmup=0)
    actions = Actions()
    # Per update: the env step, and {sub-env: the a' bootstrapped from} for rows that go on.
    bootstrapped: list[tuple[int, dict[int, int]]] = []
    train, backward, drawn = agent._train_fn, agent.backward, []

    def recording_train(obs, taken, rewards, next_obs, next_actions, discounts):
        rows = np.arange(len(obs))
        q = agent.model(obs).numpy()[rows, taken]
        q_next = agent.model(next_obs).numpy()[rows, next_actions]  # before the update
        result = train(obs, taken, rewards, next_obs, next_actions, discounts)
        targets = rewards + discounts * q_next
        np.testing.assert_allclose(result[2].numpy(), targets - q, rtol=1e-5, atol=1e-5)
        drawn.append(next_actions)
        return result

    def recording_backward(batch):
        metrics = backward(batch)
        goes_on = ~batch.done
        pairs = zip(batch.env_ids[goes_on].tolist(), drawn.pop()[goes_on].tolist(), strict=True)
        bootstrapped.append((len(actions.taken) - 1, dict(pairs)))
        return metrics

    agent._train_fn, agent.backward = recording_train, recording_backward
    agent.fit(env, nb_steps=300, verbose=0, seed=0, callbacks=[actions])
    checked = 0
    for step, pairs in bootstrapped[:-1]:
        for env_id, next_action in pairs.items():
            assert actions.taken[step + 1][env_id] == next_action
            checked += 1
    assert checked > 250


@pytest.mark.parametrize("delta_clip", [np.inf, 0.05])
def test_terminated_rows_do_not_bootstrap_and_truncated_rows_do(delta_clip):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, use_bias=False)])
    kernel = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.7], [0.9, 0.6], [0.0, 0.0]], np.float32)
    model.set_weights([kernel])
    lr = 0.1
    agent = make_agent(
        model, optimizer=keras.optimizers.SGD(lr), policy=GreedyQPolicy(), nb_steps_warmup=0,
        delta_clip=delta_clip,
    )  # fmt: skip
    obs = np.eye(5, dtype=np.float32)
    agent.training = True
    agent.forward(obs[:3])
    batch = TransitionBatch(
        obs[:3], np.array([1, 1, 0]), np.array([0.5, 0.25, -1.0]), obs[1:4],
        np.array([True, False, False]), np.array([False, True, False]),
    )  # fmt: skip
    metrics = agent.backward(batch)
    # Row 0 terminated: no bootstrap. Row 1 truncated: Q(e2, argmax) = 0.7. Row 2: Q(e3, 0).
    td = np.array([0.5 - 0.2, 0.25 + GAMMA * 0.7 - 0.4, -1.0 + GAMMA * 0.9 - 0.5])
    clipped = np.clip(td, -delta_clip, delta_clip)
    expected = kernel.copy()
    expected[[0, 1, 2], [1, 1, 0]] += lr * clipped / 3
    np.testing.assert_allclose(model.get_weights()[0], expected, rtol=1e-5, atol=1e-6)
    huber = np.where(
        np.abs(td) <= delta_clip, 0.5 * td**2, delta_clip * (np.abs(td) - 0.5 * delta_clip)
    )
    assert metrics["loss"] == pytest.approx(huber.mean(), rel=1e-5)
    assert metrics["mean_q"] == pytest.approx(kernel[:3].mean(), rel=1e-5)
    # Only the row that goes on keeps its next action: argmax Q(e3) = 0.
    assert agent.next_actions == [NO_ACTION, NO_ACTION, 0]


def test_updates_come_every_train_interval_steps_after_the_warmup():
    agent = make_agent(nb_steps_warmup=20, train_interval=4)
    agent.fit(Corridor(5), nb_steps=100, verbose=0, seed=0)
    assert int(agent.optimizer.iterations) == len(range(24, 101, 4))


def test_vector_env_fit_learns_too():
    env = gymnasium.vector.SyncVectorEnv([Corridor] * 4)
    agent = make_agent(lr=1e-2)
    steps = [0]
    count = keras.callbacks.LambdaCallback()
    count.on_env_step_end = lambda logs: steps.append(agent.step)
    agent.fit(env, nb_steps=2000, verbose=0, seed=0, callbacks=[count])
    agent.training = False
    assert (agent.forward(Corridor(5).all_observations()) == 1).all()
    # One update per batched env step past the warmup: all its rows are one minibatch.
    learning = [b > a and b > agent.nb_steps_warmup for a, b in itertools.pairwise(steps)]
    assert int(agent.optimizer.iterations) == sum(learning) < 2000 / 3


def test_test_is_greedy_learns_nothing_and_leaves_the_pending_actions():
    agent = blob_agent()
    env = blob_env(3)
    agent.fit(env, nb_steps=30, verbose=0, seed=0)
    pending, weights = list(agent.next_actions), agent.get_weights()
    iterations = int(agent.optimizer.iterations)
    actions = Actions()
    agent.test(blob_env(1), nb_episodes=3, verbose=0, callbacks=[actions], seed=1)
    assert agent.next_actions == pending and int(agent.optimizer.iterations) == iterations
    for a, b in zip(agent.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert actions.taken and len(actions.taken) <= 27


def test_save_and_load_agent_give_identical_greedy_actions(tmp_path):
    env = Corridor(5)
    agent = make_agent()
    agent.fit(env, nb_steps=300, verbose=0, seed=0)
    agent.save(str(tmp_path / "agent"))
    loaded = load_agent(str(tmp_path / "agent"))
    assert isinstance(loaded, SARSAAgent) and loaded.get_config() == agent.get_config()
    obs = np.random.default_rng(0).random((20, 5)).astype(np.float32)
    np.testing.assert_array_equal(loaded.forward(obs), agent.forward(obs))
    path = tmp_path / "corridor.weights.h5"
    agent.save_weights(str(path))
    other = make_agent(model=dense_model(seed=9))
    other.load_weights(str(path))
    np.testing.assert_array_equal(other.forward(obs), agent.forward(obs))


@pytest.mark.parametrize("num_envs", [1, 3])
def test_a_run_resumed_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path, num_envs):
    # Blob saves its state, so the stop falls mid-episode: the pending next actions matter.
    uninterrupted = blob_agent()
    uninterrupted.fit(blob_env(num_envs), nb_steps=120, verbose=0, seed=0)

    stopped = blob_agent()
    stopped.fit(blob_env(num_envs), nb_steps=120, verbose=0, seed=0, callbacks=[StopAt(50)])
    assert 50 <= stopped.step < 120 and stopped.resumes_exactly
    assert any(action != NO_ACTION for action in stopped.next_actions)
    stopped.save_checkpoint(str(tmp_path))
    resumed = blob_agent(seed=7)  # other initial weights: everything comes from the checkpoint
    resumed.load_checkpoint(str(tmp_path))
    assert resumed.next_actions == stopped.next_actions
    resumed.fit(blob_env(num_envs), nb_steps=120 - resumed.step, verbose=0, resume=True)

    assert (resumed.step, resumed.episode) == (uninterrupted.step, uninterrupted.episode)
    assert resumed.next_actions == uninterrupted.next_actions
    for a, b in zip(resumed.model.variables, uninterrupted.model.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(resumed.optimizer.variables, uninterrupted.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_fit_that_resets_the_env_chooses_afresh_and_an_exact_resume_takes_the_pending():
    agent = blob_agent()
    agent.policy = GreedyQPolicy()
    env = blob_env(1)
    agent.fit(env, nb_steps=3, verbose=0, seed=0)
    greedy = int(agent.next_actions[0])
    other = (greedy + 1) % 9
    agent.next_actions = [other]
    actions = Actions()
    agent.fit(env, nb_steps=1, verbose=0, resume=True, callbacks=[actions])
    assert actions.taken == [[other]]

    agent.next_actions = [other]
    actions = Actions()
    agent.fit(env, nb_steps=1, verbose=0, seed=0, callbacks=[actions])
    first_obs = env.reset(seed=0)[0][None]
    assert actions.taken == [[int(agent.model(first_obs.astype(np.float32)).numpy().argmax())]]


def test_bad_input_gets_clear_errors(tmp_path):
    with pytest.raises(TypeError, match="keras.Model"):
        SARSAAgent("model", 2)
    with pytest.raises(ValueError, match=r"nb_actions=3"):
        SARSAAgent(dense_model(), 3)
    with pytest.raises(TypeError, match="policy must be a policy"):
        SARSAAgent(dense_model(), 2, policy="greedy")
    with pytest.raises(RuntimeError, match="compile"):
        SARSAAgent(dense_model(), 2).fit(Corridor(5), nb_steps=10)
    agent = make_agent()
    with pytest.raises(ValueError, match=r"shape \(5,\), the env gives \(7,\)"):
        agent.fit(Corridor(7), nb_steps=10)
    with pytest.raises(ValueError, match="SARSAAgent needs a Discrete action space"):
        agent.fit(gymnasium.make("MountainCarContinuous-v0"), nb_steps=10)
    with pytest.raises(ValueError, match="nb_actions=2, the env has Discrete"):
        SARSAAgent(dense_model(4, 2), 2).check_env(
            type("Driver", (), {"action_space": gymnasium.spaces.Discrete(3),
                                "observation_space": gymnasium.spaces.Box(0, 1, (4,))})()
        )  # fmt: skip
    with pytest.raises(FileNotFoundError):
        agent.load_weights(str(tmp_path / "missing.weights.h5"))
    corrupt = tmp_path / "corrupt.weights.h5"
    corrupt.write_bytes(b"not an h5 file")
    with pytest.raises(ValueError, match="cannot load"):
        agent.load_weights(str(corrupt))
    values, arrays = agent.get_state()
    for bad in ([2], [-2], "0", [True]):
        with pytest.raises(ValueError, match=r"next_actions must be a list of ints in \[-1, 2\)"):
            agent.set_state({**values, "next_actions": bad}, arrays)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("nb_actions", 2.5, "integer >= 1"),
        ("gamma", "0.9", r"number in \[0, 1\]"),
        ("gamma", 1.5, r"number in \[0, 1\]"),
        ("nb_steps_warmup", -1, "integer >= 0"),
        ("train_interval", 0, "integer >= 1"),
        ("train_interval", 0.5, "integer >= 1"),
        ("delta_clip", 0, r"number in \(0, inf\]"),
        ("delta_clip", None, r"number in \(0, inf\]"),
    ],
)
def test_a_bad_hyperparameter_gets_a_value_error_naming_it(name, value, expected):
    arguments = {"nb_actions": 2, name: value}
    with pytest.raises(ValueError, match=f"{name} must be an? {expected}, got {value!r}"):
        SARSAAgent(dense_model(), **arguments)
