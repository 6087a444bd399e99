"""What one collector and one weight broadcast cost, measured on the running Ray cluster.

The per-unit figures a projection to more collectors needs (`agents.benchmarks.distributed`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import ray

from agents.distributed.collector import Collector


@ray.remote(num_cpus=1)
class _Reader:
    """An actor that reads object refs, as collectors read the weights."""

    def read(self, refs: list[Any]) -> float:
        began = time.perf_counter()
        ray.get(refs[0])
        return time.perf_counter() - began


def broadcast_seconds(weights: list[np.ndarray], rounds: int = 20) -> tuple[float, float]:
    """Median seconds of a `ray.put` of `weights` here and of a `ray.get` of them in an actor."""
    reader = _Reader.remote()
    puts, gets = [], []
    try:
        for _ in range(rounds):
            began = time.perf_counter()
            ref = ray.put(weights)
            puts.append(time.perf_counter() - began)
            gets.append(ray.get(reader.read.remote([ref])))
    finally:
        ray.kill(reader)
    return float(np.median(puts)), float(np.median(gets))


def collector_rate(
    run_config: dict[str, Any], weights: list[np.ndarray], chunk_steps: int, seconds: float
) -> float:
    """Env steps/s of one collector actor that no learner holds back (its calls' own time)."""
    collector = ray.remote(num_cpus=1)(Collector).remote(run_config, 0, 2)
    try:
        ref = ray.put(weights)
        ray.get(collector.collect.remote(ref, 0, chunk_steps))  # compiles
        taken = spent = 0.0
        while spent < seconds:
            chunk = ray.get(collector.collect.remote(ref, 0, chunk_steps))
            taken, spent = taken + chunk.env_steps, spent + chunk.seconds
    finally:
        ray.kill(collector)
    return taken / spent
