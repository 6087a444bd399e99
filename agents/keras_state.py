"""Keras networks' and optimizers' variables as agent state, and checks that a state fits.

For any agent built from Keras models (DQN, SARSA, DDPG, NAF, PPO): the variables of named
groups (e.g. "online", "target", "optimizer") become arrays `<group>_<index>`, and descriptions
of the networks and optimizers, saved beside them, make a mismatch a clear error rather than a
shape error deep in an assignment. Nothing here imports Keras: it works on the objects given.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np


def variable_arrays(groups: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    """The variables of each group as arrays, keyed `<group>_<index>` (index on four digits)."""
    return {
        f"{group}_{i:04d}": variable.numpy()
        for group, variables in groups.items()
        for i, variable in enumerate(variables)
    }


def check_variable_arrays(groups: dict[str, list[Any]], arrays: dict[str, np.ndarray]) -> None:
    """Raises ValueError unless `arrays` holds every variable of `groups`, in its shape."""
    for group, variables in groups.items():
        for i, variable in enumerate(variables):
            array = arrays.get(f"{group}_{i:04d}")
            expected = f"this agent's has shape {list(variable.shape)}"
            if array is None:
                raise ValueError(f"the state has no {group} variable {i}; {expected}")
            if array.shape != tuple(variable.shape):
                raise ValueError(
                    f"the state's {group} variable {i} has shape {list(array.shape)}; {expected}"
                )
        extra = f"{group}_{len(variables):04d}"
        if extra in arrays:
            raise ValueError(
                f"the state has more {group} variables than this agent's {len(variables)}"
            )


def assign_variable_arrays(groups: dict[str, list[Any]], arrays: dict[str, np.ndarray]) -> None:
    """Assigns the arrays `check_variable_arrays` accepted to the variables."""
    for group, variables in groups.items():
        for i, variable in enumerate(variables):
            variable.assign(arrays[f"{group}_{i:04d}"])


def network_description(model: Any) -> dict[str, Any]:
    """The network's name, and its structure without layer names (links use layer indices)."""
    variables = [[list(v.shape), str(v.dtype)] for v in model.variables]
    description = {"name": model.name, "variables": variables, "layers": None}
    try:
        layers = json.loads(model.to_json())["config"]["layers"]
    except (KeyError, TypeError, ValueError, NotImplementedError):
        return description  # a subclassed model: its variables' shapes must do
    # A Sequential model's layers have their name in their config only (and no links).
    index = {layer.get("name", layer["config"]["name"]): i for i, layer in enumerate(layers)}

    def anonymous(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: [index.get(item[0]), *item[1:]] if key == "keras_history" else anonymous(item)
                for key, item in value.items()
            }
        return [anonymous(item) for item in value] if isinstance(value, list) else value

    for layer in layers:
        layer.pop("name", None)
        layer.get("config", {}).pop("name", None)
    description["layers"] = anonymous(layers)
    return description


def check_network(saved: Any, model: Any, what: str = "network") -> None:
    """Raises ValueError unless `saved` (a `network_description`) describes `model`'s network.

    Keras numbers unnamed models and layers per process, so names are not compared.
    """
    own = network_description(model)
    if not isinstance(saved, dict) or not {"variables", "layers"} <= set(saved):
        raise ValueError(f"the state's {what} description is invalid: {str(saved)[:200]}")
    if (saved["variables"], saved["layers"]) != (own["variables"], own["layers"]):
        raise ValueError(
            f"the state is of another {what}: it holds {_summary(saved)}, this agent has "
            f"{_summary(own)}; build the agent with the state's {what}"
        )


def optimizer_description(optimizer: Any) -> dict[str, Any]:
    """The optimizer's class name and its variables' shapes and dtypes."""
    variables = [[list(v.shape), str(v.dtype)] for v in optimizer.variables]
    return {"class_name": type(optimizer).__name__, "variables": variables}


def check_optimizer(saved: Any, optimizer: Any) -> None:
    """Raises ValueError unless `saved` (an `optimizer_description`) describes `optimizer`."""
    own = optimizer_description(optimizer)
    if saved == own:
        return
    if not isinstance(saved, dict) or not {"class_name", "variables"} <= set(saved):
        raise ValueError(f"the state's optimizer description is invalid: {str(saved)[:200]}")
    raise ValueError(
        f"the state holds the state of a {saved['class_name']} optimizer with "
        f"{len(saved['variables'])} variables; this agent's {own['class_name']} has "
        f"{len(own['variables'])}: compile the agent with the state's optimizer"
    )


def model_state(
    model: Any, optimizer: Any, groups: dict[str, list[Any]]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A one-network agent's part of its state (its values, its arrays).

    The values are the `network` and `optimizer` descriptions, the arrays the variables of
    `groups` (see `variable_arrays`).
    """
    network, optimizer = network_description(model), optimizer_description(optimizer)
    return {"network": network, "optimizer": optimizer}, variable_arrays(groups)


def check_model_state(
    values: dict[str, Any],
    arrays: dict[str, np.ndarray],
    model: Any,
    optimizer: Any,
    groups: dict[str, list[Any]],
) -> None:
    """Raises ValueError unless a `model_state` fits `model`, `optimizer` and `groups`."""
    check_network(values["network"], model)
    check_optimizer(values["optimizer"], optimizer)
    check_variable_arrays(groups, arrays)


def _summary(network: dict[str, Any]) -> str:
    count = sum(int(np.prod(shape)) for shape, _ in network["variables"])
    layers = network["layers"] or []
    kinds = ", ".join(layer.get("class_name", "?") for layer in layers) or "layers unknown"
    return f"network {network.get('name')!r} ({count} parameters; {kinds})"
