"""A fuzz of the saved-file formats: damaged bytes, and crafted JSON and arrays (resealed).

Every case either loads what the files say or is refused with ValueError or
FileNotFoundError: no other exception type, and never a load of something else.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agents
from agents import checkpoint, manifest, saving
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.npz import read_npz, write_npz
from agents.qlearning import QLearningAgent

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
SPACE = spaces.MultiDiscrete([3, 2])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
ARRAYS = st.builds(
    lambda shape, dtype, fill: array_of(shape, dtype, fill),
    st.lists(st.integers(0, 7), max_size=3).map(tuple),
    st.sampled_from(["float64", "float32", "int64", "bool", "uint8"]),
    st.sampled_from([0.0, 1.5, -3.0, np.nan, np.inf]),
)


def array_of(shape: tuple[int, ...], dtype: str, fill: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # NaN cast to an int: whatever it gives
        return np.full(shape, fill).astype(dtype)


def make_agent() -> QLearningAgent:
    agent = QLearningAgent(SPACE, 3, epsilon=0.3, initial_q=(-1.0, 1.0), seed=0)
    agent.step, agent.episode, agent.epsilon = 12, 3, 0.25
    return agent


@pytest.fixture(scope="module")
def saves(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("saves")
    make_agent().save(str(root / "agent"))
    save_checkpoint(make_agent(), root / "ckpt")
    return {"agent": root / "agent", "ckpt": checkpoint.find_checkpoint(root / "ckpt").path}


FORMATS = {
    "agent": (saving.CONFIG_FILENAME, saving.WEIGHTS_FILENAME),
    "ckpt": (checkpoint.STATE, checkpoint.ARRAYS),
}


def load(kind: str, path: Path) -> QLearningAgent:
    if kind == "agent":
        return agents.load_agent(path)
    agent = QLearningAgent(SPACE, 3, epsilon=0.3, initial_q=(-1.0, 1.0), seed=0)
    load_checkpoint(agent, path)
    return agent


def load_or_refuse(kind: str, path: Path) -> QLearningAgent | None:
    """The loaded agent, or None if the load was refused with ValueError/FileNotFoundError."""
    try:
        return load(kind, path)
    except (ValueError, FileNotFoundError):
        return None


def fuzz_copy(source: Path, change: Callable[[Path], None], check: Callable[[Path], None]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / source.name
        shutil.copytree(source, path)
        change(path)
        check(path)


def reseal(path: Path, kind: str) -> None:
    """Rewrites the manifest for the files as they are now, as a crafter would."""
    document = json.loads((path / manifest.MANIFEST).read_text())
    document.pop("sha256", None)
    document["files"] = {name: manifest.file_entry(path / name) for name in FORMATS[kind]}
    manifest.write(path, document)


def same_agent(kind: str, loaded: QLearningAgent) -> bool:
    """Whether `loaded` is what was saved: the config and table (and, from a checkpoint, all
    of its state)."""
    reference = make_agent()
    if kind == "agent":
        return loaded.get_config() == reference.get_config() and np.array_equal(
            loaded.table, reference.table
        )
    (values, arrays), (own_values, own_arrays) = loaded.get_state(), reference.get_state()
    return json.dumps(values, sort_keys=True) == json.dumps(own_values, sort_keys=True) and all(
        np.array_equal(arrays[key], own_arrays[key]) for key in own_arrays
    )


@st.composite
def byte_damage(draw: st.DrawFn, names: tuple[str, ...]) -> Callable[[Path], None]:
    name = draw(st.sampled_from((manifest.MANIFEST, *names)))
    how = draw(st.sampled_from(["flip", "truncate", "append", "replace", "delete"]))
    spots = draw(st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
                          min_size=1, max_size=32))  # fmt: skip
    junk = draw(st.binary(max_size=64))

    def damage(path: Path) -> None:
        file = path / name
        data = bytearray(file.read_bytes())
        if how == "delete":
            file.unlink()
            return
        if how == "flip":
            for where, mask in spots:
                data[int(where * len(data))] ^= mask
        elif how == "truncate":
            del data[int(spots[0][0] * len(data)) :]
        file.write_bytes(
            junk if how == "replace" else bytes(data) + (junk if how == "append" else b"")
        )

    return damage


@pytest.mark.parametrize("kind", ["agent", "ckpt"])
@FUZZ
@given(data=st.data())
def test_damaged_bytes_load_the_same_agent_or_are_refused(saves, kind, data):
    damage = data.draw(byte_damage(FORMATS[kind]))

    def check(path: Path) -> None:
        loaded = load_or_refuse(kind, path)
        assert loaded is None or same_agent(kind, loaded)

    fuzz_copy(saves[kind], damage, check)


def json_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document (keys and indices)."""
    paths = [prefix]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        paths += json_paths(item, (*prefix, key))
    return paths


@st.composite
def crafted_json(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one value replaced, one key deleted or one key added."""
    path = draw(st.sampled_from(json_paths(document)[1:]))
    *parents, last = path
    crafted = json.loads(json.dumps(document))
    parent = crafted
    for key in parents:
        parent = parent[key]
    how = draw(st.sampled_from(["replace", "delete", "add"]))
    if how == "replace" or isinstance(parent, list):
        parent[last] = draw(JSON)
    elif how == "delete":
        del parent[last]
    else:
        parent[draw(st.text(max_size=8))] = draw(JSON)
    return crafted


@pytest.mark.parametrize(
    ("kind", "name"),
    [("agent", saving.CONFIG_FILENAME), ("ckpt", checkpoint.STATE),
     ("agent", manifest.MANIFEST), ("ckpt", manifest.MANIFEST)],
)  # fmt: skip
@FUZZ
@given(data=st.data())
def test_crafted_json_loads_what_it_says_or_is_refused(saves, kind, name, data):
    original = json.loads((saves[kind] / name).read_text())
    crafted = data.draw(crafted_json(original))

    def change(path: Path) -> None:
        (path / name).write_text(json.dumps(crafted))
        if name != manifest.MANIFEST:
            reseal(path, kind)
        else:  # the crafter recomputes the manifest's own sha256
            body = {key: value for key, value in crafted.items() if key != "sha256"}
            try:
                manifest.write(path, body)
            except ValueError:
                pass  # NaN or inf: not even a crafter can seal it; the file stays unsealed

    def check(path: Path) -> None:
        loaded = load_or_refuse(kind, path)
        if loaded is None:
            return
        if kind == "agent" and name == saving.CONFIG_FILENAME:
            config = json.loads(json.dumps(loaded.get_config()))
            # What the file gives is what the agent has (a key it lacks takes its default).
            assert crafted["config"].items() <= config.items()
            np.testing.assert_array_equal(loaded.table, make_agent().table)
        elif kind == "ckpt" and name == checkpoint.STATE:
            values = json.loads(json.dumps(loaded.get_state()[0]))
            assert values == crafted["values"]
        else:
            assert same_agent(kind, loaded)

    fuzz_copy(saves[kind], change, check)


@pytest.mark.parametrize("kind", ["agent", "ckpt"])
@FUZZ
@given(data=st.data())
def test_crafted_arrays_load_what_they_say_or_are_refused(saves, kind, data):
    name = FORMATS[kind][1]
    original = read_npz(str(saves[kind] / name))
    key = data.draw(st.sampled_from([*original, "other"]))
    array = data.draw(ARRAYS)

    def change(path: Path) -> None:
        buffer = io.BytesIO()
        write_npz(buffer, {**original, key: array})
        (path / name).write_bytes(buffer.getvalue())
        reseal(path, kind)

    def check(path: Path) -> None:
        loaded = load_or_refuse(kind, path)
        if loaded is not None:
            assert np.array_equal(loaded.table, array.astype(np.float64))

    fuzz_copy(saves[kind], change, check)
