"""scripts/train_blob.py as a user runs it: a subprocess with a tiny budget."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium
import pytest

import agents
from agents.scoring import evaluation_seeds
from blobenv.solver import optimal_returns
from tests.callbacks.event_files import event_files
from tests.scripts.conftest import run_script


def test_run_saves_a_loadable_agent_one_events_file_and_the_results(tiny_run):
    done, run_dir = tiny_run
    assert run_dir.name.startswith("dqn-Blob-v0-")
    assert len(event_files(run_dir)) == 1
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] is False and results["env_steps"] == 60
    assert results["config"]["hyper"]["hidden_units"] == 16
    evaluation = results["evaluation"]
    optimum = optimal_returns(evaluation_seeds(6), 5).mean()
    assert evaluation["episodes"] == 6 and evaluation["optimal_mean_return"] == pytest.approx(
        optimum
    )
    assert evaluation["ratio_to_optimum"] == pytest.approx(evaluation["mean_return"] / optimum)
    assert 0 <= evaluation["success_rate"] <= 1
    assert "% of the optimum" in done.stdout and "success rate" in done.stdout
    assert "tensorboard --logdir" in done.stdout

    agent = agents.load_agent(results["saved_agent"])
    env = gymnasium.make("Blob-v0", size=5)
    history = agent.test(env, nb_episodes=1, verbose=0, seed=1)
    assert len(history.history["episode_reward"]) == 1
    obs, _ = env.reset(seed=2)
    assert 0 <= int(agent.forward(obs[None])[0]) < 9


def test_unknown_env_id_exits_with_a_message_and_no_traceback(tmp_path):
    done = run_script("train_blob.py", "--env-id", "NoSuchGame-v3", cwd=tmp_path)
    assert done.returncode == 1
    assert "unknown env id 'NoSuchGame-v3'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_help_lists_every_option_with_its_default(tmp_path):
    done = run_script("train_blob.py", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for option in ("--agent", "--env-id", "--resume", "--size", "--lr", "--eps-decay"):
        assert option in done.stdout
    assert (
        "(default: dqn 60000, qlearning 6000000)"
        in done.stdout.replace("\n", " ").replace("  ", " ")
        or "60000" in done.stdout
    )


def test_the_script_is_short_and_defines_nothing_others_import():
    source = (Path(__file__).resolve().parents[2] / "scripts" / "train_blob.py").read_text()
    assert len(source.splitlines()) <= 200
    assert "\nclass " not in source and "sys.path" not in source
