"""A callback that evaluates an agent greedily at fixed env-step intervals while it trains."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras


class LearningCurve(keras.callbacks.Callback):
    """Records a greedy evaluation every `every` env steps of `agent.fit`: a learning curve.

    The first point is taken before the first step, the last one when training ends (if the
    budget is not a multiple of `every`). Each point holds the env steps and the training wall
    time so far, with the time spent evaluating left out, so `seconds` is what training alone
    took. Evaluation uses the agent's test policy and leaves its random generator alone, so
    recording a curve does not change what the agent learns.

    Args:
        evaluate: Maps the agent to a dict of figures (e.g. `scripts._training.evaluate_agent`).
        every: Env steps between evaluations, at least 1.

    Attributes:
        points: One dict per evaluation: `steps`, `seconds` and the figures of `evaluate`.
        train_seconds: Training wall time of the run, evaluations left out.
    """

    def __init__(self, evaluate: Callable[[Any], dict[str, Any]], every: int):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int of env steps, got {every!r}")
        self.evaluate = evaluate
        self.every = every
        self.points: list[dict[str, Any]] = []
        self.train_seconds = 0.0
        self._start = 0.0
        self._eval_seconds = 0.0
        self._next = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Starts the clock and records the untrained agent's point."""
        self._start = time.perf_counter()
        self._eval_seconds = 0.0
        self._record()

    def on_step_end(self, step: int, logs: dict | None = None) -> None:
        """Records a point when the agent's step count reaches the next multiple of `every`."""
        if self.model.step >= self._next:
            self._record()

    def on_train_end(self, logs: dict | None = None) -> None:
        """Records the final point unless the run was interrupted; stops the clock."""
        if not self.model.interrupted and self.points[-1]["steps"] < self.model.step:
            self._record()
        self.train_seconds = self._elapsed()

    def _elapsed(self) -> float:
        return time.perf_counter() - self._start - self._eval_seconds

    def _record(self) -> None:
        began = time.perf_counter()
        point = {"steps": int(self.model.step), "seconds": self._elapsed()}
        point.update(self.evaluate(self.model))
        self.points.append(point)
        self._eval_seconds += time.perf_counter() - began
        self._next = (self.model.step // self.every + 1) * self.every


def first_reaching(points: Sequence[dict[str, Any]], fraction: float) -> dict[str, Any] | None:
    """The steps and seconds of the first point whose ratio to the optimum is >= `fraction`.

    Returns:
        `{"steps": ..., "seconds": ...}`, or None if no point reaches it (or there is no optimum).
    """
    for point in points:
        if point.get("ratio_to_optimum", -math.inf) >= fraction:
            return {"steps": point["steps"], "seconds": point["seconds"]}
    return None
