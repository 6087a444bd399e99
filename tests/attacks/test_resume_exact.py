"""Resume fidelity (issue 20, items 4 and 5): N steps against N/2 + resume to N, stopped anywhere.

A tiny DQN on a 5 x 5 Blob with a moving food and enemy (so the env's generator matters), its
replay memory saved: the stopped and resumed run must end with the same weights, counters and
episode ids as the uninterrupted one, and write the same TensorBoard points (the episode axis
and the train/ windows).
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from agents import presets, training
from agents.checkpoint import find_checkpoint
from tests.callbacks.event_files import event_files

STEPS = 300
ENV_KWARGS = {"size": 5, "moving_food": True, "moving_enemy": True}


class StopAt(keras.callbacks.Callback):
    """Stops training once the agent has taken `step` env steps, by SIGTERM or stop_training."""

    def __init__(self, step: int, by_signal: bool):
        super().__init__()
        self.at, self.by_signal, self.sent = step, by_signal, False

    def on_step_end(self, step: int, logs: dict | None = None) -> None:
        if self.sent or self.model.step < self.at:
            return
        self.sent = True
        if self.by_signal:
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            self.model.stop_training = True


def tiny_run(logdir: Path, num_envs: int, stop: StopAt | None = None) -> training.TrainResult:
    hyper = presets.config(
        "dqn", "Blob-v0", warmup=20, batch_size=8, memory_size=300, hidden_units=16,
        num_envs=num_envs,
    )  # fmt: skip
    return training.train(
        "Blob-v0", "dqn", STEPS, seed=3, hyper=hyper, logdir=str(logdir), verbose=False,
        env_kwargs=ENV_KWARGS, val_episodes=0, eval_episodes=0, checkpoint_interval=100,
        save_memory=True, callbacks=[stop] if stop else [],
    )  # fmt: skip


def episode_points(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Tag -> sorted (x, value) points of every events file's scalars: the episode axis and the
    train/ windows (but train/steps_per_second, which is timed)."""
    points: dict[str, list[tuple[int, float]]] = {}
    for path in event_files(run_dir):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag != "train/steps_per_second":
                    number = float(tf.make_ndarray(value.tensor))
                    points.setdefault(value.tag, []).append((event.step, number))
    return {tag: sorted(values) for tag, values in points.items()}


@pytest.mark.parametrize(
    ("num_envs", "stop_at", "by_signal"),
    # The vector-env case runs with `-m slow`; the killed-run and no-state tests below use 4 envs.
    [(1, 137, True), pytest.param(4, 131, False, marks=pytest.mark.slow)],
    ids=["single-env-sigterm", "vector-env-stop-training"],
)
def test_a_run_stopped_mid_episode_and_resumed_is_the_uninterrupted_run(
    tmp_path: Path, num_envs: int, stop_at: int, by_signal: bool
) -> None:
    whole = tiny_run(tmp_path / "whole", num_envs)
    stopped = tiny_run(tmp_path / "stopped", num_envs, StopAt(stop_at, by_signal))
    assert stopped.interrupted == by_signal and stopped.agent.step < STEPS
    loop = find_checkpoint(stopped.run_dir / training.CHECKPOINTS)
    assert loop.step == stopped.agent.step
    # Stopped mid-episode: some sub-env's episode was under way, and goes on after the resume.
    assert stopped.agent.resumes_exactly
    lengths = stopped.agent.get_state()[1]["fit_loop.lengths"]
    assert lengths.max() > 0, lengths
    resumed = training.resume(stopped.run_dir, verbose=False)

    assert resumed.agent.step == whole.agent.step >= STEPS
    assert resumed.agent.episode == whole.agent.episode > 0
    for mine, theirs in zip(resumed.agent.get_weights(), whole.agent.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    ours, uninterrupted = episode_points(resumed.run_dir), episode_points(whole.run_dir)
    assert ours == uninterrupted
    assert [x for x, _ in ours["train/loss"]] == [whole.agent.step]  # none at the stop
    ids = [x for x, _ in ours["episode_reward"]]
    assert len(ids) == len(set(ids)) == whole.agent.episode  # each episode once, none lost


def test_a_resumed_run_on_an_env_without_a_state_keeps_its_episode_ids_unique_and_gapless(
    tmp_path: Path,
) -> None:
    """CartPole's vector env saves no state: the resume reseeds it, and the episodes it drops
    hand their ids to the next ones, so that no id is written twice and none is skipped."""
    hyper = presets.config(
        "dqn", "CartPole-v1", warmup=20, batch_size=8, memory_size=300, hidden_units=16,
        num_envs=4,
    )  # fmt: skip
    stopped = training.train(
        "CartPole-v1", "dqn", STEPS, seed=3, hyper=hyper, logdir=str(tmp_path), verbose=False,
        val_episodes=0, eval_episodes=0, save_memory=True, callbacks=[StopAt(131, False)],
    )  # fmt: skip
    assert not stopped.agent.resumes_exactly
    resumed = training.resume(stopped.run_dir, verbose=False)
    assert resumed.agent.step >= STEPS
    ids = [x for x, _ in episode_points(resumed.run_dir)["episode_reward"]]
    # Without the env's state, the episodes in progress are saved as free ids.
    in_flight = set(resumed.agent.get_state()[0]["fit_loop"]["free_ids"])
    assert len(ids) == len(set(ids)) == resumed.agent.episode
    assert set(ids) | in_flight == set(range(len(ids) + len(in_flight)))


def test_a_run_killed_after_a_periodic_checkpoint_resumes_from_it_exactly(tmp_path: Path) -> None:
    """A checkpoint taken mid-run (at the end of a batched step) holds a consistent loop state."""
    whole = tiny_run(tmp_path / "whole", 4)
    killed = tmp_path / "killed"
    shutil.copytree(whole.run_dir, killed)
    root = killed / training.CHECKPOINTS
    oldest, *newer = sorted(root.glob("ckpt-*"))
    for path in newer:
        shutil.rmtree(path)
    (root / "latest").unlink()
    with np.load(oldest / "arrays.npz") as arrays:
        assert 0 < arrays["fit_loop.lengths"].max()  # episodes were under way
    resumed = training.resume(killed, verbose=False)
    assert (resumed.agent.step, resumed.agent.episode) == (whole.agent.step, whole.agent.episode)
    for mine, theirs in zip(resumed.agent.get_weights(), whole.agent.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # The points after the checkpoint are written twice, and the second time the same.
    rewritten = {tag: sorted(set(points)) for tag, points in episode_points(killed).items()}
    assert rewritten == episode_points(whole.run_dir)
