"""Manifests: the sizes and sha256 of a saved directory's files, and a sha256 of their own.

A saved agent (`agents.saving`) and a checkpoint (`agents.checkpoint`) each hold
`manifest.json`: `{"format_version": ..., ..., "files": {name: {"bytes": n, "sha256": hex}},
"sha256": hex}`, the last the sha256 of the rest as canonical JSON. A load reads each file once,
checks its size and sha256, and parses the very bytes it checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agents import atomic

MANIFEST = "manifest.json"


def file_entry(path: Path) -> dict[str, Any]:
    """A written file's size and sha256, for the manifest."""
    # Hashed in chunks: a replay memory's file is tens of MB, not to be held twice.
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def write(directory: Path, body: dict[str, Any]) -> None:
    """Writes `body` (JSON-able, with "files") and its sha256 to `directory/manifest.json`."""
    document = {**body, "sha256": sha256(canonical(body))}
    (directory / MANIFEST).write_text(atomic.json_text(document, "the manifest"), "utf-8")


def read(
    directory: Path, names: Iterable[str], format_version: int, error: type[ValueError]
) -> dict[str, Any]:
    """Reads and verifies `directory/manifest.json`; returns it without its own sha256.

    Args:
        directory: The saved directory.
        names: The files the manifest must list, exactly.
        format_version: The format version it must have.
        error: The ValueError subclass to raise.

    Raises:
        error: If the manifest is missing, corrupted, of another version or lists other files.
    """
    path = directory / MANIFEST
    if not path.is_file():
        raise error(f"{directory} is incomplete: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_bytes())
        body = {key: value for key, value in manifest.items() if key != "sha256"}
        intact = manifest.get("sha256") == sha256(canonical(body))
    except (ValueError, TypeError, AttributeError) as cause:
        raise error(f"{path} is corrupted: {cause}") from cause
    if body.get("format_version") != format_version:
        raise error(
            f"{directory} has format_version {body.get('format_version')!r}; this version of "
            f"agents reads format_version {format_version}"
        )
    if not intact:
        raise error(f"{path} is corrupted: its sha256 does not match")
    files, names = body.get("files"), set(names)
    if (
        not isinstance(files, dict)
        or set(files) != names
        or not all(isinstance(entry, dict) and {"bytes", "sha256"} <= set(entry)
                   for entry in files.values())
    ):  # fmt: skip
        raise error(
            f"{path} must list {', '.join(sorted(names))} with their bytes and sha256, "
            f"got {str(files)[:200]}"
        )
    return body


def verified_bytes(path: Path, entry: dict[str, Any], error: type[ValueError]) -> bytes:
    """The contents of `path`, checked against its manifest `entry`.

    Raises:
        error: If the file is missing, or its size or sha256 is not the manifest's.
    """
    if not path.is_file():
        raise error(f"{path} is missing")
    data = path.read_bytes()
    if len(data) != entry["bytes"]:
        raise error(
            f"{path} is truncated or altered: {len(data)} bytes, the manifest says {entry['bytes']}"
        )
    if sha256(data) != entry["sha256"]:
        raise error(f"{path} is corrupted: its sha256 does not match the manifest's")
    return data


def sha256(data: bytes) -> str:
    """The hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    """The bytes a manifest's own sha256 is computed on."""
    return atomic.json_text(value, "the manifest", indent=1, sort_keys=True).encode()
