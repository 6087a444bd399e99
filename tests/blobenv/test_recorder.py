"""Recording frames to .gif or .mp4: atomic, and nothing left behind without frames."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from blobenv.recorder import Recorder


def test_gif_appears_only_on_close_with_every_frame(tmp_path):
    recorder = Recorder(tmp_path / "a.gif", fps=10)
    for value in (0, 255):
        recorder.add(np.full((8, 12, 3), value, dtype=np.uint8))
    assert not (tmp_path / "a.gif").exists()
    recorder.close()
    assert recorder.frames == 2
    assert iio.imread(tmp_path / "a.gif", index=None).shape == (2, 8, 12, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]


def test_a_recording_without_frames_leaves_no_file(tmp_path):
    Recorder(tmp_path / "b.mp4", fps=10).close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("x.avi", "must end in .gif or .mp4"), ("missing/x.gif", "no directory")],
)
def test_bad_paths_are_refused(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        Recorder(tmp_path / name, fps=10)
