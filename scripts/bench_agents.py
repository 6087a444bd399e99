"""Agent benchmarks of scripts/bench.py: DQN training against the tutorial's loop, replay, XLA.

Registered in bench.py's table (``python scripts/bench.py --only tutorial,default``); this module
is imported only when one of them runs, as most of them import TensorFlow.

- ``tutorial``: env steps/s of ``DQNAgent.fit`` with ``tutorial_cnn`` (one update of 64 per env
  step) against :class:`TutorialLoop`, the tutorial's loop on the same network.
- ``default``: the same with train_blob.py's default network and settings (``DQNConfig``), the
  agent with one env and with a vector env.
- ``sampling``: batches of 64 per second from full 100,000-transition replay memories.
- ``xla``: the DQN's compiled train step with and without ``jit_compile``, per network.
- ``memory``: the bytes of a 50,000-transition Blob memory and the process's peak resident memory
  (run it last: the peak covers the benchmarks before it).

Work that TensorFlow runs on several threads is timed by the wall clock (CPU time would count
each thread), with the ratio by CPU time beside it as a check that is less moved by other
processes' load; NumPy work is timed by CPU time, as bench.py's env benchmarks. The sides of a
comparison run in alternating rounds; rates and ratios are medians over the rounds.
"""

from __future__ import annotations

import dataclasses
import random
import resource
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from agents.memory import PrioritizedMemory, SequentialMemory
from scripts._training import build_dqn, build_network, prepare
from scripts.bench import DEFAULT_SECONDS, Result, interleaved_rates
from scripts.train_blob import DQNConfig

#: Rounds that the sides of an agent comparison alternate in.
ROUNDS = 5
#: Env steps of each side at the default --seconds, scaled in proportion to it. The tutorial loop
#: runs ~2.5 steps/s with tutorial_cnn on an idle 2-core CPU, hence fixed counts, not seconds.
TUTORIAL_LOOP_STEPS = 30
TUTORIAL_AGENT_STEPS = 250
DEFAULT_AGENT_STEPS = 1_000
#: The default configuration is measured with one env, with this many, and with its own num_envs.
VECTOR_ENVS = 8
#: The tutorial's settings: minibatch, discount, target copy every that many episodes.
MINIBATCH_SIZE = 64
DISCOUNT = 0.99
UPDATE_TARGET_EVERY = 5
SAMPLING_MEMORY_SIZE = 100_000
SIZED_MEMORY = 50_000


class Rates(NamedTuple):
    """A side's rate in each round, per wall-clock second and per CPU second of this process."""

    wall: np.ndarray
    cpu: np.ndarray


def interleaved_work_rates(sides: dict[str, Callable[[], int]], rounds: int) -> dict[str, Rates]:
    """Runs each side's round of work in turn, `rounds` times, timing both clocks.

    Args:
        sides: Name to a function that does one round of work and returns how many units it did.
        rounds: How many rounds to alternate.

    Returns:
        Name to its units per wall second and per CPU second in each round.
    """
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, work in sides.items():
            wall, cpu = time.perf_counter(), time.process_time()
            done = work()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            samples[name].append((done / wall, done / max(cpu, 1e-9)))
    return {name: Rates(*np.array(s).T) for name, s in samples.items()}


def comparison(
    benchmark: str,
    rates: dict[str, Rates],
    unit: str,
    ratio: tuple[str, str],
    label: str,
    target: str = "",
) -> list[Result]:
    """Rows for each side's median wall-clock rate and the ratio of two sides by either clock.

    A ratio is the median of the rounds' ratios: a round's two sides ran back to back, so under
    much the same load from other processes.

    Args:
        benchmark: The benchmark's name.
        rates: Side name to its rates, from :func:`interleaved_work_rates`.
        unit: The rates' unit.
        ratio: (numerator, denominator) side names.
        label: The ratio's name.
        target: What the wall-clock ratio should reach.

    Returns:
        One row per side, then the ratio by wall clock and by CPU time.
    """
    top, bottom = (rates[name] for name in ratio)
    return [
        *(
            Result(benchmark, name, float(np.median(rate.wall)), unit)
            for name, rate in rates.items()
        ),
        Result(benchmark, label, float(np.median(top.wall / bottom.wall)), "x", target),
        Result(benchmark, f"{label} (CPU time)", float(np.median(top.cpu / bottom.cpu)), "x"),
    ]


class TutorialLoop:
    """The tutorial's DQN loop: `predict` to act, `predict` + `predict` + `fit` to learn, per step.

    As in sentdex's tutorial: Q-values of the current state from `model.predict` (then
    eps-greedy), the transition into a deque, and every env step a minibatch sampled from the
    deque, its Q-values from `model.predict` and its next states' from `target_model.predict`,
    the targets set in Python, and one `model.fit`; the target network copied every 5 episodes.
    The networks of `agents.networks` scale pixels themselves, so observations go in unscaled.

    Args:
        model: A Q-network, compiled here as in the tutorial (MSE, Adam(1e-3), accuracy).
        env: The env, reset here.
        seed: Seeds the env's first reset and the loop's sampling.
        epsilon: Exploration probability.
    """

    def __init__(self, model: Any, env: gym.Env, seed: int, epsilon: float = 0.1) -> None:
        import keras

        model.compile(loss="mse", optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
        self.model = model
        self.target_model = keras.models.clone_model(model)
        self.target_model.set_weights(model.get_weights())
        self.replay_memory: deque[tuple[Any, ...]] = deque(maxlen=SIZED_MEMORY)
        self.env, self.epsilon, self.rng = env, epsilon, random.Random(seed)
        self.state, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        self.episodes = 0

    def fill(self, count: int) -> None:
        """Adds `count` random-action transitions without learning (the tutorial's warm-up)."""
        for _ in range(count):
            self._transition(self.env.action_space.sample())

    def run(self, steps: int) -> int:
        """Acts and learns for `steps` env steps; returns `steps`."""
        for _ in range(steps):
            qs = self.model.predict(self.state[None], verbose=0)[0]
            if self.rng.random() < self.epsilon:
                action = self.rng.randrange(len(qs))
            else:
                action = int(np.argmax(qs))
            self._transition(action)
            self.train()
        return steps

    def train(self) -> None:
        """One learning step on a minibatch from the deque."""
        minibatch = self.rng.sample(self.replay_memory, MINIBATCH_SIZE)
        current_states = np.array([transition[0] for transition in minibatch])
        current_qs_list = self.model.predict(current_states, verbose=0)
        new_current_states = np.array([transition[3] for transition in minibatch])
        future_qs_list = self.target_model.predict(new_current_states, verbose=0)
        X, y = [], []
        for index, (state, action, reward, _, done) in enumerate(minibatch):
            new_q = reward if done else reward + DISCOUNT * np.max(future_qs_list[index])
            current_qs = current_qs_list[index]
            current_qs[action] = new_q
            X.append(state)
            y.append(current_qs)
        self.model.fit(
            np.array(X), np.array(y), batch_size=MINIBATCH_SIZE, verbose=0, shuffle=False
        )

    def _transition(self, action: int) -> None:
        new_state, reward, terminated, truncated, _ = self.env.step(action)
        self.replay_memory.append((self.state, action, reward, new_state, terminated))
        if terminated or truncated:
            self.episodes += 1
            if self.episodes % UPDATE_TARGET_EVERY == 0:
                self.target_model.set_weights(self.model.get_weights())
            new_state, _ = self.env.reset()
        self.state = new_state


def fit_round(agent: Any, env: Any, steps: int) -> Callable[[], int]:
    """A round of work: `agent.fit` for `steps` env steps, returning the env steps taken."""

    def work() -> int:
        before = agent.step
        agent.fit(env, nb_steps=steps, verbose=0)
        return agent.step - before

    return work


def _per_round(steps: int, seconds: float) -> int:
    """Env steps per round of a side that runs `steps` at the default budget."""
    return max(1, round(steps * seconds / DEFAULT_SECONDS / ROUNDS))


def _tutorial_loop(network: Any, seed: int) -> TutorialLoop:
    """A tutorial loop on `network` with a full first minibatch, traced (two steps untimed)."""
    loop = TutorialLoop(network, gym.make("Blob-v0"), seed)
    loop.fill(MINIBATCH_SIZE)
    loop.run(2)
    return loop


def tutorial_agent(env: gym.Env) -> Any:
    """A compiled DQNAgent on `tutorial_cnn` with the tutorial's settings, updating from step 64.

    One update of a 64-transition batch per env step, gamma 0.99, eps-greedy with eps 0.1, Adam
    at 1e-3; no double DQN or dueling head (the tutorial has neither).

    Args:
        env: The env it will act in (its spaces size the network).
    """
    import keras

    from agents.dqn import DQNAgent
    from agents.networks import tutorial_cnn
    from agents.policy import EpsGreedyQPolicy

    nb_actions = int(env.action_space.n)
    keras.utils.set_random_seed(0)
    agent = DQNAgent(
        model=tutorial_cnn(env.observation_space.shape, nb_actions), nb_actions=nb_actions,
        memory=SequentialMemory(SIZED_MEMORY, gamma=DISCOUNT), policy=EpsGreedyQPolicy(0.1),
        gamma=DISCOUNT, batch_size=MINIBATCH_SIZE, nb_steps_warmup=MINIBATCH_SIZE,
        train_interval=1, target_model_update=1_000,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(1e-3))
    return agent


def bench_tutorial(seconds: float) -> list[Result]:
    """`DQNAgent.fit` with `tutorial_cnn`, one update of 64 per env step, against the tutorial.

    Args:
        seconds: Budget: the loop runs TUTORIAL_LOOP_STEPS and the agent TUTORIAL_AGENT_STEPS
            env steps at DEFAULT_SECONDS, in proportion otherwise.

    Returns:
        Both env steps/s and their ratio (target: the agent at least 5x).
    """
    import keras

    from agents.networks import tutorial_cnn

    env = gym.make("Blob-v0")
    agent = tutorial_agent(env)
    agent.fit(env, nb_steps=MINIBATCH_SIZE + 5, verbose=0, seed=0)  # warm-up and tracing
    keras.utils.set_random_seed(0)
    loop = _tutorial_loop(tutorial_cnn(env.observation_space.shape, agent.nb_actions), seed=0)
    agent_steps = _per_round(TUTORIAL_AGENT_STEPS, seconds)
    loop_steps = _per_round(TUTORIAL_LOOP_STEPS, seconds)
    sides = {
        "DQNAgent.fit tutorial_cnn": fit_round(agent, env, agent_steps),
        "tutorial loop tutorial_cnn": lambda: loop.run(loop_steps),
    }
    rates = interleaved_work_rates(sides, ROUNDS)
    return comparison("tutorial", rates, "steps/s", tuple(sides), "agent / tutorial loop", ">= 5")


def bench_default(seconds: float) -> list[Result]:
    """train_blob.py's default DQN: `fit` steps/s, with one env and a vector env, and the tutorial.

    The agents are built by train_blob.py's own builder from its `DQNConfig` defaults, env
    included, and measured after their warm-up (so every step updates as the configuration says),
    without train_blob.py's logging callbacks (scripts/bench_callbacks.py measures those); the
    tutorial loop runs on the same network.

    Args:
        seconds: Budget: the agents run DEFAULT_AGENT_STEPS and the loop TUTORIAL_LOOP_STEPS env
            steps at DEFAULT_SECONDS, in proportion otherwise.

    Returns:
        Env steps/s of the agent with 1, VECTOR_ENVS and the default's num_envs, of the
        tutorial loop, and the ratio of the default's to the tutorial loop's.
    """
    import keras

    config = DQNConfig()
    sides: dict[str, Callable[[], int]] = {}
    for num_envs in sorted({1, VECTOR_ENVS, config.num_envs}):
        setup = prepare("dqn", dataclasses.replace(config, num_envs=num_envs), "Blob-v0", {}, 0)
        setup.agent.fit(setup.env, nb_steps=config.warmup + 5 * num_envs, verbose=0, seed=0)
        name = f"DQNAgent.fit {config.network} num_envs={num_envs}"
        name += " (default)" if num_envs == config.num_envs else ""
        sides[name] = fit_round(setup.agent, setup.env, _per_round(DEFAULT_AGENT_STEPS, seconds))
    default_side = next(name for name in sides if name.endswith("(default)"))
    env = gym.make("Blob-v0")
    keras.utils.set_random_seed(0)
    loop = _tutorial_loop(
        build_network(config, env.observation_space.shape, int(env.action_space.n)), seed=0
    )
    loop_side = f"tutorial loop {config.network}"
    loop_steps = _per_round(TUTORIAL_LOOP_STEPS, seconds)
    sides[loop_side] = lambda: loop.run(loop_steps)
    rates = interleaved_work_rates(sides, ROUNDS)
    return comparison(
        "default", rates, "steps/s", (default_side, loop_side), "agent / tutorial loop"
    )


def blob_transitions(count: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """`count` transitions of random play on Blob-v0, from the native vector env.

    Args:
        count: How many.
        seed: Seeds the envs and the actions.

    Returns:
        obs (uint8 images), actions, rewards, next_obs, terminated, truncated, one row each.
    """
    envs = gym.make_vec("Blob-v0", num_envs=min(count, 1_000))
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
    """`memory` with `transitions` appended 1,000 streams at a time, as from a vector env."""
    for start in range(0, len(transitions[0]), 1_000):
        memory.append_batch(*(column[start : start + 1_000] for column in transitions))
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
                memory.sample(MINIBATCH_SIZE, rng)
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
            Result("sampling", f"{name} batches of 64/s", rate, "1/s")
            for name, rate in rates.items()
        ),
        Result("sampling", "PrioritizedMemory time / SequentialMemory time", ratio, "x", "<= 3"),
    ]


def bench_xla(seconds: float) -> list[Result]:
    """The DQN's fused train step compiled with and without XLA, for both Blob networks.

    The step is the agent's own (`DQNAgent._train_steps`, what `fit` runs), wrapped in
    `tf.function(jit_compile=...)` here, on one fixed batch of 64: tutorial_cnn with the tutorial
    comparison's settings, blob_cnn with train_blob.py's defaults.

    Args:
        seconds: Wall time of each measurement.

    Returns:
        Per network: updates/s without and with XLA and their ratio.
    """
    import tensorflow as tf

    config = DQNConfig()
    env = gym.make("Blob-v0")
    space, nb_actions = env.observation_space, int(env.action_space.n)
    memory = filled(SequentialMemory(1_000), blob_transitions(1_000))
    batch = [array[None] for array in memory.sample(MINIBATCH_SIZE, np.random.default_rng(0))]
    agents = {
        "tutorial_cnn": tutorial_agent(env),
        config.network: build_dqn(config, space, nb_actions, seed=0),
    }
    results = []
    for network, agent in agents.items():
        sides = {}
        for label, jit in (("XLA", True), ("no XLA", False)):
            step = tf.function(agent._train_steps, jit_compile=jit)
            step(*batch[:6])  # traces and compiles
            sides[f"{network} train step, {label}"] = _calls_for(step, batch[:6], seconds / ROUNDS)
        rates = interleaved_work_rates(sides, ROUNDS)
        results += comparison("xla", rates, "updates/s", tuple(sides), f"{network} XLA / no XLA")
    return results


def _calls_for(fn: Callable[..., Any], args: list[Any], seconds: float) -> Callable[[], int]:
    """A round of work: calls `fn(*args)` for `seconds` of wall time, returning the calls made."""

    def work() -> int:
        calls, deadline = 0, time.perf_counter() + seconds
        while calls == 0 or time.perf_counter() < deadline:
            fn(*args)[0].numpy()  # waits for the update to finish
            calls += 1
        return calls

    return work


def bench_memory(seconds: float) -> list[Result]:
    """Bytes of a 50,000-transition Blob replay memory; the process's peak resident memory.

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


BENCHMARKS: dict[str, Callable[[float], list[Result]]] = {
    "tutorial": bench_tutorial,
    "default": bench_default,
    "sampling": bench_sampling,
    "xla": bench_xla,
    "memory": bench_memory,
}
