import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import callbacks.tensorboard as tensorboard_module
from callbacks import ModifiedTensorBoard
from tests.callbacks.event_files import event_files, read_scalars
from tests.callbacks.fake_agent import FakeAgent, episode_reward, run

LENGTHS = [5, 7, 4, 6]


def small_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


# Two fits with one callback (below, in the default run) share the file and continue the axes.
@pytest.mark.slow
def test_fifty_keras_fits_write_one_events_file_at_the_steps_that_were_set(tmp_path):
    model = small_model()
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    tb = ModifiedTensorBoard(log_dir=tmp_path / "run")
    losses = []
    for episode in range(50):
        tb.step = 10 * episode
        history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[tb])
        losses.append(history.history["loss"][0])
        if episode % 10 == 0:
            tb.update_stats(reward_avg=episode / 2, epsilon=1.0 - episode / 100)
    assert len(event_files(tmp_path)) == 1
    scalars = read_scalars(tb.log_dir)
    assert set(scalars) == {"loss", "mae", "reward_avg", "epsilon"}
    assert [step for step, _ in scalars["loss"]] == [10 * e for e in range(50)]
    np.testing.assert_allclose([v for _, v in scalars["loss"]], losses, rtol=1e-6)
    assert scalars["reward_avg"] == [(10 * e, e / 2) for e in range(0, 50, 10)]
    assert [step for step, _ in scalars["epsilon"]] == [0, 100, 200, 300, 400]


def test_events_file_is_created_on_the_first_write_not_at_construction(tmp_path):
    tb = ModifiedTensorBoard(log_dir=tmp_path / "run")
    assert tb.log_dir.is_dir() and event_files(tmp_path) == []
    tb.update_stats(x=1.0)
    tb.flush()
    assert len(event_files(tmp_path)) == 1
    tb.close()


def test_agent_run_writes_one_point_per_episode_at_the_episode_index(tmp_path):
    agent = FakeAgent(warmup=6)
    with ModifiedTensorBoard(log_dir=tmp_path / "run", update_freq=5) as tb:
        logs, _ = run(agent, [tb], LENGTHS, nb_steps=sum(LENGTHS))
        assert tb.step == len(LENGTHS) - 1
    assert len(event_files(tmp_path)) == 1
    scalars = read_scalars(tb.log_dir)
    expected = [(e, episode_reward(e, n)) for e, n in enumerate(LENGTHS)]
    assert scalars["episode_reward"] == expected
    assert scalars["nb_episode_steps"] == list(enumerate(map(float, LENGTHS)))
    assert scalars["eps"] == [(e, 0.5) for e in range(len(LENGTHS))]
    # Episode 0 (steps 0-4) ends before training starts at step 6: its NaN loss is left out.
    assert [step for step, _ in scalars["loss"]] == [1, 2, 3]
    expected_loss = [logs[e]["loss"] for e in (1, 2, 3)]
    np.testing.assert_allclose([v for _, v in scalars["loss"]], expected_loss, rtol=1e-6)


def test_agent_run_writes_the_mean_training_metrics_every_update_freq_steps(tmp_path):
    agent = FakeAgent(warmup=6)
    with ModifiedTensorBoard(log_dir=tmp_path / "run", update_freq=5) as tb:
        run(agent, [tb], LENGTHS, nb_steps=sum(LENGTHS))
    scalars = read_scalars(tb.log_dir)
    # 22 steps: windows end after 5, 10, 15, 20 steps, and the run's end closes the last one.
    windows = [(10, range(6, 10)), (15, range(10, 15)), (20, range(15, 20)), (22, range(20, 22))]
    assert [step for step, _ in scalars["train/loss"]] == [end for end, _ in windows]
    expected_loss = [np.mean([1 / (s + 1) for s in steps]) for _, steps in windows]
    np.testing.assert_allclose([v for _, v in scalars["train/loss"]], expected_loss, rtol=1e-6)
    expected_q = [np.mean(list(steps)) for _, steps in windows]
    np.testing.assert_allclose([v for _, v in scalars["train/mean_q"]], expected_q, rtol=1e-6)
    steps_per_second = scalars["train/steps_per_second"]
    assert [step for step, _ in steps_per_second] == [5, 10, 15, 20, 22]
    assert all(value > 0 for _, value in steps_per_second)


def test_two_agent_fits_with_one_callback_share_one_events_file_and_continue_the_axes(tmp_path):
    agent = FakeAgent(warmup=0)
    with ModifiedTensorBoard(log_dir=tmp_path / "run", update_freq=100) as tb:
        run(agent, [tb], LENGTHS)
        run(agent, [tb], LENGTHS)
    assert len(event_files(tmp_path)) == 1
    rewards = read_scalars(tb.log_dir)["episode_reward"]
    assert [step for step, _ in rewards] == list(range(8))
    assert rewards[5] == (5, episode_reward(5, LENGTHS[1]))


def test_test_runs_are_logged_under_a_test_prefix(tmp_path):
    agent = FakeAgent(warmup=0)
    with ModifiedTensorBoard(log_dir=tmp_path / "run") as tb:
        run(agent, [tb], LENGTHS)
        run(agent, [tb], [3, 3], mode="test")
    scalars = read_scalars(tb.log_dir)
    assert scalars["test/episode_reward"] == [(0, episode_reward(0, 3)), (1, episode_reward(1, 3))]
    assert len(scalars["episode_reward"]) == len(LENGTHS)
    # Only the training run's closing window: test steps add no training metrics.
    assert [step for step, _ in scalars["train/steps_per_second"]] == [sum(LENGTHS)]


def test_each_default_run_gets_its_own_directory_even_within_one_second(tmp_path):
    first = ModifiedTensorBoard(name="dqn", root_dir=tmp_path)
    second = ModifiedTensorBoard(name="dqn", root_dir=tmp_path)
    assert first.log_dir != second.log_dir
    assert first.log_dir.parent == second.log_dir.parent == tmp_path
    assert first.log_dir.name.startswith("dqn-") and second.log_dir.name.startswith("dqn-")
    for number, tb in enumerate((first, second)):
        with tb:
            tb.update_stats(run_number=number)
    assert read_scalars(first.log_dir) == {"run_number": [(0, 0.0)]}
    assert read_scalars(second.log_dir) == {"run_number": [(0, 1.0)]}
    assert len(event_files(tmp_path)) == 2


def test_default_log_dir_is_runs_name_timestamp_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tb = ModifiedTensorBoard(name="blob")
    assert tb.log_dir.parent.resolve() == (tmp_path / "runs").resolve()
    assert tb.log_dir.name.startswith("blob-") and tb.log_dir.is_dir()


def test_buffered_scalars_wait_for_the_end_of_fit(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard_module, "_MAX_PENDING_SECONDS", 3600.0)
    agent = FakeAgent(warmup=0)
    tb = ModifiedTensorBoard(log_dir=tmp_path / "run", update_freq=5)
    tb.set_model(agent)
    tb.set_params({"mode": "train"})
    tb.on_train_begin({})
    for step in range(20):
        tb.on_step_end(step, {"reward": -1.0, "action": 0, "episode": 0, "loss": 0.5})
    tb.on_episode_end(0, {"episode_reward": -20.0, "nb_episode_steps": 20})
    # No TensorFlow call has been made yet: not even the events file exists.
    assert event_files(tmp_path) == []
    tb.on_train_end({})
    scalars = read_scalars(tb.log_dir)
    assert scalars["episode_reward"] == [(0, -20.0)]
    assert [step for step, _ in scalars["train/loss"]] == [5, 10, 15, 20]
    tb.close()


def test_a_large_buffer_is_written_without_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard_module, "_MAX_PENDING_SECONDS", 3600.0)
    tb = ModifiedTensorBoard(log_dir=tmp_path / "run")
    for step in range(tensorboard_module._MAX_PENDING):
        tb.step = step
        tb.update_stats(value=step)
    tb._events._writer.flush()
    assert len(read_scalars(tb.log_dir)["value"]) == tensorboard_module._MAX_PENDING
    tb.close()


def test_scalars_buffered_at_exit_are_written_without_close(tmp_path):
    script = textwrap.dedent(f"""
        from callbacks import ModifiedTensorBoard
        tb = ModifiedTensorBoard(log_dir={str(tmp_path / "run")!r})
        tb.step = 7
        tb.update_stats(reward_avg=-3.5)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, timeout=120)
    assert read_scalars(tmp_path / "run") == {"reward_avg": [(7, -3.5)]}


def test_close_is_idempotent_and_later_writes_raise(tmp_path):
    tb = ModifiedTensorBoard(log_dir=tmp_path / "run")
    tb.update_stats(a=1)
    tb.close()
    tb.close()
    assert tb.closed
    with pytest.raises(RuntimeError, match="was closed"):
        tb.update_stats(a=2)
    with pytest.raises(RuntimeError, match="was closed"):
        small_model().fit(np.zeros((2, 3)), np.zeros((2, 1)), verbose=0, callbacks=[tb])
    assert read_scalars(tb.log_dir) == {"a": [(0, 1.0)]}


def test_update_stats_rejects_values_that_are_not_numbers(tmp_path):
    with ModifiedTensorBoard(log_dir=tmp_path / "run") as tb:
        with pytest.raises(TypeError, match="reward_avg='high' is not a real number"):
            tb.update_stats(reward_avg="high")
        with pytest.raises(TypeError, match="is not a real number"):
            tb.update_stats(rewards=[1.0, 2.0])
        tb.update_stats(count=np.int64(3), flag=True, q=np.float32(0.5))
    assert read_scalars(tb.log_dir) == {"count": [(0, 3.0)], "flag": [(0, 1.0)], "q": [(0, 0.5)]}


def test_log_dir_that_is_a_file_is_rejected_in_init(tmp_path):
    path = tmp_path / "taken"
    path.write_text("not a directory")
    with pytest.raises(ValueError, match="exists as a file; expected a directory"):
        ModifiedTensorBoard(log_dir=path)


def test_root_dir_that_is_a_file_is_rejected_in_init(tmp_path):
    (tmp_path / "runs").write_text("")
    with pytest.raises(ValueError, match="root_dir .* exists as a file"):
        ModifiedTensorBoard(root_dir=tmp_path / "runs")


def test_log_dir_that_cannot_be_created_is_rejected_in_init(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="cannot be created or written to"):
        ModifiedTensorBoard(log_dir=tmp_path / "file" / "run")


def test_log_dir_that_cannot_be_written_is_rejected_in_init(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # Root ignores file permissions, so simulate a read-only directory.
    monkeypatch.setattr(tensorboard_module.tempfile, "TemporaryFile", refuse)
    with pytest.raises(ValueError, match="cannot be created or written to.*Permission denied"):
        ModifiedTensorBoard(log_dir=tmp_path / "run")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": ""}, ValueError, "name must be a non-empty"),
        ({"name": "a/b"}, ValueError, "without separators"),
        ({"name": 3}, TypeError, "name must be a str"),
        ({"update_freq": 0}, ValueError, "update_freq must be >= 1"),
        ({"update_freq": 2.5}, TypeError, "update_freq must be an int"),
        ({"log_dir": ""}, ValueError, "log_dir must be a non-empty path"),
    ],
)
def test_bad_arguments_are_rejected(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        ModifiedTensorBoard(root_dir=tmp_path, **kwargs)


def test_keras_fit_gets_no_batch_hooks_and_no_graph(tmp_path):
    tb = ModifiedTensorBoard(log_dir=tmp_path / "run")
    for hook in ("on_train_batch_end", "on_batch_end", "on_train_batch_begin"):
        assert getattr(type(tb), hook) is getattr(keras.callbacks.Callback, hook)
    model = small_model()
    model.fit(np.zeros((64, 3)), np.zeros((64, 1)), batch_size=8, epochs=2, verbose=0,
              callbacks=[tb])  # fmt: skip
    tb.close()
    # Two epochs at tb.step 0: two points per metric, nothing per batch.
    assert {tag: len(points) for tag, points in read_scalars(tb.log_dir).items()} == {
        "loss": 2,
        "mae": 2,
    }
