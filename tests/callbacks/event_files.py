"""Reads TensorBoard event files back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util


def event_files(log_dir) -> list[Path]:
    """Every events file under `log_dir`, recursively."""
    return sorted(Path(log_dir).rglob("events.out.tfevents.*"))


def read_scalars(log_dir) -> dict[str, list[tuple[int, float]]]:
    """Tag -> [(step, value), ...] of every scalar in the single events file of `log_dir`."""
    # size_guidance 0 keeps every point (the default keeps a sample of 10 per tag).
    accumulator = EventAccumulator(str(log_dir), size_guidance={"tensors": 0, "scalars": 0})
    accumulator.Reload()
    scalars = {}
    for tag in accumulator.Tags()["tensors"]:
        events = accumulator.Tensors(tag)
        metadata = accumulator.SummaryMetadata(tag)
        assert metadata.plugin_data.plugin_name == "scalars", tag
        scalars[tag] = [
            (event.step, float(np.asarray(tensor_util.make_ndarray(event.tensor_proto))))
            for event in events
        ]
    return scalars


def scalar_steps(events_file, tag: str) -> list[int]:
    """The x values of the points of `tag` in one events file, in the order written."""
    import tensorflow as tf

    return [
        event.step
        for event in tf.compat.v1.train.summary_iterator(str(events_file))
        for value in event.summary.value
        if value.tag == tag
    ]
