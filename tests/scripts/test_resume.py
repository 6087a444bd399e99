"""train_blob.py's checkpoints: SIGINT/SIGTERM stop cleanly, --resume continues the same run."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest

from agents.checkpoint import find_checkpoint, load_checkpoint
from scripts import train_blob
from scripts._training import prepare
from scripts.train_blob import QLearningConfig, RunConfig, start_run, train
from tests.scripts.conftest import REPO

#: A tiny DQN run that would take minutes, checkpointing every 50 steps with its memory.
LONG_TINY_DQN = ["--steps", "1000000", "--warmup", "20", "--batch-size", "8"]
LONG_TINY_DQN += ["--memory-size", "300", "--hidden-units", "16", "--size", "5"]
LONG_TINY_DQN += ["--num-envs", "1", "--eval-episodes", "0", "--checkpoint-interval", "50"]
LONG_TINY_DQN += ["--save-memory", "--logdir", "logs", "--val-episodes", "5"]


def events_files(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("events.out.tfevents.*"))


def scalar_steps(events_file: Path, tag: str) -> list[int]:
    """The x values of the points of `tag` in one events file."""
    import tensorflow as tf

    return [
        event.step
        for event in tf.compat.v1.train.summary_iterator(str(events_file))
        for value in event.summary.value
        if value.tag == tag
    ]


def results_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def qlearning_config(tmp_path: Path, steps: int) -> RunConfig:
    hyper = QLearningConfig(steps=steps, num_envs=1)
    options = {"eval_episodes": 0, "val_episodes": 5}
    return RunConfig(agent="qlearning", size=5, logdir=str(tmp_path), hyper=hyper, **options)


def start_long_run(cwd: Path, checkpoints: int) -> subprocess.Popen:
    """Starts LONG_TINY_DQN in `cwd`; returns once it wrote `checkpoints` periodic checkpoints."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, str(REPO / "scripts" / "train_blob.py"), *LONG_TINY_DQN]
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 240
    while len(list(cwd.glob("logs/*/checkpoints/ckpt-*"))) < checkpoints:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no {checkpoints} checkpoints within 240 s"
        time.sleep(0.1)
    return process


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory):
    """A train_blob.py subprocess stopped by SIGINT once it wrote a periodic checkpoint."""
    cwd = tmp_path_factory.mktemp("interrupted")
    process = start_long_run(cwd, checkpoints=1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    (run_dir,) = (cwd / "logs").iterdir()
    return process.returncode, stdout, stderr, run_dir


def test_sigint_saves_a_loadable_checkpoint_closes_the_log_and_exits_130(interrupted_run):
    returncode, stdout, stderr, run_dir = interrupted_run
    assert returncode == 130, stderr
    assert "interrupted by SIGINT" in stderr and "--resume" in stdout
    assert "Traceback" not in stderr
    results = results_of(run_dir)
    assert results["interrupted"] is True and results["signal"] == "SIGINT"
    assert 50 <= results["env_steps"] < 1_000_000
    assert len(events_files(run_dir)) == 1

    info = find_checkpoint(run_dir / "checkpoints")
    assert (info.step, info.episode) == (results["env_steps"], results["episodes"])
    assert info.has_memory and str(info.path) == results["checkpoint"]
    config = train_blob.resume_config(*parse("--resume", str(run_dir)))
    setup = prepare(config.agent, config.hyper, config.env_id, {"size": 5}, seed=1)
    load_checkpoint(setup.agent, run_dir / "checkpoints")
    setup.env.close()
    assert setup.agent.step == results["env_steps"]
    # The replay memory came back: every step's transition but the 3-step window still open.
    assert results["env_steps"] - 2 <= len(setup.agent.memory) <= results["env_steps"]


def test_resume_continues_the_counters_and_the_tensorboard_axes(interrupted_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(interrupted_run[3], run_dir)
    before = results_of(run_dir)
    total = before["env_steps"] + 40
    argv = ["--resume", str(run_dir), "--steps", str(total), "--eval-episodes", "2"]
    assert train_blob.main(argv) == 0

    after = results_of(run_dir)
    assert after["env_steps"] == total and after["episodes"] > before["episodes"]
    assert after["resumed_from"] == str(run_dir / "checkpoints" / Path(before["checkpoint"]).name)
    assert after["config"]["hyper"]["hidden_units"] == 16 and after["evaluation"]["episodes"] == 2
    first, second = events_files(run_dir)  # the stopped process's writer, then this one's
    episodes_before = scalar_steps(first, "episode_reward")
    episodes_after = scalar_steps(second, "episode_reward")
    assert episodes_before == list(range(before["episodes"]))
    assert episodes_after == list(range(before["episodes"], after["episodes"]))
    assert max(scalar_steps(first, "train/loss")) <= before["env_steps"]
    assert min(scalar_steps(second, "train/loss")) > before["env_steps"]


def test_after_kill_9_the_newest_periodic_checkpoint_loads_and_the_run_resumes(tmp_path):
    process = start_long_run(tmp_path, checkpoints=2)
    process.kill()
    process.communicate(timeout=60)
    (run_dir,) = (tmp_path / "logs").iterdir()
    info = find_checkpoint(run_dir / "checkpoints")  # whatever the kill interrupted
    assert info.step >= 100 and info.step % 50 == 0  # a periodic one
    argv = ["--resume", str(run_dir), "--steps", str(info.step + 20), "--eval-episodes", "0"]
    assert train_blob.main(argv) == 0
    results = results_of(run_dir)
    assert results["env_steps"] == info.step + 20 and results["resumed_from"] == str(info.path)


def test_a_resumed_table_goes_on_from_its_checkpoint(tmp_path):
    first = train(start_run(qlearning_config(tmp_path, steps=300)), verbose=False)
    run_dir = Path(first["run_dir"])
    saved = find_checkpoint(run_dir / "checkpoints")
    assert (saved.step, saved.episode) == (300, first["episodes"])

    assert train_blob.main(["--resume", str(run_dir), "--steps", "700"]) == 0
    second = results_of(run_dir)
    assert second["env_steps"] == 700 and second["episodes"] > first["episodes"]
    assert second["config"]["hyper"]["steps"] == 700
    assert len(events_files(run_dir)) == 2
    final = find_checkpoint(run_dir / "checkpoints")
    assert final.step == 700 and final.metadata["run_config"]["hyper"]["steps"] == 700
    # Validation goes on from the first part's best: it is only replaced by a better one.
    best, best_again = first["validation"]["best"], second["validation"]["best"]
    assert best_again["mean_return"] >= best["mean_return"]
    assert best_again == best or best_again["steps"] > 300
    assert [point["steps"] for point in second["validation"]["points"]][:2] == [300, 350]


class SignalAt(keras.callbacks.Callback):
    """Sends `signums` to this process, one after the other, at the agent's step `step`."""

    def __init__(self, step: int, *signums: int):
        super().__init__()
        self.step, self.signums = step, signums

    def on_step_end(self, step, logs=None):
        if self.model.step == self.step:
            for signum in self.signums:
                os.kill(os.getpid(), signum)


@pytest.mark.parametrize(
    ("signums", "status"),
    [((signal.SIGTERM,), 143), ((signal.SIGINT, signal.SIGINT), 130)],
    ids=["sigterm", "second-sigint"],
)
def test_a_signal_stops_training_with_a_checkpoint(tmp_path, monkeypatch, capsys, signums, status):
    real_train = train_blob.train
    monkeypatch.setattr(
        train_blob, "train", lambda run: real_train(run, callbacks=[SignalAt(100, *signums)])
    )
    handler = signal.getsignal(signal.SIGTERM)
    argv = ["--agent", "qlearning", "--size", "5", "--steps", "5000", "--num-envs", "1"]
    assert train_blob.main([*argv, "--logdir", str(tmp_path)]) == status
    assert signal.getsignal(signal.SIGTERM) is handler  # the handlers are put back
    assert f"interrupted by {signal.Signals(signums[0]).name}" in capsys.readouterr().err
    (run_dir,) = tmp_path.iterdir()
    results = results_of(run_dir)
    # One signal stops fit after the step it came in; a second one at once (here the same).
    assert results["interrupted"] is True and results["env_steps"] == 100
    assert results["evaluation"] is None
    assert find_checkpoint(run_dir / "checkpoints").step == 100
    assert len(events_files(run_dir)) == 1


def parse(*argv: str):
    parser = train_blob.build_parser()
    return parser.parse_args(list(argv)), parser


def test_resume_refuses_other_settings_and_runs_without_checkpoints(tmp_path, capsys):
    assert train_blob.main(["--resume", str(tmp_path), "--lr", "0.5", "--seed", "3"]) == 1
    assert "--seed, --lr: a resumed run keeps its settings" in capsys.readouterr().err
    assert train_blob.main(["--resume", str(tmp_path / "nothing")]) == 1
    assert "no checkpoint directory at" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_blob.main(["--agent", "qlearning", "--save-memory"])
    assert "--agent qlearning has no replay memory" in capsys.readouterr().err


def test_checkpoints_come_every_interval_and_at_the_end(tmp_path):
    config = dataclasses.replace(qlearning_config(tmp_path, steps=250), checkpoint_interval=100)
    results = train(start_run(config), verbose=False)
    names = sorted(p.name for p in (Path(results["run_dir"]) / "checkpoints").glob("ckpt-*"))
    assert names == ["ckpt-000001-step-100", "ckpt-000002-step-200", "ckpt-000003-step-250"]
