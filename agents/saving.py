"""Saving a whole agent to a directory: its JSON config and its weights, no pickle.

A saved agent is a directory holding `agent.json`, `{"format_version": 3, "class":
"module.QualName", "config": agent.get_config()}`, `weights.npz`, the arrays of
`agent.get_weights()` (`weight_0000`, ...), and `manifest.json`, their sizes and sha256 (see
`agents.manifest`). That is all an agent class provides, so every agent
and user subclass is saved by this one function; `agents.serialization.load_agent` loads it.
(Loading lives there because it imports the built-in agents' modules; `agents.core` imports
this module, and no agent module.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from agents import atomic, manifest, registry
from agents.npz import write_npz

FORMAT_VERSION = 3
CONFIG_FILENAME = "agent.json"
WEIGHTS_FILENAME = "weights.npz"
#: The files a manifest lists (it lists itself not).
SAVED_FILES = (CONFIG_FILENAME, WEIGHTS_FILENAME)


def save_agent(agent: Any, path: str | os.PathLike[str]) -> None:
    """Saves `agent` (config and weights) to directory `path`, atomically.

    The agent is written into a staging directory beside `path` that then replaces it, so a
    crash leaves either the old save or the new one. An existing `path` must be a saved agent
    (or empty): anything else is refused rather than deleted.

    Args:
        agent: Any agent (a subclass of `agents.core.Agent`).
        path: The directory to write (parent directories are created).

    Raises:
        TypeError: If `agent` is not an agent.
        FileExistsError: If `path` exists and is not a saved agent's directory.
        ValueError: If the agent's config is not JSON-able.
    """
    if not registry.is_registered(type(agent)):
        raise TypeError(
            f"cannot save a {type(agent).__name__}: it is not an agent (a subclass of "
            "agents.core.Agent)"
        )
    path = Path(os.path.abspath(os.fspath(path)))
    if path.exists() and not _replaceable(path):
        raise FileExistsError(
            f"{path} exists and is not a saved agent's directory; refusing to replace it"
        )
    document = {
        "format_version": FORMAT_VERSION,
        "class": registry.class_key(type(agent)),
        "config": agent.get_config(),
    }
    text = atomic.json_text(document, f"the config of the {type(agent).__name__}")
    weights = {f"weight_{i:04d}": np.asarray(array) for i, array in enumerate(agent.get_weights())}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.staging_directory(path) as staging:
        (staging / CONFIG_FILENAME).write_text(text, encoding="utf-8")
        with open(staging / WEIGHTS_FILENAME, "wb") as file:
            write_npz(file, weights)
        files = {name: manifest.file_entry(staging / name) for name in SAVED_FILES}
        manifest.write(staging, {"format_version": FORMAT_VERSION, "files": files})


def _replaceable(path: Path) -> bool:
    """True for a saved agent's directory or an empty one: never delete anything else."""
    return path.is_dir() and (not any(path.iterdir()) or (path / CONFIG_FILENAME).is_file())
