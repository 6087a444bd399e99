"""Checkpoints of a training run, to resume an agent exactly where it stopped.

A checkpoint directory (the "root") holds numbered checkpoints and a `latest` pointer:

    <root>/
        latest                      the name of the newest committed checkpoint
        ckpt-000003-step-30000/
            manifest.json           format version, agent class, counters, metadata, the files'
                                    sizes and sha256
            state.json              agent class and config, and the values of its state
            arrays.npz              the arrays of its state (weights, optimizer variables,
                                    Q-table; the replay memory with include_memory=True)

What is saved is the agent's own declaration of its state, `agent.get_state()`, and a load
hands it back to `agent.set_state()`: this module is the same for every agent class and user
subclass (see `agents.core.Agent.get_state`).

A save builds the new checkpoint in a hidden staging directory beside the others, fsyncs it,
renames it into place and then replaces `latest` (the commit point); checkpoints beyond `keep`
are deleted only after that, so a crash at any moment leaves the previous checkpoint loadable.
A load reads and verifies every file (format version, sizes, sha256) before it changes the
agent; given a root, it falls back, with a warning, to the newest checkpoint that verifies.
No pickle: JSON, and `.npz` files read with `allow_pickle=False`. One writer per root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents import agent_state, atomic, fit_state, manifest, registry
from agents.npz import read_npz, write_npz

FORMAT_VERSION = 2
MANIFEST, STATE, ARRAYS = manifest.MANIFEST, "state.json", "arrays.npz"
LATEST = "latest"
DEFAULT_KEEP = 3
_NAME = re.compile(r"ckpt-(\d{6,})-step-(\d+)")
_INDEX = re.compile(r"_\d{4}$")
# The optional parts of a state, which `Agent.set_state` checks when they are there.
_OPTIONAL_VALUES = ("memory", fit_state.KEY)
_OPTIONAL_PREFIXES = (agent_state.MEMORY_PREFIX, fit_state.PREFIX)


class CheckpointError(ValueError):
    """A checkpoint on disk is incomplete, truncated, corrupted or of another format."""


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint holds, besides the agent's state.

    Attributes:
        path: The checkpoint's own directory (`<root>/ckpt-...`).
        step: The agent's `step` when it was saved.
        episode: The agent's `episode` when it was saved.
        has_memory: Whether it holds the replay memory.
        metadata: The JSON-able `metadata` given to `save_checkpoint`.
    """

    path: Path
    step: int
    episode: int
    has_memory: bool
    metadata: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(
    agent: Any,
    directory: str | os.PathLike[str],
    include_memory: bool = False,
    keep: int = DEFAULT_KEEP,
    metadata: dict[str, Any] | None = None,
) -> CheckpointInfo:
    """Saves the agent's whole training state as a new checkpoint in root `directory`.

    Args:
        agent: An agent (any subclass of `agents.core.Agent`; a DQN must be compiled).
        directory: The checkpoint root (created if needed).
        include_memory: Also save the replay memory (without it, a resumed DQN refills an
            empty memory before it trains again).
        keep: Number of newest checkpoints kept in the root, at least 1.
        metadata: JSON-able data stored alongside (e.g. the run's settings).

    Returns:
        The new checkpoint's `CheckpointInfo`.

    Raises:
        TypeError: If `agent` is not an agent.
        ValueError: If `keep` < 1, `metadata` or the agent's state is not JSON-able, or the
            agent has no memory to include.
        RuntimeError: If the agent cannot give its state yet (a DQN that is not compiled).
    """
    key = _class_key(agent, "checkpoint")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError(f"keep must be an int >= 1, got {keep!r}")
    metadata = dict(metadata or {})
    atomic.json_text(metadata, "metadata")  # refused before anything is written
    values, arrays = agent.get_state(include_memory)
    state = {"class": key, "config": agent.get_config(), "values": values}
    state_text = atomic.json_text(state, "the agent's state", indent=1)
    step, episode = int(agent.step), int(agent.episode)
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [_number(path) for path in root.iterdir() if _number(path) is not None]
    name = f"ckpt-{max(numbers, default=0) + 1:06d}-step-{step}"
    with atomic.staging_directory(root / name) as staging:
        (staging / STATE).write_text(state_text, encoding="utf-8")
        with open(staging / ARRAYS, "wb") as file:
            write_npz(file, arrays)
        body = {
            "format_version": FORMAT_VERSION, "class": key, "step": step, "episode": episode,
            "has_memory": bool(include_memory), "metadata": metadata,
            "files": {file: manifest.file_entry(staging / file) for file in (STATE, ARRAYS)},
        }  # fmt: skip
        manifest.write(staging, body)
    atomic.write_text(root / LATEST, f"{name}\n")
    _prune(root, keep)
    return CheckpointInfo(root / name, step, episode, bool(include_memory), metadata)


def load_checkpoint(agent: Any, directory: str | os.PathLike[str]) -> CheckpointInfo:
    """Restores the agent's training state from a checkpoint, with `agent.set_state`.

    Everything is read and checked before the agent changes: a failed load leaves it as it was.

    Args:
        agent: An agent of the checkpoint's class, built with the same network (or table),
            policy and memory classes; a DQN must be compiled (its optimizer receives the
            saved state).
        directory: A checkpoint root (the newest checkpoint that verifies is loaded; a warning
            names any newer one that did not) or one checkpoint's own directory.

    Returns:
        The loaded checkpoint's `CheckpointInfo`.

    Raises:
        TypeError: If `agent` is not an agent.
        FileNotFoundError: If there is no checkpoint at `directory`.
        CheckpointError: If no checkpoint there verifies (each one's reason is given).
        ValueError: If the checkpoint is of another agent class, or its state does not fit the
            agent (another network, optimizer, policy, table or replay memory).
        RuntimeError: If the agent cannot take a state yet (a DQN that is not compiled).
    """
    key = _class_key(agent, "load a checkpoint into")
    checkpoint = _read_newest(Path(directory))
    where, saved = checkpoint.info.path, checkpoint.key
    if saved != key:
        ours, theirs = _distinct_names(key, saved)
        raise ValueError(f"the checkpoint {where} holds a {theirs}, not a {ours}")
    try:
        _check_keys(agent, checkpoint)
        agent.set_state(checkpoint.values, checkpoint.arrays)
    except ValueError as error:
        raise ValueError(
            f"the checkpoint {where} does not fit this {type(agent).__name__}: {error}"
        ) from error
    return checkpoint.info


def find_checkpoint(directory: str | os.PathLike[str]) -> CheckpointInfo:
    """Returns the checkpoint `load_checkpoint(agent, directory)` would load, fully verified.

    Raises:
        FileNotFoundError: If there is no checkpoint at `directory`.
        CheckpointError: If no checkpoint there verifies.
    """
    return _read_newest(Path(directory)).info


def _class_key(agent: Any, action: str) -> str:
    if not registry.is_registered(type(agent)):
        raise TypeError(
            f"cannot {action} a {type(agent).__name__}: it is not an agent (a subclass of "
            "agents.core.Agent)"
        )
    return registry.class_key(type(agent))


def _check_keys(agent: Any, checkpoint: _Checkpoint) -> None:
    """Raises ValueError if the state has keys that the agent's own `get_state` does not give.

    The optional parts (the memory, the fit loop) are left to their own checks, and so are
    extra variables of a group the agent has (`online_0007`), which its check counts.
    """
    values, arrays = agent.get_state()
    unknown = sorted(set(checkpoint.values) - set(values) - set(_OPTIONAL_VALUES))
    if unknown:
        raise ValueError(
            f"the state has unknown values {unknown}; the agent saves {sorted(values)}"
        )
    policies = checkpoint.values.get("policies")
    if isinstance(policies, dict) and set(policies) != set(values["policies"]):
        raise ValueError(
            f"the state has the policies {sorted(policies)}; the agent saves "
            f"{sorted(values['policies'])}"
        )
    groups = {_group(name) for name in arrays}
    unknown = sorted(
        name
        for name in checkpoint.arrays
        if _group(name) not in groups and not name.startswith(_OPTIONAL_PREFIXES)
    )
    if unknown:
        raise ValueError(
            f"the state has unknown arrays {unknown}; the agent saves {sorted(arrays)}"
        )


def _group(name: str) -> str:
    """An array's group: its name without a variable index (`online_0003` -> `online`)."""
    return _INDEX.sub("", name)


def _distinct_names(key: str, other: str) -> tuple[str, str]:
    """The two class keys' names, or the whole keys if their names are the same."""
    names = key.rpartition(".")[2], other.rpartition(".")[2]
    return names if names[0] != names[1] else (key, other)


# --- reading and verifying -------------------------------------------------------------------


@dataclass(frozen=True)
class _Checkpoint:
    info: CheckpointInfo
    key: str
    values: dict[str, Any]
    arrays: dict[str, np.ndarray]


def _read_newest(directory: Path) -> _Checkpoint:
    """Reads the newest checkpoint that verifies, warning about the newer ones that did not."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no checkpoint directory at {directory}")
    if (directory / MANIFEST).exists() or _number(directory) is not None:
        return _read(directory)  # one checkpoint: no fallback
    candidates = sorted((p for p in directory.iterdir() if _number(p) is not None), key=_number)
    candidates.reverse()
    pointer = directory / LATEST
    if pointer.is_file():
        target = directory / pointer.read_text(encoding="utf-8", errors="replace").strip()
        if target in candidates:  # the commit point: a newer, uncommitted save comes after it
            candidates.remove(target)
            candidates.insert(0, target)
    if not candidates:
        raise FileNotFoundError(f"no checkpoint in {directory} (no ckpt-* directories)")
    failures = []
    for path in candidates:
        try:
            checkpoint = _read(path)
        except CheckpointError as error:
            failures.append(str(error))
            continue
        if failures:
            warnings.warn(
                f"skipped unusable checkpoints: {'; '.join(failures)}; loaded {path.name} instead",
                stacklevel=3,
            )
        return checkpoint
    raise CheckpointError(f"no valid checkpoint in {directory}: {'; '.join(failures)}")


def _read(path: Path) -> _Checkpoint:
    """Reads one checkpoint directory, verifying its format version and checksums."""
    manifest_path = path / MANIFEST
    body = manifest.read(path, (STATE, ARRAYS), FORMAT_VERSION, CheckpointError)
    contents = {
        name: manifest.verified_bytes(path / name, entry, CheckpointError)
        for name, entry in body["files"].items()
    }
    try:
        state = json.loads(contents[STATE])
        arrays = read_npz(contents[ARRAYS])
    except (ValueError, TypeError, OSError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} cannot be read: {error}") from error
    step, episode = (_count(body, name, manifest_path) for name in ("step", "episode"))
    has_memory = _field(body, "has_memory", bool, "a bool", manifest_path)
    metadata = _field(body, "metadata", dict, "an object", manifest_path)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path / STATE} must hold an object, got {str(state)[:200]}")
    key = _field(state, "class", str, "a string", path / STATE)
    values = _field(state, "values", dict, "an object", path / STATE)
    told = {"step": step, "episode": episode}
    if {key: values.get(key) for key in told} != told or has_memory != ("memory" in values):
        raise CheckpointError(
            f"{manifest_path} disagrees with {STATE}: step, episode or has_memory differ"
        )
    return _Checkpoint(
        CheckpointInfo(path, step, episode, has_memory, metadata), key, values, arrays
    )


def _field(document: dict[str, Any], name: str, kind: type, what: str, source: Path) -> Any:
    """`document[name]`, checked to be a `kind` (bool is no int); CheckpointError if not."""
    if name not in document:
        raise CheckpointError(f"{source} has no {name!r}")
    value = document[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise CheckpointError(f"{source}: {name} must be {what}, got {str(value)[:200]}")
    return value


def _count(document: dict[str, Any], name: str, source: Path) -> int:
    """`document[name]`, checked to be an int >= 0; CheckpointError if not."""
    value = _field(document, name, object, "", source)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckpointError(f"{source}: {name} must be an int >= 0, got {value!r}")
    return value


# --- writing ---------------------------------------------------------------------------------


def _prune(root: Path, keep: int) -> None:
    """Deletes all but the newest `keep` checkpoints, and the leftovers of crashed saves."""
    checkpoints = sorted((p for p in root.iterdir() if _number(p) is not None), key=_number)
    for path in checkpoints[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(f"{atomic.TEMP_PREFIX}*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _number(path: Path) -> int | None:
    """The sequence number of a checkpoint directory's name, None for anything else."""
    match = _NAME.fullmatch(path.name)
    return int(match.group(1)) if match and path.is_dir() else None
