"""Checks of agents' numeric hyperparameters, with one kind of error that names what is wrong."""

from __future__ import annotations

import math
import numbers
from typing import Any


def check_int(name: str, value: Any, minimum: int) -> None:
    """Raises ValueError unless `value` is an integer (not a bool) >= `minimum`.

    Args:
        name: The argument's name, for the message.
        value: The value given.
        minimum: The smallest value allowed.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_number(
    name: str,
    value: Any,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raises ValueError unless `value` is a real number (not a bool) in the interval.

    Args:
        name: The argument's name, for the message.
        value: The value given.
        low: The interval's lower end (may be -inf).
        high: The interval's upper end (may be inf).
        low_open: Whether `low` itself is outside the interval.
        high_open: Whether `high` itself is outside the interval.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        ok = above and below  # NaN fails both
    if not ok:
        interval = f"{'(' if low_open else '['}{_end(low)}, {_end(high)}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")


def _end(value: float) -> str:
    return ("inf" if value > 0 else "-inf") if math.isinf(value) else f"{value:g}"
