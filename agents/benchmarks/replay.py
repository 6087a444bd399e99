"""Replay memories: batches sampled per second, and bytes held, on transitions of Blob.

Sampling is NumPy work, timed by this process's CPU time as the env benchmarks are.
"""

from __future__ import annotations

import resource
import sys
import time

import gymnasium as gym
import numpy as np

import blobenv  # noqa: F401  (registers the Blob ids)
from agents.benchmarks.measure import Result, interleaved_rates
from agents.memory import PrioritizedMemory, SequentialMemory
from agents.transitions import TransitionBatch

#: Transitions per sampled batch.
BATCH_SIZE = 64
#: Capacity (and fill) of the memories sampled from.
SAMPLING_MEMORY_SIZE = 100_000
#: Transitions of the memory whose bytes are reported.
SIZED_MEMORY = 50_000
#: Streams appended at a time, as from a vector env of this many sub-envs.
STREAMS = 1_000


def blob_transitions(count: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """`count` transitions of random play on Blob-v0, from the native vector env.

    Args:
        count: How many.
        seed: Seeds the envs and the actions.

    Returns:
        obs (uint8 images), actions, rewards, next_obs, terminated, truncated, one row each.
    """
    envs = gym.make_vec("Blob-v0", num_envs=min(count, STREAMS))
    obs, _ = envs.reset(seed=seed)
    envs.action_space.seed(seed)
    resetting = np.zeros(envs.num_envs, dtype=bool)
    rows: list[tuple[np.ndarray, ...]] = []
    while sum(len(row[0]) for row in rows) < count:
        actions = envs.action_space.sample()
        next_obs, rewards, terminated, truncated, _ = envs.step(actions)
        # The step after an episode's end only resets that sub-env (Gymnasium's default mode).
        row = (obs, actions, rewards, next_obs, terminated, truncated)
        rows.append(tuple(column[~resetting] for column in row))
        obs, resetting = next_obs, terminated | truncated
    envs.close()
    return tuple(np.concatenate(column)[:count] for column in zip(*rows, strict=True))


def filled(memory: SequentialMemory, transitions: tuple[np.ndarray, ...]) -> SequentialMemory:
    """`memory` with `transitions` appended `STREAMS` at a time, as from a vector env.

    Args:
        memory: The memory to fill.
        transitions: Columns as `blob_transitions` returns them.

    Returns:
        `memory`.
    """
    for start in range(0, len(transitions[0]), STREAMS):
        memory.append(TransitionBatch(*(column[start : start + STREAMS] for column in transitions)))
    return memory


def bench_sampling(seconds: float) -> list[Result]:
    """Batches of 64 sampled from full 100,000-transition Sequential and Prioritized memories.

    The prioritized memory's priorities are set from random TD errors first, as in training.

    Args:
        seconds: CPU time of each memory's measurement.

    Returns:
        Both rates and the ratio of their sampling times (target: PER at most 3x).
    """
    transitions = blob_transitions(SAMPLING_MEMORY_SIZE)
    uniform = filled(SequentialMemory(SAMPLING_MEMORY_SIZE), transitions)
    prioritized = filled(PrioritizedMemory(SAMPLING_MEMORY_SIZE), transitions)
    rng = np.random.default_rng(0)
    prioritized.update_priorities(
        np.arange(SAMPLING_MEMORY_SIZE), rng.standard_normal(SAMPLING_MEMORY_SIZE)
    )

    def sampling_rate(memory: SequentialMemory, budget: float) -> float:
        calls, start = 0, time.process_time()
        while (elapsed := time.process_time() - start) < budget:
            for _ in range(50):
                memory.sample(BATCH_SIZE, rng)
            calls += 50
        return calls / elapsed

    rates = interleaved_rates(
        {
            "SequentialMemory": lambda s: sampling_rate(uniform, s),
            "PrioritizedMemory": lambda s: sampling_rate(prioritized, s),
        },
        seconds,
    )
    ratio = rates["SequentialMemory"] / rates["PrioritizedMemory"]
    return [
        *(
            Result("sampling", f"{name} batches of {BATCH_SIZE}/s", rate, "1/s")
            for name, rate in rates.items()
        ),
        Result("sampling", "PrioritizedMemory time / SequentialMemory time", ratio, "x", "<= 3"),
    ]


def bench_memory(seconds: float) -> list[Result]:
    """Bytes of a 50,000-transition Blob replay memory; the process's peak resident memory.

    Run it last: the peak covers everything the process did before.

    Args:
        seconds: Unused (nothing here is timed); for the benchmark table's signature.

    Returns:
        The memory's size and the peak resident set size so far, in MiB.
    """
    memory = filled(SequentialMemory(SIZED_MEMORY), blob_transitions(SIZED_MEMORY))
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak *= 1 if sys.platform == "darwin" else 1024
    return [
        Result(
            "memory",
            f"SequentialMemory of {SIZED_MEMORY:,} Blob transitions",
            memory.nbytes / 2**20,
            "MiB",
        ),
        Result("memory", "peak resident memory of this process", peak / 2**20, "MiB"),
    ]
