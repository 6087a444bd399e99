"""Loggers for agent runs: a line per episode, a tqdm progress bar, and a JSON lines / CSV file."""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import keras

from agents.atomic import atomic_file
from callbacks._logs import json_ready, scalar_or_none

_EPISODE_KEYS = ("episode_reward", "nb_episode_steps", "nb_steps")


def _format_metrics(logs: dict[str, Any], skip: tuple[str, ...]) -> str:
    """Formats the numeric entries of `logs` not in `skip` as "key value, ..." (NaN left out)."""
    parts = []
    for key, value in logs.items():
        number = scalar_or_none(value)
        if key not in skip and number is not None and not math.isnan(number):
            parts.append(f"{key} {number:.4g}")
    return ", ".join(parts)


class TrainEpisodeLogger(keras.callbacks.Callback):
    """Writes one line per finished episode: its index, the step count, reward, length, metrics.

    Example line: `episode 12: step 2345/50000, reward -15.00, steps 17, loss 0.0123, eps 0.5`.
    The episode index is the one the agent reports (counted from 0); metrics the episode did not
    compute (NaN) are left out.

    Args:
        stream: Where to write; default `sys.stdout` (looked up at each write).
    """

    def __init__(self, stream: IO[str] | None = None):
        super().__init__()
        self.stream = stream

    def on_episode_end(self, episode: int, logs: dict | None = None) -> None:
        """Writes the episode's line."""
        logs = logs or {}
        nb_steps = (self.params or {}).get("nb_steps")
        step = f"step {logs.get('nb_steps', '?')}" + (f"/{nb_steps}" if nb_steps else "")
        reward = scalar_or_none(logs.get("episode_reward"))
        line = f"episode {episode}: {step}"
        if reward is not None:
            line += f", reward {reward:.2f}"
        if "nb_episode_steps" in logs:
            line += f", steps {logs['nb_episode_steps']}"
        metrics = _format_metrics(logs, _EPISODE_KEYS)
        stream = self.stream or sys.stdout
        stream.write(f"{line}, {metrics}\n" if metrics else f"{line}\n")
        stream.flush()


class TrainIntervalLogger(keras.callbacks.Callback):
    """A tqdm progress bar over the run, with a summary line every `interval` env steps.

    The bar counts env steps out of `params["nb_steps"]`, or episodes out of
    `params["nb_episodes"]` for an episode budget, and shows the env steps per second. Its
    postfix shows the episodes finished in this run, and the mean episode reward and mean loss
    since the last summary. Every `interval` steps a summary of that interval (episodes, reward
    mean, min and max, mean of each metric, steps per second) is printed above the bar.

    Args:
        interval: Env steps per summary line.
        file: Where the bar and summaries go; default `sys.stderr` (tqdm's default).

    Raises:
        TypeError: If `interval` is not an int.
        ValueError: If `interval` < 1.
    """

    def __init__(self, interval: int = 10_000, file: IO[str] | None = None):
        super().__init__()
        if isinstance(interval, bool) or not isinstance(interval, int):
            raise TypeError(f"interval must be an int, got {type(interval).__name__}")
        if interval < 1:
            raise ValueError(f"interval must be >= 1 env step, got {interval}")
        self.interval = interval
        self.file = file
        self._bar: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Opens the progress bar."""
        from tqdm.auto import tqdm

        params = self.params or {}
        self._by_steps = params.get("nb_steps") is not None or params.get("nb_episodes") is None
        total = params.get("nb_steps") if self._by_steps else params.get("nb_episodes")
        unit = "steps" if self._by_steps else "episodes"
        self._bar = tqdm(
            total=total, unit=unit, desc=params.get("mode", "train"), file=self.file or sys.stderr
        )
        self._episodes = 0
        self._start_interval()

    def on_step_end(self, step: int, logs: dict | None = None) -> None:
        """Advances the bar; prints the interval's summary when one is due."""
        if self._by_steps:
            self._bar.update(1)
        self._interval_steps += 1
        if self._interval_steps >= self.interval:
            self._print_interval(f"step {step + 1}")

    def on_episode_end(self, episode: int, logs: dict | None = None) -> None:
        """Records the episode's reward and metrics and refreshes the postfix."""
        logs = logs or {}
        self._episodes += 1
        reward = scalar_or_none(logs.get("episode_reward"))
        if reward is not None:
            self._rewards.add(reward)
        for key, value in logs.items():
            number = scalar_or_none(value)
            if key not in _EPISODE_KEYS and number is not None and not math.isnan(number):
                self._metrics.setdefault(key, _Stats()).add(number)
        postfix = {"episodes": self._episodes}
        if self._rewards.count:
            postfix["mean_reward"] = f"{self._rewards.mean:.2f}"
        if "loss" in self._metrics:
            postfix["loss"] = f"{self._metrics['loss'].mean:.4g}"
        self._bar.set_postfix(postfix, refresh=False)
        if not self._by_steps:
            self._bar.update(1)

    def on_train_end(self, logs: dict | None = None) -> None:
        """Prints the last partial interval's summary and closes the bar."""
        if self._bar is None:
            return
        if self._interval_steps and self._rewards.count:
            self._print_interval("end")
        self._bar.close()
        self._bar = None

    def _print_interval(self, where: str) -> None:
        seconds = max(time.perf_counter() - self._interval_start, 1e-9)
        rewards = self._rewards
        line = f"{where}: {rewards.count} episodes"
        if rewards.count:
            line += (
                f", reward mean {rewards.mean:.2f} [min {rewards.min:.2f}, max {rewards.max:.2f}]"
            )
        for key, stats in self._metrics.items():
            line += f", {key} {stats.mean:.4g}"
        line += f", {self._interval_steps / seconds:.0f} steps/s"
        self._bar.write(line, file=self.file or sys.stderr)
        self._start_interval()

    def _start_interval(self) -> None:
        self._interval_steps = 0
        self._interval_start = time.perf_counter()
        self._rewards = _Stats()
        self._metrics: dict[str, _Stats] = {}


class _Stats:
    """Count, mean, min and max of the numbers added so far."""

    def __init__(self) -> None:
        self.count, self.total, self.min, self.max = 0, 0.0, math.inf, -math.inf

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.min, self.max = min(self.min, value), max(self.max, value)

    @property
    def mean(self) -> float:
        return self.total / self.count


class FileLogger(keras.callbacks.Callback):
    """Appends each episode's logs to a JSON lines or CSV file, flushed after every episode.

    Each record holds `episode` (the agent's episode index) and every entry of the episode's
    logs; NaN (a metric the episode did not compute) is written as `null` in JSON and an empty
    cell in CSV. A CSV file gets a header row; if a later episode brings a key the header lacks,
    the file is rewritten (atomically) with the wider header.

    Args:
        filepath: The file to write. Its extension gives the format: `.jsonl`/`.ndjson` for JSON
            lines, `.csv` for CSV; any other extension needs `format`.
        format: "jsonl" or "csv", overriding the extension.
        append: Keep the records already in the file. Otherwise the first run this logger sees
            starts a new file; later runs with the same logger always append.

    Raises:
        ValueError: If the format is unknown or cannot be inferred from the extension, or
            `filepath` is a directory.
    """

    _EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}

    def __init__(
        self, filepath: str | os.PathLike, format: str | None = None, append: bool = False
    ):
        super().__init__()
        self.filepath = Path(filepath)
        if format is None:
            format = self._EXTENSIONS.get(self.filepath.suffix.lower())
            if format is None:
                raise ValueError(
                    f"cannot infer the log format of {str(self.filepath)!r}: use a .jsonl or .csv "
                    "extension, or pass format='jsonl' or format='csv'"
                )
        if format not in ("jsonl", "csv"):
            raise ValueError(f"format must be 'jsonl' or 'csv', got {format!r}")
        if self.filepath.is_dir():
            raise ValueError(f"filepath {str(self.filepath)!r} is a directory; expected a file")
        self.format = format
        self.append = append
        self._fieldnames: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Starts a new file on the first run unless `append`; reads an existing CSV header."""
        if not self.append:
            self.filepath.parent.mkdir(parents=True, exist_ok=True)
            self.filepath.write_text("")
            self.append = True
        self._fieldnames = None
        if self.format == "csv" and self.filepath.exists():
            with self.filepath.open(newline="") as file:
                self._fieldnames = next(csv.reader(file), None)

    def on_episode_end(self, episode: int, logs: dict | None = None) -> None:
        """Appends the episode's record and flushes it to the file."""
        record = {"episode": int(episode)}
        record.update({key: json_ready(value) for key, value in (logs or {}).items()})
        self.filepath.parent.mkdir(parents=True, exist_ok=True)
        if self.format == "jsonl":
            with self.filepath.open("a") as file:
                file.write(json.dumps(record, allow_nan=False) + "\n")
        else:
            self._append_csv_row(record)

    def _append_csv_row(self, record: dict[str, Any]) -> None:
        if self._fieldnames is None:
            self._fieldnames = list(record)
            with self.filepath.open("a", newline="") as file:
                csv.writer(file).writerow(self._fieldnames)
        new_keys = [key for key in record if key not in self._fieldnames]
        if new_keys:
            self._widen_csv(self._fieldnames + new_keys)
        with self.filepath.open("a", newline="") as file:
            csv.DictWriter(file, self._fieldnames, restval="").writerow(record)

    def _widen_csv(self, fieldnames: list[str]) -> None:
        """Rewrites the CSV file with a wider header, atomically."""
        with self.filepath.open(newline="") as file:
            rows = list(csv.DictReader(file))
        with atomic_file(self.filepath, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames, restval="")
            writer.writeheader()
            writer.writerows(rows)
        self._fieldnames = fieldnames
