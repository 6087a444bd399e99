"""The replay benchmarks' transitions of Blob, filled memories, and bytes measured."""

from __future__ import annotations

import numpy as np
import pytest

from agents.benchmarks import replay
from agents.memory import PrioritizedMemory, SequentialMemory


def test_memory_benchmark_measures_the_replay_memorys_bytes(tiny):
    rows = {r.metric: r.value for r in replay.bench_memory(0.01)}
    # 2,000 transitions of two 10x10x3 uint8 images, an int64 action, two float32s: 616 B each.
    assert rows["SequentialMemory of 2,000 Blob transitions"] == 2_000 * 616 / 2**20
    assert rows["peak resident memory of this process"] > 50  # Python, NumPy and Gymnasium


def test_blob_transitions_leave_out_the_vector_envs_reset_steps():
    obs, actions, rewards, next_obs, terminated, truncated = replay.blob_transitions(5_000)
    assert obs.shape == next_obs.shape == (5_000, 10, 10, 3) and obs.dtype == np.uint8
    assert len(actions) == len(rewards) == len(terminated) == len(truncated) == 5_000
    # Every step of Blob costs -1 unless it ends the episode: a reset step would give 0.
    assert set(np.unique(rewards[~(terminated | truncated)])) == {-1.0}


@pytest.mark.parametrize("memory_class", [SequentialMemory, PrioritizedMemory])
def test_filled_memory_holds_every_transition(memory_class):
    transitions = replay.blob_transitions(2_500)
    memory = replay.filled(memory_class(3_000), transitions)
    assert len(memory) == 2_500
    batch = memory.sample(64, np.random.default_rng(0))
    assert batch.obs.dtype == np.uint8 and batch.obs.shape == (64, 10, 10, 3)
