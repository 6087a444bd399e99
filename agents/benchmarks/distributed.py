"""Ape-X on Ray beside the single-process DQN, and the costs a projection to more nodes needs.

`bench_distributed` measures, on train_blob.py's default (the preset of Blob-v0):

- the single-process `fit`'s env steps/s past its warm-up (one update per env step);
- `agents.distributed.ApeX` with 1 and 2 collectors: collection env steps/s and learner
  updates/s in the steady state (past the warm-up), the learner's share of time spent waiting
  for data, and the weight lag (updates between a broadcast and the chunks collected with it);
- one collector alone (a `Collector` actor, timed by its own calls): the collection rate a
  collector has when no learner holds it back;
- one weight broadcast: the weights' bytes, `ray.put` and a `ray.get` of them in an actor.

Without Ray (the `[scale]` extra), it returns one row saying so.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import numpy as np

import blobenv  # noqa: F401  (registers the Blob ids)
from agents import presets
from agents.benchmarks import dqn
from agents.benchmarks.measure import DEFAULT_SECONDS, Result
from agents.run_config import RunConfig

ENV_ID = "Blob-v0"
#: Env steps past the warm-up of each distributed fit at DEFAULT_SECONDS.
STEADY_STEPS = 8_000
WORKERS = (1, 2)
#: Broadcasts timed, and batched env steps per timed collector chunk.
BROADCASTS, COLLECTOR_CHUNK = 20, 16


def bench_distributed(seconds: float) -> list[Result]:
    """The rows described in the module docstring.

    Args:
        seconds: Budget: the fits run STEADY_STEPS env steps past the warm-up at
            DEFAULT_SECONDS, in proportion otherwise.
    """
    if importlib.util.find_spec("ray") is None:
        return [Result("distributed", "Ape-X", float("nan"), "", "no Ray ([scale] extra)")]
    from agents import distributed

    steps = max(1_000, round(STEADY_STEPS * seconds / DEFAULT_SECONDS))
    config = RunConfig(env_id=ENV_ID).resolved()
    hyper = config.hyper
    single = _single_process_rate(hyper, steps)
    results = [Result("distributed", "single process: env steps/s = updates/s", single, "1/s")]
    with distributed.ray_session(None, max(WORKERS)):
        for workers in WORKERS:
            figures = _apex_figures(config, workers, hyper.warmup + steps)
            name = f"{workers} collector{'s' if workers > 1 else ''}"
            results += [
                Result("distributed", f"{name}: collection env steps/s",
                       figures["collect_steps_per_second"], "1/s"),
                Result("distributed", f"{name}: learner updates/s",
                       figures["updates_per_second"], "1/s"),
                Result("distributed", f"{name}: learner waiting for data",
                       100 * figures["learner_wait_fraction"], "%"),
                Result("distributed", f"{name}: weight lag",
                       float(np.mean(figures["weight_lag_mean"])), "updates"),
                Result("distributed", f"{name} / single process: env steps/s",
                       figures["collect_steps_per_second"] / single, "x"),
            ]  # fmt: skip
        results += _broadcast_rows(config)
        results.append(_collector_row(config))
    return results


def _single_process_rate(hyper: Any, steps: int) -> float:
    """The default's `fit` env steps/s past its warm-up, in this process."""
    env = presets.make_env("dqn", ENV_ID, hyper)
    try:
        agent = presets.build("dqn", env, hyper, seed=0)
        agent.fit(env, nb_steps=hyper.warmup + 1_000, verbose=0, seed=0)  # compiles
        run = dqn.fit_round(agent, env, steps)
        began = time.perf_counter()
        done = run()
        return done / (time.perf_counter() - began)
    finally:
        env.close()


def _apex_figures(config: RunConfig, workers: int, steps: int) -> dict[str, Any]:
    """The summary of a distributed fit of `steps` env steps from a fresh agent."""
    from agents import distributed

    run = RunConfig(env_id=ENV_ID, workers=workers, hyper=config.hyper).resolved()
    env = presets.make_env("dqn", ENV_ID, config.hyper)
    try:
        agent = presets.build("dqn", env, config.hyper, seed=0)
        history = distributed.ApeX(workers)(run, agent, env, nb_steps=steps, seed=0)
    finally:
        env.close()
    return history.results["distributed"]


def _broadcast_rows(config: RunConfig) -> list[Result]:
    """The weights' size, and the seconds of a `ray.put` and of a `ray.get` in an actor."""
    from agents.distributed import costs

    weights = _initial_weights(config)
    put, get = costs.broadcast_seconds(weights, BROADCASTS)
    size = sum(w.nbytes for w in weights)
    return [
        Result("distributed", "one broadcast: weights", size / 1e3, "kB"),
        Result("distributed", "one broadcast: ray.put", 1e3 * put, "ms"),
        Result("distributed", "one broadcast: ray.get in an actor", 1e3 * get, "ms"),
    ]


def _collector_row(config: RunConfig) -> Result:
    """One collector's env steps/s when no learner holds it back."""
    from agents.distributed import costs

    weights = _initial_weights(config)
    rate = costs.collector_rate(config.to_json(), weights, COLLECTOR_CHUNK, 3.0)
    return Result("distributed", "one collector alone: env steps/s", rate, "1/s")


def _initial_weights(config: RunConfig) -> list[np.ndarray]:
    """The initial weights of the run's agent."""
    env = presets.make_env("dqn", ENV_ID, config.hyper)
    try:
        return presets.build("dqn", env, config.hyper, seed=0).get_weights()
    finally:
        env.close()
