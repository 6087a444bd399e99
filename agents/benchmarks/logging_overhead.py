"""What logging costs a DQN's `agent.fit`: steps/s without callbacks and with the loggers.

One agent trains on Blob and `fit` calls alternate without callbacks and with
`ModifiedTensorBoard` plus `TrainIntervalLogger` (the same agent, in the same process, so both
see the same machine load). On a busy machine the two rates are noisy; the share of the logged
fit's time spent inside the callbacks' hooks (timed in the same calls) is the steadier figure:
the ratio of the rates is about 1 minus that share.
"""

from __future__ import annotations

import functools
import os
import statistics
import tempfile
import time
from typing import Any

import gymnasium

import blobenv  # noqa: F401  (registers Blob-v0)


def make_dqn(env: Any, seed: int = 0) -> Any:
    """A DQN on the library's default Blob network, training from its first steps.

    Args:
        env: The env the agent will train on (its spaces size the network).
        seed: Seeds Keras's initialisation.

    Returns:
        A compiled `agents.DQNAgent`.
    """
    import keras

    from agents import networks
    from agents.dqn import DQNAgent
    from agents.memory import SequentialMemory
    from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy

    keras.utils.set_random_seed(seed)
    nb_actions = int(env.action_space.n)
    model = networks.blob_cnn(env.observation_space.shape, nb_actions)
    policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), nb_steps=10_000)
    agent = DQNAgent(
        model=model, nb_actions=nb_actions, memory=SequentialMemory(limit=50_000),
        policy=policy, nb_steps_warmup=200, target_model_update=1_000, enable_double_dqn=True,
        enable_dueling_network=True,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(1e-3))
    return agent


def bench_logging_overhead(
    env_id: str = "Blob-v0",
    nb_steps: int = 2_000,
    repeats: int = 4,
    warmup_steps: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Measures `agent.fit` steps/s with and without the logging callbacks.

    One agent is warmed up (compiled steps traced, memory past its warm-up), then `repeats`
    pairs of `fit(nb_steps)` calls run, one without callbacks and one with a
    `ModifiedTensorBoard` (a fresh run directory in a temporary folder) and a
    `TrainIntervalLogger` (its bar written to `os.devnull`); the order within each pair
    alternates so drift in machine load or agent state falls on both equally.

    Args:
        env_id: The Gymnasium id of the env to train on.
        nb_steps: Env steps per timed `fit` call.
        repeats: Timed pairs.
        warmup_steps: Untimed env steps before the first pair.
        seed: Seeds the agent and the env.

    Returns:
        A dict with `plain` and `logged` (lists of steps/s, one per repeat), their means and
        standard deviations (`plain_mean`, `plain_std`, `logged_mean`, `logged_std`), `ratio`
        (logged mean / plain mean), and `callback_share` (seconds inside the callbacks' hooks
        over the seconds of the logged fit calls).

    Raises:
        ValueError: If `nb_steps`, `repeats` < 1 or `warmup_steps` < 0.
    """
    from callbacks import ModifiedTensorBoard, TrainIntervalLogger

    if nb_steps < 1 or repeats < 1 or warmup_steps < 0:
        raise ValueError(
            f"need nb_steps >= 1, repeats >= 1, warmup_steps >= 0; got {nb_steps=}, {repeats=}, "
            f"{warmup_steps=}"
        )
    env = gymnasium.make(env_id)
    agent = make_dqn(env, seed)
    if warmup_steps:
        agent.fit(env, nb_steps=warmup_steps, verbose=0, seed=seed)
    rates: dict[str, list[float]] = {"plain": [], "logged": []}
    hook_seconds = [0.0]
    logged_seconds = 0.0
    with tempfile.TemporaryDirectory() as log_root, open(os.devnull, "w") as devnull:
        for repeat in range(repeats):
            order = ("plain", "logged") if repeat % 2 == 0 else ("logged", "plain")
            for kind in order:
                callbacks = []
                if kind == "logged":
                    tensorboard = ModifiedTensorBoard(name="bench", root_dir=log_root)
                    callbacks = [tensorboard, TrainIntervalLogger(interval=1_000, file=devnull)]
                    for callback in callbacks:
                        _time_hooks(callback, hook_seconds)
                start = time.perf_counter()
                agent.fit(env, nb_steps=nb_steps, callbacks=callbacks, verbose=0)
                if kind == "logged":
                    tensorboard.close()  # part of the cost of logging: the final write
                seconds = time.perf_counter() - start
                rates[kind].append(nb_steps / seconds)
                if kind == "logged":
                    logged_seconds += seconds
    env.close()
    result: dict[str, Any] = dict(rates)
    for kind, values in rates.items():
        result[f"{kind}_mean"] = statistics.fmean(values)
        result[f"{kind}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    result["ratio"] = result["logged_mean"] / result["plain_mean"]
    result["callback_share"] = hook_seconds[0] / logged_seconds
    return result


def _time_hooks(callback: Any, total: list[float]) -> None:
    """Makes every hook `callback`'s class defines add its run time to `total[0]`.

    Only hooks the class itself defines are wrapped, so the agent resolves the same hooks as
    without timing (it skips step hooks a callback does not define).
    """
    import keras

    names = {
        name
        for klass in type(callback).__mro__
        if klass not in (keras.callbacks.Callback, object)
        for name in vars(klass)
        if name.startswith("on_")
    }
    for name in names:
        hook = getattr(callback, name)

        @functools.wraps(hook)
        def timed(*args: Any, _hook: Any = hook) -> Any:
            start = time.perf_counter()
            try:
                return _hook(*args)
            finally:
                total[0] += time.perf_counter() - start

        setattr(callback, name, timed)
