"""train_blob.py as a process: SIGINT and kill -9 while it trains, then --resume.

The same from Python (signals, resume, counters and TensorBoard axes) is in
tests/agents/test_training.py and tests/agents/test_cli.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents import cli, presets, training
from agents.checkpoint import find_checkpoint, load_checkpoint
from tests.callbacks.event_files import event_files, scalar_steps
from tests.scripts.conftest import REPO

#: A tiny DQN run that would take minutes, checkpointing every 50 steps with its memory.
LONG_TINY_DQN = ["--steps", "1000000", "--warmup", "20", "--batch-size", "8"]
LONG_TINY_DQN += ["--memory-size", "300", "--hidden-units", "16", "--size", "5"]
LONG_TINY_DQN += ["--num-envs", "1", "--eval-episodes", "0", "--checkpoint-interval", "50"]
LONG_TINY_DQN += ["--save-memory", "--logdir", "logs", "--val-episodes", "5"]


def results_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


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
    assert len(event_files(run_dir)) == 1

    info = find_checkpoint(run_dir / "checkpoints")
    assert (info.step, info.episode) == (results["env_steps"], results["episodes"])
    assert info.has_memory and str(info.path) == results["checkpoint"]
    config = training.saved_config(run_dir)
    env = presets.make_env(config.agent, config.env_id, config.hyper, **config.env_kwargs)
    agent = presets.build(config.agent, env, config.hyper, seed=1)
    load_checkpoint(agent, run_dir / "checkpoints")
    env.close()
    assert agent.step == results["env_steps"]
    # The replay memory came back: every step's transition but the 3-step window still open.
    assert results["env_steps"] - 2 <= len(agent.memory) <= results["env_steps"]


def test_resume_continues_the_counters_and_the_tensorboard_axes(interrupted_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(interrupted_run[3], run_dir)
    before = results_of(run_dir)
    total = before["env_steps"] + 40
    argv = ["--resume", str(run_dir), "--steps", str(total), "--eval-episodes", "2"]
    assert cli.main(argv) == 0

    after = results_of(run_dir)
    assert after["env_steps"] == total and after["episodes"] > before["episodes"]
    assert after["resumed_from"] == str(run_dir / "checkpoints" / Path(before["checkpoint"]).name)
    assert after["config"]["hyper"]["hidden_units"] == 16 and after["evaluation"]["episodes"] == 2
    first, second = event_files(run_dir)  # the stopped process's writer, then this one's
    episodes_before = scalar_steps(first, "episode_reward")
    episodes_after = scalar_steps(second, "episode_reward")
    assert episodes_before == list(range(before["episodes"]))
    assert episodes_after == list(range(before["episodes"], after["episodes"]))
    # Windows end at multiples of update_freq; the stopped run's open one is finished after.
    assert all(x <= before["env_steps"] for x in scalar_steps(first, "train/loss"))
    assert all(x > before["env_steps"] for x in scalar_steps(second, "train/loss"))
    assert scalar_steps(second, "train/loss"), "the resumed run wrote its training window"


# The in-process counterpart, tests/attacks/test_resume_exact.py's killed-run test, is in the
# default run.
@pytest.mark.slow
def test_after_kill_9_the_newest_periodic_checkpoint_loads_and_the_run_resumes(tmp_path):
    process = start_long_run(tmp_path, checkpoints=2)
    process.kill()
    process.communicate(timeout=60)
    (run_dir,) = (tmp_path / "logs").iterdir()
    info = find_checkpoint(run_dir / "checkpoints")  # whatever the kill interrupted
    assert info.step >= 100 and info.step % 50 == 0  # a periodic one
    argv = ["--resume", str(run_dir), "--steps", str(info.step + 20), "--eval-episodes", "0"]
    assert cli.main(argv) == 0
    results = results_of(run_dir)
    assert results["env_steps"] == info.step + 20 and results["resumed_from"] == str(info.path)


@pytest.mark.slow
def test_sigint_stops_a_distributed_run_saved_and_resume_continues_it(tmp_path):
    pytest.importorskip("ray", reason="the [scale] extra (ray) is not installed")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    script = str(REPO / "scripts" / "train_blob.py")
    argv = ["--env-id", "Blob-5x5-v0", "--workers", "2", "--steps", "1000000", "--logdir", "logs"]
    argv += ["--checkpoint-interval", "1000", "--val-episodes", "0", "--eval-episodes", "0"]
    process = subprocess.Popen(
        [sys.executable, script, *argv], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not list(tmp_path.glob("logs/*/checkpoints/ckpt-*")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 240 s"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    (run_dir,) = (tmp_path / "logs").iterdir()
    stopped = results_of(run_dir)
    assert stopped["interrupted"] and stopped["signal"] == "SIGINT"
    assert stopped["distributed"]["workers"] == 2
    budget = str(stopped["env_steps"] + 500)
    resumed = subprocess.run(
        [sys.executable, script, "--resume", str(run_dir), "--steps", budget],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    results = results_of(run_dir)
    assert results["env_steps"] >= stopped["env_steps"] + 500 and not results["interrupted"]
    assert results["resumed_from"] == stopped["checkpoint"]
