"""Running means and variances kept as Keras weights, for PPO's observation and reward scaling."""

from __future__ import annotations

import keras
import numpy as np


class RunningStatistics(keras.layers.Layer):
    """Running mean, variance and count of the observations and of the discounted returns.

    The statistics are kept in NumPy (`get`, `update`: no TensorFlow call per env step) and
    mirrored in non-trainable float64 weights (`obs_mean`, `obs_var`, `obs_count`,
    `return_mean`, ...) that the agent's weights, saves and checkpoints carry: `store` writes
    the NumPy values to the weights before they are read, `restore` reads them back after the
    weights were set.
    """

    def __init__(self, obs_shape: tuple[int, ...]) -> None:
        super().__init__(name="running_statistics")
        self._values: dict[str, np.ndarray] = {}
        for prefix, shape in (("obs", obs_shape), ("return", ())):
            for name, init in (("mean", "zeros"), ("var", "ones"), ("count", "zeros")):
                weight = self.add_weight(
                    shape=shape if name != "count" else (), initializer=init, dtype="float64",
                    trainable=False, name=f"{prefix}_{name}",
                )  # fmt: skip
                setattr(self, f"{prefix}_{name}", weight)
        self.built = True
        self.restore()

    def get(self, prefix: str) -> tuple[np.ndarray, np.ndarray, float]:
        """The (mean, variance, count) of "obs" or "return"."""
        return tuple(self._values[f"{prefix}_{name}"] for name in ("mean", "var", "count"))

    def update(self, prefix: str, batch: np.ndarray) -> None:
        """Adds a batch (rows on axis 0) to the statistics of `prefix` (Chan et al.'s formula)."""
        mean, var, count = self.get(prefix)
        batch_mean, batch_var, n = batch.mean(axis=0), batch.var(axis=0), len(batch)
        total = count + n
        delta = batch_mean - mean
        var = (var * count + batch_var * n + np.square(delta) * count * n / total) / total
        self._values[f"{prefix}_mean"] = mean + delta * n / total
        self._values[f"{prefix}_var"] = var
        self._values[f"{prefix}_count"] = np.float64(total)

    def store(self) -> None:
        """Writes the statistics into the weights."""
        for name, value in self._values.items():
            getattr(self, name).assign(value)

    def restore(self) -> None:
        """Reads the statistics back from the weights."""
        self._values = {
            name: np.array(getattr(self, name).numpy(), dtype=np.float64)
            for prefix in ("obs", "return")
            for name in (f"{prefix}_mean", f"{prefix}_var", f"{prefix}_count")
        }
