"""ModifiedTensorBoard: one run, one writer, one events file, however often `fit` is called."""

from __future__ import annotations

import math
import os
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

import keras
import numpy as np

from callbacks._logs import numeric_logs, scalar_or_none

# Buffered scalars are written in one batch once this many are pending or this many seconds
# have passed since the last batch: a batch is one TensorFlow call (about a millisecond) plus
# some 20 microseconds per scalar, where writing scalars one by one costs ~1 ms each.
_MAX_PENDING = 512
_MAX_PENDING_SECONDS = 2.0


class ModifiedTensorBoard(keras.callbacks.Callback):
    """A TensorBoard callback that keeps one writer and one events file for a whole run.

    Keras's own `TensorBoard` callback starts a new events file every time `fit` is called, which
    the tutorial's DQN does for every training step. This callback writes every scalar of the run
    into one events file in `log_dir`, created on the first write and never reopened, however many
    times it is passed to `fit`. It works two ways:

    - With a Keras `model.fit(..., callbacks=[tb])`, called any number of times: the numeric
      epoch-end logs (e.g. `loss`) are written at `tb.step`, which the caller sets (the tutorial
      sets it to the episode number). Nothing is written per batch, and no graph or profile.
    - With `agent.fit(..., callbacks=[tb])`: every numeric value of each episode's logs
      (`episode_reward`, `nb_episode_steps`, `nb_steps`, the agent's metrics such as `loss` and
      `mean_q`, the policy's `eps`) is written with the episode index the agent reports (from 0)
      as x-axis, as the tutorial does, and `step` follows it. Every `update_freq` env steps, the
      mean of each training metric over those steps is written under `train/` (e.g.
      `train/loss`), with `train/steps_per_second`, at the env-step count (1000, 2000, ...).
      Episodes of `agent.test` go under `test/` (e.g. `test/episode_reward`).

    `update_stats(**scalars)` writes scalars at `step`, as in the tutorial. Scalars are buffered
    in Python and written in batches (so a step costs no TensorFlow call); the buffer is written
    and the file flushed at the end of every `fit`, by `flush()`, by `close()` (or the end of a
    `with` block), and at interpreter exit.

    Args:
        log_dir: The run's directory. Default: a new directory `<root_dir>/<name>-<timestamp>`,
            with a numeric suffix if that already exists, so two runs never share one.
        name: The run's name, used in the default `log_dir`.
        update_freq: With `agent.fit`, write the training metrics every this many env steps.
        root_dir: The parent directory of the default `log_dir`.

    Raises:
        TypeError: If `name` is not a string or `update_freq` not an int.
        ValueError: If `name` is empty or holds a path separator, `update_freq` < 1, or `log_dir`
            exists as a file or cannot be created or written to.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        name: str = "run",
        update_freq: int = 1_000,
        root_dir: str | os.PathLike = "runs",
    ):
        super().__init__()
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if not name or os.sep in name or (os.altsep and os.altsep in name):
            raise ValueError(f"name must be a non-empty file name without separators, got {name!r}")
        if isinstance(update_freq, bool) or not isinstance(update_freq, int):
            raise TypeError(f"update_freq must be an int, got {type(update_freq).__name__}")
        if update_freq < 1:
            raise ValueError(f"update_freq must be >= 1 env step, got {update_freq}")
        if log_dir is None:
            self.log_dir = _make_run_dir(root_dir, name)
        else:
            self.log_dir = _make_writable_dir(log_dir, "log_dir")
        self.update_freq = update_freq
        self.step = 0
        self._events = _EventBuffer(self.log_dir)
        # Closes the writer at interpreter exit if the user never called close().
        self._finalizer = weakref.finalize(self, self._events.close)
        self._metric_names: tuple[str, ...] = ()
        self._testing = False
        self._reset_train_window()

    # --- the tutorial's API ---------------------------------------------------------------------

    def update_stats(self, **scalars: float) -> None:
        """Writes each keyword argument as a scalar at `self.step`.

        Args:
            **scalars: Tag -> real number, e.g. `reward_avg=-3.5, epsilon=0.2`.

        Raises:
            TypeError: If a value is not a real number.
            RuntimeError: If the callback was closed.
        """
        self.write_scalars(scalars, self.step)

    def write_scalars(self, scalars: dict[str, float], step: int) -> None:
        """Writes each scalar at `step`, an x value of the caller's (`update_stats` uses `step`).

        Raises:
            TypeError: If a value is not a real number.
            RuntimeError: If the callback was closed.
        """
        values = {}
        for tag, value in scalars.items():
            number = scalar_or_none(value)
            if number is None:
                raise TypeError(f"update_stats: {tag}={value!r} is not a real number")
            values[tag] = number
        self._events.add_all(values, int(step))
        self._events.write_if_due()

    def flush(self) -> None:
        """Writes the buffered scalars and flushes the events file to disk."""
        self._events.flush()

    def close(self) -> None:
        """Writes what is buffered and closes the writer; later calls do nothing."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._events.closed

    def __enter__(self) -> ModifiedTensorBoard:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- hooks shared by Keras fit and agent fit ------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Checks the run is still open; learns the agent's metric names and the run's mode.

        A training window left open by a stopped `fit` (or restored by `set_state`) goes on.
        """
        self._events.check_open()
        names = getattr(self.model, "metrics_names", None)
        self._metric_names = tuple(names) if isinstance(names, (list, tuple)) else ()
        # agent.test numbers its episodes from 0 again: keep them apart from training's.
        self._testing = (self.params or {}).get("mode") == "test"
        self._window_start = time.perf_counter()

    def on_train_end(self, logs: dict | None = None) -> None:
        """Writes the last partial window of a `fit` that used its budget; flushes the file.

        A `fit` stopped early (`stop_training`, Ctrl+C) leaves its window open instead: the next
        `fit` goes on with it, and `get_state` holds it for a checkpoint, so a stopped and
        resumed run writes the same training points as an uninterrupted one.
        """
        stopped = getattr(self.model, "stop_training", False) or getattr(
            self.model, "interrupted", False
        )
        if self._window_steps and not self._testing and not stopped:
            self._write_train_window()
        self._events.flush()

    def get_state(self) -> dict[str, Any]:
        """The open training window as JSON (floats as exact hex strings, NaN and inf too)."""
        return {
            "sums": {name: float.hex(float(value)) for name, value in self._sums.items()},
            "counts": dict(self._counts),
            "window_steps": self._window_steps,
            "steps_taken": self._steps_taken,
        }

    def set_state(self, state: Any) -> None:
        """Restores the open training window from `get_state()`'s output.

        Raises:
            ValueError: If `state` is not such a window; the callback is left as it was.
        """
        try:
            sums = {str(name): float.fromhex(text) for name, text in state["sums"].items()}
            counts = {str(name): int(count) for name, count in state["counts"].items()}
            window_steps, steps_taken = int(state["window_steps"]), int(state["steps_taken"])
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise ValueError(f"not a TensorBoard training window: {str(state)[:200]}") from error
        if set(sums) != set(counts) or min([window_steps, steps_taken, *counts.values()]) < 0:
            raise ValueError(f"not a consistent TensorBoard training window: {str(state)[:200]}")
        self._sums, self._counts = sums, counts
        self._window_steps, self._steps_taken = window_steps, steps_taken

    # --- Keras fit ------------------------------------------------------------------------------

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Keras fit: writes the numeric epoch logs at `self.step` (the caller's x-axis)."""
        self._events.add_all(numeric_logs(logs), self.step)
        self._events.write_if_due()

    # --- agent fit ------------------------------------------------------------------------------

    def on_episode_end(self, episode: int, logs: dict | None = None) -> None:
        """Agent fit: writes the episode's numeric logs with the episode index as x-axis.

        NaN values are left out: the agent reports a metric as NaN for an episode in which it
        did not train. Under `agent.test` the tags get a `test/` prefix.
        """
        self.step = int(episode)
        prefix = "test/" if self._testing else ""
        scalars = {
            prefix + key: value
            for key, value in numeric_logs(logs).items()
            if not math.isnan(value)
        }
        self._events.add_all(scalars, self.step)
        self._events.write_if_due()

    def on_step_end(self, step: int, logs: dict | None = None) -> None:
        """Agent fit: accumulates the step's training metrics; writes their means when due.

        `step` is the index of the env step (from 0), so `step + 1` steps have been taken.
        """
        if self._testing:
            return
        if logs:
            sums, counts = self._sums, self._counts
            for name in self._metric_names:
                value = logs.get(name)
                if value is not None:
                    sums[name] = sums.get(name, 0.0) + value
                    counts[name] = counts.get(name, 0) + 1
        self._window_steps += 1
        self._steps_taken = step + 1
        # Windows end at multiples of update_freq, so the x values line up across fit calls.
        if self._steps_taken % self.update_freq == 0:
            self._write_train_window()

    def _write_train_window(self) -> None:
        seconds = time.perf_counter() - self._window_start
        scalars = {f"train/{name}": self._sums[name] / self._counts[name] for name in self._sums}
        if seconds > 0:
            scalars["train/steps_per_second"] = self._window_steps / seconds
        self._events.add_all(scalars, int(self._steps_taken))
        self._events.write_if_due()
        self._reset_train_window()

    def _reset_train_window(self) -> None:
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._window_steps = 0
        self._steps_taken = 0
        self._window_start = time.perf_counter()


class _EventBuffer:
    """Scalars waiting to be written, and the lazily created `tf.summary` writer they go to.

    Kept apart from the callback so that a `weakref.finalize` can close it at exit without
    keeping the callback alive.

    Args:
        log_dir: Directory of the events file.
    """

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.closed = False
        self._tags: list[str] = []
        self._values: list[float] = []
        self._steps: list[int] = []
        self._last_write = time.monotonic()
        self._writer = None
        self._write_batch = None

    def check_open(self) -> None:
        """Raises RuntimeError if the run was closed."""
        if self.closed:
            raise RuntimeError(
                f"this ModifiedTensorBoard (log_dir {str(self.log_dir)!r}) was closed; "
                "create a new one for a new run"
            )

    def add_all(self, scalars: dict[str, float], step: int) -> None:
        """Buffers each tag -> value of `scalars` at `step`."""
        self.check_open()
        for tag, value in scalars.items():
            self._tags.append(tag)
            self._values.append(value)
            self._steps.append(step)

    def write_if_due(self) -> None:
        """Writes the buffer if it is large or old enough."""
        if len(self._tags) >= _MAX_PENDING or (
            self._tags and time.monotonic() - self._last_write >= _MAX_PENDING_SECONDS
        ):
            self.write_pending()

    def write_pending(self) -> None:
        """Writes every buffered scalar in one TensorFlow call, creating the writer if needed."""
        self._last_write = time.monotonic()
        if not self._tags:
            return
        if self._write_batch is None:
            self._open()
        self._write_batch(
            np.asarray(self._tags, dtype=object),
            np.asarray(self._values, dtype=np.float32),
            np.asarray(self._steps, dtype=np.int64),
        )
        self._tags, self._values, self._steps = [], [], []

    def flush(self) -> None:
        """Writes the buffer and flushes the events file, if there is one."""
        if self.closed:
            return
        self.write_pending()
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Writes the buffer and closes the writer; later calls do nothing."""
        if self.closed:
            return
        self.flush()
        if self._writer is not None:
            self._writer.close()
        self.closed = True

    def _open(self) -> None:
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(str(self.log_dir))
        writer = self._writer
        # The metadata tf.summary.scalar attaches, so TensorBoard shows these as scalars.
        metadata = tf.compat.v1.SummaryMetadata(
            plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars")
        ).SerializeToString()

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.string),
                tf.TensorSpec([None], tf.float32),
                tf.TensorSpec([None], tf.int64),
            ]
        )
        def write_batch(tags, values, steps):
            with writer.as_default():
                for i in tf.range(tf.size(tags)):
                    tf.summary.write(tags[i], values[i], step=steps[i], metadata=metadata)

        self._write_batch = write_batch


def _make_run_dir(root_dir: str | os.PathLike, name: str) -> Path:
    """Creates and returns a new `<root_dir>/<name>-<timestamp>[-<n>]` directory."""
    root = _make_writable_dir(root_dir, "root_dir")
    base = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    for suffix in range(10_000):
        path = root / (base if suffix == 0 else f"{base}-{suffix}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise ValueError(f"could not find a free run directory name {base}-<n> in {str(root)!r}")


def _make_writable_dir(path: str | os.PathLike, what: str) -> Path:
    """Creates directory `path` (the argument named `what`) if needed and checks it is writable."""
    if not os.fspath(path):
        raise ValueError(f"{what} must be a non-empty path")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} exists as a file; expected a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(
            f"{what} {str(path)!r} cannot be created or written to ({error.strerror or error}); "
            "expected a writable directory"
        ) from error
    return path
