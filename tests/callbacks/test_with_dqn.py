"""The callbacks driven by the real agent loop (`agents.DQNAgent.fit` / `test`)."""

import csv
import io
import json

import gymnasium
import keras
import numpy as np

import agents
from agents.memory import SequentialMemory
from agents.policy import EpsGreedyQPolicy
from callbacks import (
    FileLogger,
    ModelIntervalCheckpoint,
    ModifiedTensorBoard,
    StopOnRewardThreshold,
    TrainEpisodeLogger,
    TrainIntervalLogger,
    Visualizer,
)
from tests.agents.toy_envs import Corridor
from tests.callbacks.event_files import event_files, read_scalars


def make_agent(length=5, warmup=20):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((length,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)]
    )
    agent = agents.DQNAgent(
        model=model, nb_actions=2, memory=SequentialMemory(limit=1_000, gamma=0.9),
        policy=EpsGreedyQPolicy(0.5), gamma=0.9, batch_size=8, nb_steps_warmup=warmup,
        target_model_update=50,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(1e-3))
    return agent


def fit(agent, callbacks, nb_steps=120, env=None, **kwargs):
    env = env if env is not None else Corridor(5)
    return agent.fit(env, nb_steps=nb_steps, callbacks=callbacks, verbose=0,
                     nb_max_episode_steps=30, seed=0, **kwargs)  # fmt: skip


def test_agent_fit_writes_one_events_file_with_one_reward_point_per_episode(tmp_path):
    agent = make_agent()
    with ModifiedTensorBoard(log_dir=tmp_path / "run", update_freq=40) as tb:
        history = fit(agent, [tb])
    assert len(event_files(tmp_path)) == 1
    scalars = read_scalars(tb.log_dir)
    episodes = len(history.history["episode_reward"])
    assert episodes >= 5
    assert scalars["episode_reward"] == [
        (episode, reward) for episode, reward in enumerate(history.history["episode_reward"])
    ]
    assert [v for _, v in scalars["nb_episode_steps"]] == history.history["nb_episode_steps"]
    assert {"loss", "mean_q", "eps", "nb_steps"} <= set(scalars)
    # Training starts after 20 warm-up steps, so every 40-step window has losses.
    assert [step for step, _ in scalars["train/loss"]] == [40, 80, 120]
    assert [step for step, _ in scalars["train/mean_q"]] == [40, 80, 120]


def test_agent_fit_on_a_vector_env_logs_every_sub_env_episode(tmp_path):
    env = gymnasium.vector.SyncVectorEnv([lambda: Corridor(5)] * 2)
    agent = make_agent()
    with ModifiedTensorBoard(log_dir=tmp_path / "run", update_freq=50) as tb:
        history = agent.fit(env, nb_steps=100, callbacks=[tb], verbose=0, seed=0)
    scalars = read_scalars(tb.log_dir)
    # Sub-envs finish episodes out of index order; each finished episode has its own point.
    steps = [step for step, _ in scalars["episode_reward"]]
    assert len(set(steps)) == len(steps) == len(history.history["episode_reward"])
    assert [v for _, v in scalars["nb_episode_steps"]] == history.history["nb_episode_steps"]
    assert [step for step, _ in scalars["train/loss"]] == [50, 100]


def test_fit_twice_then_test_with_one_callback_keeps_one_file_and_separate_axes(tmp_path):
    agent = make_agent()
    with ModifiedTensorBoard(log_dir=tmp_path / "run", update_freq=1_000) as tb:
        first = fit(agent, [tb], nb_steps=60)
        second = fit(agent, [tb], nb_steps=60)
        tested = agent.test(Corridor(5), nb_episodes=2, callbacks=[tb], verbose=0,
                            nb_max_episode_steps=10)  # fmt: skip
    assert len(event_files(tmp_path)) == 1
    scalars = read_scalars(tb.log_dir)
    rewards = first.history["episode_reward"] + second.history["episode_reward"]
    assert scalars["episode_reward"] == list(enumerate(rewards))
    assert scalars["test/episode_reward"] == list(enumerate(tested.history["episode_reward"]))


def test_loggers_write_one_record_per_episode(tmp_path, capsys):
    episode_stream = io.StringIO()
    bar_stream = io.StringIO()
    jsonl, csv_path = tmp_path / "episodes.jsonl", tmp_path / "episodes.csv"
    history = fit(make_agent(), [
        TrainEpisodeLogger(episode_stream), TrainIntervalLogger(interval=50, file=bar_stream),
        FileLogger(jsonl), FileLogger(csv_path), keras.callbacks.CSVLogger(str(tmp_path / "k.csv")),
    ])  # fmt: skip
    rewards = history.history["episode_reward"]
    assert len(episode_stream.getvalue().splitlines()) == len(rewards)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["episode_reward"] for r in records] == rewards
    assert [r["episode"] for r in records] == list(range(len(rewards)))
    with csv_path.open(newline="") as file:
        assert [float(row["episode_reward"]) for row in csv.DictReader(file)] == rewards
    with (tmp_path / "k.csv").open(newline="") as file:
        stock_rows = list(csv.DictReader(file))
    assert [float(row["episode_reward"]) for row in stock_rows] == rewards
    bar = bar_stream.getvalue()
    assert "120/120" in bar and "step 50:" in bar and "step 100:" in bar


def test_checkpoints_of_a_dqn_load_back_the_weights_of_their_step(tmp_path):
    agent = make_agent()
    snapshots = {}

    def snapshot(step, logs):
        if (step + 1) % 50 == 0:
            snapshots[step + 1] = agent.get_weights()

    fit(agent, [
        ModelIntervalCheckpoint(tmp_path / "dqn-{step}.weights.h5", interval=50),
        keras.callbacks.LambdaCallback(on_train_batch_end=snapshot),
    ])  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dqn-100.weights.h5",
        "dqn-50.weights.h5",
    ]
    for step in (50, 100):
        restored = make_agent()
        restored.load_weights(str(tmp_path / f"dqn-{step}.weights.h5"))
        for saved, loaded in zip(snapshots[step], restored.get_weights(), strict=True):
            np.testing.assert_array_equal(saved, loaded)
    # Training went on after step 100, so the last checkpoint is not the final network.
    final = agent.get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(snapshots[100], final, strict=True))


def test_stop_on_reward_threshold_stops_agent_fit():
    stopper = StopOnRewardThreshold(threshold=0.5, window=3)
    agent = make_agent()
    history = fit(agent, [stopper], nb_steps=5_000)
    # Corridor pays 1 per finished episode, so the third episode reaches the mean.
    assert len(history.history["episode_reward"]) == 3 and stopper.stopped_episode == 2
    assert agent.step < 5_000


def test_stock_early_stopping_stops_agent_fit():
    stopper = keras.callbacks.EarlyStopping(monitor="episode_reward", mode="max", patience=2)
    history = fit(make_agent(), [stopper], nb_steps=5_000)
    # Every episode earns the same 1.0: no improvement after the first, so it stops at the third.
    assert history.history["episode_reward"][:3] == [1.0, 1.0, 1.0]
    assert len(history.history["episode_reward"]) == 3


class RenderedCorridor(Corridor):
    metadata = {"render_modes": ["ansi"]}
    render_mode = "ansi"

    def render(self):
        return "".join("A" if cell == self.position else "." for cell in range(self.length))


def test_visualizer_renders_every_training_step(capsys):
    agent = make_agent()
    fit(agent, [Visualizer()], nb_steps=30, env=RenderedCorridor(5))
    frames = [line for line in capsys.readouterr().out.splitlines() if set(line) <= {"A", "."}]
    assert len(frames) == 30


def test_interval_logger_counts_episodes_under_an_episode_budget():
    out = io.StringIO()
    agent = make_agent()
    agent.fit(Corridor(5), nb_episodes=3, callbacks=[TrainIntervalLogger(file=out)], verbose=0,
              nb_max_episode_steps=30)  # fmt: skip
    assert "3/3" in out.getvalue()


def test_rewards_in_the_event_file_match_the_history_exactly(tmp_path):
    agent = make_agent()
    with ModifiedTensorBoard(log_dir=tmp_path / "run") as tb:
        history = fit(agent, [tb], nb_steps=60)
    values = [v for _, v in read_scalars(tb.log_dir)["episode_reward"]]
    np.testing.assert_array_equal(values, np.float32(history.history["episode_reward"]))
