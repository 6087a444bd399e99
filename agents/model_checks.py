"""Checks that a Keras model fits an agent and an env, with errors that say what would fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

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
