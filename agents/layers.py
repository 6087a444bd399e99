"""Keras layers the agents' networks are built from (serialisable, so saved agents reload)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="agents")
class PlayerCentredView(keras.layers.Layer):
    """Re-centres a Blob image on the player: an egocentric view of the grid.

    The input is a batch of (H, W, C) images scaled to [0, 1] in which the player is the pixel
    with the largest value in channel `player_channel` (blue, in Blob). The output is
    (2H - 1, 2W - 1, C + 1): the same image shifted so the player sits in the centre, plus a
    channel that is 1 on cells inside the grid and 0 beyond its walls. Every relative position of
    food and enemy then lands on the same input unit wherever the player is, which is what lets a
    small network learn Blob fast.

    Args:
        player_channel: The channel that marks the player.
    """

    def __init__(self, player_channel: int = 2, **kwargs: Any):
        super().__init__(**kwargs)
        self.player_channel = player_channel

    def call(self, images: Any) -> Any:
        """Returns the egocentric view of a batch of images."""
        height, width = images.shape[1], images.shape[2]
        flat = ops.reshape(images[..., self.player_channel], (-1, height * width))
        player = ops.argmax(flat, axis=1)
        row, col = player // width, player % width
        # One-hot selectors: output row u shows input row (row + u - (H-1)), zero past the walls.
        rows = ops.one_hot(row[:, None] + ops.arange(2 * height - 1) - (height - 1), height)
        cols = ops.one_hot(col[:, None] + ops.arange(2 * width - 1) - (width - 1), width)
        inside = ops.ones_like(images[..., :1])
        grid = ops.concatenate([images, inside], axis=-1)
        return ops.einsum("bur,brsc,bvs->buvc", rows, grid, cols)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, 2H - 1, 2W - 1, C + 1)."""
        batch, height, width, channels = input_shape
        return (batch, 2 * height - 1, 2 * width - 1, channels + 1)

    def get_config(self) -> dict[str, Any]:
        """The layer's arguments."""
        return {**super().get_config(), "player_channel": self.player_channel}


@keras.saving.register_keras_serializable(package="agents")
class DuelingQ(keras.layers.Layer):
    """Combines a dueling head's value and advantages into Q-values.

    The input is (batch, nb_actions + 1): the state value first, then the advantages.

    Args:
        dueling_type: "avg" (Q = V + A - mean A), "max" (Q = V + A - max A) or "naive" (V + A).
    """

    TYPES = ("avg", "max", "naive")

    def __init__(self, dueling_type: str = "avg", **kwargs: Any):
        super().__init__(**kwargs)
        if dueling_type not in self.TYPES:
            raise ValueError(f"dueling_type must be one of {self.TYPES}, got {dueling_type!r}")
        self.dueling_type = dueling_type

    def call(self, value_and_advantages: Any) -> Any:
        """Returns the Q-values."""
        value, advantages = value_and_advantages[:, :1], value_and_advantages[:, 1:]
        if self.dueling_type == "avg":
            advantages = advantages - ops.mean(advantages, axis=1, keepdims=True)
        elif self.dueling_type == "max":
            advantages = advantages - ops.max(advantages, axis=1, keepdims=True)
        return value + advantages

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, nb_actions)."""
        return (input_shape[0], input_shape[1] - 1)

    def get_config(self) -> dict[str, Any]:
        """The layer's arguments."""
        return {**super().get_config(), "dueling_type": self.dueling_type}
