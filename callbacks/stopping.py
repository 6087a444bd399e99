"""StopOnRewardThreshold: stops training once the moving mean episode reward is high enough."""

from __future__ import annotations

import math
import numbers
from collections import deque

import keras

from callbacks._logs import scalar_or_none


class StopOnRewardThreshold(keras.callbacks.Callback):
    """Stops `agent.fit` once the mean reward of the last `window` episodes reaches `threshold`.

    The mean is only taken once `window` episodes have finished in this run, so a few lucky
    first episodes do not stop training. It sets `self.model.stop_training = True`, which ends
    `fit` after the current step.

    Args:
        threshold: The mean episode reward to reach (e.g. the env spec's `reward_threshold`).
        window: Number of most recent episodes averaged.
        verbose: 1 prints a line when training is stopped.

    Attributes:
        stopped_episode: The episode after which training was stopped, or None.

    Raises:
        TypeError: If `threshold` is not a real number or `window` not an int.
        ValueError: If `threshold` is NaN or infinite, or `window` < 1.
    """

    def __init__(self, threshold: float, window: int = 100, verbose: int = 0):
        super().__init__()
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise TypeError(
                f"threshold must be a real number, got {threshold!r} ({type(threshold).__name__})"
            )
        if not math.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
        if isinstance(window, bool) or not isinstance(window, int):
            raise TypeError(f"window must be an int, got {type(window).__name__}")
        if window < 1:
            raise ValueError(f"window must be >= 1 episode, got {window}")
        self.threshold = float(threshold)
        self.window = window
        self.verbose = verbose
        self.stopped_episode: int | None = None
        self._rewards: deque[float] = deque(maxlen=window)

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Starts a new window of rewards."""
        self._rewards.clear()
        self.stopped_episode = None

    def on_episode_end(self, episode: int, logs: dict | None = None) -> None:
        """Adds the episode's reward; stops training when the window's mean reaches threshold."""
        reward = scalar_or_none((logs or {}).get("episode_reward"))
        if reward is None:
            raise KeyError(
                "StopOnRewardThreshold needs a numeric 'episode_reward' in the episode logs, "
                f"got {logs!r}"
            )
        self._rewards.append(reward)
        if len(self._rewards) < self.window:
            return
        mean = sum(self._rewards) / self.window
        if mean >= self.threshold:
            self.model.stop_training = True
            self.stopped_episode = int(episode)
            if self.verbose:
                print(
                    f"episode {episode}: mean reward {mean:.2f} over the last {self.window} "
                    f"episodes reached {self.threshold:g}; stopping",
                    flush=True,
                )
