"""A callback that evaluates an agent at fixed env-step intervals while it trains."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras


class PeriodicEvaluation(keras.callbacks.Callback):
    """Evaluates the agent every `every` env steps of `agent.fit` and keeps its best weights.

    The first point is taken before the first step, the last one when training ends (if the
    budget is not a multiple of `every`). Each point holds the env steps, the training wall time
    so far with the evaluations' own time left out, and the figures of `evaluate`: a learning
    curve. The weights of the point with the highest `monitor` figure are kept, and
    `restore_best()` loads them back into the agent: a value-based agent's greedy policy can get
    worse as it trains on, and picking the best point on held-out episodes is the usual remedy
    (Keras' `EarlyStopping(restore_best_weights=True)`, Stable-Baselines3's `EvalCallback`).
    Evaluate on other seeds than those a final result is reported on, or the choice leaks into
    that result.

    Args:
        evaluate: Maps the agent to a dict of figures; it should leave the agent's random
            generator alone (as `agents.evaluation.evaluate` does), so that recording a curve
            does not change what the agent learns.
        every: Env steps between evaluations, at least 1.
        monitor: The figure to maximise.
        best: A point recorded earlier (a resumed run's best so far), to beat from the start.
        best_weights: The agent's weights at `best`.
        on_best: Called as `on_best(agent, point)` after each new best point (to save it).

    Attributes:
        points: One dict per evaluation: `steps`, `seconds` and the figures of `evaluate`.
        best: The point with the highest `monitor` so far, or None.
        best_weights: The agent's weights at `best`, or None.
        train_seconds: Training wall time of the run, evaluations left out.
    """

    def __init__(
        self,
        evaluate: Callable[[Any], dict[str, Any]],
        every: int,
        monitor: str = "mean_return",
        best: dict[str, Any] | None = None,
        best_weights: list[Any] | None = None,
        on_best: Callable[[Any, dict[str, Any]], None] | None = None,
    ):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int of env steps, got {every!r}")
        if (best is None) != (best_weights is None):
            raise ValueError("give best and best_weights together, or neither")
        if best is not None and monitor not in best:
            raise ValueError(f"best has no {monitor!r} figure: {sorted(best)}")
        self.evaluate = evaluate
        self.every = every
        self.monitor = monitor
        self.best = best
        self.best_weights = best_weights
        self.on_best = on_best
        self.points: list[dict[str, Any]] = []
        self.train_seconds = 0.0
        self._start = 0.0
        self._eval_seconds = 0.0
        self._next = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Starts the clock and records the point of the agent as it starts."""
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

    def restore_best(self) -> bool:
        """Loads the best point's weights into the agent.

        Returns:
            False if there is no best point yet (the agent is left as it is), else True.
        """
        if self.best_weights is None:
            return False
        self.model.set_weights(self.best_weights)
        return True

    def _elapsed(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        return now - self._start - self._eval_seconds

    def _record(self) -> None:
        # The point's time and its evaluation's start are one reading: the evaluation left
        # out is then exactly what a later reading leaves out.
        began = time.perf_counter()
        point = {"steps": int(self.model.step), "seconds": self._elapsed(began)}
        point.update(self.evaluate(self.model))
        if self.monitor not in point:
            raise KeyError(f"evaluate returned no {self.monitor!r} figure: {sorted(point)}")
        self.points.append(point)
        best = -math.inf if self.best is None else self.best[self.monitor]
        if point[self.monitor] > best:
            self.best = point
            self.best_weights = self.model.get_weights()  # copies, by the Agent contract
            if self.on_best is not None:
                self.on_best(self.model, point)
        self._eval_seconds += time.perf_counter() - began
        self._next = (self.model.step // self.every + 1) * self.every
