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

import hashlib
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

from agents import atomic, registry
from agents.npz import read_npz, write_npz

FORMAT_VERSION = 2
MANIFEST, STATE, ARRAYS = "manifest.json", "state.json", "arrays.npz"
LATEST = "latest"
DEFAULT_KEEP = 3
_NAME = re.compile(r"ckpt-(\d{6,})-step-(\d+)")


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
            "files": {file: _size_and_sha256(staging / file) for file in (STATE, ARRAYS)},
        }  # fmt: skip
        manifest = {**body, "sha256": _sha256(_canonical(body))}
        (staging / MANIFEST).write_text(atomic.json_text(manifest, "the manifest"))
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
    if not manifest_path.is_file():
        raise CheckpointError(f"{path} is incomplete: it has no {MANIFEST}")
    try:
        manifest = json.loads(manifest_path.read_bytes())
        body = {key: value for key, value in manifest.items() if key != "sha256"}
        intact = manifest.get("sha256") == _sha256(_canonical(body))
    except (ValueError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{manifest_path} is corrupted: {error}") from error
    if body.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format_version {body.get('format_version')!r}; this version of agents "
            f"reads format_version {FORMAT_VERSION}"
        )
    if not intact:
        raise CheckpointError(f"{manifest_path} is corrupted: its sha256 does not match")
    files = body.get("files")
    if (
        not isinstance(files, dict)
        or set(files) != {STATE, ARRAYS}
        or not all(
            isinstance(entry, dict) and {"bytes", "sha256"} <= set(entry)
            for entry in files.values()
        )
    ):
        raise CheckpointError(
            f"{manifest_path} must list {STATE} and {ARRAYS} with their bytes and sha256, "
            f"got {str(files)[:200]}"
        )
    contents = {name: _verified_bytes(path / name, entry) for name, entry in files.items()}
    try:
        state = json.loads(contents[STATE])
        arrays = read_npz(contents[ARRAYS])
        info = CheckpointInfo(
            path, int(body["step"]), int(body["episode"]), bool(body["has_memory"]),
            body["metadata"],
        )  # fmt: skip
        key, values = state["class"], state["values"]
    except (ValueError, TypeError, OSError, KeyError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} cannot be read: {error}") from error
    return _Checkpoint(info, key, values, arrays)


def _verified_bytes(path: Path, entry: dict[str, Any]) -> bytes:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    data = path.read_bytes()
    if len(data) != entry["bytes"]:
        raise CheckpointError(
            f"{path} is truncated or altered: {len(data)} bytes, the manifest says {entry['bytes']}"
        )
    if _sha256(data) != entry["sha256"]:
        raise CheckpointError(f"{path} is corrupted: its sha256 does not match the manifest's")
    return data


# --- writing ---------------------------------------------------------------------------------


def _size_and_sha256(path: Path) -> dict[str, Any]:
    """A written file's size and sha256, for the manifest."""
    # Hashed from disk in chunks: a replay memory's file is tens of MB, not to be held twice.
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> bytes:
    """The bytes the manifest's own sha256 is computed on."""
    return atomic.json_text(value, "the manifest", indent=1, sort_keys=True).encode()
