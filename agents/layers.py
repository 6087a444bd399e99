"""Keras layers the agents' networks are built from (serialisable, so saved agents reload)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def _player_position(images: Any, player_channel: int) -> tuple[Any, Any]:
    """(row, column) of the brightest pixel of `player_channel` in each image."""
    height, width = images.shape[1], images.shape[2]
    flat = ops.reshape(images[..., player_channel], (-1, height * width))
    player = ops.argmax(flat, axis=1)
    return player // width, player % width


@keras.saving.register_keras_serializable(package="agents")
class PlayerCentredView(keras.layers.Layer):
    """Re-centres a Blob image on the player: an egocentric view of the grid.

    The input is a batch of (H, W, C) images scaled to [0, 1] in which the player is the pixel
    with the largest value in channel `player_channel` (blue, in Blob). The output is the
    (2R + 1, 2R + 1, C + 1) window centred on the player, R = `radius` (default: H - 1 rows and
    W - 1 columns, so the whole grid is always in view), plus a channel that is 1 on cells inside
    the grid and 0 beyond its walls. The same relative position of food or enemy then lands on
    the same input unit wherever the player is.

    Args:
        player_channel: The channel that marks the player.
        radius: Cells shown on each side of the player; None for the whole grid.
    """

    def __init__(self, player_channel: int = 2, radius: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if radius is not None and radius < 0:
            raise ValueError(f"radius must be >= 0 or None, got {radius}")
        self.player_channel = player_channel
        self.radius = radius

    def _radii(self, height: int, width: int) -> tuple[int, int]:
        if self.radius is None:
            return height - 1, width - 1
        return self.radius, self.radius

    def call(self, images: Any) -> Any:
        """Returns the egocentric view of a batch of images."""
        height, width = images.shape[1], images.shape[2]
        row, col = _player_position(images, self.player_channel)
        row_radius, col_radius = self._radii(height, width)
        grid = ops.concatenate([images, ops.ones_like(images[..., :1])], axis=-1)
        # Zeros beyond the walls, then the window's rows and columns picked by index: output
        # row u shows padded row (row + u), i.e. grid row (row + u - R). Two gathers, which
        # XLA compiles to a few fused loops (the earlier one-hot einsum took 3x the time).
        padded = ops.pad(grid, [[0, 0], [row_radius] * 2, [col_radius] * 2, [0, 0]])
        rows = ops.cast(row[:, None] + ops.arange(2 * row_radius + 1), "int32")
        cols = ops.cast(col[:, None] + ops.arange(2 * col_radius + 1), "int32")
        band = ops.take_along_axis(padded, rows[:, :, None, None], axis=1)
        return ops.take_along_axis(band, cols[:, None, :, None], axis=2)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, 2R + 1, 2R + 1, C + 1)."""
        batch, height, width, channels = input_shape
        row_radius, col_radius = self._radii(height, width)
        return (batch, 2 * row_radius + 1, 2 * col_radius + 1, channels + 1)

    def get_config(self) -> dict[str, Any]:
        """The layer's arguments."""
        return {
            **super().get_config(),
            "player_channel": self.player_channel,
            "radius": self.radius,
        }


@keras.saving.register_keras_serializable(package="agents")
class PlayerOffsets(keras.layers.Layer):
    """Where each channel's mass lies relative to the player: coordinate features.

    For every channel c it returns sum(x[..., c] * (column - player column)) / scale and the
    same for rows. In Blob, where each object is one pixel, that is the food's and the enemy's
    (dx, dy) from the player (the player's own pixels add nothing): the few numbers the optimal
    policy depends on, as smooth inputs a small dense network generalises over.

    Args:
        player_channel: The channel that marks the player.
        cells: The scale, in cells: an offset of `cells` cells reads 1.0 on every grid, so a
            network sees one cell as the same step on any grid size. None scales by the image's
            own span (W - 1 columns, H - 1 rows: offsets in [-1, 1], a cell smaller the larger
            the grid).
        limit: With `cells`: offsets beyond `limit` cells read as `limit` cells, their
            direction kept (`agents.transfer` sets it to the span a network was trained on,
            so that on a larger grid it sees offsets in the range it learned); None: no limit.
    """

    def __init__(
        self,
        player_channel: int = 2,
        cells: int | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        for name, value in (("cells", cells), ("limit", limit)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be None or an int >= 1, got {value!r}")
        if limit is not None and cells is None:
            raise ValueError("limit needs cells: it is a number of cells")
        self.player_channel = player_channel
        self.cells = cells
        self.limit = limit

    def call(self, images: Any) -> Any:
        """Returns (batch, 2 * channels): every channel's x offset, then every channel's y."""
        height, width = images.shape[1], images.shape[2]
        row, col = _player_position(images, self.player_channel)
        mass = ops.sum(images, axis=(1, 2))
        x_moment = ops.einsum("bhwc,w->bc", images, ops.arange(width, dtype=images.dtype))
        y_moment = ops.einsum("bhwc,h->bc", images, ops.arange(height, dtype=images.dtype))
        col = ops.cast(col, images.dtype)[:, None]
        row = ops.cast(row, images.dtype)[:, None]
        x_span, y_span = (width - 1, height - 1) if self.cells is None else (self.cells,) * 2
        x_offsets = (x_moment - mass * col) / max(x_span, 1)
        y_offsets = (y_moment - mass * row) / max(y_span, 1)
        offsets = ops.concatenate([x_offsets, y_offsets], axis=-1)
        if self.limit is None:
            return offsets
        bound = self.limit / self.cells
        return ops.clip(offsets, -bound, bound)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """(batch, 2 * channels)."""
        return (input_shape[0], 2 * input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        """The layer's arguments."""
        return {
            **super().get_config(),
            "player_channel": self.player_channel,
            "cells": self.cells,
            "limit": self.limit,
        }


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


@keras.saving.register_keras_serializable(package="agents")
class ActionBounds(keras.layers.Layer):
    """Maps values in [-1, 1] (a tanh's) affinely onto an action space's [low, high].

    Args:
        low: The lowest action, one entry per action dimension.
        high: The highest action, one entry per action dimension (> low, both finite).
    """

    def __init__(self, low: list[float], high: list[float], **kwargs: Any):
        super().__init__(**kwargs)
        self.low, self.high = [float(v) for v in low], [float(v) for v in high]
        if len(self.low) != len(self.high) or not all(
            lo < hi for lo, hi in zip(self.low, self.high, strict=True)
        ):
            raise ValueError(f"ActionBounds needs low < high entrywise, got {low} and {high}")

    def call(self, values: Any) -> Any:
        """Returns low + (values + 1) / 2 * (high - low)."""
        low = ops.convert_to_tensor(self.low, dtype=values.dtype)
        high = ops.convert_to_tensor(self.high, dtype=values.dtype)
        return low + (values + 1.0) * 0.5 * (high - low)

    def get_config(self) -> dict[str, Any]:
        """The layer's config, bounds included."""
        return {**super().get_config(), "low": self.low, "high": self.high}
