"""Schedules: values that change with the training step (exploration, PER's beta)."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LinearSchedule:
    """Moves linearly from `start` to `end` over `nb_steps` steps, then stays at `end`.

    Frozen, so one instance can safely serve as a default argument.

    Args:
        start: Value at step 0 (and before).
        end: Value from step `nb_steps` on.
        nb_steps: Number of steps the move takes, at least 1.

    Raises:
        TypeError: If `start`/`end` is not a number or `nb_steps` not an int.
        ValueError: If `nb_steps` < 1 or `start`/`end` is not finite.
    """

    start: float
    end: float
    nb_steps: int

    def __post_init__(self) -> None:
        # Plain Python numbers, so get_config() stays JSON-able when given NumPy scalars.
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"LinearSchedule {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"LinearSchedule {name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if isinstance(self.nb_steps, bool) or not isinstance(self.nb_steps, numbers.Integral):
            raise TypeError(f"LinearSchedule nb_steps must be an int, got {self.nb_steps!r}")
        if self.nb_steps < 1:
            raise ValueError(f"LinearSchedule nb_steps must be >= 1, got {self.nb_steps}")
        object.__setattr__(self, "nb_steps", int(self.nb_steps))

    def __call__(self, step: int) -> float:
        """Returns the value at `step` (clamped to [0, nb_steps])."""
        fraction = min(max(step / self.nb_steps, 0.0), 1.0)
        return float(self.start + fraction * (self.end - self.start))

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able config: `{"class_name": "LinearSchedule", "config": {...}}`."""
        return {"class_name": type(self).__name__, "config": asdict(self)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LinearSchedule:
        """Rebuilds a schedule from `get_config()`'s output.

        Raises:
            ValueError: If the config is not a LinearSchedule's.
        """
        if config.get("class_name") != cls.__name__:
            raise ValueError(f"expected a LinearSchedule config, got {config!r}")
        return cls(**config["config"])
