"""ModelIntervalCheckpoint: saves the agent's weights every so many env steps, atomically."""

from __future__ import annotations

import os
import string
from pathlib import Path

import keras

from agents.atomic import atomic_path

_FIELDS = ("step", "episode")


class ModelIntervalCheckpoint(keras.callbacks.Callback):
    """Saves the agent's weights every `interval` env steps with `agent.save_weights`.

    The file name is `filepath.format(step=..., episode=...)`: `step` is the number of env steps
    taken (a multiple of `interval`), `episode` the number of episodes finished. A name without
    fields is overwritten each time. Each save writes a temporary file in the same directory
    and then renames it over the target, so a crash during a save leaves the previous checkpoint
    as it was.

    Args:
        filepath: Target path, optionally with `{step}` and `{episode}` fields (format specs
            allowed, e.g. `{step:08d}`). A DQN's weights need the `.weights.h5` ending Keras 3
            requires.
        interval: Env steps between saves.
        verbose: 1 prints a line per save.

    Raises:
        TypeError: If `interval` is not an int.
        ValueError: If `filepath` has a field other than `step` and `episode`, or a format spec
            that does not fit an integer, or `interval` < 1.
    """

    def __init__(self, filepath: str | os.PathLike, interval: int, verbose: int = 0):
        super().__init__()
        self.filepath = os.fspath(filepath)
        _check_template(self.filepath)
        if isinstance(interval, bool) or not isinstance(interval, int):
            raise TypeError(f"interval must be an int, got {type(interval).__name__}")
        if interval < 1:
            raise ValueError(f"interval must be >= 1 env step, got {interval}")
        self.interval = interval
        self.verbose = verbose

    def on_step_end(self, step: int, logs: dict | None = None) -> None:
        """Saves the weights when the number of steps taken (`step + 1`) is a multiple."""
        steps_taken = step + 1
        if steps_taken % self.interval:
            return
        episode = int(getattr(self.model, "episode", 0))
        path = Path(self.filepath.format(step=steps_taken, episode=episode))
        _save_atomically(self.model, path)
        if self.verbose:
            print(f"step {steps_taken}: saved weights to {path}", flush=True)


def _save_atomically(agent: object, path: str | os.PathLike) -> None:
    """Calls `agent.save_weights` on a temporary file beside `path`, then renames it to `path`.

    The temporary name keeps `path`'s name as its ending (Keras checks the `.weights.h5` ending).

    Args:
        agent: Anything with `save_weights(filepath, overwrite=True)`.
        path: The final file.

    Raises:
        FileNotFoundError: If `save_weights` returned without writing the file it was given.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp_path:
        agent.save_weights(str(temp_path), overwrite=True)
        if not temp_path.exists():
            raise FileNotFoundError(
                f"{type(agent).__name__}.save_weights({str(temp_path)!r}) wrote no file there; "
                "checkpoints need save_weights to write exactly the path it is given"
            )


def _check_template(filepath: str) -> None:
    """Raises ValueError unless `filepath` formats with only `step` and `episode` integers."""
    try:
        parsed = list(string.Formatter().parse(filepath))
    except ValueError as error:
        raise ValueError(f"filepath {filepath!r} is not a valid format string: {error}") from error
    for _, field, _, _ in parsed:
        if field is not None and field not in _FIELDS:
            shown = "{}" if field == "" else "{" + field + "}"
            raise ValueError(
                f"filepath {filepath!r} has the field {shown}; only {{step}} and {{episode}} "
                "are filled in"
            )
    try:
        filepath.format(step=0, episode=0)
    except ValueError as error:
        raise ValueError(f"filepath {filepath!r} does not format integers: {error}") from error
