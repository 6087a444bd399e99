"""StopOnSignal: SIGINT and SIGTERM stop `fit` cleanly, so that the run can be saved."""

from __future__ import annotations

import signal
import threading
from typing import Any

import keras


class Interrupted(KeyboardInterrupt):
    """KeyboardInterrupt raised by `StopOnSignal`, with the signal's number in `signum`."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopOnSignal(keras.callbacks.Callback):
    """Turns SIGINT and SIGTERM into a clean stop of `fit`, as a context manager and callback.

    Inside `fit`, the first signal sets `stop_training`, so that `fit` returns after the current
    step with the agent in a consistent state to checkpoint. A second signal, one while the
    agent is not training (a validation inside `fit`, which could take long), or one outside
    `fit` (saving, evaluating), raises `Interrupted`, a KeyboardInterrupt, as Ctrl+C does by
    default; `fit` ends cleanly on it. The previous handlers come back when the `with` block
    ends; outside the main thread (where Python allows no handlers) it changes nothing.

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
        if first and self._in_fit and getattr(self.model, "training", True):
            self.model.stop_training = True
            return
        raise Interrupted(signum)

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Notes that `fit` runs (a signal from now on stops it cleanly)."""
        self._in_fit = True

    def on_train_end(self, logs: dict | None = None) -> None:
        """Notes that `fit` is over."""
        self._in_fit = False
