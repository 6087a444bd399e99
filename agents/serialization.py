"""Saving a whole agent to a directory (JSON config plus weights file) and loading it back.

A saved agent is a directory holding `agent.json`, `{"format_version": 1, "class": ...,
"config": agent.get_config()}`, and the weights file the agent's class names in its
`weights_filename` attribute (`table.npz` for Q-learning, `weights.weights.h5` for the DQN).
No pickle: loading runs no code from the files.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from typing import Any

FORMAT_VERSION = 1
CONFIG_FILENAME = "agent.json"

# Modules are imported only when their class is needed: loading a Q-learning agent must not
# import TensorFlow.
AGENT_CLASSES = {
    "QLearningAgent": "agents.qlearning",
    "DQNAgent": "agents.dqn",
}


def save_agent(agent: Any, path: str | os.PathLike[str]) -> None:
    """Saves `agent` (config and weights) to directory `path`, atomically.

    The agent is written into a temporary sibling directory that then replaces `path`, so a
    crash leaves either the old save or the new one. An existing `path` must be a saved agent
    (or empty): anything else is refused rather than deleted.

    Args:
        agent: A `QLearningAgent` or `DQNAgent`.
        path: The directory to write (parent directories are created).

    Raises:
        TypeError: If the agent's class is not one `load_agent` can rebuild.
        FileExistsError: If `path` exists and is not a saved agent's directory.
    """
    name = type(agent).__name__
    if name not in AGENT_CLASSES or _agent_class(name) is not type(agent):
        raise TypeError(f"cannot save a {name}; saveable classes: {sorted(AGENT_CLASSES)}")
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not _replaceable(path):
        raise FileExistsError(
            f"{path} exists and is not a saved agent's directory; refusing to replace it"
        )
    document = {"format_version": FORMAT_VERSION, "class": name, "config": agent.get_config()}
    text = json.dumps(document, indent=2, allow_nan=False)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}-", dir=parent)
    try:
        with open(os.path.join(staging, CONFIG_FILENAME), "w", encoding="utf-8") as file:
            file.write(text)
        agent.save_weights(os.path.join(staging, type(agent).weights_filename))
        _swap_in(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_agent(path: str | os.PathLike[str]) -> Any:
    """Rebuilds an agent saved by `save_agent`, weights included, ready for `test()`.

    Args:
        path: The saved agent's directory.

    Returns:
        The agent (a DQN comes back compiled).

    Raises:
        FileNotFoundError: If the directory, its `agent.json` or its weights file is missing.
        ValueError: If `agent.json` is corrupt, of another format version or names an unknown
            class, or if the config or the weights do not fit the agent.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        raise FileNotFoundError(f"no saved agent directory at {path}")
    config_path = os.path.join(path, CONFIG_FILENAME)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(f"{path} is not a saved agent: it has no {CONFIG_FILENAME}")
    try:
        with open(config_path, encoding="utf-8") as file:
            document = json.load(file)
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
    name = document["class"]
    if name not in AGENT_CLASSES:
        raise ValueError(
            f"{config_path} names an unknown agent class {name!r}; known: {sorted(AGENT_CLASSES)}"
        )
    cls = _agent_class(name)
    weights_path = os.path.join(path, cls.weights_filename)
    if not os.path.isfile(weights_path):
        raise FileNotFoundError(f"{path} has no weights file {cls.weights_filename}")
    if not isinstance(document["config"], dict):
        raise ValueError(f"{config_path}: config must be an object, got {document['config']!r}")
    try:
        agent = cls.from_config(document["config"])
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"{config_path}: the config does not build a {name}: {error}") from error
    agent.load_weights(weights_path)
    return agent


def _agent_class(name: str) -> Any:
    return getattr(importlib.import_module(AGENT_CLASSES[name]), name)


def _replaceable(path: str) -> bool:
    """True for a saved agent's directory or an empty one: never delete anything else."""
    return os.path.isdir(path) and (
        not os.listdir(path) or os.path.isfile(os.path.join(path, CONFIG_FILENAME))
    )


def _swap_in(staging: str, path: str) -> None:
    """Moves directory `staging` to `path`, setting any existing `path` aside until it's done."""
    if not os.path.exists(path):
        os.replace(staging, path)
        return
    # A directory cannot be os.replace'd onto a non-empty one: move the old one aside first.
    aside = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}-old-", dir=os.path.dirname(path))
    old = os.path.join(aside, "agent")
    os.replace(path, old)
    try:
        os.replace(staging, path)
    except BaseException:
        os.replace(old, path)
        os.rmdir(aside)
        raise
    shutil.rmtree(aside)
