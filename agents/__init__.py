"""Keras-rl style agents for Gymnasium: tabular Q-learning and keras-rl's agents on Keras 3.

`agents.presets` holds the measured defaults, `agents.training` a whole training run. Submodules
load when first used: the Keras agents (`DQNAgent`, `DDPGAgent`, `TD3Agent`, `NAFAgent`,
`SARSAAgent`, `CEMAgent`, `PPOAgent`) and `agents.networks` import TensorFlow then; the rest
does not.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.core import Agent

__all__ = [
    "Agent", "CEMAgent", "DDPGAgent", "DQNAgent", "NAFAgent", "PPOAgent", "QLearningAgent",
    "SARSAAgent", "TD3Agent", "load_agent", "memory", "networks", "policy", "presets", "random",
    "scoring", "training",
]  # fmt: skip
_SUBMODULES = (
    "memory", "networks", "policy", "random", "schedules", "layers", "presets", "scoring",
    "training",
)  # fmt: skip

_LAZY = {
    "CEMAgent": ("agents.cem", "CEMAgent"),
    "DDPGAgent": ("agents.ddpg", "DDPGAgent"),
    "DQNAgent": ("agents.dqn", "DQNAgent"),
    "NAFAgent": ("agents.naf", "NAFAgent"),
    "PPOAgent": ("agents.ppo", "PPOAgent"),
    "SARSAAgent": ("agents.sarsa", "SARSAAgent"),
    "TD3Agent": ("agents.td3", "TD3Agent"),
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
