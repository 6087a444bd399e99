"""Distributed training on Ray Core in the Ape-X shape (Horgan et al. 2018): DQN, DDPG, TD3.

    result = distributed.train("Blob-v0", steps=60_000, seed=0, workers=2)  # a whole run
    result = distributed.resume(result.run_dir, steps=80_000)             # going on

A run is `agents.training`'s (the same run dir, TensorBoard log, validation, checkpoints,
resume, evaluation and results.json) with its transitions collected by `workers` Ray actors
(`agents.distributed.learner.ApeX`). Without `address`, a local Ray instance is started for the
run and stopped after it; with one (`"auto"`, `"ray://host:10001"`, ...), the run joins that
cluster, whose nodes must have blobenv installed. A Ray already initialised in this process is
used as it is. This package is the only one that imports ray (`pip install -e ".[scale]"`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ray

from agents import training
from agents.distributed.collector import Collector, apex_epsilon
from agents.distributed.learner import ApeX, CollectorsFailed, check_cluster
from agents.run_config import RunConfig

__all__ = [
    "ApeX", "Collector", "CollectorsFailed", "apex_epsilon", "ray_session", "resume", "run",
    "train",
]  # fmt: skip


@contextlib.contextmanager
def ray_session(address: str | None = None, workers: int = 1) -> Iterator[None]:
    """Ray for a run of `workers` collectors: the one running, the one at `address`, or a new one.

    A local instance gets at least `workers` CPUs (collectors take one each, however many
    cores the machine has) and is shut down at the end; so is a connection this opened.

    Raises:
        ValueError: If the cluster at `address` cannot be reached, or has fewer free CPUs than
            collectors (found before anything of the run is made).
    """
    if ray.is_initialized():
        check_cluster(workers)
        yield
        return
    cpus = None if address else max(workers, os.cpu_count() or 1)
    # TensorFlow's start-up lines from every collector would bury the run's progress.
    quiet = {"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "3"}}
    try:
        ray.init(address=address, num_cpus=cpus, include_dashboard=False, runtime_env=quiet)
    except ConnectionError as error:
        raise ValueError(f"cannot join the Ray cluster at {address!r}: {error}") from error
    try:
        check_cluster(workers)
        yield
    finally:
        ray.shutdown()


def train(
    env_id: str = "Blob-v0",
    agent: str = "dqn",
    steps: int | None = None,
    seed: int = 0,
    *,
    workers: int = 2,
    address: str | None = None,
    apex: ApeX | None = None,
    **kwargs: Any,
) -> training.TrainResult:
    """`agents.training.train` with `workers` collectors (see the module docstring).

    Args:
        env_id: As in `training.train`.
        agent: As in `training.train` (one of `run_config.DISTRIBUTED_AGENTS`).
        steps: As in `training.train`.
        seed: As in `training.train`; the collectors' seeds are drawn from it.
        workers: Collector actors, at least 1.
        address: A Ray cluster to join; None starts a local one.
        apex: The learner's settings (default `ApeX(workers)`; its workers must be `workers`).
        **kwargs: The other arguments of `training.train` (`hyper`, `callbacks`, settings).

    Raises:
        ValueError: As `training.train`, or if `workers` < 1 or the cluster is out of reach
            or has fewer free CPUs than collectors; all before training.
        agents.distributed.CollectorsFailed: If the collectors kept failing (the run saved).
    """
    fit = _apex(apex, workers)
    with ray_session(address, workers):
        return training.train(env_id, agent, steps, seed, fit=fit, workers=workers, **kwargs)


def run(
    config: RunConfig, *, address: str | None = None, apex: ApeX | None = None, **kwargs: Any
) -> training.TrainResult:
    """`agents.training.run` of a config with `workers` >= 1 (what train_blob.py runs).

    Raises:
        ValueError: As `train`.
    """
    fit = _apex(apex, config.workers)
    with ray_session(address, config.workers):
        return training.run(config, fit=fit, **kwargs)


def resume(
    run_dir: str | Path,
    steps: int | None = None,
    *,
    workers: int | None = None,
    address: str | None = None,
    apex: ApeX | None = None,
    **kwargs: Any,
) -> training.TrainResult:
    """`agents.training.resume` with collectors: the run's own number, or `workers`.

    Raises:
        ValueError: As `training.resume`, or as `train`.
    """
    workers = workers if workers is not None else training.saved_config(run_dir).workers
    fit = _apex(apex, workers)
    with ray_session(address, workers):
        return training.resume(run_dir, steps, fit=fit, workers=workers, **kwargs)


def _apex(apex: ApeX | None, workers: int) -> ApeX:
    """The fit of a run with `workers` collectors."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1 for a distributed run, got {workers!r}")
    if apex is None:
        return ApeX(workers)
    if apex.workers != workers:
        raise ValueError(f"apex has {apex.workers} workers, the run {workers}")
    return apex
