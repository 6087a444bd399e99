"""Keras-rl style agents for Gymnasium: tabular Q-learning and a Keras 3 DQN.

`agents.presets` holds the measured defaults, `agents.training` a whole training run. Submodules
load when first used: `DQNAgent` and `agents.networks` import TensorFlow then; the rest does not.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.core import Agent

__all__ = [
    "Agent", "DQNAgent", "QLearningAgent", "load_agent", "memory", "networks", "policy",
    "presets", "scoring", "training",
]  # fmt: skip
_SUBMODULES = (
    "memory", "networks", "policy", "schedules", "layers", "presets", "scoring", "training",
)  # fmt: skip

_LAZY = {
    "DQNAgent": ("agents.dqn", "DQNAgent"),
    "QLearningAgent": ("agents.qlearning", "QLearningAgent"),
    "load_agent": ("agents.serialization", "load_agent"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    if name in _SUBMODULES:
        return importlib.import_module(f"agents.{name}")
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
