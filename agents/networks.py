"""Q-networks for Blob: the library's default and the tutorial's, for comparison.

Both take the raw uint8 image and scale it to [0, 1] themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from agents.layers import PlayerCentredView


def blob_cnn(
    obs_shape: Sequence[int],
    nb_actions: int,
    hidden_units: int = 256,
    player_centred: bool = True,
) -> keras.Model:
    """The default Blob Q-network: an egocentric view of the grid and a small dense head.

    The view puts the player in the centre (`agents.layers.PlayerCentredView`), so each relative
    position of food and enemy has its own input; one hidden layer then maps those to Q-values.
    Chosen by measurement (see the README's performance section): it learns 10x10 Blob in a few
    minutes on two CPU cores, where plain CNNs of any size take hours.

    Args:
        obs_shape: The (height, width, channels) image shape.
        nb_actions: Number of discrete actions.
        hidden_units: Width of the hidden layer.
        player_centred: False feeds the image as it is (for ablations).

    Returns:
        An unbuilt-optimizer Keras model mapping a uint8 image batch to Q-values.
    """
    _check_image_shape(obs_shape)
    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    if player_centred:
        x = PlayerCentredView()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(hidden_units, activation="relu")(x)
    outputs = keras.layers.Dense(nb_actions, name="q_values")(x)
    return keras.Model(inputs, outputs, name="blob_cnn")


def tutorial_cnn(obs_shape: Sequence[int], nb_actions: int) -> keras.Model:
    """The tutorial's network: two Conv2D(256) blocks, Dense(64), linear Q-values.

    Args:
        obs_shape: The (height, width, channels) image shape (at least 10x10 for its pooling).
        nb_actions: Number of discrete actions.

    Returns:
        A Keras model mapping a uint8 image batch to Q-values.
    """
    _check_image_shape(obs_shape)
    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    for _ in range(2):
        x = keras.layers.Conv2D(256, 3, activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64)(x)
    outputs = keras.layers.Dense(nb_actions, name="q_values")(x)
    return keras.Model(inputs, outputs, name="tutorial_cnn")


def _check_image_shape(obs_shape: Sequence[int]) -> None:
    if len(obs_shape) != 3 or min(obs_shape) < 1:
        raise ValueError(f"expected an image shape (height, width, channels), got {obs_shape}")
