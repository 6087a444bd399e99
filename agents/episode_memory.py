"""keras-rl's EpisodeParameterMemory: a ring of (parameter vector, episode return) pairs."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from agents.hyperparameters import check_int


class EpisodeParameterMemory:
    """The last `limit` episodes' parameter vectors and returns, for the cross-entropy method.

    Storage is allocated on the first `append`, from that vector's length.

    Args:
        limit: Episodes kept, at least 1.
        window_length: keras-rl's frame stacking; only 1 (the agents see the env's
            observations as they are: stack frames with a wrapper such as Gymnasium's
            `FrameStackObservation`).

    Raises:
        ValueError: If `limit` is not an integer >= 1 or `window_length` is not 1.
    """

    def __init__(self, limit: int, window_length: int = 1) -> None:
        check_int("limit", limit, 1)
        check_int("window_length", window_length, 1)
        if window_length != 1:
            raise ValueError(
                f"window_length must be 1, got {window_length}: stack frames with an env "
                "wrapper (gymnasium.wrappers.FrameStackObservation)"
            )
        self.limit = int(limit)
        self.window_length = 1
        self._params = np.zeros((0, 0))
        self._returns = np.zeros(0)
        self._size = 0
        self._next = 0

    def __len__(self) -> int:
        return self._size

    def append(self, params: Any, total_reward: float) -> None:
        """Stores one finished episode: the parameters it acted with and its return.

        Raises:
            ValueError: If `params` is not a finite 1-D vector of the stored length, or
                `total_reward` is not a finite number.
        """
        params = np.asarray(params, dtype=np.float64)
        if params.ndim != 1 or not np.isfinite(params).all():
            raise ValueError(f"params must be a finite 1-D vector, got shape {params.shape}")
        is_number = isinstance(total_reward, numbers.Real) and not isinstance(total_reward, bool)
        if not is_number or not math.isfinite(total_reward):
            raise ValueError(f"total_reward must be a finite number, got {total_reward!r}")
        if self._size == 0 and self._params.shape != (self.limit, len(params)):
            self._params = np.zeros((self.limit, len(params)))
            self._returns = np.zeros(self.limit)
        if len(params) != self._params.shape[1]:
            raise ValueError(
                f"params has {len(params)} entries; this memory holds {self._params.shape[1]}"
            )
        self._params[self._next] = params
        self._returns[self._next] = total_reward
        self._next = (self._next + 1) % self.limit
        self._size = min(self._size + 1, self.limit)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draws `batch_size` distinct stored episodes uniformly.

        Args:
            batch_size: Episodes to draw, between 1 and `len(self)`.
            rng: The generator to draw with (the agent's).

        Returns:
            `(params, total_rewards)`: (batch_size, n) parameter vectors and their
            (batch_size,) returns, copies.

        Raises:
            ValueError: If the memory holds fewer than `batch_size` episodes.
        """
        check_int("batch_size", batch_size, 1)
        if batch_size > self._size:
            raise ValueError(f"cannot sample {batch_size} episodes from {self._size} stored")
        indices = rng.choice(self._size, batch_size, replace=False)
        return self._params[indices], self._returns[indices]

    def get_config(self) -> dict[str, Any]:
        """The class name and constructor arguments, for `from_config`."""
        return {
            "class_name": type(self).__name__,
            "config": {"limit": self.limit, "window_length": self.window_length},
        }

    @classmethod
    def from_config(cls, config: Any) -> EpisodeParameterMemory:
        """Rebuilds an (empty) memory from `get_config()`'s output.

        Raises:
            ValueError: If `config` is not this class's config.
        """
        if not isinstance(config, dict) or config.get("class_name") != cls.__name__:
            raise ValueError(f"expected a config with class_name {cls.__name__!r}, got {config!r}")
        return cls(**config["config"])

    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything needed to restore the memory exactly (ring order kept), as arrays."""
        return {
            "limit": np.array(self.limit),
            "size": np.array(self._size),
            "next_index": np.array(self._next),
            "params": self._params[: self._size].copy(),
            "total_rewards": self._returns[: self._size].copy(),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restores the memory from `state_dict()`'s output; checks it all before changing.

        Raises:
            ValueError: If the state is of another limit or is inconsistent.
        """
        keys = ("limit", "size", "next_index", "params", "total_rewards")
        missing = [key for key in keys if key not in state]
        if missing:
            raise ValueError(f"an episode memory's state needs {missing}; it has {sorted(state)}")
        if int(state["limit"]) != self.limit:
            raise ValueError(f"the state has limit={int(state['limit'])}, this memory {self.limit}")
        size, next_index = int(state["size"]), int(state["next_index"])
        full_ring = size == self.limit and 0 <= next_index < self.limit
        if not (full_ring or 0 <= size == next_index < self.limit):
            raise ValueError(f"inconsistent state: size {size}, next_index {next_index}")
        params = np.asarray(state["params"], dtype=np.float64)
        returns = np.asarray(state["total_rewards"], dtype=np.float64)
        if params.ndim != 2 or len(params) != size or returns.shape != (size,):
            raise ValueError(
                f"the state's params {params.shape} and total_rewards {returns.shape} must "
                f"have {size} rows"
            )
        if not (np.isfinite(params).all() and np.isfinite(returns).all()):
            raise ValueError("the state's params and total_rewards must be finite")
        self._params = np.zeros((self.limit if size else 0, params.shape[1]))
        self._returns = np.zeros(self.limit if size else 0)
        self._params[:size], self._returns[:size] = params, returns
        self._size, self._next = size, next_index


def elite_count(batch_size: int, elite_frac: float) -> int:
    """The elite's size in a CEM update: floor(batch_size * elite_frac), rounded first.

    Rounded to 9 digits first: 100 * 0.29 is 28.999999999999996 in floating point.
    """
    return math.floor(round(batch_size * elite_frac, 9))
