"""Atomic writes: a reader sees a file's (or directory's) old contents or its new, never a part.

Everything is written to a hidden temporary beside its target (same directory, so same file
system), flushed and fsynced, then renamed onto the target with `os.replace`; on any exception
the temporary is removed and the target is left as it was. Temporaries are created with the
modes `open` and `mkdir` use (0o666 and 0o777, less the umask), not `tempfile`'s 0o600, so
another account can read what is saved. Their names start with `TEMP_PREFIX`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import math
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

TEMP_PREFIX = ".tmp-"
_FILE_MODE, _DIRECTORY_MODE = 0o666, 0o777
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_ATTEMPTS = 100
_AT_FDCWD = -100  # renameat2's "relative to the working directory"


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replaces the file at `path` with `data`, atomically.

    Args:
        path: The file (its directory must exist).
        data: Its new contents.
    """
    with atomic_file(path, "wb") as file:
        file.write(data)


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Replaces the file at `path` with `text`, atomically.

    Args:
        path: The file (its directory must exist).
        text: Its new contents.
        encoding: The text's encoding.
    """
    write_bytes(path, text.encode(encoding))


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Replaces the file at `path` with `data` as strict JSON (indent 2, a final newline).

    Args:
        path: The file (its directory must exist).
        data: Dicts with str keys, lists, tuples, str, int, finite float, bool and None.

    Raises:
        ValueError: If `data` holds anything else (NaN, infinity, a NumPy integer, ...); the
            message names where. Nothing is written then.
    """
    write_text(path, json_text(data, what=f"the data for {os.fspath(path)}"))


def json_text(data: Any, what: str = "data", **dumps_options: Any) -> str:
    """Encodes `data` as strict JSON text (no NaN or infinity), with a final newline.

    Args:
        data: JSON-able data (see `write_json`).
        what: What `data` is, for the error message.
        **dumps_options: Options for `json.dumps`; `indent` defaults to 2.

    Returns:
        The JSON text.

    Raises:
        ValueError: If `data` is not JSON-able; the message names the first value that is not.
    """
    dumps_options.setdefault("indent", 2)
    try:
        return json.dumps(data, allow_nan=False, **dumps_options) + "\n"
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be JSON-able: {_first_problem(data, '') or error}") from None


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike[str],
    mode: str = "wb",
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Yields a new file whose contents replace `path` when the `with` block succeeds.

    Args:
        path: The file to replace (its directory must exist).
        mode: "wb" (binary) or "w" (text).
        encoding: The text encoding for mode "w" (default UTF-8).
        newline: `open`'s newline argument for mode "w" (e.g. "" for the csv module).

    Yields:
        The temporary file, open for writing.

    Raises:
        ValueError: If `mode` is neither "wb" nor "w".
    """
    if mode not in ("wb", "w"):
        raise ValueError(f'mode must be "wb" or "w", got {mode!r}')
    target = Path(path)
    temp, fd = _create(target, lambda name: os.open(name, _CREATE_FLAGS, _FILE_MODE))
    with _replacing(temp, target):
        if mode == "wb":
            file = os.fdopen(fd, "wb")
        else:
            file = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yields a temporary path to write to, for writers that take a path (Keras' save_weights).

    The temporary's name ends with `path`'s name, so a writer that checks the ending
    (".weights.h5") accepts it. When the `with` block succeeds the file is fsynced and renamed
    onto `path`.

    Args:
        path: The file to replace (its directory must exist).

    Yields:
        The temporary path (nothing exists there yet).

    Raises:
        FileNotFoundError: If the block wrote no file at the temporary path.
    """
    target = Path(path)
    temp, _ = _create(target, _reserve)
    with _replacing(temp, target):
        yield temp
        if not temp.is_file():
            raise FileNotFoundError(f"nothing was written to {temp}, the temporary for {target}")
        _fsync(temp)


@contextlib.contextmanager
def _replacing(temp: Path, target: Path) -> Iterator[None]:
    """Renames file `temp` onto `target` when the block succeeds (deletes it when it fails)."""
    try:
        yield
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync(target.parent)


@contextlib.contextmanager
def staging_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yields a new, empty directory that replaces directory `path` when the block succeeds.

    On success every file in it is fsynced and it replaces `path`. Where the OS can swap two
    directories atomically (Linux's `renameat2(RENAME_EXCHANGE)`) `path` is never missing, and
    a kill at any moment leaves the old directory or the new one there, whole. Elsewhere an
    existing `path` is first renamed aside, so a kill between the two renames leaves it
    missing. Either way a kill can leave a hidden `.tmp-...-<name>` beside it, which the next
    save to `path` deletes (one writer per `path`).

    Args:
        path: The directory to create or replace (its parent must exist).

    Yields:
        The staging directory.

    Raises:
        FileExistsError: If `path` exists and is not a directory.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a directory")
    _remove_leftovers(target)
    staging, _ = _create(target, lambda name: os.mkdir(name, _DIRECTORY_MODE))
    try:
        yield staging
        for file in sorted(p for p in staging.rglob("*") if p.is_file()):
            _fsync(file)
        for directory in sorted((p for p in staging.rglob("*") if p.is_dir()), reverse=True):
            _fsync(directory)
        _fsync(staging)
        _swap_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync(target.parent)


def _swap_directory(staging: Path, target: Path) -> None:
    """Puts `staging` at `target`, then deletes the directory that was there, if any."""
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now the old directory
        return
    # A directory cannot replace a non-empty one: move the old one aside first.
    aside, _ = _create(target, _reserve, "old-")
    os.replace(target, aside)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swaps two existing paths atomically; False where the OS or file system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), 2) == 0:
        return True  # 2: RENAME_EXCHANGE
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), os.fspath(second))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """Linux's renameat2 from the C library, None elsewhere (or in a C library without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


def _remove_leftovers(target: Path) -> None:
    """Deletes the staging and set-aside directories that killed saves to `target` left."""
    pattern = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]{12}-(old-)?" + re.escape(target.name))
    if target.parent.is_dir():
        for path in target.parent.iterdir():
            if pattern.fullmatch(path.name) and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)


def _create(target: Path, make: Callable[[Path], Any], tag: str = "") -> tuple[Path, Any]:
    """Creates a fresh temporary beside `target` with `make(name)`; returns it and the result.

    `make` raises FileExistsError when the name is taken.
    """
    for _ in range(_ATTEMPTS):
        temp = target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{tag}{target.name}")
        try:
            return temp, make(temp)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary name beside {target}")


def _reserve(name: Path) -> None:
    """Checks that nothing is at `name`, for a temporary that its writer will create."""
    if os.path.lexists(name):
        raise FileExistsError(name)


def _fsync(path: Path) -> None:
    """Makes a file's contents, or a directory's entries (new files, renames), durable."""
    if os.name != "posix" and path.is_dir():
        return  # Windows cannot open a directory
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _first_problem(value: Any, where: str) -> str | None:
    """Describes the first value in `value` that strict JSON cannot hold, None if there is none."""
    here = where or "the top level"
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{here} is {value!r} (JSON has no NaN or inf)"
    if isinstance(value, dict):
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float))):
                return f"{here} has the key {key!r} of type {type(key).__name__}"
            problem = _first_problem(item, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = _first_problem(item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    return f"{here} is {value!r} of type {type(value).__name__}"
