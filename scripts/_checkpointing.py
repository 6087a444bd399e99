"""What lets a train_blob.py run survive interruption: periodic checkpoints and signal handling.

Imported only once training starts (it imports Keras).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import keras

from agents.checkpoint import CheckpointInfo, save_checkpoint


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Saves a checkpoint of the agent (`agents.checkpoint`) every `interval` env steps.

    Args:
        directory: The checkpoint root.
        interval: Env steps between checkpoints; 0 saves only when `save()` is called.
        include_memory: Include the replay memory.
        metadata: JSON-able data stored with each checkpoint.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        interval: int,
        include_memory: bool = False,
        metadata: dict[str, Any] | None = None,
    ):
        super().__init__()
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
            raise ValueError(f"the checkpoint interval must be an int >= 0, got {interval!r}")
        self.directory = Path(directory)
        self.interval, self.include_memory, self.metadata = interval, include_memory, metadata
        self.last: CheckpointInfo | None = None
        self._last_step = 0

    def save(self) -> CheckpointInfo:
        """Saves a checkpoint now, unless the last one is of the agent's current counters."""
        counters = (self.model.step, self.model.episode)
        if self.last is None or (self.last.step, self.last.episode) != counters:
            self.last = save_checkpoint(
                self.model, self.directory, self.include_memory, metadata=self.metadata
            )
            self._last_step = self.last.step
        return self.last

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Counts the interval from the agent's step (a resumed run's goes on)."""
        self._last_step = self.model.step

    def on_step_end(self, step: int, logs: dict | None = None) -> None:
        """Saves once the agent's step passes a multiple of the interval."""
        # The agent's step already counts every sub-env of this batch: compare multiples.
        due = self.interval and self.model.step // self.interval > self._last_step // self.interval
        if due:
            self.save()


class Interrupted(KeyboardInterrupt):
    """KeyboardInterrupt raised by `StopOnSignal`, with the signal's number in `signum`."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopOnSignal(keras.callbacks.Callback):
    """Turns SIGINT and SIGTERM into a clean stop of `fit`, as a context manager and callback.

    Inside `fit`, the first signal sets `stop_training`, so that `fit` returns after the current
    step with the agent in a consistent state to checkpoint. A second signal, or one outside
    `fit` (saving, evaluating), raises `Interrupted`, a KeyboardInterrupt, as Ctrl+C does by
    default. The previous handlers come back when the `with` block ends; outside the main thread
    (where Python allows no handlers) it changes nothing.

    Attributes:
        signum: The first signal received, or None.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None
        self._in_fit = False
        self._previous: dict[int, Any] = {}

    @property
    def signal_name(self) -> str | None:
        """The name of the signal received ("SIGINT", "SIGTERM"), or None."""
        return None if self.signum is None else signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        """The shell's status for death by the signal received: 128 + its number (130, 143)."""
        return 128 + (self.signum or signal.SIGINT)

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if first and self._in_fit:
            self.model.stop_training = True
            return
        raise Interrupted(signum)

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Notes that `fit` runs (a signal from now on stops it cleanly)."""
        self._in_fit = True

    def on_train_end(self, logs: dict | None = None) -> None:
        """Notes that `fit` is over."""
        self._in_fit = False
