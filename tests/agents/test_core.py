"""The shared fit/test loop: budgets, counters, env kinds and the callback protocol."""

from __future__ import annotations

import gymnasium
import keras
import numpy as np
import pytest

from agents.core import Agent
from tests.agents.toy_envs import Corridor


class AlwaysRight(Agent):
    """Moves right every step and records what backward received."""

    def __init__(self):
        super().__init__()
        self.compiled = True
        self.transitions = []
        self.episodes_ended = []

    @property
    def metrics_names(self):
        return ["loss"]

    def forward(self, obs):
        return np.ones(len(obs), dtype=np.int64)

    def backward(self, batch):
        self.transitions.append(batch)
        return {"loss": float(self.step)}

    def end_episode(self, env_index):
        self.episodes_ended.append(env_index)


class AlwaysLeftOf(AlwaysRight):
    """Takes action `action` every step, whatever the env's actions are."""

    def __init__(self, action):
        super().__init__()
        self.action = action

    def forward(self, obs):
        return np.full(len(obs), self.action, dtype=np.int64)


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_episode_begin(self, episode, logs=None):
        self.calls.append(("episode_begin", episode))

    def on_step_begin(self, step, logs=None):
        self.calls.append(("step_begin", step))

    def on_step_end(self, step, logs=None):
        self.calls.append(("step_end", step, logs["reward"], logs["action"]))

    def on_episode_end(self, episode, logs=None):
        self.calls.append(("episode_end", episode, logs["episode_reward"]))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))


class StockRecorder(keras.callbacks.Callback):
    """A plain Keras callback: gets epochs per episode and batches per step."""

    def __init__(self):
        super().__init__()
        self.epochs, self.batches = [], 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((epoch, dict(logs)))

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def test_hooks_are_called_in_protocol_order():
    recorder = Recorder()
    AlwaysRight().fit(Corridor(3), nb_episodes=2, callbacks=[recorder], verbose=0)
    assert recorder.calls == [
        ("train_begin",),
        ("episode_begin", 0),
        ("step_begin", 0), ("step_end", 0, 0.0, 1),
        ("step_begin", 1), ("step_end", 1, 1.0, 1),
        ("episode_end", 0, 1.0),
        ("episode_begin", 1),
        ("step_begin", 2), ("step_end", 2, 0.0, 1),
        ("step_begin", 3), ("step_end", 3, 1.0, 1),
        ("episode_end", 1, 1.0),
        ("train_end",),
    ]  # fmt: skip


def test_stock_keras_callbacks_get_an_epoch_per_episode():
    stock = StockRecorder()
    AlwaysRight().fit(Corridor(4), nb_episodes=3, callbacks=[stock], verbose=0)
    assert [epoch for epoch, _ in stock.epochs] == [0, 1, 2]
    assert stock.batches == 9
    logs = stock.epochs[0][1]
    assert logs["episode_reward"] == 1.0 and logs["nb_episode_steps"] == 3
    assert logs["nb_steps"] == 3 and logs["loss"] == pytest.approx(1.0)


def test_history_has_one_entry_per_episode_and_counters_carry_over():
    agent = AlwaysRight()
    history = agent.fit(Corridor(3), nb_episodes=4, verbose=0)
    assert history.history["episode_reward"] == [1.0] * 4
    assert history.history["nb_steps"] == [2, 4, 6, 8]
    agent.fit(Corridor(3), nb_steps=4, verbose=0)
    assert (agent.step, agent.episode) == (12, 6)
    assert agent.episodes_ended == [0] * 6


def test_nb_steps_budget_stops_mid_episode():
    agent = AlwaysRight()
    history = agent.fit(Corridor(10), nb_steps=5, verbose=0)
    assert agent.step == 5 and history.history == {}


def test_stop_training_from_a_callback():
    stopper = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(stopper.model, "stop_training", epoch >= 1)
    )
    history = AlwaysRight().fit(Corridor(3), nb_steps=1000, callbacks=[stopper], verbose=0)
    assert len(history.history["episode_reward"]) == 2


def test_stock_early_stopping_on_episode_reward():
    class Worsening(AlwaysRight):
        def forward(self, obs):
            # Left first for longer and longer: the return (with a step cost) never improves.
            return np.full(len(obs), int(self.step > 0))

    early = keras.callbacks.EarlyStopping(monitor="episode_reward", mode="max", patience=2)
    agent = AlwaysRight()
    history = agent.fit(Corridor(3), nb_episodes=50, callbacks=[early], verbose=0)
    # Every episode returns 1.0, so nothing improves after the first: stops after 1 + patience.
    assert len(history.history["episode_reward"]) == 3


def test_nb_max_episode_steps_truncates():
    class AlwaysLeft(AlwaysRight):
        def forward(self, obs):
            return np.zeros(len(obs), dtype=np.int64)

    agent = AlwaysLeft()
    history = agent.fit(Corridor(5), nb_episodes=2, nb_max_episode_steps=7, verbose=0)
    assert history.history["nb_episode_steps"] == [7, 7]
    truncated = np.concatenate([batch.truncated for batch in agent.transitions])
    terminated = np.concatenate([batch.terminated for batch in agent.transitions])
    assert truncated.sum() == 2 and not terminated.any()


def test_vector_env_drops_autoreset_rows_and_reports_env_ids():
    env = gymnasium.vector.SyncVectorEnv([lambda: Corridor(4, start=1), lambda: Corridor(4)])
    agent = AlwaysRight()
    history = agent.fit(env, nb_episodes=4, verbose=0)
    assert history.history["nb_episode_steps"] == [2, 3, 2, 3]
    # NEXT_STEP autoreset: the step after an episode's end is a reset, not a transition.
    rows = [
        (int(env_id), int(obs.argmax()), int(nxt.argmax()))
        for batch in agent.transitions
        for obs, nxt, env_id in zip(batch.obs, batch.next_obs, batch.env_ids, strict=True)
    ]
    assert rows == [
        (0, 1, 2), (1, 0, 1),
        (0, 2, 3), (1, 1, 2),
        (1, 2, 3),  # sub-env 0 resets on this step
        (0, 1, 2),  # sub-env 1 resets on this step
        (0, 2, 3), (1, 0, 1),
        (1, 1, 2),  # sub-env 0 resets on this step
        (0, 1, 2), (1, 2, 3),
    ]  # fmt: skip
    assert agent.step == 11
    assert all(batch.valid.all() for batch in agent.transitions)


def test_test_runs_the_requested_episodes_without_learning():
    agent = AlwaysRight()
    history = agent.test(Corridor(3), nb_episodes=3, verbose=0)
    assert history.history["episode_reward"] == [1.0] * 3
    assert agent.transitions == [] and agent.step == 0
    assert "loss" not in history.history


def test_bad_budgets_and_envs_are_refused():
    agent = AlwaysRight()
    with pytest.raises(ValueError, match="exactly one of nb_steps and nb_episodes"):
        agent.fit(Corridor(3))
    with pytest.raises(ValueError, match="nb_steps must be a positive integer"):
        agent.fit(Corridor(3), nb_steps=0)
    # A discrete action in a Box space is refused by its shape, before the env sees it.
    with pytest.raises(ValueError, match=r"expected actions of shape \(1, 1\) .* got int64"):
        agent.fit(gymnasium.make("Pendulum-v1"), nb_steps=10)
    with pytest.raises(ValueError, match="Discrete or Box action space, got MultiBinary"):
        corridor = Corridor(3)
        corridor.action_space = gymnasium.spaces.MultiBinary(2)
        agent.fit(corridor, nb_steps=10)
    with pytest.raises(
        ValueError, match=r"expected 1 integer actions in \[0, 2\) .* got int64 \[2\]"
    ):
        AlwaysLeftOf(2).fit(Corridor(3), nb_steps=10)
    with pytest.raises(TypeError, match="gymnasium.Env"):
        agent.fit(object(), nb_steps=10)
    with pytest.raises(ValueError, match="render_mode"):
        agent.test(Corridor(3), visualize=True)


def test_fit_before_compile_is_refused():
    agent = AlwaysRight()
    agent.compiled = False
    with pytest.raises(RuntimeError, match="call agent.compile"):
        agent.fit(Corridor(3), nb_steps=10)


def test_keyboard_interrupt_ends_the_run_cleanly():
    class Interrupting(AlwaysRight):
        def backward(self, batch):
            if self.step == 3:
                raise KeyboardInterrupt
            return super().backward(batch)

    recorder = Recorder()
    agent = Interrupting()
    agent.fit(Corridor(3), nb_steps=100, callbacks=[recorder], verbose=0)
    assert agent.interrupted and recorder.calls[-1] == ("train_end",)


class CountingVectorEnv(gymnasium.vector.SyncVectorEnv):
    """A sync vector env that counts its batched `step` calls."""

    def __init__(self, env_fns):
        super().__init__(env_fns)
        self.steps = 0

    def step(self, actions):
        self.steps += 1
        return super().step(actions)


class ActionRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_action_begin(self, action, logs=None):
        self.calls.append(("action_begin", np.asarray(action).tolist()))

    def on_action_end(self, action, logs=None):
        self.calls.append(("action_end", np.asarray(action).tolist()))


def staggered_corridors() -> CountingVectorEnv:
    """Two sub-envs whose episodes (2 and 3 steps) end, and autoreset, at different steps."""
    return CountingVectorEnv([lambda: Corridor(4, start=1), lambda: Corridor(4)])


def test_step_begin_and_end_pair_on_a_vector_env_across_autoresets():
    recorder = Recorder()
    AlwaysRight().fit(staggered_corridors(), nb_episodes=4, callbacks=[recorder], verbose=0)
    begins = [call[1] for call in recorder.calls if call[0] == "step_begin"]
    ends = [call[1] for call in recorder.calls if call[0] == "step_end"]
    assert begins == ends == list(range(11))


def test_action_hooks_are_called_once_per_batched_env_step_with_the_actions():
    env, recorder = staggered_corridors(), ActionRecorder()
    AlwaysRight().fit(env, nb_episodes=4, callbacks=[recorder], verbose=0)
    assert recorder.calls == [("action_begin", [1, 1]), ("action_end", [1, 1])] * env.steps
    assert env.steps == 7


def test_an_episode_budget_ends_every_episode_that_finishes_in_the_last_step():
    env = gymnasium.vector.SyncVectorEnv([lambda: Corridor(3)] * 3)
    agent, recorder = AlwaysRight(), Recorder()
    history = agent.fit(env, nb_episodes=2, callbacks=[recorder], verbose=0)
    # All three episodes end on the second batched step: all are counted and ended.
    assert (agent.step, agent.episode, agent.episodes_ended) == (6, 3, [0, 1, 2])
    assert [call[1] for call in recorder.calls if call[0] == "episode_end"] == [0, 1, 2]
    assert history.history["nb_steps"] == [6, 6, 6]
    history = agent.test(env, nb_episodes=1, verbose=0)
    assert history.history["nb_episode_steps"] == [2, 2, 2]


def test_a_test_run_inside_fit_leaves_fit_training():
    class TestsAfterTheFirstEpisode(keras.callbacks.Callback):
        def on_episode_end(self, episode, logs=None):
            if episode == 0:
                self.model.test(Corridor(3), nb_episodes=1, verbose=0)

    agent = AlwaysRight()
    env = Corridor(3)
    agent.fit(env, nb_steps=6, callbacks=[TestsAfterTheFirstEpisode()], verbose=0)
    assert (agent.step, agent.episode, sum(map(len, agent.transitions))) == (6, 3, 6)
    assert not agent.training and agent.env is None
