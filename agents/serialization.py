"""Saved agents: `save_agent` (see `agents.saving`, which describes the format) and `load_agent`.

The class a saved agent names is found among those defined in the process
(`agents.registry`) or, for the built-in ones, imported from a fixed table: loading never
imports a module that a file names, and runs no code from the files (no pickle).
"""

from __future__ import annotations

import importlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from agents import manifest, registry
from agents.npz import read_npz
from agents.saving import (
    CONFIG_FILENAME,
    FORMAT_VERSION,
    SAVED_FILES,
    WEIGHTS_FILENAME,
    save_agent,
)

__all__ = [
    "CONFIG_FILENAME",
    "FORMAT_VERSION",
    "WEIGHTS_FILENAME",
    "agent_class",
    "load_agent",
    "save_agent",
]


def load_agent(path: str | os.PathLike[str]) -> Any:
    """Rebuilds an agent saved by `save_agent`, weights included, ready for `test()`.

    Args:
        path: The saved agent's directory.

    Returns:
        The agent (a DQN comes back compiled).

    Raises:
        FileNotFoundError: If the directory, its `agent.json` or its weights file is missing.
        ValueError: If a file is damaged (its size or sha256 is not the manifest's; the message
            names it) or the manifest is missing, if `agent.json` is corrupt, of another
            format version or names a class
            that is neither built in nor defined in this process, or if the config or the
            weights do not fit the agent.
    """
    path = Path(os.path.abspath(os.fspath(path)))
    if not path.is_dir():
        raise FileNotFoundError(f"no saved agent directory at {path}")
    config_path, weights_path = path / CONFIG_FILENAME, path / WEIGHTS_FILENAME
    if not config_path.is_file():
        raise FileNotFoundError(f"{path} is not a saved agent: it has no {CONFIG_FILENAME}")
    if not weights_path.is_file():
        raise FileNotFoundError(f"{path} has no weights file {WEIGHTS_FILENAME}")
    body = manifest.read(path, SAVED_FILES, FORMAT_VERSION, ValueError)
    contents = {
        name: manifest.verified_bytes(path / name, entry, ValueError)
        for name, entry in body["files"].items()
    }
    document = _read_document(contents[CONFIG_FILENAME], config_path)
    cls = agent_class(document["class"], config_path)
    try:
        saved = read_npz(contents[WEIGHTS_FILENAME])
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{weights_path} is not a weights .npz file: {error}") from error
    try:
        agent = cls.from_config(document["config"])
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(
            f"{config_path}: the config does not build a {cls.__name__}: {error}"
        ) from error
    agent.set_weights(_checked_weights(saved, agent.get_weights(), weights_path, cls.__name__))
    return agent


def agent_class(key: str, source: str | os.PathLike[str] = "the file") -> type:
    """The agent class saved under `key` ("module.QualName"), without importing a named module.

    Args:
        key: The class's key, as `agents.registry.class_key` gives it.
        source: Where the key was read, for the message.

    Returns:
        The class: one defined in this process, or a built-in one (its module imported now).

    Raises:
        ValueError: If no class of that key is defined and it is not a built-in one.
    """
    if registry.registered_class(key) is None and key in registry.BUILT_IN_AGENTS:
        importlib.import_module(registry.BUILT_IN_AGENTS[key])
    cls = registry.registered_class(key)
    if cls is None:
        raise ValueError(
            f"{source} names an unknown agent class {key!r}: it is neither built in "
            f"({sorted(registry.BUILT_IN_AGENTS)}) nor defined in this process; import the module "
            f"that defines {key.rpartition('.')[2]} before loading"
        )
    return cls


def _read_document(data: bytes, config_path: Path) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{config_path} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or not {"format_version", "class", "config"} <= set(document):
        raise ValueError(
            f"{config_path} must be an object with format_version, class and config, "
            f"got {str(document)[:200]}"
        )
    if document["format_version"] != FORMAT_VERSION:
        raise ValueError(
            f"{config_path} has format_version {document['format_version']!r}; this version of "
            f"agents reads format_version {FORMAT_VERSION}"
        )
    if not isinstance(document["class"], str):
        raise ValueError(f"{config_path}: class must be a string, got {document['class']!r}")
    if not isinstance(document["config"], dict):
        raise ValueError(f"{config_path}: config must be an object, got {document['config']!r}")
    return document


def _checked_weights(
    saved: dict[str, np.ndarray], own: list[np.ndarray], source: Path, name: str
) -> list[np.ndarray]:
    """The saved weights in order, checked against the freshly built agent's own."""
    expected = [f"weight_{i:04d}" for i in range(len(own))]
    if sorted(saved) != expected:
        raise ValueError(f"{source} holds {len(saved)} weight arrays; this {name} has {len(own)}")
    for key, array in zip(expected, own, strict=True):
        if saved[key].shape != np.shape(array):
            raise ValueError(
                f"{source}: {key} has shape {saved[key].shape}; this {name} needs shape "
                f"{np.shape(array)}"
            )
    return [saved[key] for key in expected]
