"""Running means and variances kept as Keras weights, for PPO's observation and reward scaling."""

from __future__ import annotations

import keras
import numpy as np


class RunningStatistics(keras.layers.Layer):
    """Running mean, variance and count of the observations and of the discounted returns.

    Non-trainable float64 weights (`obs_mean`, `obs_var`, `obs_count`, `return_mean`, ...), so
    that the agent's weights, saves and checkpoints carry them.
    """

    def __init__(self, obs_shape: tuple[int, ...]) -> None:
        super().__init__(name="running_statistics")
        for prefix, shape in (("obs", obs_shape), ("return", ())):
            for name, init in (("mean", "zeros"), ("var", "ones"), ("count", "zeros")):
                weight = self.add_weight(
                    shape=shape if name != "count" else (), initializer=init, dtype="float64",
                    trainable=False, name=f"{prefix}_{name}",
                )  # fmt: skip
                setattr(self, f"{prefix}_{name}", weight)
        self.built = True

    def get(self, prefix: str) -> tuple[np.ndarray, np.ndarray, float]:
        """The (mean, variance, count) of "obs" or "return"."""
        return tuple(getattr(self, f"{prefix}_{name}").numpy() for name in ("mean", "var", "count"))

    def update(self, prefix: str, batch: np.ndarray) -> None:
        """Adds a batch (rows on axis 0) to the statistics of `prefix` (Chan et al.'s formula)."""
        mean, var, count = self.get(prefix)
        batch_mean, batch_var, n = batch.mean(axis=0), batch.var(axis=0), len(batch)
        total = count + n
        delta = batch_mean - mean
        getattr(self, f"{prefix}_mean").assign(mean + delta * n / total)
        var = (var * count + batch_var * n + np.square(delta) * count * n / total) / total
        getattr(self, f"{prefix}_var").assign(var)
        getattr(self, f"{prefix}_count").assign(total)
