"""`.npz` files of named arrays, written without copying and read without pickle."""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO

import numpy as np


def write_npz(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """Writes `arrays` as an uncompressed `.npz`, as `np.savez` does, without copying them.

    `np.savez` passes each array through 16 MB byte strings: for a replay memory, tens of MB
    that the allocator then keeps.

    Args:
        file: A binary file open for writing.
        arrays: The arrays by name.

    Raises:
        TypeError: If an array holds Python objects (which would need pickle).
    """
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, value in arrays.items():
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise TypeError(f"{key}: object arrays would need pickle; got {array.dtype}")
            if not array.flags.c_contiguous:
                array = array.copy(order="C")
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                header = np.lib.format.header_data_from_array_1_0(array)
                np.lib.format.write_array_header_1_0(member, header)
                member.write(array.reshape(-1).data.cast("B"))


def read_npz(source: bytes | str) -> dict[str, np.ndarray]:
    """Reads every array of an `.npz` (its bytes, or its path), refusing pickled objects.

    Raises:
        ValueError: If an array needs pickle or the data is not a valid `.npy` member.
        zipfile.BadZipFile: If the data is not a zip archive.
    """
    data = io.BytesIO(source) if isinstance(source, bytes) else source
    with np.load(data, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}
