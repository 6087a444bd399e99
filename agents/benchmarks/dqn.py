"""DQN speed: `DQNAgent.fit` against the tutorial's loop, and its train step with and without XLA.

- `bench_tutorial`: env steps/s of `DQNAgent.fit` with `tutorial_cnn` (one update of 64 per env
  step) against `TutorialLoop`, the tutorial's loop on the same network.
- `bench_default`: the same with train_blob.py's default network and settings (the preset of
  Blob-v0), the agent with one env and with vector envs.
- `bench_xla`: the DQN's compiled train step with and without `jit_compile`, per network.

TensorFlow runs this work on several threads, so it is timed by the wall clock (CPU time would
count each thread), with the ratio by CPU time beside it as a check that is less moved by other
processes' load. The sides of a comparison run in alternating rounds; rates and ratios are
medians over the rounds.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

import blobenv  # noqa: F401  (registers the Blob ids)
from agents import presets
from agents.benchmarks import replay, tutorial_loop
from agents.benchmarks.measure import DEFAULT_SECONDS, Result, comparison, interleaved_work_rates
from agents.memory import SequentialMemory

ENV_ID = "Blob-v0"
#: Rounds that the sides of a comparison alternate in.
ROUNDS = 5
#: Env steps of each side at DEFAULT_SECONDS, scaled in proportion to the budget. The tutorial
#: loop runs ~2.5 steps/s with tutorial_cnn on an idle 2-core CPU, hence fixed counts, not seconds.
TUTORIAL_LOOP_STEPS = 30
TUTORIAL_AGENT_STEPS = 250
DEFAULT_AGENT_STEPS = 1_000
#: The default configuration is measured with one env, with this many, and with its own num_envs.
VECTOR_ENVS = 8


def default_config() -> presets.DQNConfig:
    """train_blob.py's default DQN: the preset of Blob-v0."""
    return presets.config("dqn", ENV_ID)


def tutorial_agent(env: gym.Env) -> Any:
    """A compiled DQNAgent on `tutorial_cnn` with the tutorial's settings, updating from step 64.

    One update of a 64-transition batch per env step, gamma 0.99, eps-greedy with eps 0.1, Adam
    at 1e-3; no double DQN or dueling head (the tutorial has neither).

    Args:
        env: The env it will act in (its spaces size the network).

    Returns:
        The agent.
    """
    import keras

    from agents import networks
    from agents.dqn import DQNAgent
    from agents.policy import EpsGreedyQPolicy

    nb_actions = int(env.action_space.n)
    batch, gamma = tutorial_loop.MINIBATCH_SIZE, tutorial_loop.DISCOUNT
    keras.utils.set_random_seed(0)
    agent = DQNAgent(
        model=networks.tutorial_cnn(env.observation_space.shape, nb_actions),
        nb_actions=nb_actions,
        memory=SequentialMemory(tutorial_loop.REPLAY_MEMORY_SIZE, gamma=gamma),
        policy=EpsGreedyQPolicy(0.1), gamma=gamma, batch_size=batch, nb_steps_warmup=batch,
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

    from agents import networks

    env = gym.make(ENV_ID)
    agent = tutorial_agent(env)
    warmup = tutorial_loop.MINIBATCH_SIZE + 5
    agent.fit(env, nb_steps=warmup, verbose=0, seed=0)  # warm-up and tracing
    keras.utils.set_random_seed(0)
    model = networks.tutorial_cnn(env.observation_space.shape, agent.nb_actions)
    loop = tutorial_loop.warmed_up(model, gym.make(ENV_ID), seed=0)
    agent_steps = _per_round(TUTORIAL_AGENT_STEPS, seconds)
    loop_steps = _per_round(TUTORIAL_LOOP_STEPS, seconds)
    sides = {
        "DQNAgent.fit tutorial_cnn": fit_round(agent, env, agent_steps),
        "tutorial loop tutorial_cnn": lambda: loop.run(loop_steps),
    }
    rates = interleaved_work_rates(sides, ROUNDS)
    return comparison("tutorial", rates, "steps/s", tuple(sides), "agent / tutorial loop", ">= 5")


def bench_default(seconds: float) -> list[Result]:
    """train_blob.py's default DQN: `fit` steps/s, with one env and vector envs, and the tutorial.

    The agents and their training envs are built by `agents.presets` from `default_config`, and
    measured after their warm-up (so every step updates as the configuration says), without
    train_blob.py's logging callbacks (`logging_overhead` measures those); the tutorial loop
    runs on the same network.

    Args:
        seconds: Budget: the agents run DEFAULT_AGENT_STEPS and the loop TUTORIAL_LOOP_STEPS env
            steps at DEFAULT_SECONDS, in proportion otherwise.

    Returns:
        Env steps/s of the agent with 1, VECTOR_ENVS and the default's num_envs, of the
        tutorial loop, and the ratio of the default's to the tutorial loop's.
    """
    import keras

    from agents import networks

    config = default_config()
    sides: dict[str, Callable[[], int]] = {}
    for num_envs in sorted({1, VECTOR_ENVS, config.num_envs}):
        side_config = dataclasses.replace(config, num_envs=num_envs)
        env = presets.make_env("dqn", ENV_ID, side_config)
        agent = presets.build("dqn", env, side_config, seed=0)
        agent.fit(env, nb_steps=config.warmup + 5 * num_envs, verbose=0, seed=0)
        name = f"DQNAgent.fit {config.network} num_envs={num_envs}"
        name += " (default)" if num_envs == config.num_envs else ""
        sides[name] = fit_round(agent, env, _per_round(DEFAULT_AGENT_STEPS, seconds))
    default_side = next(name for name in sides if name.endswith("(default)"))
    env = gym.make(ENV_ID)
    keras.utils.set_random_seed(0)
    model = networks.build(
        config.network, env.observation_space.shape, int(env.action_space.n), config.hidden_units
    )
    loop = tutorial_loop.warmed_up(model, env, seed=0)
    loop_side = f"tutorial loop {config.network}"
    loop_steps = _per_round(TUTORIAL_LOOP_STEPS, seconds)
    sides[loop_side] = lambda: loop.run(loop_steps)
    rates = interleaved_work_rates(sides, ROUNDS)
    return comparison(
        "default", rates, "steps/s", (default_side, loop_side), "agent / tutorial loop"
    )


def bench_xla(seconds: float) -> list[Result]:
    """The DQN's fused train step compiled with and without XLA, for both Blob networks.

    The step is the agent's own (`DQNAgent._train_steps`, what `fit` runs), wrapped in
    `tf.function(jit_compile=...)` here, on one fixed batch of 64: tutorial_cnn with the tutorial
    comparison's settings, the default network with train_blob.py's defaults.

    Args:
        seconds: Wall time of each measurement.

    Returns:
        Per network: updates/s without and with XLA and their ratio.
    """
    import tensorflow as tf

    config = default_config()
    env = gym.make(ENV_ID)
    memory = replay.filled(SequentialMemory(1_000), replay.blob_transitions(1_000))
    sample = memory.sample(tutorial_loop.MINIBATCH_SIZE, np.random.default_rng(0))
    batch = [*(array[None] for array in sample[:6]), None, np.int32(1)]
    by_network = {
        "tutorial_cnn": tutorial_agent(env),
        config.network: presets.build("dqn", env, config, seed=0),
    }
    results = []
    for network, agent in by_network.items():
        sides = {}
        for label, jit in (("XLA", True), ("no XLA", False)):
            step = tf.function(agent._train_steps, jit_compile=jit)
            step(*batch)  # traces and compiles
            sides[f"{network} train step, {label}"] = _calls_for(step, batch, seconds / ROUNDS)
        rates = interleaved_work_rates(sides, ROUNDS)
        results += comparison("xla", rates, "updates/s", tuple(sides), f"{network} XLA / no XLA")
    return results


def _per_round(steps: int, seconds: float) -> int:
    """Env steps per round of a side that runs `steps` at the default budget."""
    return max(1, round(steps * seconds / DEFAULT_SECONDS / ROUNDS))


def fit_round(agent: Any, env: Any, steps: int) -> Callable[[], int]:
    """A round of work: `agent.fit` for `steps` env steps, returning the env steps taken."""

    def work() -> int:
        before = agent.step
        agent.fit(env, nb_steps=steps, verbose=0)
        return agent.step - before

    return work


def _calls_for(fn: Callable[..., Any], args: list[Any], seconds: float) -> Callable[[], int]:
    """A round of work: calls `fn(*args)` for `seconds` of wall time, returning the calls made."""

    def work() -> int:
        calls, deadline = 0, time.perf_counter() + seconds
        while calls == 0 or time.perf_counter() < deadline:
            fn(*args)[0].numpy()  # waits for the update to finish
            calls += 1
        return calls

    return work
