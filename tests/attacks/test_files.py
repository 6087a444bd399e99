"""Attacks on the files we write and read: damaged, crafted or hostile saves (issue 20)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

from agents import checkpoint, presets, training
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy
from agents.qlearning import QLearningAgent
from agents.transitions import TransitionBatch

ROOT = Path(__file__).resolve().parents[2]


def tiny_run(tmp_path: Path, **settings: Any) -> training.TrainResult:
    """A 300-step Q-learning run on 5 x 5 Blob in `tmp_path`, validated and checkpointed."""
    options = {"eval_episodes": 0, "val_episodes": 3, "val_every": 100, "env_kwargs": {"size": 5}}
    hyper = presets.config("qlearning", "Blob-v0", num_envs=1)
    return training.train(
        "Blob-v0", "qlearning", 300, hyper=hyper, logdir=str(tmp_path), verbose=False,
        **{**options, **settings},
    )  # fmt: skip


def rewrite_checkpoint(
    path: Path, manifest: Callable[[dict], None] = lambda _: None,
    state: Callable[[dict], None] = lambda _: None,
) -> None:
    """Edits a checkpoint's manifest and state.json in place, recomputing every sha256."""
    document = json.loads((path / checkpoint.STATE).read_text())
    state(document)
    (path / checkpoint.STATE).write_text(json.dumps(document))
    body = json.loads((path / checkpoint.MANIFEST).read_text())
    del body["sha256"]
    manifest(body)
    body["files"][checkpoint.STATE] = checkpoint._size_and_sha256(path / checkpoint.STATE)
    body["sha256"] = checkpoint._sha256(checkpoint._canonical(body))
    (path / checkpoint.MANIFEST).write_text(json.dumps(body))


def _batch(reward: float) -> TransitionBatch:
    return TransitionBatch(
        np.array([0]), np.array([1]), np.array([reward]), np.array([1]),
        terminated=np.array([False]), truncated=np.array([False]),
    )  # fmt: skip


# --- item 7: Q-learning and non-finite numbers -----------------------------------------------


@pytest.mark.parametrize("reward", [np.nan, np.inf, -np.inf])
def test_qlearning_refuses_a_non_finite_reward_and_keeps_its_table(reward):
    agent = QLearningAgent(spaces.Discrete(3), 2)
    with pytest.raises(ValueError, match="rewards must be finite"):
        agent.backward(_batch(reward))
    assert np.all(agent.table == 0.0)


def test_qlearning_table_file_full_of_nan_does_not_load(tmp_path):
    path = tmp_path / "table.npz"
    np.savez(path, table=np.full((3, 2), np.nan))
    agent = QLearningAgent(spaces.Discrete(3), 2)
    with pytest.raises(ValueError, match="not finite"):
        agent.load_weights(path)
    with pytest.raises(ValueError, match="not finite"):
        agent.set_weights([np.full((3, 2), np.inf)])
    assert np.all(agent.table == 0.0)


def test_qlearning_checkpoint_with_a_nan_table_does_not_load(tmp_path):
    agent = QLearningAgent(spaces.Discrete(3), 2)
    values, arrays = agent.get_state()
    with pytest.raises(ValueError, match="not finite"):
        agent.set_state(values, {**arrays, "table": np.full((3, 2), np.nan)})


# --- item 10: Q-table sizes ------------------------------------------------------------------


def test_qlearning_table_size_does_not_overflow():
    with pytest.raises(ValueError, match=r"18446744073709551616 states x 2 actions"):
        QLearningAgent(spaces.MultiDiscrete([2**32, 2**32]), 2)


# --- item 9: loading never imports a module a file names; keys and values are checked ---------


def test_a_crafted_env_id_does_not_make_resume_import_its_module(tmp_path):
    run_dir = tiny_run(tmp_path, val_episodes=0).run_dir
    newest = checkpoint.find_checkpoint(run_dir / training.CHECKPOINTS).path

    def craft(body: dict) -> None:
        body["metadata"]["run_config"]["env_id"] = "this:Blob-v0"

    rewrite_checkpoint(newest, manifest=craft)
    code = (
        "import sys, agents.training as t\n"
        "try:\n    t.saved_config(sys.argv[1])\nexcept ValueError as e:\n    print('refused', e)\n"
        "print('imported' if 'this' in sys.modules else 'clean')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(run_dir)], capture_output=True, text=True, cwd=ROOT,
        check=True,
    )  # fmt: skip
    assert "clean" in done.stdout and "refused" in done.stdout, done.stdout + done.stderr
    assert "this:Blob-v0" in done.stdout


def test_a_module_prefix_of_a_registered_id_is_dropped_on_resume(tmp_path):
    run_dir = tiny_run(tmp_path, val_episodes=0).run_dir
    newest = checkpoint.find_checkpoint(run_dir / training.CHECKPOINTS).path

    def craft(body: dict) -> None:
        body["metadata"]["run_config"]["env_id"] = "blobenv:Blob-v0"

    rewrite_checkpoint(newest, manifest=craft)
    assert training.saved_config(run_dir).env_id == "Blob-v0"


def policy_agent() -> QLearningAgent:
    agent = QLearningAgent(spaces.Discrete(3), 2)
    agent.policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), value_min=0.1, nb_steps=10)
    agent.policy_attributes = ("policy",)
    return agent


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["settings"].update(select_action="pwned"), "select_action"),
        (lambda p: p["inner_policy"]["settings"].update(eps="pwned"), "eps must be a finite"),
        (lambda p: p["inner_policy"]["settings"].update(eps=True), "eps must be a finite"),
        (lambda p: p.update(step=-5), "step must be an int >= 0"),
    ],
    ids=["unknown-setting", "string-eps", "bool-eps", "negative-step"],
)
def test_policy_settings_from_a_file_are_filtered_and_type_checked(change, message):
    agent = policy_agent()
    values, arrays = agent.get_state()
    change(values["policies"]["policy"])
    with pytest.raises(ValueError, match=message):
        agent.set_state(values, arrays)
    assert agent.policy.step == 0 and agent.policy.inner_policy.eps == 0.1


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (lambda b: b.update(step=-5), "step must be an int >= 0"),
        (lambda b: b.update(episode=2.5), "episode must be an int >= 0"),
        (lambda b: b.pop("step"), "has no 'step'"),
        (lambda b: b.pop("metadata"), "has no 'metadata'"),
        (lambda b: b.update(metadata=[1]), "metadata must be an object"),
    ],
    ids=["negative-step", "float-episode", "no-step", "no-metadata", "list-metadata"],
)
def test_crafted_manifest_values_are_refused_clearly(tmp_path, manifest, message):
    path = save_checkpoint(QLearningAgent(spaces.Discrete(3), 2), tmp_path).path
    rewrite_checkpoint(path, manifest=manifest)
    with pytest.raises(checkpoint.CheckpointError, match=message):
        load_checkpoint(QLearningAgent(spaces.Discrete(3), 2), path)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (lambda d: d["values"].update(surprise=1), r"unknown.*'surprise'"),
        (lambda d: d["values"].pop("step"), "has no 'step'"),
        (lambda d: d.pop("values"), "has no 'values'"),
        (lambda d: d.update(values=[]), "values must be an object"),
    ],
    ids=["unknown-key", "missing-key", "no-values", "list-values"],
)
def test_crafted_state_keys_are_refused_clearly(tmp_path, state, message):
    path = save_checkpoint(QLearningAgent(spaces.Discrete(3), 2), tmp_path).path
    rewrite_checkpoint(path, state=state)
    with pytest.raises(ValueError, match=message):
        load_checkpoint(QLearningAgent(spaces.Discrete(3), 2), path)
