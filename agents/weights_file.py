"""The `.weights.h5` files of agents built from Keras models: written atomically, read checked.

An agent with one network writes it as Keras' own `model.save_weights` does (so the file loads
into that model directly); one with several (DDPG's actor and critic, NAF's three) writes them
together, as the parts of one Keras object, in the order given. `get_weights`/`set_weights` are
the same parts' weights as one list, for an agent's own `get_weights`/`set_weights`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import h5py
import keras
import numpy as np

from agents.atomic import atomic_path


class _Bundle(keras.Model):
    """Several built models as the tracked parts of one Keras object, for one weights file."""

    def __init__(self, parts: Sequence[keras.Model]) -> None:
        super().__init__()
        self.parts = list(parts)
        self.built = True


def _holder(models: Sequence[keras.Model]) -> keras.Model:
    return models[0] if len(models) == 1 else _Bundle(models)


def save_weights(models: Sequence[keras.Model], filepath: str, overwrite: bool = True) -> None:
    """Writes the weights of `models` to one `.weights.h5` file, atomically.

    Raises:
        ValueError: If `filepath` does not end in '.weights.h5'.
        FileExistsError: If the file exists and `overwrite` is False.
    """
    if not str(filepath).endswith(".weights.h5"):
        raise ValueError(f"weights files must end in '.weights.h5', got {filepath!r}")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    with atomic_path(filepath) as temp:
        _holder(models).save_weights(str(temp), overwrite=True)


def get_weights(layers: Sequence[keras.Layer]) -> list[np.ndarray]:
    """The weights of `layers`, one layer's after the other's."""
    return [weight for layer in layers for weight in layer.get_weights()]


def set_weights(layers: Sequence[keras.Layer], weights: Sequence[np.ndarray]) -> None:
    """Sets the weights of `layers` from a `get_weights(layers)` list, layer by layer."""
    weights = list(weights)
    for layer in layers:
        count = len(layer.weights)
        layer.set_weights(weights[:count])
        weights = weights[count:]


def load_weights(models: Sequence[keras.Model], filepath: str) -> None:
    """Reads a file of `save_weights` into `models` (the same networks, in the same order).

    Raises:
        FileNotFoundError: If the file is missing.
        ValueError: If the file is corrupt or holds other networks' weights.
    """
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"no weights file at {filepath}")
    try:
        if len(models) > 1:
            # Keras skips the file's objects that a holder lacks: count the networks first.
            with h5py.File(filepath, "r") as file:
                count = len(file["layers"])
            if count != len(models):
                raise ValueError(f"it holds {count} networks, not {len(models)}")
        _holder(models).load_weights(filepath)
    except Exception as error:  # Keras and h5py raise many types for bad files.
        names = ", ".join(f"{model.name!r} ({model.count_params()} parameters)" for model in models)
        raise ValueError(f"cannot load {filepath} into the networks {names}: {error}") from error
