"""PeriodicCheckpoint: the agent's whole training state every so many env steps."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Saves a checkpoint of the agent (`agents.checkpoint`) every `interval` env steps.

    The full training state, with `agent.save_checkpoint` (weights, optimizer, counters,
    schedules, generators and, with `include_memory`, the replay memory: Stable-Baselines3's
    `CheckpointCallback(save_replay_buffer=True)`), so that a run can resume where it stopped.

    Args:
        directory: The checkpoint root.
        interval: Env steps between checkpoints; 0 saves only when `save()` is called.
        include_memory: Include the replay memory.
        metadata: JSON-able data stored with each checkpoint, or a function returning it at
            each save (for state that changes, such as a TensorBoard callback's open window).
        keep: Number of newest checkpoints kept.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        interval: int,
        include_memory: bool = False,
        metadata: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        keep: int = 3,
    ):
        super().__init__()
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
            raise ValueError(f"the checkpoint interval must be an int >= 0, got {interval!r}")
        self.directory = Path(directory)
        self.interval, self.include_memory, self.metadata = interval, include_memory, metadata
        self.keep = keep
        self.last: Any = None
        self._last_step = 0

    def save(self) -> Any:
        """Saves a checkpoint now, unless the last one is of the agent's current counters.

        Returns:
            The `agents.checkpoint.CheckpointInfo` of the newest checkpoint.
        """
        counters = (self.model.step, self.model.episode)
        if self.last is None or (self.last.step, self.last.episode) != counters:
            metadata = self.metadata() if callable(self.metadata) else self.metadata
            self.last = self.model.save_checkpoint(
                self.directory, self.include_memory, keep=self.keep, metadata=metadata
            )
            self._last_step = self.last.step
        return self.last

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Counts the interval from the agent's step (a resumed run's goes on)."""
        self._last_step = self.model.step

    def on_env_step_end(self, logs: dict | None = None) -> None:
        """Saves once the agent's step passes a multiple of the interval.

        At the end of a batched env step, once its episodes have ended: the loop's state is
        consistent there, so the checkpoint holds it and resumes exactly (`agents.fit_state`).
        """
        # The agent's step counts every sub-env of the batch: compare multiples.
        due = self.interval and self.model.step // self.interval > self._last_step // self.interval
        if due:
            self.save()
