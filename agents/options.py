"""Config dataclasses whose fields are also command-line options, as CleanRL's `Args` are.

A field made with `option(default, help)` carries its help text and type; `add_options` turns
the fields of one or more config classes into `--field-name` options, and `given_options` reads
back the ones a user gave. Each default and each help text is written once, in the dataclass.
JSON holds no infinities, so `to_json` and `from_json` write non-finite floats as strings.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any


def option(
    default: Any, help: str | None, kind: type | None = None, choices: Sequence[str] = ()
) -> Any:
    """A dataclass field that is also a command-line option (`help=None`: not an option).

    Args:
        default: The field's default.
        help: The option's help text; None keeps the field off the command line.
        kind: The option's type (default: the default's type).
        choices: The values allowed, if only a few are.
    """
    metadata = {"help": help, "type": kind or type(default), "choices": tuple(choices)}
    return dataclasses.field(default=default, metadata=metadata)


def option_fields(config_class: type) -> list[dataclasses.Field]:
    """The fields of `config_class` that are command-line options."""
    return [item for item in dataclasses.fields(config_class) if item.metadata.get("help")]


def add_options(group: Any, configs: Mapping[str, Any]) -> None:
    """Adds an option `--<name>` (default None) per option field of the configs to `group`.

    Args:
        group: An argparse parser or argument group.
        configs: Config instances by agent name; their values are the defaults shown in the
            help. A field that only some agents have is marked `[<agents> only]`. With one
            config, its values are shown alone.
    """
    by_name: dict[str, list[tuple[str, Any, dataclasses.Field]]] = {}
    for agent, config in configs.items():
        for item in option_fields(type(config)):
            by_name.setdefault(item.name, []).append((agent, config, item))
    for name, items in by_name.items():
        helps = dict.fromkeys(item.metadata["help"] for _, _, item in items)
        if len(helps) == 1:
            text = next(iter(helps))
        else:
            text = "; ".join(f"{agent}: {item.metadata['help']}" for agent, _, item in items)
        if len(items) < len(configs):
            text = f"[{', '.join(agent for agent, _, _ in items)} only] {text}"
        shown = [
            ("its own" if getattr(config, name) is None else getattr(config, name), agent)
            for agent, config, _ in items
        ]
        if len(configs) == 1:
            defaults = "none" if shown[0][0] == "its own" else str(shown[0][0])
        else:
            defaults = ", ".join(f"{agent} {value}" for value, agent in shown)
        metadata = items[0][2].metadata
        # A help text that says its own default (one that depends on others) keeps it.
        shown_default = "" if "(default:" in text else f" (default: {defaults})"
        kwargs: dict[str, Any] = {"help": text + shown_default}
        if metadata["type"] is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs.update(type=metadata["type"], metavar=name.upper())
        if metadata["choices"]:
            kwargs.update(choices=metadata["choices"], metavar=None)
        group.add_argument("--" + name.replace("_", "-"), default=None, **kwargs)


def given_options(
    args: argparse.Namespace, config_class: type, all_classes: Sequence[type], owner: str = ""
) -> dict[str, Any]:
    """The option fields of `config_class` given on the command line (not None).

    Raises:
        ValueError: If an option of another class of `all_classes` was given, which
            `config_class` lacks; the message says it does not apply to `owner`.
    """
    own = {item.name for item in option_fields(config_class)}
    given = {}
    for name in {item.name for cls in all_classes for item in option_fields(cls)}:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in own:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} does not apply to {owner or 'this agent'}")
        given[name] = value
    return given


def to_json(config: Any) -> dict[str, Any]:
    """A (nested) config dataclass as JSON-able values; inf and NaN become strings."""

    def encode(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {key: encode(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(item) for item in value]
        return value

    return encode(dataclasses.asdict(config))


def from_json(config_class: type, data: Mapping[str, Any]) -> Any:
    """Rebuilds a config of `config_class` from `to_json`'s output, checking every key.

    Raises:
        ValueError: If a key is unknown or missing, or a value does not have its field's type.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"a {config_class.__name__} must be an object, got {data!r}")
    hints = typing.get_type_hints(config_class)
    names = {item.name for item in dataclasses.fields(config_class)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {config_class.__name__} fields: {', '.join(unknown)}")
    values = {name: _decode(hints[name], data[name], name) for name in names if name in data}
    try:
        return config_class(**values)
    except TypeError as error:
        raise ValueError(f"invalid {config_class.__name__}: {error}") from error


def _decode(hint: Any, value: Any, name: str) -> Any:
    """`value` checked (and converted back, for floats) against the type hint `hint`."""
    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    if value is None and type(None) in options:
        return None
    for kind in options:
        if dataclasses.is_dataclass(kind) and isinstance(value, Mapping):
            try:
                return from_json(kind, value)
            except ValueError:
                continue
        if kind is float and isinstance(value, (int, float, str)) and not isinstance(value, bool):
            try:
                return float(value)
            except ValueError:
                continue
        if kind in (int, str, bool) and type(value) is kind:
            return value
        if typing.get_origin(kind) is dict and isinstance(value, dict):
            return dict(value)
    raise ValueError(f"field {name}: expected {hint}, got {value!r}")


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
