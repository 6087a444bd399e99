"""Checks that a Keras model fits an agent and an env, with errors that say what would fit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium
import keras

from agents.env_driver import EnvDriver, require_action_space
from agents.hyperparameters import check_int


def check_action_model(model: Any, nb_actions: int) -> None:
    """Raises unless `model` maps one observation input to `(batch, nb_actions)` outputs.

    Raises:
        TypeError: If `model` is not a keras.Model.
        ValueError: If `nb_actions` is no integer >= 1, or the model's inputs or output do not
            fit it.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    check_int("nb_actions", nb_actions, 1)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"the model must have one input and one output, got {len(model.inputs)} "
            f"and {len(model.outputs)}"
        )
    output_shape = tuple(model.outputs[0].shape)
    if len(output_shape) != 2 or output_shape[-1] != nb_actions:
        raise ValueError(
            f"the model's output must have shape (batch, nb_actions={nb_actions}), "
            f"got {output_shape}"
        )


def check_observations(input_shape: Sequence[Any], space: Any, what: str = "the model") -> None:
    """Raises ValueError unless observations of `space` fit an input of `input_shape`.

    Args:
        input_shape: The input's shape without the batch axis (None entries fit any size).
        space: The env's (single) observation space.
        what: The network, for the message.
    """
    expected, got = tuple(input_shape), tuple(space.shape or ())
    if len(expected) != len(got) or any(
        e not in (None, g) for e, g in zip(expected, got, strict=True)
    ):
        raise ValueError(f"{what} takes observations of shape {expected}, the env gives {got}")


def check_discrete_env(agent: Any, driver: EnvDriver, input_shape: Sequence[Any]) -> None:
    """Raises ValueError unless the env has `agent.nb_actions` Discrete actions.

    Its observations must fit a model input of `input_shape` (the DQN's, SARSA's, CEM's check).
    """
    require_action_space(driver.action_space, gymnasium.spaces.Discrete, agent)
    check_observations(input_shape, driver.observation_space, "the model")
    if driver.action_space.n != agent.nb_actions:
        raise ValueError(
            f"the agent has nb_actions={agent.nb_actions}, the env has {driver.action_space}"
        )


def check_replay_memory(memory: Any, gamma: float) -> None:
    """Raises unless `memory` is a replay memory of `agents.memory` discounting with `gamma`.

    Raises:
        TypeError: If it is not a replay memory.
        ValueError: If its gamma is another.
    """
    if not all(hasattr(memory, name) for name in ("gamma", "append", "sample")):
        raise TypeError(f"memory must be a replay memory (agents.memory), got {memory!r}")
    if not math.isclose(memory.gamma, gamma):
        raise ValueError(
            f"the memory discounts with gamma={memory.gamma} but the agent's gamma={gamma}; "
            "pass the same gamma to both"
        )
