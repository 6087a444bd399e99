"""The parts of an agent's persistent state that `agents.core.Agent` covers for every agent.

Each part comes as a pair: one function turns it into JSON-able values or arrays, one checks
saved values against the agent and returns what to apply, raising ValueError (naming what is
missing or misfit, and what was expected) before anything changes. The parts: the random
generator, the policies' schedules and settings, the replay memory, and the attributes a class
lists in `state_attributes`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from agents.memory import memory_from_config

#: Prefix of the replay memory's arrays among an agent's state arrays.
MEMORY_PREFIX = "memory."
# Numeric policy settings that a user or callback may change during training.
_POLICY_SETTINGS = ("eps", "tau")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def require(values: dict[str, Any], keys: Iterable[str], owner: str) -> None:
    """Raises ValueError unless the state `values` has every key of `keys`.

    Args:
        values: A state's values.
        keys: The keys `owner` saves.
        owner: Who saves these keys, for the message ("every agent", "a DQNAgent").
    """
    if not isinstance(values, dict):
        raise ValueError(f"a state's values must be a dict, got {type(values).__name__}")
    missing = [key for key in keys if key not in values]
    if missing:
        raise ValueError(
            f"the state has no {', '.join(map(repr, missing))}, which {owner} saves; "
            f"it has {sorted(values)}"
        )


def checked_count(values: dict[str, Any], key: str) -> int:
    """The saved counter `values[key]`, checked to be an int >= 0."""
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"the state's {key} must be an int >= 0, got {value!r}")
    return value


# --- the random generator --------------------------------------------------------------------


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's bit-generator state as JSON: arrays become {"ndarray", "dtype"}."""
    return _encode(rng.bit_generator.state)


def checked_rng(state: Any) -> np.random.Generator:
    """A new generator in the saved state `rng_state(...)`."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(f"the state's rng has bit generator {name!r}; expected {_BIT_GENERATORS}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = _decode(state)
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ValueError(f"the state's rng is not a valid {name} state: {error}") from error
    if _encode(bit_generator.state) != state:  # numpy ignores extra keys and converts values
        raise ValueError(f"the state's rng is not a valid {name} state: {str(state)[:200]}")
    return np.random.Generator(bit_generator)


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


# --- policies --------------------------------------------------------------------------------


def policy_state(policy: Any) -> dict[str, Any] | None:
    """The policy's schedule position and changeable settings (eps, tau), nested policies too."""
    if policy is None:
        return None
    settings = {name: getattr(policy, name) for name in _POLICY_SETTINGS if hasattr(policy, name)}
    state = {"class_name": type(policy).__name__, "step": int(policy.step), "settings": settings}
    inner = getattr(policy, "inner_policy", None)
    if inner is not None:
        state["inner_policy"] = policy_state(inner)
    return state


def check_policy(policy: Any, state: Any, name: str) -> None:
    """Raises ValueError unless the saved `policy_state(...)` is one of `policy`'s class."""
    saved = _policy_name(state)
    own = None if policy is None else type(policy).__name__
    if saved != own:
        raise ValueError(f"the state has a {name} {saved}, this agent a {own}")
    if state is None:
        return
    unknown = set(state) - {"class_name", "step", "settings", "inner_policy"}
    if unknown:
        raise ValueError(f"the state's {name} has unknown keys {sorted(unknown)}")
    step = state.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"the state's {name} step must be an int >= 0, got {step!r}")
    if not isinstance(state.get("settings"), dict):
        raise ValueError(f"the state's {name} must have settings, got {str(state)[:200]}")
    unknown = set(state["settings"]) - {key for key in _POLICY_SETTINGS if hasattr(policy, key)}
    if unknown:
        raise ValueError(f"the state's {name} has settings {sorted(unknown)} that {own} lacks")
    trial = copy.copy(policy)  # the policy's own checks, on a copy: nothing changes yet
    for key, value in state["settings"].items():
        if not _is_finite_number(value):
            raise ValueError(f"the state's {name} {key} must be a finite number, got {value!r}")
        try:
            setattr(trial, key, value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"the state's {name} {key} is refused: {error}") from error
    if "inner_policy" in state:
        check_policy(getattr(policy, "inner_policy", None), state["inner_policy"], f"inner {name}")


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _policy_name(state: Any) -> str | None:
    if state is None:
        return None
    if isinstance(state, dict) and isinstance(state.get("class_name"), str):
        return state["class_name"]
    return f"invalid ({str(state)[:80]})"


def restore_policy(policy: Any, state: dict[str, Any] | None) -> None:
    """Applies a saved `policy_state(...)` that `check_policy` accepted."""
    if policy is None or state is None:
        return
    policy.step = state["step"]
    for key, value in state["settings"].items():
        setattr(policy, key, value)
    if "inner_policy" in state:
        restore_policy(policy.inner_policy, state["inner_policy"])


# --- the replay memory -----------------------------------------------------------------------


def memory_arrays(memory: Any) -> dict[str, np.ndarray]:
    """The memory's `state_dict()`, its keys prefixed with `MEMORY_PREFIX`."""
    return {MEMORY_PREFIX + key: array for key, array in memory.state_dict().items()}


def checked_memory(
    memory: Any, config: Any, arrays: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The saved memory's `state_dict`, checked by loading it into a scratch copy of `memory`.

    Args:
        memory: The agent's replay memory (None if it has none).
        config: The saved memory's `get_config()`.
        arrays: The state's arrays.

    Returns:
        The state to give `memory.load_state_dict`, which then cannot fail.
    """
    if memory is None:
        raise ValueError("the state holds a replay memory; this agent has none")
    own = memory.get_config()
    if not isinstance(config, dict) or config.get("class_name") != own["class_name"]:
        saved = config.get("class_name") if isinstance(config, dict) else config
        raise ValueError(f"the state holds a {saved} replay memory; this agent's is {own}")
    state = {
        key[len(MEMORY_PREFIX) :]: array
        for key, array in arrays.items()
        if key.startswith(MEMORY_PREFIX)
    }
    try:
        memory_from_config(own).load_state_dict(state)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(
            f"the state holds a replay memory that does not fit this agent's {own}: {error}"
        ) from error
    return state


# --- declared attributes ---------------------------------------------------------------------


def declared_attributes(cls: type) -> list[str]:
    """The names in `state_attributes` of `cls` and its bases, bases first."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name in vars(klass).get("state_attributes", ()):
            if name not in names:
                names.append(name)
    return names


def attribute_state(agent: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The declared attributes: arrays among the arrays, the rest among the values."""
    values, arrays = {}, {}
    for name in declared_attributes(type(agent)):
        value = getattr(agent, name)
        if isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            values[name] = value
    return values, arrays


def checked_attributes(
    agent: Any, values: dict[str, Any], arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The saved declared attributes, checked against the agent's current ones.

    An array must have the current one's shape and dtype; a value must be of the current one's
    JSON kind (an int fits a float; None fits anything and anything fits None).

    Returns:
        The attributes to set, by name (arrays copied).
    """
    checked = {}
    for name in declared_attributes(type(agent)):
        own = getattr(agent, name)
        if isinstance(own, np.ndarray):
            saved = arrays.get(name)
            expected = f"this agent's {name} has shape {list(own.shape)} ({own.dtype})"
            if saved is None:
                raise ValueError(f"the state has no array {name!r}; {expected}")
            if saved.shape != own.shape or saved.dtype != own.dtype:
                raise ValueError(
                    f"the state holds {name} of shape {list(saved.shape)} ({saved.dtype}); "
                    f"{expected}"
                )
            checked[name] = saved.copy()
            continue
        if name not in values:
            raise ValueError(f"the state has no value {name!r}; this agent's is {own!r}")
        saved = values[name]
        if not _fits(saved, own):
            raise ValueError(
                f"the state's {name} is {saved!r}; this agent's is of type "
                f"{type(own).__name__} ({own!r})"
            )
        is_float = isinstance(own, float) and saved is not None
        checked[name] = float(saved) if is_float else copy.deepcopy(saved)
    return checked


def _fits(saved: Any, own: Any) -> bool:
    """Whether a saved JSON value may replace `own`: the same JSON kind, or an int for a float."""
    if saved is None or own is None:
        return True
    if isinstance(saved, bool) or isinstance(own, bool):
        return isinstance(saved, bool) and isinstance(own, bool)
    if isinstance(own, float):
        return isinstance(saved, (int, float))
    kinds = (int, str, (list, tuple), dict)
    return any(isinstance(own, kind) and isinstance(saved, kind) for kind in kinds)
