"""Attacks on the input side (issue 20): options, hyperparameters, paths, signals, env args."""

from __future__ import annotations

import json
import math
import re

import gymnasium
import numpy as np
import pytest

from agents import cli, presets
from agents.checkpoint import find_checkpoint

#: A DQN run of a few seconds on 5 x 5 Blob with checkpoints every 100 env steps.
TINY = ["--steps", "200", "--size", "5", "--val-episodes", "0", "--eval-episodes", "2"]
TINY += ["--checkpoint-interval", "100", "--warmup", "20", "--batch-size", "8"]
TINY += ["--memory-size", "100", "--hidden-units", "8", "--num-envs", "1"]


def only_run_dir(logdir):
    (run_dir,) = logdir.iterdir()
    return run_dir


@pytest.mark.parametrize("option", ["--delta-clip", "--reward-clip"])
def test_infinite_clips_the_help_documents_run_to_the_end(option, tmp_path):
    assert cli.main([*TINY, option, "inf", "--logdir", str(tmp_path)]) == 0
    run_dir = only_run_dir(tmp_path)
    assert find_checkpoint(run_dir / "checkpoints").step == 200
    results = json.loads((run_dir / "results.json").read_text())
    assert results["evaluation"]["episodes"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr", "nan"], "lr must be a number in (0, inf), got nan"),
        (["--lr", "-1"], "lr must be a number in (0, inf), got -1"),
        (["--lr", "inf"], "lr must be a number in (0, inf), got inf"),
        (["--gamma", "1.5"], "gamma must be a number in [0, 1]"),
        (["--eps-start", "2"], "eps_start must be a number in [0, 1]"),
        (["--train-interval", "inf"], "train_interval must be a number in (0, inf)"),
        (["--memory-size", "0"], "memory_size must be an integer >= 1"),
        (["--agent", "qlearning", "--eps-decay", "2"], "eps_decay must be a number in (0, 1]"),
    ],
)
def test_bad_hyperparameters_are_usage_errors_before_anything_is_made(
    argv, message, tmp_path, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--logdir", str(tmp_path / "logs")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_size": 1.5}, "batch_size must be an integer >= 1, got 1.5"),
        ({"lr": "0.001"}, "lr must be a number in (0, inf), got '0.001'"),
        ({"dueling": "no"}, "dueling must be a bool, got 'no'"),
        ({"network": "resnet"}, "network must be one of"),
        ({"steps": math.nan}, "steps must be an integer >= 1, got nan"),
    ],
)
def test_check_config_names_the_field_and_its_range(changes, message):
    config = presets.config("dqn", "Blob-v0", **changes)
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        presets.check_config(config)


def test_compare_validates_every_agents_config_before_training(tmp_path, capsys):
    from tests.scripts.conftest import load_script

    compare = load_script("compare_agents")
    argv = ["--agents", "dqn", "qlearning", "--set", "eps_decay=2", "--steps", "50"]
    assert compare.main([*argv, "--seeds", "0", "--out", str(tmp_path)]) == 1
    assert "eps_decay must be a number in (0, 1], got 2.0" in capsys.readouterr().err
    assert not (tmp_path / "compare.json").exists()


def test_dqn_refuses_a_policy_or_memory_that_is_not_one(tiny_dqn_parts):
    from agents.dqn import DQNAgent

    model, memory = tiny_dqn_parts
    with pytest.raises(TypeError, match="policy must be a policy"):
        DQNAgent(model=model, nb_actions=9, memory=memory, policy="greedy", gamma=memory.gamma)
    with pytest.raises(TypeError, match="test_policy must be a policy"):
        DQNAgent(model=model, nb_actions=9, memory=memory, test_policy=1, gamma=memory.gamma)
    with pytest.raises(TypeError, match="memory must be a replay memory"):
        DQNAgent(model=model, nb_actions=9, memory=None)


@pytest.mark.parametrize("budget", [math.nan, math.inf, "100", 1.5, True])
def test_fit_refuses_a_budget_that_is_not_a_count(budget):
    agent = presets.build("qlearning", gymnasium.make("Blob-v0", size=5, obs_type="coords"))
    with pytest.raises(ValueError, match="nb_steps must be a positive integer"):
        agent.fit(gymnasium.make("Blob-v0", size=5, obs_type="coords"), nb_steps=budget)


@pytest.fixture(scope="module")
def tiny_dqn_parts():
    from agents import networks
    from agents.memory import SequentialMemory

    return networks.build("mlp", (4,), 9, 8), SequentialMemory(100, gamma=0.99)


def test_sigterm_during_a_never_ending_validation_stops_the_run_at_once(tmp_path):
    """CliffWalking has no time limit; an untrained greedy table walks into the wall forever."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.scripts.conftest import REPO

    argv = [sys.executable, str(REPO / "scripts" / "train_blob.py"), "--agent", "qlearning"]
    argv += ["--env-id", "CliffWalking-v1", "--steps", "20000", "--logdir", str(tmp_path)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # inside the first validation: 500 episodes of 10,000 steps
        process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        assert process.wait(timeout=30) == 143, process.stderr.read().decode()[-2000:]
        assert time.monotonic() - sent < 15
    finally:
        process.kill()
        process.communicate()
    results = json.loads((only_run_dir(tmp_path) / "results.json").read_text())
    assert results["interrupted"] is True and results["signal"] == "SIGTERM"
    assert results["env_steps"] == 0  # stopped in the validation before the first step


def test_evaluation_episodes_are_capped(monkeypatch):
    from agents import evaluation

    class Up:
        training = False

        def forward(self, obs):
            return [0] * len(obs)

    monkeypatch.setattr(evaluation, "DEFAULT_MAX_EPISODE_STEPS", 50)
    result = evaluation.evaluate(Up(), "CliffWalking-v1", [0, 1])
    assert list(result.lengths) == [50, 50] and list(result.returns) == [-50, -50]


@pytest.mark.parametrize("option", ["--out", "--logdir"])
def test_an_unwritable_output_is_found_before_training(option, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file, not a directory")
    logdir = tmp_path / "logs"
    paths = {"--logdir": str(logdir), option: str(blocker / "below")}
    argv = [*TINY, *(item for pair in paths.items() for item in pair)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert f"{option[2:]} {str(blocker / 'below')!r} cannot be written" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not logdir.exists() or not any(logdir.iterdir())  # nothing trained


def fail_replace_into(monkeypatch, part: str) -> None:
    """Makes every os.replace onto a path containing `part` fail as a full disk does."""
    import errno
    import os

    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if part in str(dst):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("part", ["checkpoints", "agent"])
def test_a_full_disk_mid_run_is_one_line_and_saves_what_it_can(part, tmp_path, monkeypatch, capsys):
    fail_replace_into(monkeypatch, part)
    assert cli.main([*TINY, "--logdir", str(tmp_path / "logs")]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "No space left on device" in lines[0], err
    assert "Traceback" not in err
    run_dir = only_run_dir(tmp_path / "logs")
    results = json.loads((run_dir / "results.json").read_text())
    assert any("No space left on device" in error for error in results["errors"])
    if part == "agent":
        assert find_checkpoint(run_dir / "checkpoints").step == 200
    else:
        assert (run_dir / "agent").is_dir() and results["saved_agent"]


def blob(**kwargs):
    from blobenv.blob_env import BlobEnv

    return BlobEnv(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"size": 1000, "cell_px": 100, "render_mode": "rgb_array"}, ValueError, "frames of"),
        ({"moving_food": "no"}, TypeError, "moving_food must be a bool, got 'no'"),
        ({"moving_enemy": 1}, TypeError, "moving_enemy must be a bool, got 1"),
        ({"render_mode": 1}, ValueError, "render_mode must be None or one of"),
    ],
)
def test_bad_env_arguments_get_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        blob(**kwargs)


def test_a_large_grid_without_frames_is_fine():
    assert blob(size=1000, cell_px=100).size == 1000


def test_bool_actions_and_finished_episodes_are_refused():
    env = blob(size=3)
    env.reset(seed=0, options={"player": (0, 0), "food": (1, 1), "enemy": (2, 2)})
    with pytest.raises(ValueError, match="True invalid"):
        env.step(True)
    assert env.step(0)[2] is True  # onto the food: terminated
    with pytest.raises(gymnasium.error.ResetNeeded, match="the episode has ended"):
        env.step(8)
    env.reset(seed=1)
    env.step(8)


def test_reset_options_must_be_a_dict():
    with pytest.raises(TypeError, match="options must be a dict or None, got 'notadict'"):
        blob().reset(options="notadict")


def test_vector_seed_must_be_an_int_or_ints():
    envs = gymnasium.make_vec("Blob-v0", num_envs=2)
    with pytest.raises(TypeError, match="seed must be None, an int or 2 ints, got 'abc'"):
        envs.reset(seed="abc")


def test_non_finite_q_values_are_not_blamed_on_training():
    from agents.policy import GreedyQPolicy

    with pytest.raises(ValueError) as error_info:
        GreedyQPolicy().select_action(np.array([[math.nan, 0.0]]), np.random.default_rng(0))
    assert "diverged" not in str(error_info.value)
    assert "observations" in str(error_info.value)


def test_recording_into_an_unwritable_place_is_one_line(tmp_path, capsys):
    from tests.scripts.conftest import load_script

    blocker = tmp_path / "a-file"
    blocker.write_text("a file, not a directory")
    watch = load_script("watch_blob")
    argv = ["--human", "--record", str(blocker / "out.gif"), "--episodes", "1"]
    assert watch.main(argv) == 1
    err = capsys.readouterr().err
    assert "cannot record to" in err and len(err.strip().splitlines()) == 1


def test_sigterm_stops_the_viewer_at_once_and_keeps_the_recording(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.scripts.conftest import REPO

    gif = tmp_path / "play.gif"
    argv = [sys.executable, str(REPO / "scripts" / "watch_blob.py"), "--human", "--record"]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen([*argv, str(gif)], env=env, stderr=subprocess.PIPE)
    try:
        time.sleep(4)  # waiting for a key press, which never comes
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 143, process.stderr.read().decode()[-2000:]
    finally:
        process.kill()
        process.communicate()
    assert gif.stat().st_size > 0
