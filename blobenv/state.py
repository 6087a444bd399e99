"""Saving and restoring the Blob envs' full state as JSON-able data, checked before it is applied.

:meth:`blobenv.BlobEnv.get_state` and :meth:`blobenv.BlobVectorEnv.get_state` build their state
from these functions, and their ``set_state`` checks it with them, so that a state from another
grid, another env or a damaged file is refused with a ``ValueError`` before anything changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blobenv import rules

_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def rng_state(rng: np.random.Generator | None) -> dict[str, Any] | None:
    """The generator's bit-generator state as JSON (arrays become lists); None for None."""
    return None if rng is None else _encode(rng.bit_generator.state)


def checked_rng(state: Any) -> np.random.Generator | None:
    """A new generator in the saved ``rng_state(...)``, or None for None.

    Raises:
        ValueError: ``state`` is not a state of one of NumPy's bit generators.
    """
    if state is None:
        return None
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(f"np_random has bit generator {name!r}; expected one of {_BIT_GENERATORS}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = _decode(state)
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ValueError(f"np_random is not a valid {name} state: {error}") from error
    return np.random.Generator(bit_generator)


def check_keys(state: Any, keys: tuple[str, ...], owner: str) -> dict[str, Any]:
    """Returns ``state`` if it is a dict with exactly ``keys``; raises ValueError otherwise."""
    if not isinstance(state, dict) or set(state) != set(keys):
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"a {owner} state must be a dict with keys {sorted(keys)}, got {found}")
    return state


def check_settings(saved: Any, own: dict[str, Any], owner: str) -> None:
    """Raises ValueError unless the state's settings are the env's own (same grid, same rules)."""
    if saved != own:
        raise ValueError(f"the state is of a {owner} with {saved!r}; this one has {own!r}")


def positions_state(cells: tuple) -> dict[str, list] | None:
    """The (player, food, enemy) cell arrays as JSON lists; None before the first reset."""
    if cells[0] is None:
        return None
    return {name: array.tolist() for name, array in zip(rules.POSITION_KEYS, cells, strict=True)}


def checked_positions(value: Any, owner: str, n: int, size: int) -> tuple:
    """The saved ``positions_state(...)`` as (player, food, enemy) ``(n, 2)`` cell arrays.

    None (a state saved before the first reset) gives (None, None, None).
    """
    if value is None:
        return (None, None, None)
    check_keys(value, rules.POSITION_KEYS, f"{owner} positions")
    return tuple(checked_cells(value[name], name, n, size) for name in rules.POSITION_KEYS)


def checked_cells(value: Any, name: str, n: int, size: int) -> np.ndarray:
    """The saved cells ``value`` as a fresh ``(n, 2)`` cell array, checked to lie on the grid."""
    array = np.array(value)
    if array.shape != (n, 2) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be {n} integer (x, y) cells, got {value!r}")
    if array.min() < 0 or array.max() >= size:
        raise ValueError(f"{name} must lie on the grid, 0 <= x, y < {size}, got {value!r}")
    return np.ascontiguousarray(array, dtype=rules.CELL_DTYPE)


def checked_int(value: Any, name: str, low: int = 0) -> int:
    """``value`` checked to be an int of at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist(), "dtype": value.dtype.name}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"ndarray", "dtype"}:
            return np.array(value["ndarray"], dtype=value["dtype"])
        return {key: _decode(item) for key, item in value.items()}
    return value
