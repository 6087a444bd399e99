"""Checkpoints of a training run, to resume an agent exactly where it stopped.

A checkpoint directory (the "root") holds numbered checkpoints and a `latest` pointer:

    <root>/
        latest                      the name of the newest committed checkpoint
        ckpt-000003-step-30000/
            manifest.json           format version, counters, metadata, sha256 of each file
            state.json              agent class and config, counters, RNG and policy state
            arrays.npz              network, target network and optimizer variables, or Q-table
            memory.npz              the replay memory (only with include_memory=True)

A save builds the new checkpoint in a hidden temporary directory beside the others, fsyncs it,
renames it into place and then replaces `latest` (the commit point); checkpoints beyond `keep`
are deleted only after that, so a crash at any moment leaves the previous checkpoint loadable.
A load reads and verifies every file (format version, sizes, sha256) before it changes the
agent; given a root, it falls back, with a warning, to the newest checkpoint that verifies.
No pickle: JSON, and `.npz` files read with `allow_pickle=False`. One writer per root.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from agents.serialization import AGENT_CLASSES

FORMAT_VERSION = 1
MANIFEST, STATE, ARRAYS, MEMORY = "manifest.json", "state.json", "arrays.npz", "memory.npz"
LATEST = "latest"
DEFAULT_KEEP = 3
_NAME = re.compile(r"ckpt-(\d{6,})-step-(\d+)")
_STAGING_PREFIX = ".tmp-ckpt-"
# Numeric policy settings that a user or callback may change during training.
_POLICY_SETTINGS = ("eps", "tau")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


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
        agent: A `DQNAgent` (compiled) or `QLearningAgent`.
        directory: The checkpoint root (created if needed).
        include_memory: Also save the DQN's replay memory (without it, a resumed DQN refills
            an empty memory before it trains again).
        keep: Number of newest checkpoints kept in the root, at least 1.
        metadata: JSON-able data stored alongside (e.g. the run's settings).

    Returns:
        The new checkpoint's `CheckpointInfo`.

    Raises:
        TypeError: If the agent is not one this module saves.
        ValueError: If `keep` < 1, `metadata` is not JSON-able, or the agent has no memory to
            include.
        RuntimeError: If a DQN is not compiled.
    """
    handler = _handler(agent)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError(f"keep must be an int >= 1, got {keep!r}")
    if include_memory and getattr(agent, "memory", None) is None:
        raise ValueError(f"include_memory=True, but a {type(agent).__name__} has no memory")
    metadata = dict(metadata or {})
    _json_bytes(metadata, "metadata")  # refused before anything is written
    state, arrays = handler.save(agent)
    state.update(
        class_name=type(agent).__name__,
        config=agent.get_config(),
        step=int(agent.step),
        episode=int(agent.episode),
        rng=_encode(agent.rng.bit_generator.state),
        policies={name: _policy_state(getattr(agent, name, None)) for name in _POLICIES},
    )
    state_bytes = _json_bytes(state, "the agent's state")
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [_number(path) for path in root.iterdir() if _number(path) is not None]
    name = f"ckpt-{max(numbers, default=0) + 1:06d}-step-{int(agent.step)}"
    staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=root))
    try:
        files = {STATE: _write(staging / STATE, lambda file: file.write(state_bytes))}
        files[ARRAYS] = _write(staging / ARRAYS, lambda file: _savez(file, arrays))
        if include_memory:
            memory_state = agent.memory.state_dict()
            files[MEMORY] = _write(staging / MEMORY, lambda file: _savez(file, memory_state))
        body = {
            "format_version": FORMAT_VERSION, "class_name": type(agent).__name__,
            "step": int(agent.step), "episode": int(agent.episode), "metadata": metadata,
            "files": files,
        }  # fmt: skip
        manifest = {**body, "sha256": _sha256(_json_bytes(body, "the manifest"))}
        manifest_bytes = _json_bytes(manifest, "the manifest")
        _write(staging / MANIFEST, lambda file: file.write(manifest_bytes))
        _fsync_dir(staging)
        os.replace(staging, root / name)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write(root / f".{LATEST}.tmp", lambda file: file.write(f"{name}\n".encode()))
    os.replace(root / f".{LATEST}.tmp", root / LATEST)
    _fsync_dir(root)
    _prune(root, keep)
    return CheckpointInfo(
        root / name, int(agent.step), int(agent.episode), include_memory, metadata
    )


def load_checkpoint(agent: Any, directory: str | os.PathLike[str]) -> CheckpointInfo:
    """Restores the agent's training state from a checkpoint.

    Everything is read and checked before the agent changes: a failed load leaves it as it was.

    Args:
        agent: An agent of the checkpoint's class, built with the same network (or table) and
            policy classes; a DQN must be compiled (its optimizer receives the saved state).
        directory: A checkpoint root (the newest checkpoint that verifies is loaded; a warning
            names any newer one that did not) or one checkpoint's own directory.

    Returns:
        The loaded checkpoint's `CheckpointInfo`.

    Raises:
        FileNotFoundError: If there is no checkpoint at `directory`.
        CheckpointError: If no checkpoint there verifies (each one's reason is given).
        ValueError: If the checkpoint is of another agent class, network, optimizer, policy or
            replay memory than `agent`'s.
        RuntimeError: If a DQN is not compiled.
    """
    handler = _handler(agent)
    checkpoint = _read_newest(Path(directory))
    state, where = checkpoint.state, checkpoint.info.path
    if state["class_name"] != type(agent).__name__:
        raise ValueError(
            f"the checkpoint {where} holds a {state['class_name']}, not a {type(agent).__name__}"
        )
    handler.check(agent, state, checkpoint.arrays, where)
    for name in _POLICIES:
        _check_policy(getattr(agent, name, None), state["policies"].get(name), name, where)
    if checkpoint.memory is not None:
        _check_memory(agent, checkpoint.memory, where)
    rng = _generator(_decode(state["rng"]), where)
    handler.restore(agent, state, checkpoint.arrays)
    if checkpoint.memory is not None:
        agent.memory.load_state_dict(checkpoint.memory)
    for name in _POLICIES:
        _restore_policy(getattr(agent, name, None), state["policies"].get(name))
    agent.step, agent.episode, agent.rng = checkpoint.info.step, checkpoint.info.episode, rng
    return checkpoint.info


def find_checkpoint(directory: str | os.PathLike[str]) -> CheckpointInfo:
    """Returns the checkpoint `load_checkpoint(agent, directory)` would load, fully verified.

    Raises:
        FileNotFoundError: If there is no checkpoint at `directory`.
        CheckpointError: If no checkpoint there verifies.
    """
    return _read_newest(Path(directory)).info


# --- reading and verifying -------------------------------------------------------------------


@dataclass(frozen=True)
class _Checkpoint:
    info: CheckpointInfo
    state: dict[str, Any]
    arrays: dict[str, np.ndarray]
    memory: dict[str, np.ndarray] | None


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
        intact = manifest.get("sha256") == _sha256(_json_bytes(body, "the manifest"))
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
    known = {STATE, ARRAYS, MEMORY}
    if (
        not isinstance(files, dict)
        or not {STATE, ARRAYS} <= set(files) <= known
        or not all(
            isinstance(entry, dict) and {"bytes", "sha256"} <= set(entry)
            for entry in files.values()
        )
    ):
        raise CheckpointError(
            f"{manifest_path} must list {STATE}, {ARRAYS} and optionally {MEMORY} with their "
            f"bytes and sha256, got {str(files)[:200]}"
        )
    contents = {name: _verified_bytes(path / name, entry) for name, entry in files.items()}
    try:
        state = json.loads(contents[STATE])
        arrays = _load_npz(contents[ARRAYS])
        memory = _load_npz(contents[MEMORY]) if MEMORY in contents else None
        info = CheckpointInfo(
            path, int(body["step"]), int(body["episode"]), memory is not None, body["metadata"]
        )
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} cannot be read: {error}") from error
    return _Checkpoint(info, state, arrays, memory)


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


def _load_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


# --- writing ---------------------------------------------------------------------------------


def _write(path: Path, writer: Callable[[BinaryIO], Any]) -> dict[str, Any]:
    """Writes a file with `writer`, fsyncs it; returns its size and sha256 for the manifest."""
    with open(path, "wb") as file:
        writer(file)
        file.flush()
        os.fsync(file.fileno())
    # Hashed from disk in chunks: a replay memory's file is tens of MB, not to be held twice.
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _savez(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """Writes `arrays` as an uncompressed `.npz`, as `np.savez` does, without copying them.

    `np.savez` passes each array through 16 MB byte strings: for a replay memory, tens of MB
    that the allocator then keeps.
    """
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, value in arrays.items():
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise TypeError(f"{key}: object arrays would need pickle; got {array.dtype}")
            if not array.flags.c_contiguous:
                array = array.copy(order="C")
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                header = np.lib.format.header_data_from_array_1_0(array)
                np.lib.format.write_array_header_1_0(member, header)
                member.write(array.reshape(-1).data.cast("B"))


def _fsync_dir(path: Path) -> None:
    """Makes the directory's entries (new files, renames) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(root: Path, keep: int) -> None:
    """Deletes all but the newest `keep` checkpoints, and the leftovers of crashed saves."""
    checkpoints = sorted((p for p in root.iterdir() if _number(p) is not None), key=_number)
    for path in checkpoints[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(f"{_STAGING_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)


def _number(path: Path) -> int | None:
    """The sequence number of a checkpoint directory's name, None for anything else."""
    match = _NAME.fullmatch(path.name)
    return int(match.group(1)) if match and path.is_dir() else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(value: Any, what: str) -> bytes:
    try:
        return json.dumps(value, indent=1, sort_keys=True, allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be JSON-able (finite numbers, str keys): {error}") from error


# --- per agent class -------------------------------------------------------------------------

_POLICIES = ("policy", "test_policy")


@dataclass(frozen=True)
class _Handler:
    save: Callable[[Any], tuple[dict[str, Any], dict[str, np.ndarray]]]
    check: Callable[[Any, dict[str, Any], dict[str, np.ndarray], Path], None]
    restore: Callable[[Any, dict[str, Any], dict[str, np.ndarray]], None]


def _handler(agent: Any) -> _Handler:
    name = type(agent).__name__
    module = AGENT_CLASSES.get(name)
    # The class's module is imported only if the agent's name matches: no TensorFlow for tables.
    if module is None or getattr(importlib.import_module(module), name) is not type(agent):
        raise TypeError(f"cannot checkpoint a {name}; supported: {sorted(AGENT_CLASSES)}")
    if name == "DQNAgent" and not agent.compiled:
        raise RuntimeError("compile the DQNAgent first: its checkpoint holds the optimizer state")
    return _HANDLERS[name]


def _dqn_variables(agent: Any) -> dict[str, list[Any]]:
    """The DQN's variables by group; `variables` include the dropout seed generators' states."""
    return {
        "online": list(agent.model.variables),
        "target": list(agent.target_model.variables),
        "optimizer": list(agent.optimizer.variables),
    }


def _dqn_save(agent: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    arrays = {}
    for group, variables in _dqn_variables(agent).items():
        arrays.update({f"{group}_{i:04d}": v.numpy() for i, v in enumerate(variables)})
    state = {
        "network": _network_description(agent.model),
        "optimizer": _optimizer_description(agent.optimizer),
    }
    return state, arrays


def _dqn_check(agent: Any, state: dict[str, Any], arrays: dict[str, np.ndarray], where: Path):
    saved, own = state["network"], _network_description(agent.model)
    # Keras numbers unnamed models and layers per process: names are not compared.
    if (saved["variables"], saved["layers"]) != (own["variables"], own["layers"]):
        raise ValueError(
            f"the checkpoint {where} is of another network: it holds {_summary(saved)}, this "
            f"agent has {_summary(own)}; build the agent with the checkpoint's network"
        )
    saved, own = state["optimizer"], _optimizer_description(agent.optimizer)
    if saved != own:
        raise ValueError(
            f"the checkpoint {where} holds the state of a {saved['class_name']} optimizer with "
            f"{len(saved['variables'])} variables; this agent's {own['class_name']} has "
            f"{len(own['variables'])}: compile the agent with the checkpoint's optimizer"
        )
    for group, variables in _dqn_variables(agent).items():
        for i, variable in enumerate(variables):
            array = arrays.get(f"{group}_{i:04d}")
            if array is None or array.shape != tuple(variable.shape):
                raise CheckpointError(f"{where}: {group} variable {i} is missing or misshapen")


def _dqn_restore(agent: Any, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    for group, variables in _dqn_variables(agent).items():
        for i, variable in enumerate(variables):
            variable.assign(arrays[f"{group}_{i:04d}"])


def _network_description(model: Any) -> dict[str, Any]:
    """The network's name, and its structure without layer names (links use layer indices)."""
    variables = [[list(v.shape), str(v.dtype)] for v in model.variables]
    description = {"name": model.name, "variables": variables, "layers": None}
    try:
        layers = json.loads(model.to_json())["config"]["layers"]
    except (KeyError, TypeError, ValueError, NotImplementedError):
        return description  # a subclassed model: its variables' shapes must do
    # A Sequential model's layers have their name in their config only (and no links).
    index = {layer.get("name", layer["config"]["name"]): i for i, layer in enumerate(layers)}

    def anonymous(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: [index.get(item[0]), *item[1:]] if key == "keras_history" else anonymous(item)
                for key, item in value.items()
            }
        return [anonymous(item) for item in value] if isinstance(value, list) else value

    for layer in layers:
        layer.pop("name", None)
        layer.get("config", {}).pop("name", None)
    description["layers"] = anonymous(layers)
    return description


def _summary(network: dict[str, Any]) -> str:
    count = sum(int(np.prod(shape)) for shape, _ in network["variables"])
    layers = network["layers"] or []
    kinds = ", ".join(layer.get("class_name", "?") for layer in layers) or "layers unknown"
    return f"network {network['name']!r} ({count} parameters; {kinds})"


def _optimizer_description(optimizer: Any) -> dict[str, Any]:
    variables = [[list(v.shape), str(v.dtype)] for v in optimizer.variables]
    return {"class_name": type(optimizer).__name__, "variables": variables}


def _qlearning_save(agent: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from agents.qlearning import space_to_config

    state = {
        "epsilon": agent.epsilon,
        "observation_space": space_to_config(agent.observation_space),
        "nb_actions": agent.nb_actions,
    }
    return state, {"table": agent.table}


def _qlearning_check(agent: Any, state: dict[str, Any], arrays: dict[str, np.ndarray], where):
    from agents.qlearning import space_to_config

    table = arrays.get("table")
    if table is None:
        raise CheckpointError(f"{where}: the Q-table is missing")
    saved = (state["observation_space"], state["nb_actions"], list(table.shape))
    own = (space_to_config(agent.observation_space), agent.nb_actions, list(agent.table.shape))
    if saved != own:
        raise ValueError(
            f"the checkpoint {where} holds a Q-table of shape {saved[2]} for {saved[0]} and "
            f"{saved[1]} actions; this agent's table has shape {own[2]} for {own[0]} and "
            f"{own[1]} actions"
        )


def _qlearning_restore(agent: Any, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    agent.set_weights([arrays["table"]])
    agent.epsilon = float(state["epsilon"])


_HANDLERS = {
    "DQNAgent": _Handler(_dqn_save, _dqn_check, _dqn_restore),
    "QLearningAgent": _Handler(_qlearning_save, _qlearning_check, _qlearning_restore),
}


# --- shared state: policies, memory, random generator ----------------------------------------


def _policy_state(policy: Any) -> dict[str, Any] | None:
    """The policy's schedule position and changeable settings (eps, tau), nested policies too."""
    if policy is None:
        return None
    settings = {name: getattr(policy, name) for name in _POLICY_SETTINGS if hasattr(policy, name)}
    state = {"class_name": type(policy).__name__, "step": int(policy.step), "settings": settings}
    inner = getattr(policy, "inner_policy", None)
    if inner is not None:
        state["inner_policy"] = _policy_state(inner)
    return state


def _check_policy(policy: Any, state: dict[str, Any] | None, name: str, where: Path) -> None:
    saved = None if state is None else state["class_name"]
    own = None if policy is None else type(policy).__name__
    if saved != own:
        raise ValueError(f"the checkpoint {where} has a {name} {saved}, this agent a {own}")
    if state is not None and "inner_policy" in state:
        _check_policy(policy.inner_policy, state["inner_policy"], f"inner {name}", where)


def _restore_policy(policy: Any, state: dict[str, Any] | None) -> None:
    if policy is None or state is None:
        return
    policy.step = int(state["step"])
    for key, value in state["settings"].items():
        setattr(policy, key, value)
    if "inner_policy" in state:
        _restore_policy(policy.inner_policy, state["inner_policy"])


def _check_memory(agent: Any, memory_state: dict[str, np.ndarray], where: Path) -> None:
    """Loads the saved memory into a scratch copy first, so a misfit leaves the agent's intact."""
    from agents.memory import memory_from_config

    if getattr(agent, "memory", None) is None:
        raise ValueError(f"the checkpoint {where} holds a replay memory; this agent has none")
    scratch = memory_from_config(agent.memory.get_config())
    try:
        scratch.load_state_dict(memory_state)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(
            f"the checkpoint {where} holds a replay memory that does not fit this agent's "
            f"{agent.memory.get_config()}: {error}"
        ) from error


def _encode(value: Any) -> Any:
    """A bit generator's state as JSON: arrays become {"ndarray": [...], "dtype": ...}."""
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist(), "dtype": value.dtype.name}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"ndarray", "dtype"}:
            return np.array(value["ndarray"], dtype=value["dtype"])
        return {key: _decode(item) for key, item in value.items()}
    return value


def _generator(state: dict[str, Any], where: Path) -> np.random.Generator:
    name = state.get("bit_generator")
    if name not in _BIT_GENERATORS:
        raise CheckpointError(
            f"{where}: unknown bit generator {name!r}; expected one of {_BIT_GENERATORS}"
        )
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{where}: invalid {name} state: {error}") from error
    return np.random.Generator(bit_generator)
