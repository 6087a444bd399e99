from __future__ import annotations

import json
import math
import os
import stat

import numpy as np
import pytest

from agents import atomic


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_bytes_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    atomic.write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_write_text_and_json(tmp_path):
    atomic.write_text(tmp_path / "a.txt", "héllo")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    atomic.write_json(tmp_path / "a.json", {"x": [1, 2.5, None, True], "y": "z"})
    text = (tmp_path / "a.json").read_text()
    assert text.endswith("}\n") and '\n  "x"' in text
    assert json.loads(text) == {"x": [1, 2.5, None, True], "y": "z"}


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"loss": [1.0, math.nan]}, "['loss'][1] is nan"),
        ({"best": math.inf}, "['best'] is inf"),
        ({"steps": np.int64(3)}, "of type int64"),
        ([object()], "[0] is <object"),
    ],
)
def test_write_json_refuses_what_is_not_json_and_names_it(tmp_path, data, named):
    path = tmp_path / "results.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="must be JSON-able") as error:
        atomic.write_json(path, data)
    assert named in str(error.value) and str(path) in str(error.value)
    assert path.read_text() == "{}"
    assert os.listdir(tmp_path) == ["results.json"]


def test_atomic_file_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_file(path, "w", newline="") as file:
        file.write("half")
        raise RuntimeError("crash")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["log.csv"]


def test_atomic_file_text_mode_and_bad_mode(tmp_path):
    with atomic.atomic_file(tmp_path / "t.txt", "w") as file:
        file.write("a\nb")
    assert (tmp_path / "t.txt").read_text() == "a\nb"
    with pytest.raises(ValueError, match="mode"), atomic.atomic_file(tmp_path / "t.txt", "ab"):
        pass


def test_files_and_directories_honour_the_umask(tmp_path, umask_022):
    atomic.write_bytes(tmp_path / "f", b"x")
    assert _mode(tmp_path / "f") == 0o644
    with atomic.staging_directory(tmp_path / "d") as staging:
        atomic.write_bytes(staging / "inner", b"y")
    assert _mode(tmp_path / "d") == 0o755
    assert _mode(tmp_path / "d" / "inner") == 0o644
    os.umask(0o077)
    atomic.write_bytes(tmp_path / "g", b"x")
    assert _mode(tmp_path / "g") == 0o600


def test_atomic_path_names_end_like_the_target_and_are_renamed(tmp_path):
    target = tmp_path / "agent.weights.h5"
    with atomic.atomic_path(target) as temp:
        assert temp.parent == tmp_path and temp.name.endswith(".weights.h5")
        assert temp.name.startswith(atomic.TEMP_PREFIX) and not temp.exists()
        temp.write_bytes(b"weights")
    assert target.read_bytes() == b"weights"
    assert os.listdir(tmp_path) == ["agent.weights.h5"]


def test_atomic_path_refuses_a_writer_that_wrote_nothing(tmp_path):
    target = tmp_path / "w.h5"
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic.atomic_path(target):
            pass
    assert os.listdir(tmp_path) == []


def test_atomic_path_removes_a_partial_file_on_failure(tmp_path):
    target = tmp_path / "w.h5"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as temp:
        temp.write_bytes(b"part")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["w.h5"]


def test_staging_directory_creates_and_replaces_a_directory(tmp_path):
    target = tmp_path / "run"
    with atomic.staging_directory(target) as staging:
        (staging / "a").write_text("1")
    assert os.listdir(target) == ["a"]
    with atomic.staging_directory(target) as staging:
        (staging / "sub").mkdir()
        (staging / "sub" / "b").write_text("2")
    assert sorted(os.listdir(target)) == ["sub"]
    assert (target / "sub" / "b").read_text() == "2"
    assert os.listdir(tmp_path) == ["run"]


def test_staging_directory_keeps_the_old_directory_on_failure(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "a").write_text("old")
    with pytest.raises(RuntimeError), atomic.staging_directory(target) as staging:
        (staging / "a").write_text("new")
        raise RuntimeError("crash")
    assert (target / "a").read_text() == "old"
    assert os.listdir(tmp_path) == ["run"]


def test_staging_directory_refuses_to_replace_a_file(tmp_path):
    (tmp_path / "run").write_text("a file")
    with pytest.raises(FileExistsError, match="not a directory"):
        with atomic.staging_directory(tmp_path / "run"):
            pass
    assert (tmp_path / "run").read_text() == "a file"


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "set-aside"])
def test_staging_directory_replaces_and_cleans_what_killed_saves_left(
    tmp_path, monkeypatch, exchange
):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    target = tmp_path / "run"
    for leftover in (".tmp-0123456789ab-run", ".tmp-ba9876543210-old-run"):
        (tmp_path / leftover).mkdir()
        (tmp_path / leftover / "a").write_text("stale")
    (tmp_path / ".tmp-0123456789ab-other").mkdir()  # another target's: not ours to delete
    for version in ("old", "new"):
        with atomic.staging_directory(target) as staging:
            (staging / "a").write_text(version)
    assert (target / "a").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == [".tmp-0123456789ab-other", "run"]
