"""ResourceSampler: resident memory and a run dir's size, sampled while an agent trains."""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import keras

MIB = 2**20


def resident_bytes() -> tuple[int, str]:
    """The process's resident memory now, and where it was read.

    Returns:
        (bytes, "statm"), or, where /proc is missing, the peak so far: (bytes, "peak").
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as file:
            pages = int(file.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE"), "statm"
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak * (1 if sys.platform == "darwin" else 1024), "peak"  # macOS counts bytes


def directory_bytes(path: Path) -> tuple[int, int]:
    """(bytes of TensorBoard events files, bytes of all files) under `path`."""
    events = total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                size = os.path.getsize(os.path.join(root, name))
            except OSError:  # a temporary file renamed away meanwhile
                continue
            total += size
            events += size if name.startswith("events.out.tfevents.") else 0
    return events, total


class ResourceSampler(keras.callbacks.Callback):
    """Records resident memory and the run dir's size at the first episode end every `every` steps.

    Episode ends, not steps: a per-step hook would cost time in the loop it measures.

    Args:
        every: Env steps between samples.
        logdir: The parent of the run's directory, whose size is recorded: the newest directory
            in it named `<run_name>-*` when training begins (the run makes it just before).
        run_name: The run's name (`RunConfig.run_name`).
    """

    def __init__(self, every: int, logdir: Path, run_name: str):
        super().__init__()
        self.every, self.logdir, self.run_name = every, logdir, run_name
        self.run_dir: Path | None = None
        self.samples: list[dict[str, Any]] = []
        self._start = time.perf_counter()

    def sample(self) -> None:
        """Records one sample now."""
        agent = self.model
        rss, source = resident_bytes()
        events, total = directory_bytes(self.run_dir)
        memory = getattr(agent, "memory", None)
        self.samples.append({
            "step": int(agent.step), "episode": int(agent.episode),
            "seconds": round(time.perf_counter() - self._start, 1),
            "rss_mib": round(rss / MIB, 2), "rss_source": source,
            "events_bytes": events, "run_dir_bytes": total,
            "replay_size": None if memory is None else len(memory),
            "replay_limit": None if memory is None else memory.limit,
        })  # fmt: skip

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Finds the run's directory and takes the first sample."""
        runs = self.logdir.glob(f"{self.run_name}-*")
        self.run_dir = max(runs, key=lambda path: path.stat().st_mtime)
        self.sample()

    def on_episode_end(self, episode: int, logs: dict | None = None) -> None:
        """Takes a sample if a multiple of `every` steps was passed since the last one."""
        if self.model.step // self.every > self.samples[-1]["step"] // self.every:
            self.sample()

    def on_train_end(self, logs: dict | None = None) -> None:
        """Takes the last sample."""
        if self.samples[-1]["step"] != self.model.step:
            self.sample()
