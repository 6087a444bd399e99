"""Attacks on the files we write and read: damaged, crafted or hostile saves (issue 20)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

import agents
from agents import checkpoint, manifest, presets, saving, training
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
    path: Path,
    body: Callable[[dict], None] = lambda _: None,
    state: Callable[[dict], None] = lambda _: None,
) -> None:
    """Edits a checkpoint's manifest and state.json in place, recomputing every sha256."""
    document = json.loads((path / checkpoint.STATE).read_text())
    state(document)
    (path / checkpoint.STATE).write_text(json.dumps(document))
    document = json.loads((path / checkpoint.MANIFEST).read_text())
    del document["sha256"]
    body(document)
    document["files"][checkpoint.STATE] = manifest.file_entry(path / checkpoint.STATE)
    manifest.write(path, document)


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


@pytest.mark.parametrize(
    ("env_id", "outcome"), [("this:Blob-v0", "resumed"), ("this:Nothing-v0", "refused")]
)
def test_a_crafted_env_id_does_not_make_resume_import_its_module(tmp_path, env_id, outcome):
    run_dir = tiny_run(tmp_path, val_episodes=0).run_dir
    newest = checkpoint.find_checkpoint(run_dir / training.CHECKPOINTS).path

    def craft(body: dict) -> None:
        body["metadata"]["run_config"]["env_id"] = env_id

    rewrite_checkpoint(newest, body=craft)
    code = (
        "import sys, agents.training as t\n"
        "try:\n    t.resume(sys.argv[1], verbose=False)\n    print('resumed')\n"
        "except ValueError as e:\n    print('refused', e)\n"
        "print('imported' if 'this' in sys.modules else 'clean')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(run_dir)], capture_output=True, text=True, cwd=ROOT,
        check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[-1] == "clean" and lines[-2].startswith(outcome), done.stdout + done.stderr


def test_a_module_prefix_of_a_registered_id_is_dropped_on_resume(tmp_path):
    run_dir = tiny_run(tmp_path, val_episodes=0).run_dir
    newest = checkpoint.find_checkpoint(run_dir / training.CHECKPOINTS).path

    def craft(body: dict) -> None:
        body["metadata"]["run_config"]["env_id"] = "blobenv:Blob-v0"

    rewrite_checkpoint(newest, body=craft)
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
    eps = agent.policy.inner_policy.eps
    change(values["policies"]["policy"])
    with pytest.raises(ValueError, match=message):
        agent.set_state(values, arrays)
    assert agent.policy.step == 0 and agent.policy.inner_policy.eps == eps


def test_a_policy_setting_out_of_its_range_is_refused_before_anything_changes():
    agent = policy_agent()
    values, arrays = agent.get_state()
    values["step"] = 7
    values["policies"]["policy"]["inner_policy"]["settings"]["eps"] = 2.0
    with pytest.raises(ValueError, match="eps"):
        agent.set_state(values, arrays)
    assert agent.step == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.update(step=-5), "step must be an int >= 0"),
        (lambda b: b.update(episode=2.5), "episode must be an int >= 0"),
        (lambda b: b.pop("step"), "has no 'step'"),
        (lambda b: b.pop("metadata"), "has no 'metadata'"),
        (lambda b: b.update(metadata=[1]), "metadata must be an object"),
        (lambda b: b.update(step=7), "disagrees with state.json"),
    ],
    ids=["negative-step", "float-episode", "no-step", "no-metadata", "list-metadata", "other-step"],
)
def test_crafted_manifest_values_are_refused_clearly(tmp_path, change, message):
    path = save_checkpoint(QLearningAgent(spaces.Discrete(3), 2), tmp_path).path
    rewrite_checkpoint(path, body=change)
    with pytest.raises(checkpoint.CheckpointError, match=message):
        load_checkpoint(QLearningAgent(spaces.Discrete(3), 2), path)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (lambda d: d["values"].update(surprise=1), r"unknown.*'surprise'"),
        (lambda d: d["values"].pop("rng"), "has no 'rng'"),
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


# --- item 6: saved agents carry checksums -----------------------------------------------------


def saved_table_agent(path: Path) -> QLearningAgent:
    agent = QLearningAgent(spaces.Discrete(64), 4, initial_q=(-1.0, 1.0), seed=0)
    agent.save(str(path))
    return agent


def test_32_flipped_bytes_inside_a_saved_weights_array_are_refused_by_name(tmp_path):
    agent = saved_table_agent(tmp_path / "agent")
    weights = tmp_path / "agent" / saving.WEIGHTS_FILENAME
    data = bytearray(weights.read_bytes())
    start = data.index(agent.table.tobytes()[:64]) + 100  # inside the table's bytes
    data[start : start + 32] = bytes(b ^ 0xFF for b in data[start : start + 32])
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"weights\.npz is corrupted: its sha256"):
        agents.load_agent(tmp_path / "agent")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "agent.json").write_text((p / "agent.json").read_text() + " "),
         r"agent\.json is truncated or altered"),
        (lambda p: (p / "manifest.json").unlink(), "has no manifest.json"),
        (lambda p: (p / "manifest.json").write_text('{"format_version": 3}'),
         r"manifest\.json is corrupted"),
    ],
    ids=["config-altered", "no-manifest", "manifest-emptied"],
)  # fmt: skip
def test_a_damaged_saved_agent_is_refused_by_name(tmp_path, damage, message):
    saved_table_agent(tmp_path / "agent")
    damage(tmp_path / "agent")
    with pytest.raises(ValueError, match=message):
        agents.load_agent(tmp_path / "agent")


def test_a_saved_agent_lists_its_files_in_its_manifest(tmp_path):
    saved_table_agent(tmp_path / "agent")
    document = json.loads((tmp_path / "agent" / "manifest.json").read_text())
    assert sorted(document["files"]) == ["agent.json", "weights.npz"]
    np.testing.assert_array_equal(
        agents.load_agent(tmp_path / "agent").table, saved_table_agent(tmp_path / "b").table
    )


# --- item 3: damaged side files of a run, and a kill while a directory is replaced ------------


def flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda run: shutil.rmtree(run / training.BEST),
        lambda run: flip_middle(run / training.BEST / saving.WEIGHTS_FILENAME),
        lambda run: (run / training.VALIDATION).write_text("{not json"),
        lambda run: (run / training.VALIDATION).write_text('{"best": {"steps": 1}}'),
        lambda run: (run / training.VALIDATION).unlink(),
    ],
    ids=["no-best", "best-flipped", "record-garbled", "record-without-return", "no-record"],
)
def test_resume_goes_on_without_a_damaged_or_missing_best(tmp_path, damage):
    run_dir = tiny_run(tmp_path).run_dir
    assert (run_dir / training.BEST).is_dir() and (run_dir / training.VALIDATION).is_file()
    damage(run_dir)
    with pytest.warns(UserWarning, match="without the earlier best"):
        result = training.resume(run_dir, steps=400, verbose=False)
    assert result.agent.step == 400 and (run_dir / training.RESULTS).is_file()


KILL_SCRIPT = """
import os, sys
from pathlib import Path
from agents import atomic

target, version, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
calls = 0

def dying(function):
    def call(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os._exit(137)  # SIGKILL's status, and nothing after this runs
        return function(*args, **kwargs)
    return call

atomic.os.replace = dying(os.replace)
atomic.shutil.rmtree = dying(atomic.shutil.rmtree)
atomic._exchange = dying(atomic._exchange)
with atomic.staging_directory(target) as staging:
    for name in ("a", "b"):
        (staging / name).write_text(version)
"""


def killed_save(target: Path, version: str, kill_at: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(target), version, str(kill_at)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode in (0, 137), done.stderr
    return done.returncode


def test_a_directory_replaced_while_killed_is_never_missing_and_leftovers_go_next_time(tmp_path):
    target = tmp_path / "best"
    assert killed_save(target, "old", kill_at=0) == 0
    kill_at = 1
    while killed_save(target, "new", kill_at) == 137:  # killed at each step of the swap in turn
        contents = {p.read_text() for p in (target / "a", target / "b")}
        assert contents in ({"old"}, {"new"}), contents  # never missing, never a mix
        assert killed_save(target, "old", kill_at=0) == 0  # the next save cleans up
        assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]
        kill_at += 1
    assert kill_at > 1 and (target / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


# --- item 11: what a run saves is readable by others under umask 022 --------------------------


def test_every_file_and_directory_a_run_saves_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        result = tiny_run(tmp_path, out=str(tmp_path / "deployed"))
    finally:
        os.umask(old)
    paths = [tmp_path / "deployed", *(tmp_path / "deployed").rglob("*")]
    paths += [result.run_dir, *result.run_dir.rglob("*")]
    saved = {path.relative_to(tmp_path).parts[-1] for path in paths}
    assert {"best", "checkpoints", "deployed", "results.json", "manifest.json"} <= saved
    assert any(name.startswith("events.out.tfevents") for name in saved)
    modes = {str(path): stat.S_IMODE(path.stat().st_mode) for path in paths}
    wrong = {p: oct(m) for p, m in modes.items() if m != (0o755 if Path(p).is_dir() else 0o644)}
    assert not wrong
