"""The plain-text progress an agent's `fit`/`test` prints for its `verbose` argument.

Richer output (a tqdm bar, files, TensorBoard) comes from the `callbacks` package.
"""

from __future__ import annotations

import math
import time


class ConsoleReport:
    """Prints a summary every `interval` steps (verbose=1) or a line per episode (verbose=2).

    Args:
        verbose: 0 prints nothing.
        interval: Env steps between summaries at verbose=1.
        nb_steps: The run's step budget, shown as the target (None for an episode budget).
    """

    def __init__(self, verbose: int, interval: int, nb_steps: int | None):
        self.verbose = verbose
        self.interval = max(1, interval)
        self.nb_steps = nb_steps
        self._next_report = self.interval
        self._rewards: list[float] = []
        self._losses: list[float] = []
        self._start = self._last = time.perf_counter()
        self._last_steps = 0

    def step(self, steps: int, metrics: dict[str, float]) -> None:
        """Records one batched step; prints the interval summary when due."""
        if self.verbose != 1:
            return
        if "loss" in metrics:
            self._losses.append(metrics["loss"])
        if steps < self._next_report:
            return
        now = time.perf_counter()
        rate = (steps - self._last_steps) / max(now - self._last, 1e-9)
        target = f"/{self.nb_steps}" if self.nb_steps else ""
        line = f"step {steps}{target}: {len(self._rewards)} episodes"
        if self._rewards:
            line += f", mean reward {sum(self._rewards) / len(self._rewards):.2f}"
            line += f" [{min(self._rewards):.1f}, {max(self._rewards):.1f}]"
        if self._losses:
            line += f", loss {sum(self._losses) / len(self._losses):.4f}"
        print(f"{line}, {rate:.0f} steps/s", flush=True)
        self._rewards.clear()
        self._losses.clear()
        self._last, self._last_steps = now, steps
        self._next_report = (steps // self.interval + 1) * self.interval

    def episode(self, episode: int, logs: dict[str, float]) -> None:
        """Records a finished episode; prints it at verbose=2."""
        self._rewards.append(logs["episode_reward"])
        if self.verbose == 2:
            extras = "".join(
                f", {k} {v:.4g}"
                for k, v in logs.items()
                if k not in ("episode_reward", "nb_episode_steps", "nb_steps")
                and not (isinstance(v, float) and math.isnan(v))
            )
            print(
                f"episode {episode + 1}: reward {logs['episode_reward']:.2f}, "
                f"steps {logs['nb_episode_steps']}, total steps {logs['nb_steps']}{extras}",
                flush=True,
            )

    def interrupted(self) -> None:
        """Says that the run was stopped by the user."""
        if self.verbose:
            print(f"interrupted after {time.perf_counter() - self._start:.1f} s", flush=True)
