"""TransitionBatch: defaults, row selection, and the memories taking it as it comes."""

from __future__ import annotations

import numpy as np
import pytest

from agents.memory import SequentialMemory
from agents.transitions import TransitionBatch


def three_rows(valid=None) -> TransitionBatch:
    obs = np.arange(3, dtype=np.uint8)[:, None]
    return TransitionBatch(
        obs, [0, 1, 2], [1.0, 2.0, 3.0], obs + 10, [True, False, False], [False, True, False],
        valid=valid,
    )  # fmt: skip


def test_defaults_are_one_stream_per_row_and_all_rows_valid():
    batch = three_rows()
    assert len(batch) == 3
    assert batch.env_ids.tolist() == [0, 1, 2] and batch.valid.tolist() == [True] * 3
    assert batch.done.tolist() == [True, True, False]
    assert batch.valid_rows() is batch


def test_valid_rows_keep_each_rows_env_id():
    batch = three_rows(valid=[True, False, True]).valid_rows()
    assert batch.env_ids.tolist() == [0, 2] and batch.actions.tolist() == [0, 2]
    assert batch.next_obs[:, 0].tolist() == [10, 12] and batch.valid.all()


def test_single_is_a_batch_of_one():
    batch = TransitionBatch.single(np.zeros(2), 3, -1.0, np.ones(2), False, True, env_id=5)
    assert batch.obs.shape == (1, 2) and batch.actions.tolist() == [3]
    assert batch.env_ids.tolist() == [5] and batch.truncated.tolist() == [True]


def test_a_memory_stores_only_the_valid_rows():
    memory = SequentialMemory(10)
    memory.append(three_rows(valid=[False, True, True]))
    assert sorted(memory.state_dict()["obs"][:, 0].tolist()) == [1, 2]


def test_a_memory_refuses_anything_but_a_batch():
    with pytest.raises(TypeError, match="TransitionBatch"):
        SequentialMemory(10).append((np.zeros((1, 2)), [0], [0.0], np.zeros((1, 2)), [0], [0]))
