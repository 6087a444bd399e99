"""agents.training from Python: a whole run, its results, validation, checkpoints and resume."""

from __future__ import annotations

import json
import math
import os
import signal
from pathlib import Path

import keras
import numpy as np
import pytest

import agents
from agents import presets, training
from agents.checkpoint import find_checkpoint, load_checkpoint
from agents.scoring import VALIDATION_SEED_START
from tests.callbacks.event_files import event_files, scalar_steps


def tiny_qlearning(tmp_path: Path, steps: int = 300, **settings):
    """A Q-learning run on 5 x 5 Blob, one env, in `tmp_path`."""
    hyper = settings.pop("hyper", presets.config("qlearning", "Blob-v0", num_envs=1))
    options = {"eval_episodes": 10, "val_episodes": 5, "env_kwargs": {"size": 5}}
    options.update(settings)
    return training.train(
        "Blob-v0", "qlearning", steps, hyper=hyper, logdir=str(tmp_path), verbose=False, **options
    )


def tiny_dqn_hyper(**changes):
    small = {"warmup": 20, "batch_size": 8, "memory_size": 300, "hidden_units": 16, "num_envs": 1}
    return presets.config("dqn", "Blob-v0", **{**small, **changes})


class SignalAt(keras.callbacks.Callback):
    """Sends `signum` to this process when the agent reaches step `step`."""

    def __init__(self, step: int, signum: int):
        super().__init__()
        self.step, self.signum = step, signum

    def on_step_end(self, step, logs=None):
        if self.model.step == self.step:
            os.kill(os.getpid(), self.signum)


def test_qlearning_run_on_blob_coords_reports_the_ratio_and_saves_the_table(tmp_path):
    result = tiny_qlearning(tmp_path, steps=500, val_episodes=0)  # the last table, not the best
    results = result.results
    assert results["env_kwargs"] == {"size": 5, "obs_type": "coords"}
    assert results["env_steps"] == 500 and "ratio_to_optimum" in result.evaluation
    assert results["agent_config"]["learning_rate"] > 0
    assert len(event_files(result.run_dir)) == 1
    assert json.loads((result.run_dir / "results.json").read_text()) == results
    loaded = agents.load_agent(results["saved_agent"])
    assert type(loaded).__name__ == "QLearningAgent"
    assert np.abs(loaded.table).sum() > 0  # it learned something and saved it
    np.testing.assert_array_equal(loaded.table, result.agent.table)
    assert result.exit_status == 0 and not result.interrupted


def test_the_best_validated_weights_are_saved_evaluated_and_recorded(tmp_path):
    result = tiny_qlearning(tmp_path, steps=2000, val_every=400, val_episodes=20)
    results, run_dir = result.results, result.run_dir
    points, best = results["validation"]["points"], results["validation"]["best"]
    assert [point["steps"] for point in points] == [0, 400, 800, 1200, 1600, 2000]
    assert best == max(points, key=lambda point: point["mean_return"])
    assert best["seeds"] == [VALIDATION_SEED_START, VALIDATION_SEED_START + 19]
    assert json.loads((run_dir / "validation.json").read_text()) == {"best": best}
    saved, kept = agents.load_agent(results["saved_agent"]), agents.load_agent(run_dir / "best")
    np.testing.assert_array_equal(saved.table, kept.table)
    load_checkpoint(saved, run_dir / "checkpoints")  # the last weights, to go on training from
    assert (best["steps"] == 2000) == np.array_equal(saved.table, kept.table)


def test_val_episodes_0_keeps_the_last_weights(tmp_path):
    results = tiny_qlearning(tmp_path, val_episodes=0).results
    assert "validation" not in results
    assert not (Path(results["run_dir"]) / "best").exists()


def test_an_episode_budget_trains_that_many_episodes(tmp_path):
    results = tiny_qlearning(tmp_path, episodes=3).results
    assert results["episodes"] == 3 and results["config"]["episodes"] == 3


def test_qlearning_trains_on_a_vector_env_and_a_non_blob_env(tmp_path):
    vector = presets.config("qlearning", "Blob-v0", num_envs=4)
    assert tiny_qlearning(tmp_path, steps=200, hyper=vector).results["env_steps"] >= 200
    lake = training.train(
        "FrozenLake-v1", "qlearning", 300, logdir=str(tmp_path), eval_episodes=10,
        val_episodes=5, verbose=False,
    )  # fmt: skip
    # FrozenLake's table gives the exact optimum: the optimal success rate within 100 steps.
    assert lake.evaluation["optimal_mean_return"] == pytest.approx(0.74419, abs=1e-5)
    assert "ratio_to_optimum" in lake.evaluation and "success_rate" not in lake.evaluation
    assert lake.results["config"]["hyper"] == json.loads(
        json.dumps(presets.config("qlearning", "FrozenLake-v1", steps=300).__dict__)
    )


def test_a_dqn_on_cartpole_validates_and_evaluates_with_its_native_vector_env(tmp_path):
    # CartPole's native vector env takes one int seed: validation used to crash on a list.
    hyper = presets.config("dqn", "CartPole-v1", steps=200, warmup=50, hidden_units=16)
    result = training.train(
        "CartPole-v1", "dqn", hyper=hyper, logdir=str(tmp_path), eval_episodes=4,
        val_episodes=3, val_every=100, verbose=False,
    )  # fmt: skip
    assert [point["steps"] for point in result.results["validation"]["points"]][:2] == [0, 104]
    assert result.evaluation["episodes"] == 4 and result.evaluation["mean_return"] > 0


def test_infinite_clips_are_checkpointed_and_resumed(tmp_path):
    hyper = tiny_dqn_hyper(steps=60, reward_clip=math.inf, delta_clip=math.inf)
    result = training.train(
        "Blob-v0", "dqn", hyper=hyper, env_kwargs={"size": 5}, logdir=str(tmp_path),
        eval_episodes=2, val_episodes=0, checkpoint_interval=20, verbose=False,
    )  # fmt: skip
    assert result.results["config"]["hyper"]["reward_clip"] == "inf"
    config = training.saved_config(result.run_dir)
    assert config.hyper.reward_clip == math.inf and config.hyper.delta_clip == math.inf
    assert training.resume(result.run_dir, 80, verbose=False).results["env_steps"] == 80


def test_checkpoints_come_every_interval_and_at_the_end(tmp_path):
    results = tiny_qlearning(tmp_path, steps=250, checkpoint_interval=100).results
    names = sorted(p.name for p in (Path(results["run_dir"]) / "checkpoints").glob("ckpt-*"))
    assert names == ["ckpt-000001-step-100", "ckpt-000002-step-200", "ckpt-000003-step-250"]


# tests/scripts/test_resume.py stops train_blob.py by SIGINT and resumes it in the default run.
@pytest.mark.slow
def test_a_run_stopped_by_a_signal_resumes_with_the_same_counters_and_axes(tmp_path):
    hyper = tiny_dqn_hyper(steps=1_000_000)
    stopped = training.train(
        "Blob-v0", "dqn", hyper=hyper, env_kwargs={"size": 5}, logdir=str(tmp_path),
        eval_episodes=0, val_episodes=5, checkpoint_interval=50, save_memory=True,
        callbacks=[SignalAt(120, signal.SIGTERM)], verbose=False,
    )  # fmt: skip
    before = stopped.results
    assert stopped.interrupted and stopped.exit_status == 143 and before["env_steps"] == 120
    info = find_checkpoint(stopped.run_dir / "checkpoints")
    assert (info.step, info.episode, info.has_memory) == (120, before["episodes"], True)

    resumed = training.resume(stopped.run_dir, steps=160, eval_episodes=2, verbose=False)
    after = resumed.results
    assert resumed.run_dir == stopped.run_dir and not resumed.interrupted
    assert after["env_steps"] == 160 and after["episodes"] > before["episodes"]
    assert after["resumed_from"] == before["checkpoint"] and after["evaluation"]["episodes"] == 2
    assert resumed.agent.step == 160 and len(resumed.agent.memory) > 120 - 3
    first, second = event_files(stopped.run_dir)  # the stopped run's writer, then this one's
    assert scalar_steps(first, "episode_reward") == list(range(before["episodes"]))
    assert scalar_steps(second, "episode_reward") == list(
        range(before["episodes"], after["episodes"])
    )
    # The stopped part left its train/ window open (in the checkpoint); the resumed part closed
    # it where the uninterrupted run would have: at the budget's end (update_freq 1,000).
    assert scalar_steps(first, "train/loss") == []
    assert scalar_steps(second, "train/loss") == [160]


def test_settings_are_checked_before_anything_is_made(tmp_path):
    logdir = tmp_path / "logs"
    with pytest.raises(ValueError, match="seed must be an int"):
        training.train("Blob-v0", "qlearning", seed=-1, logdir=str(logdir))
    with pytest.raises(ValueError, match="unknown run setting"):
        training.train("Blob-v0", "qlearning", logdir=str(logdir), nonsense=1)
    with pytest.raises(ValueError, match="does not configure"):
        training.train("Blob-v0", "qlearning", hyper=presets.DQNConfig(), logdir=str(logdir))
    with pytest.raises(ValueError, match="a resumed run keeps its settings"):
        training.resume(tmp_path, lr=0.5)
    assert not logdir.exists()


def test_a_run_with_workers_needs_the_distributed_fit(tmp_path):
    with pytest.raises(ValueError, match="a run with collectors trains through agents.distributed"):
        training.train("Blob-5x5-v0", steps=100, workers=2, logdir=str(tmp_path))
    assert not any(tmp_path.iterdir())
