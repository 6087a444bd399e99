"""The agent classes defined in this process, by key "module.QualName", for loading saves.

`agents.core.Agent.__init_subclass__` registers every subclass as it is defined, so a saved
agent's class is found without importing any module a file names. This module imports nothing
of the project's, so that any module can use it without an import cycle.
"""

from __future__ import annotations

#: The built-in agent classes and their modules, which `agents.serialization.load_agent`
#: imports when a file names the class and it is not defined yet (only then: loading a
#: Q-learning agent must not import TensorFlow). A new built-in agent adds its row here.
BUILT_IN_AGENTS = {
    "agents.qlearning.QLearningAgent": "agents.qlearning",
    "agents.dqn.DQNAgent": "agents.dqn",
    "agents.ddpg.DDPGAgent": "agents.ddpg",
    "agents.td3.TD3Agent": "agents.td3",
    "agents.naf.NAFAgent": "agents.naf",
    "agents.sarsa.SARSAAgent": "agents.sarsa",
    "agents.cem.CEMAgent": "agents.cem",
    "agents.ppo.PPOAgent": "agents.ppo",
}

_CLASSES: dict[str, type] = {}


def class_key(cls: type) -> str:
    """The key a class is registered and saved under: "module.QualName"."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls: type) -> None:
    """Registers an agent class under `class_key(cls)` (a redefinition replaces the old one)."""
    _CLASSES[class_key(cls)] = cls


def registered_class(key: str) -> type | None:
    """The agent class registered under `key`, None if no such class is defined yet."""
    return _CLASSES.get(key)


def is_registered(cls: type) -> bool:
    """True for an agent class (a subclass of `agents.core.Agent`) defined in this process."""
    return _CLASSES.get(class_key(cls)) is cls
