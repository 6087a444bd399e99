"""The Ape-X learner on Ray Core: collectors feed the agent's replay, the agent learns here.

`ApeX(workers)` is a fit function of `agents.training.run`: the run's agent, in this process,
is the learner. Each of the `workers` collectors (`agents.distributed.collector.Collector`, a
Ray actor with one CPU) steps its own vector env of the run's preset with a copy of the
network and its own epsilon, and sends chunks of n-step transitions with their TD errors. The
learner stores each chunk in its prioritized memory with those errors as priorities, runs the
updates the agent's replay ratio makes due (one per `train_interval` env steps, as in one
process: more collectors bring more data per second, never fewer updates per env step) and
publishes its weights with one `ray.put` every `publish_every` updates, which every collector
reads. A collector gets its next chunk to collect as soon as it delivers one, so collection
and learning overlap; the weight lag (updates since the weights a chunk was collected with were
published) is logged per collector.

A collector that dies (a killed process) is restarted by Ray; one whose env raises is killed
and restarted. Either way it goes on with the current weights and new episodes, and the run
counts the restarts and the transitions lost (the failed chunks' env steps, at most).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import keras
import numpy as np
import ray

from agents.callback_list import CallbackList
from agents.distributed.collector import Chunk, Collector, apex_epsilon
from agents.env_driver import EnvDriver
from agents.replay import gradient_steps
from agents.training import FitError

#: How often the learner looks for signals while it waits for a chunk, in seconds.
WAIT_SECONDS = 0.2
#: How long a fit waits for the cluster's CPUs to be free before it gives up.
CPU_WAIT_SECONDS = 10.0


def check_cluster(workers: int) -> None:
    """Checks that Ray runs and has a free CPU for each of `workers` collectors.

    Raises:
        ValueError: If it has fewer free CPUs than collectors (after CPU_WAIT_SECONDS: the
            CPUs of actors just stopped come back in a moment).
    """
    deadline = time.monotonic() + CPU_WAIT_SECONDS
    free = ray.available_resources().get("CPU", 0)
    while free < workers and time.monotonic() < deadline:
        time.sleep(WAIT_SECONDS)
        free = ray.available_resources().get("CPU", 0)
    if free < workers:
        raise ValueError(
            f"{workers} collectors need {workers} CPUs of the Ray cluster; it has {free:g} free"
        )


class CollectorsFailed(FitError):
    """The collectors failed more often than `ApeX.max_failures` allows.

    Attributes:
        results: The distributed figures up to then, as a History's `results`.
    """

    def __init__(self, message: str, results: dict[str, Any]) -> None:
        super().__init__(message)
        self.results = results


class ApeX:
    """Trains the run's agent with `workers` Ray collectors: a fit of `agents.training.run`.

    Args:
        workers: Collector actors, at least 1; each takes one CPU of the Ray cluster.
        chunk_steps: Batched env steps per chunk a collector sends (each steps all of its
            `num_envs` sub-envs).
        publish_every: Updates between two weight broadcasts.
        max_failures: Failed chunks (a collector died or its env raised) after which the run
            stops, saved; default 10 per collector.
        stats_every: Env steps between two points of the `distributed/` TensorBoard scalars.

    Raises:
        ValueError: If a setting is not a positive integer.
    """

    def __init__(
        self,
        workers: int,
        chunk_steps: int = 16,
        publish_every: int = 64,
        max_failures: int | None = None,
        stats_every: int = 2_000,
    ) -> None:
        settings = {"workers": workers, "chunk_steps": chunk_steps}
        settings.update(publish_every=publish_every, stats_every=stats_every)
        settings["max_failures"] = 10 * workers if max_failures is None else max_failures
        for name, value in settings.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        self.workers, self.chunk_steps, self.publish_every = workers, chunk_steps, publish_every
        self.max_failures, self.stats_every = settings["max_failures"], stats_every
        self.epsilons = [apex_epsilon(i, workers) for i in range(workers)]
        self._run: _Run | None = None

    @property
    def collectors(self) -> list[Any]:
        """The Ray actor handles of the fit in progress (empty outside a fit)."""
        return list(self._run.actors) if self._run is not None else []

    @property
    def restarts(self) -> int:
        """Collectors that came back after a failure in the fit in progress (0 outside one)."""
        return self._run.restarts if self._run is not None else 0

    def __call__(
        self,
        config: Any,
        agent: Any,
        env: Any,
        nb_steps: int | None = None,
        nb_episodes: int | None = None,
        callbacks: Sequence[Any] = (),
        verbose: int = 0,
        seed: int | None = None,
        resume: bool = False,
    ) -> keras.callbacks.History:
        """Trains `agent` (the learner) for `nb_steps` env steps or `nb_episodes` episodes.

        The arguments are those of `Agent.fit`, after the run's `config` (its agent, env and
        hyperparameters make the collectors). `env` is the learner's (the collectors step their
        own); `seed` seeds the agent's generator; a resumed run's collectors start new
        episodes. The budget is reached at a chunk's end, so it may be passed by less than
        a chunk (`workers * num_envs * chunk_steps` env steps at most).

        Returns:
            A History with one entry per episode, whose `results` attribute holds the
            distributed figures (for results.json).

        Raises:
            ValueError: If the cluster has fewer free CPUs than collectors.
        """
        check_cluster(self.workers)
        # As `fit` does: the agent checks the env's spaces and keeps what it needs (bounds).
        agent.check_env(EnvDriver(env, None, None, agent.uses_action_masks))
        if seed is not None:
            agent.seed(seed)
        history = keras.callbacks.History()
        num_envs = config.hyper.num_envs
        params = {
            "nb_steps": nb_steps, "nb_episodes": nb_episodes, "verbose": verbose, "mode": "train",
            "num_envs": self.workers * num_envs, "workers": self.workers,
        }  # fmt: skip
        hooks = CallbackList([*callbacks, history], agent, params)
        boards = [cb for cb in hooks.callbacks if callable(getattr(cb, "write_scalars", None))]
        run = self._run = _Run(self, config, agent, hooks, boards, nb_steps, nb_episodes)
        agent.training, agent.stop_training, agent.interrupted = True, False, False
        try:
            hooks.call("on_train_begin", {})
            run.loop()
        except KeyboardInterrupt:
            agent.interrupted = True
        finally:
            agent.training, self._run = False, None
            run.stop()
        hooks.call("on_train_end", {})
        history.results = {"distributed": run.summary()}
        if run.failure is not None:
            raise CollectorsFailed(run.failure, history.results)
        return history


class _Snapshot(NamedTuple):
    """The fit's clock and counters at one moment."""

    time: float
    steps: int
    updates: int
    wait: float


class _Run:
    """One distributed fit: the collectors, the chunks in flight, the counters."""

    def __init__(
        self,
        apex: ApeX,
        config: Any,
        agent: Any,
        hooks: CallbackList,
        boards: list[Any],
        nb_steps: int | None,
        nb_episodes: int | None,
    ) -> None:
        self.apex, self.agent, self.hooks, self.boards = apex, agent, hooks, boards
        self.step_limit = None if nb_steps is None else agent.step + nb_steps
        self.episode_limit = None if nb_episodes is None else agent.episode + nb_episodes
        self.chunk_transitions = apex.chunk_steps * config.hyper.num_envs
        remote = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(Collector)
        run_config = config.to_json()
        self.actors = [remote.remote(run_config, i, apex.workers) for i in range(apex.workers)]
        self.start_step = agent.step
        self.failures = [0] * apex.workers
        self.restarting = [False] * apex.workers
        self.tokens: list[str | None] = [None] * apex.workers
        self.restarts = self.lost = 0
        self.failure: str | None = None
        self.version, self.weights = -1, None
        self.published: dict[int, int] = {}
        self.put_seconds: list[float] = []
        self.pending: dict[Any, int] = {}
        self.wait_seconds = 0.0
        self.collected = [0] * apex.workers
        self.lags: list[list[int]] = [[] for _ in range(apex.workers)]
        # Snapshots at: the start, the first chunk, the first update (past the warm-up: the
        # steady state's start) and the end; `window` starts the TensorBoard scalars' window.
        self.marks: dict[str, _Snapshot] = {}
        self._mark("start")
        self.window = self.marks["start"]

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(time.perf_counter(), self.agent.step, self._updates(), self.wait_seconds)

    def _mark(self, name: str) -> None:
        if name not in self.marks:
            self.marks[name] = self._snapshot()

    def _updates(self) -> int:
        """The learner's gradient steps so far (its (critic's) optimizer's iteration count)."""
        return gradient_steps(self.agent)

    def publish(self) -> None:
        """Puts the current weights in the object store, once, for every collector."""
        began = time.perf_counter()
        self.weights = ray.put(self.agent.get_weights())
        self.put_seconds.append(time.perf_counter() - began)
        self.version += 1
        self.published[self.version] = self._updates()

    def submit(self, index: int) -> None:
        """Asks collector `index` for its next chunk, with the latest weights."""
        incarnation = (self.start_step, self.failures[index])
        call = self.actors[index].collect.remote(
            self.weights, self.version, self.apex.chunk_steps, incarnation, self.agent.step
        )
        self.pending[call] = index

    def loop(self) -> None:
        """Receives chunks, learns from them and hands out new ones until the budget is met."""
        self.publish()
        for index in range(self.apex.workers):
            self.submit(index)
        while not self._done():
            began = time.perf_counter()
            ready: list[Any] = []
            while not ready:  # short waits, so that a signal's handler runs between them
                ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=WAIT_SECONDS)
            self.wait_seconds += time.perf_counter() - began
            index = self.pending.pop(ready[0])
            try:
                chunk = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                if self.restarting[index] and isinstance(error, ray.exceptions.RayActorError):
                    time.sleep(WAIT_SECONDS)  # not back yet from a failure already counted
                    self.submit(index)
                else:
                    self._failed(index, error)
                continue
            self.restarting[index] = False
            self._mark("first chunk")
            self.submit(index)  # it collects the next chunk while this one is learned from
            self._learn(index, chunk)
            if self._updates() > self.marks["start"].updates:
                self._mark("learning")

    def _done(self) -> bool:
        agent = self.agent
        return bool(
            agent.stop_training
            or self.failure is not None
            or (self.step_limit is not None and agent.step >= self.step_limit)
            or (self.episode_limit is not None and agent.episode >= self.episode_limit)
        )

    def _failed(self, index: int, error: Exception) -> None:
        """Counts a lost chunk, restarts its collector if it lives on, and resubmits."""
        self.failures[index] += 1
        self.restarting[index] = True
        self.lost += self.chunk_transitions
        total = sum(self.failures)
        # An exception in the actor (the env's) is the cause; its traceback is in Ray's log.
        origin = getattr(error, "cause", None) or error
        cause = f"{type(origin).__name__}: {' '.join(str(origin).split())[:300]}"
        warnings.warn(
            f"collector {index} failed ({cause}); restarting it ({total} failures so far)",
            stacklevel=2,
        )
        if total > self.apex.max_failures:
            self.failure = (
                f"the collectors failed {total} times (max_failures={self.apex.max_failures}); "
                f"the last: {cause}"
            )
            return
        if isinstance(error, ray.exceptions.RayTaskError):
            # The env raised inside a live actor: a new process, as after a crash.
            ray.kill(self.actors[index], no_restart=False)
        self.submit(index)

    def _learn(self, index: int, chunk: Chunk) -> None:
        """Stores the chunk, runs the updates due, calls the hooks, publishes when due."""
        agent, hooks = self.agent, self.hooks
        if self.tokens[index] is not None and chunk.token != self.tokens[index]:
            self.restarts += 1
        self.tokens[index] = chunk.token
        self.collected[index] += chunk.env_steps
        self.lags[index].append(self._updates() - self.published[chunk.version])
        agent.memory.extend(chunk.rows, chunk.td_errors)
        metrics = agent.learn(chunk.env_steps) if chunk.env_steps else {}
        first = agent.step
        agent.step += chunk.env_steps
        for k in range(chunk.env_steps):
            hooks.call("on_step_begin", first + k, {})
            hooks.call("on_step_end", first + k, dict(metrics))
        for episode_return, length in chunk.episodes:
            hooks.call("on_episode_begin", agent.episode, {})
            logs = {"episode_reward": episode_return, "nb_episode_steps": length}
            logs.update(nb_steps=agent.step, **metrics)
            hooks.call("on_episode_end", agent.episode, logs)
            agent.episode += 1
        hooks.call("on_env_step_end", {})
        if self._updates() - self.published[self.version] >= self.apex.publish_every:
            self.publish()
        if agent.step - self.window.steps >= self.apex.stats_every:
            self._write_stats()

    def _write_stats(self) -> None:
        """Writes the window's `distributed/` scalars at the agent's step, and starts a new one."""
        now, window = self._snapshot(), self.window
        seconds = max(now.time - window.time, 1e-9)
        scalars = {
            "distributed/collect_steps_per_second": (now.steps - window.steps) / seconds,
            "distributed/updates_per_second": (now.updates - window.updates) / seconds,
            "distributed/restarts": self.restarts,
            "distributed/lost_transitions": self.lost,
        }
        for index, lags in enumerate(self.lags):
            if lags:
                scalars[f"distributed/weight_lag/collector_{index}"] = float(np.mean(lags))
        for board in self.boards:
            board.write_scalars(scalars, now.steps)
        self.window = now

    def stop(self) -> None:
        """Stops every collector (their chunks in flight are dropped)."""
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.pending.clear()
        self._mark("end")

    def summary(self) -> dict[str, Any]:
        """The fit's distributed figures, for results.json.

        The rates are those of the steady state: from the first update (past the warm-up,
        with every collector started) to the end.
        """
        start, end = self.marks["start"], self.marks["end"]
        since = self.marks.get("learning", self.marks.get("first chunk", start))
        seconds = max(end.time - since.time, 1e-9)
        return {
            "workers": self.apex.workers,
            # DDPG's and TD3's collectors explore with the agent's own noise, not an epsilon.
            "epsilons": self.apex.epsilons if self.agent.policy is not None else None,
            "env_steps_per_collector": self.collected,
            "startup_seconds": self.marks.get("first chunk", end).time - start.time,
            "collect_steps_per_second": (end.steps - since.steps) / seconds,
            "updates": end.updates - start.updates,
            "updates_per_second": (end.updates - since.updates) / seconds,
            "learner_wait_fraction": (end.wait - since.wait) / seconds,
            "weight_lag_mean": [float(np.mean(lags)) if lags else None for lags in self.lags],
            "weight_broadcasts": self.version + 1,
            "broadcast_seconds_mean": float(np.mean(self.put_seconds)) if self.put_seconds else 0.0,
            "restarts": self.restarts,
            "failed_chunks": sum(self.failures),
            "lost_transitions": self.lost,
        }
