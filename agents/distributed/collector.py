"""A collector of Ape-X: its own env, a copy of the agent's networks, its own exploration.

The class is plain Python (it never imports ray), so it can be run and tested in one process;
`agents.distributed.learner` makes it a Ray actor. A DQN collector acts with an epsilon of its
own, annealed to it from the agent's first over the agent's schedule (DDPG's and TD3's with the
agent's own noise process), turns its env's steps into the agent's
n-step transitions (as the agent stores them: `storable`) and gives each its TD error under
the weights it acted with: the initial priority Ape-X gives new data.
"""

from __future__ import annotations

import os
import time
from typing import Any, NamedTuple

import numpy as np

from agents.n_step import NStepWindows, StoredRows

#: Ape-X's schedule: collector i of n explores with BASE_EPSILON ** (1 + ALPHA * i / (n - 1)).
BASE_EPSILON, ALPHA = 0.4, 7.0


def apex_epsilon(index: int, count: int) -> float:
    """Collector `index`'s epsilon among `count` (Horgan et al. 2018); 0.4 for a single one."""
    if not 0 <= index < count:
        raise ValueError(f"collector index must be in [0, {count}), got {index}")
    if count == 1:
        return BASE_EPSILON
    return BASE_EPSILON ** (1 + ALPHA * index / (count - 1))


class Chunk(NamedTuple):
    """What one `Collector.collect` call sends the learner.

    Attributes:
        rows: The completed n-step transitions (obs, actions, rewards, next_obs, discounts,
            next_masks), rewards clipped.
        td_errors: Their TD errors under the weights they were collected with.
        env_steps: Transitions taken (env steps of all sub-envs; rows that only reset excluded).
        episodes: (return, length) of each episode that ended, returns unclipped.
        version: The weights' version the collector acted with.
        token: Differs between incarnations of the collector (a restart makes a new one).
        seconds: Wall time of the call.
    """

    rows: StoredRows
    td_errors: np.ndarray
    env_steps: int
    episodes: list[tuple[float, int]]
    version: int
    token: str
    seconds: float


class Collector:
    """Steps a vector env of the run's preset with a copy of the agent, at its own epsilon.

    Args:
        run_config: The run's `agents.run_config.RunConfig` as JSON (`to_json()`).
        index: This collector's index in [0, count).
        count: The number of collectors (for its epsilon, `apex_epsilon`).

    Raises:
        ValueError: If the run's agent gives no TD errors (the DQN, DDPG and TD3 do).
    """

    def __init__(self, run_config: dict[str, Any], index: int, count: int) -> None:
        import tensorflow as tf

        # Collectors share the machine with the learner and each other: one thread each (in
        # a process whose TensorFlow already runs, as in a test, the threads stay as they are).
        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass
        from agents import presets
        from agents.env_driver import EnvDriver
        from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy
        from agents.run_config import RunConfig

        self.config = RunConfig.from_json(run_config).resolved()
        self.index, self.epsilon = index, apex_epsilon(index, count)
        config = self.config
        self.env = presets.make_env(config.agent, config.env_id, config.hyper, **config.env_kwargs)
        self.agent = presets.build(config.agent, self.env, config.hyper, seed=self._seed(()))
        if not hasattr(self.agent, "td_errors"):
            raise ValueError(
                f"distributed training needs an agent that gives TD errors (dqn, ddpg, td3), "
                f"not {config.agent}"
            )
        if self.agent.policy is not None:  # a Q-learner's epsilon; DDPG's noise is its own
            # From the agent's first epsilon down to this collector's, over the agent's
            # schedule: a network that knows nothing yet is not followed greedily.
            hyper = config.hyper
            self.agent.policy = LinearAnnealedPolicy(
                EpsGreedyQPolicy(), "eps", value_max=max(hyper.eps_start, self.epsilon),
                value_min=self.epsilon, value_test=0.0, nb_steps=hyper.eps_steps,
            )  # fmt: skip
        self.agent.training = True
        self.driver = EnvDriver(self.env, None, None, self.agent.uses_action_masks)
        self.agent.check_env(self.driver)
        self.token = f"{os.getpid()}-{time.monotonic_ns()}"
        self.version = -1
        self.incarnation: tuple[int, ...] | None = None

    def _seed(self, incarnation: tuple[int, ...]) -> int:
        """A training seed of this collector and incarnation, below the validation seeds."""
        from agents.scoring import VALIDATION_SEED_START

        entropy = (self.config.seed, self.index, *incarnation)
        return int(np.random.SeedSequence(entropy).generate_state(1)[0]) % VALIDATION_SEED_START

    def _start(self, incarnation: tuple[int, ...]) -> None:
        """Resets the env and the windows with this incarnation's seed."""
        seed = self._seed(incarnation)
        self.agent.seed(seed)
        self.driver.reset(seed=seed)
        memory = self.agent.memory
        self.windows = NStepWindows(memory.n_step, memory.gamma)
        self.returns = np.zeros(self.driver.num_envs)
        self.lengths = np.zeros(self.driver.num_envs, dtype=np.int64)
        self.incarnation = incarnation

    def collect(
        self,
        weights: list[np.ndarray],
        version: int,
        steps: int,
        incarnation: tuple[int, ...] = (0, 0),
        step: int = 0,
    ) -> Chunk:
        """Takes `steps` batched env steps with `weights` (set if `version` is new).

        Args:
            weights: The learner's online weights (`agent.get_weights()`).
            version: Their version; the same version is not set twice.
            steps: Batched env steps (each steps every sub-env once).
            incarnation: The learner's (env steps when its fit began, failures of this
                collector so far): a new value starts new episodes with a new seed, so that
                neither a restarted collector nor a resumed run repeats earlier episodes.
            step: The learner's env steps, for the agent's step-dependent exploration (DDPG's
                random first steps and noise schedule).
        """
        start = time.perf_counter()
        if incarnation != self.incarnation:
            self._start(incarnation)
        if version != self.version:
            self.agent.set_weights(weights)
            self.version = version
        self.agent.step = step
        groups: list[StoredRows] = []
        episodes: list[tuple[float, int]] = []
        env_steps = 0
        driver = self.driver
        for _ in range(steps):
            batch = driver.step(self.agent.act(driver)).valid_rows()
            if not len(batch):
                continue
            env_steps += len(batch)
            rows = batch.env_ids
            self.returns[rows] += batch.rewards
            self.lengths[rows] += 1
            for i in rows[batch.done]:
                episodes.append((float(self.returns[i]), int(self.lengths[i])))
                self.returns[i], self.lengths[i] = 0.0, 0
                self.agent.end_episode(int(i))
            groups.extend(self.windows.push(self.agent.storable(batch)))
        rows = _concatenate(groups)
        return Chunk(
            rows, self.agent.td_errors(rows), env_steps, episodes, self.version, self.token,
            time.perf_counter() - start,
        )  # fmt: skip

    def close(self) -> None:
        """Closes the env."""
        self.env.close()


def _concatenate(groups: list[StoredRows]) -> StoredRows:
    """The groups of completed transitions as one, field by field (empty fields if none)."""
    if not groups:
        return (np.zeros(0),) * 5 + (None,)  # type: ignore[return-value]
    fields = []
    for parts in zip(*groups, strict=True):
        fields.append(None if parts[0] is None else np.concatenate(parts))
    return tuple(fields)  # type: ignore[return-value]
