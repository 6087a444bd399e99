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


class ContextBandit(gymnasium.Env):
    """`length` steps per episode, each showing one of `contexts` contexts as a one-hot vector.

    Every step's context is drawn from the env's `np_random`; choosing the action equal to the
    context gives +1, any other action 0. The episode is truncated after `length` steps, so the
    optimal return is `length` and a policy's return counts the contexts it gets right.
    """

    metadata = {"render_modes": []}

    def __init__(self, contexts: int = 3, length: int = 10):
        self.contexts = contexts
        self.length = length
        self.observation_space = gymnasium.spaces.Box(0, 1, (contexts,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(contexts)
        self.context = 0
        self.steps = 0

    def _obs(self) -> np.ndarray:
        self.context = int(self.np_random.integers(self.contexts))
        return np.eye(self.contexts, dtype=np.float32)[self.context]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.steps = 0
        return self._obs(), {}

    def step(self, action: int):
        reward = float(action == self.context)
        self.steps += 1
        return self._obs(), reward, False, self.steps >= self.length, {}


class Reach(gymnasium.Env):
    """A point on [-1, 1] to move next to `target`, with a continuous action.

    The position starts uniformly in [-1, 1] (from the env's `np_random`), or at `start` if
    given; action a in [-1, 1] moves it by `0.5 * a` (clamped at the ends). Each step gives
    -|position - target| after the move, and the episode is truncated after `horizon` steps
    (a time limit of the env's own, so agents must bootstrap through it). Moving as far as
    possible towards the target every step is optimal: see `optimal_return`.
    """

    metadata = {"render_modes": []}

    def __init__(self, target: float = 0.5, horizon: int = 5, start: float | None = None):
        self.target, self.horizon, self.start = target, horizon, start
        self.observation_space = gymnasium.spaces.Box(-1, 1, (1,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1, 1, (1,), np.float32)
        self.position, self.steps = 0.0, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        start = self.start
        self.position = float(self.np_random.uniform(-1, 1)) if start is None else start
        self.steps = 0
        return np.array([self.position], np.float32), {}

    def step(self, action):
        move = 0.5 * float(np.clip(np.asarray(action).reshape(-1)[0], -1, 1))
        self.position = float(np.clip(self.position + move, -1, 1))
        self.steps += 1
        reward = -abs(self.position - self.target)
        obs = np.array([self.position], np.float32)
        return obs, reward, False, self.steps >= self.horizon, {}

    def optimal_return(self, start: float) -> float:
        """The best undiscounted return of an episode starting at `start`."""
        position, total = start, 0.0
        for _ in range(self.horizon):
            position += float(np.clip(self.target - position, -0.5, 0.5))
            total -= abs(position - self.target)
        return total


def greedy_gap(agent) -> float:
    """Mean optimal return minus `agent`'s greedy return, over 21 starts of Reach."""
    env, starts = Reach(), np.linspace(-1, 1, 21)
    agent.training = False
    position, total = starts.astype(np.float32)[:, None], np.zeros(len(starts))
    for _ in range(env.horizon):
        position = np.clip(position + 0.5 * np.clip(agent.forward(position), -1, 1), -1, 1)
        total -= np.abs(position[:, 0] - env.target)
    return float(np.mean([env.optimal_return(start) for start in starts]) - total.mean())


class MaskedCorridor(gymnasium.Env):
    """A corridor whose legal moves depend on the cell, with a tempting illegal action.

    Cells 0..5, start 0, goal 5 (+1, terminates). Actions: 0 left, 1 right, 2 jump two cells
    right, 3 grab (+5 and the episode ends: tempting, and illegal everywhere). Left is illegal
    in cell 0, right in cell 2, jump everywhere but cell 2; so the one optimal path is right,
    right, jump, right (return 1 in 4 steps). An illegal action taken is counted in
    `illegal_actions` (and played: grab pays out). Episodes are cut after 30 steps.

    The masks come as `info["action_mask"]` of reset and step; `MethodMaskedCorridor` gives
    them by `action_masks()` instead (sb3-contrib's MaskablePPO convention).
    """

    metadata = {"render_modes": []}
    LENGTH, BLOCKED, LIMIT = 6, 2, 30
    info_masks = True

    def __init__(self):
        self.observation_space = gymnasium.spaces.Box(0, 1, (self.LENGTH,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(4)
        self.position = self.steps = self.illegal_actions = 0

    def legal(self) -> np.ndarray:
        """The mask of the current cell: left, right, jump, grab."""
        return self.legal_in(self.position)

    def legal_in(self, cell: int) -> np.ndarray:
        """The mask of `cell`."""
        return np.array([cell > 0, cell != self.BLOCKED, cell == self.BLOCKED, False])

    def _obs_info(self) -> tuple[np.ndarray, dict]:
        obs = np.zeros(self.LENGTH, dtype=np.float32)
        obs[self.position] = 1
        return obs, ({"action_mask": self.legal()} if self.info_masks else {})

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.position = self.steps = 0
        return self._obs_info()

    def step(self, action: int):
        self.illegal_actions += int(not self.legal()[action])
        self.steps += 1
        if action == 3:
            obs, info = self._obs_info()
            return obs, 5.0, True, False, info
        move = {0: -1, 1: 1, 2: 2}[int(action)]
        self.position = int(np.clip(self.position + move, 0, self.LENGTH - 1))
        terminated = self.position == self.LENGTH - 1
        truncated = self.steps >= self.LIMIT and not terminated
        obs, info = self._obs_info()
        return obs, float(terminated), terminated, truncated, info


class MethodMaskedCorridor(MaskedCorridor):
    """`MaskedCorridor` with its masks from `action_masks()`, none in the infos."""

    info_masks = False

    def action_masks(self) -> np.ndarray:
        """The mask of the current cell."""
        return self.legal()
