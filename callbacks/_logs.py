"""Turning the values in a Keras or agent `logs` dict into plain Python numbers."""

from __future__ import annotations

import math
import numbers
from typing import Any


def scalar_or_none(value: Any) -> float | None:
    """Returns `value` as a float if it is one real number, else None.

    Accepts Python and NumPy numbers (bools count as 0/1) and zero-dimensional arrays or tensors;
    strings, sequences and arrays with more than one element are not scalars.

    Args:
        value: A value from a `logs` dict.

    Returns:
        The value as a float, or None if it is not a single real number.
    """
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (str, bytes)) or getattr(value, "shape", None) != ():
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def numeric_logs(logs: dict[str, Any] | None) -> dict[str, float]:
    """Returns the entries of `logs` that are single real numbers, as floats, in their order."""
    numbers_only = {}
    for key, value in (logs or {}).items():
        number = scalar_or_none(value)
        if number is not None:
            numbers_only[key] = number
    return numbers_only


def json_ready(value: Any) -> Any:
    """Returns `value` as something `json.dumps(allow_nan=False)` accepts.

    Integers stay integers, other numbers become floats, NaN and infinities become None (strict
    JSON has no spelling for them), and anything else is kept if it is a string or bool, or
    written as its `str`.

    Args:
        value: A value from a `logs` dict.

    Returns:
        A JSON-serialisable value.
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    number = scalar_or_none(value)
    if number is None:
        return str(value)
    return number if math.isfinite(number) else None
