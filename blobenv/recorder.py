"""Recording rgb frames to a .gif (imageio) or .mp4 (OpenCV) file, written atomically.

imageio and OpenCV are imported when the first frame arrives, so that importing `blobenv` stays
light.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = (".gif", ".mp4")


class Recorder:
    """Writes frames to a .gif or .mp4 file, moved into place on `close`.

    Args:
        path: The file to write; its extension chooses the format.
        fps: Frames per second of the recording.

    Raises:
        ValueError: If the extension is neither .gif nor .mp4, or the directory is missing.
    """

    def __init__(self, path: str | os.PathLike, fps: float):
        self.path = Path(path)
        self.format = self.path.suffix.lower()
        if self.format not in FORMATS:
            raise ValueError(f"a recording must end in .gif or .mp4, got {str(self.path)!r}")
        if not self.path.parent.is_dir():
            directory = str(self.path.parent)
            raise ValueError(f"cannot record to {str(self.path)!r}: no directory {directory!r}")
        handle, self._temp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}-", suffix=self.format
        )
        os.close(handle)
        self.fps = fps
        self.frames = 0
        self._writer: Any = None

    def add(self, frame: np.ndarray) -> None:
        """Appends one rgb frame (all frames must have the first one's size)."""
        if self._writer is None:
            self._writer = self._open(frame.shape[1], frame.shape[0])
        if self.format == ".gif":
            self._writer.append_data(frame)
        else:
            self._writer.write(np.ascontiguousarray(frame[..., ::-1]))  # OpenCV wants BGR
        self.frames += 1

    def close(self) -> None:
        """Finishes the file and moves it into place (nothing is written without frames)."""
        if self._writer is not None:
            if self.format == ".gif":
                self._writer.close()
            else:
                self._writer.release()
            self._writer = None
            os.replace(self._temp, self.path)
        elif os.path.exists(self._temp):
            os.remove(self._temp)

    def _open(self, width: int, height: int) -> Any:
        if self.format == ".gif":
            import imageio

            return imageio.v2.get_writer(self._temp, mode="I", duration=1000 / self.fps, loop=0)
        import cv2

        return cv2.VideoWriter(
            self._temp, cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height)
        )
