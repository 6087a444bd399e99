"""Tiny deterministic environments with known optimal values, for agent tests."""

from __future__ import annotations

import gymnasium
import numpy as np


class Corridor(gymnasium.Env):
    """A corridor of `length` cells; the goal is the right end.

    The agent starts in cell `start` (default 0) and moves left (action 0) or right (action 1),
    clamped at the walls. Reaching the last cell gives +1 and terminates; every other step
    gives 0. With discount gamma the optimal values are Q(s, right) = gamma**(length - 2 - s) and
    Q(s, left) = gamma * V(max(s - 1, 0)). Observations are one-hot float vectors (or, with
    `image=True`, a (1, length, 1) uint8 image with 255 on the agent's cell).
    """

    metadata = {"render_modes": []}

    def __init__(self, length: int = 5, image: bool = False, start: int = 0):
        self.length = length
        self.start = start
        self.image = image
        shape = (1, length, 1) if image else (length,)
        dtype = np.uint8 if image else np.float32
        self.observation_space = gymnasium.spaces.Box(0, 255 if image else 1, shape, dtype)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.position = 0

    def _obs(self) -> np.ndarray:
        obs = np.zeros(self.length, dtype=self.observation_space.dtype)
        obs[self.position] = 255 if self.image else 1
        return obs.reshape(self.observation_space.shape)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.position = self.start
        return self._obs(), {}

    def step(self, action: int):
        self.position = int(np.clip(self.position + (1 if action == 1 else -1), 0, self.length - 1))
        terminated = self.position == self.length - 1
        return self._obs(), float(terminated), terminated, False, {}

    def optimal_q(self, gamma: float) -> np.ndarray:
        """Optimal Q-values, shape (length - 1, 2), for every non-terminal cell."""
        values = gamma ** (self.length - 2 - np.arange(self.length - 1, dtype=float))
        left = gamma * values[np.maximum(np.arange(self.length - 1) - 1, 0)]
        return np.stack([left, values], axis=1)

    def all_observations(self) -> np.ndarray:
        """The observations of every non-terminal cell, as a batch."""
        observations = []
        for position in range(self.length - 1):
            self.position = position
            observations.append(self._obs())
        self.position = 0
        return np.stack(observations)
