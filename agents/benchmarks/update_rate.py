"""The DQN's updates per second inside `fit`, with and without XLA, and beside SB3's DQN.

- `bench_updates`: updates of 64 per second of train_blob.py's default DQN (the preset of
  Blob-v0: one update per env step, so updates/s are env steps/s), compiled with XLA (its
  default, `jit_compile="auto"`) and without, and in rounds of 32 env steps; then, on
  CartPole-v1, the MLP of its preset (256 x 2) in a plain DQN (no double, no dueling, uniform
  replay, hard target copies: SB3's algorithm), batch 64, one gradient step per env step, with
  1 env and with 8, and with 1 env in rounds of 4 env steps (`train_freq=4`: 4 updates a
  call), beside Stable-Baselines3's DQN in the same configuration when the `[compare]` extra
  is installed.

Both sides run `fit` (SB3: `learn`) past their warm-up, in alternating rounds, timed by the wall
clock; a round's updates are its env steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

import blobenv  # noqa: F401  (registers the Blob ids)
from agents import presets
from agents.benchmarks import dqn
from agents.benchmarks.measure import (
    DEFAULT_SECONDS,
    Result,
    comparison,
    interleaved_work_rates,
    ratio_rows,
)

ROUNDS = 5
#: Env steps of a side's round at DEFAULT_SECONDS (about a second each at 1,000 steps/s).
ROUND_STEPS = 1_000
WARMUP = 1_000
MLP_ENV_ID = "CartPole-v1"
#: Env steps per round of the Blob default's rounds row (`train_freq`).
BLOB_TRAIN_FREQ = 32
#: (num_envs, train_freq) of each MLP comparison.
MLP_SETTINGS = ((1, 1), (1, 4), (8, 1))


def blob_config() -> presets.DQNConfig:
    """train_blob.py's default DQN: the preset of Blob-v0."""
    return presets.config("dqn", "Blob-v0")


def plain_mlp_config(num_envs: int, train_freq: int = 1) -> presets.DQNConfig:
    """CartPole-v1's preset as SB3's DQN runs: no double, dueling or PER, hard target copies."""
    return dataclasses.replace(
        presets.config("dqn", MLP_ENV_ID),
        double=False, dueling=False, prioritized=False, target_update=10_000,
        warmup=WARMUP, num_envs=num_envs, train_interval=1, train_freq=train_freq,
    )  # fmt: skip


def bench_updates(seconds: float) -> list[Result]:
    """Updates per second: the default Blob DQN with and without XLA; the MLP beside SB3's.

    Args:
        seconds: Budget: each side's round runs ROUND_STEPS env steps at DEFAULT_SECONDS, in
            proportion otherwise.

    Returns:
        The Blob rows (target: >= 1,000 updates/s with XLA), then per MLP env count our rate,
        SB3's where installed, and their ratio (target: >= 2x).
    """
    steps = max(1, round(ROUND_STEPS * seconds / DEFAULT_SECONDS))
    blob = blob_config()
    on, off = "Blob default, XLA on", "Blob default, XLA off"
    rounds = f"{on}, train_freq {BLOB_TRAIN_FREQ}"
    configs = {
        on: dataclasses.replace(blob, jit_compile="on"),
        off: dataclasses.replace(blob, jit_compile="off"),
        rounds: dataclasses.replace(blob, train_freq=BLOB_TRAIN_FREQ),
    }
    sides = {name: _our_round("Blob-v0", config, steps) for name, config in configs.items()}
    rates = interleaved_work_rates(sides, ROUNDS)
    results = comparison("updates", rates, "updates/s", (on, off), "XLA on / off")
    results[0] = results[0]._replace(target=">= 1,000")
    label = f"train_freq {BLOB_TRAIN_FREQ} / {blob.train_freq}"
    results += ratio_rows("updates", rates, (rounds, on), label)
    for num_envs, train_freq in MLP_SETTINGS:
        name = mlp_name(num_envs, train_freq)
        config = plain_mlp_config(num_envs, train_freq)
        sides = {f"{name}, ours": _our_round(MLP_ENV_ID, config, steps)}
        sb3 = _sb3_round(config, steps)
        if sb3 is not None:
            sides[f"{name}, SB3"] = sb3
        rates = interleaved_work_rates(sides, ROUNDS)
        if sb3 is None:
            ours = float(np.median(rates[f"{name}, ours"].wall))
            results.append(Result("updates", f"{name}, ours", ours, "updates/s", "no SB3"))
        else:
            results += comparison("updates", rates, "updates/s", tuple(sides), "ours / SB3", ">= 2")
    return results


def mlp_name(num_envs: int, train_freq: int) -> str:
    """The row name of the MLP comparison with `num_envs` envs and rounds of `train_freq`."""
    name = f"MLP 256x2 {MLP_ENV_ID}, {num_envs} env{'s' if num_envs > 1 else ''}"
    return name + (f", train_freq {train_freq}" if train_freq > 1 else "")


def _our_round(env_id: str, config: Any, steps: int) -> Callable[[], int]:
    """A round of our agent's `fit` of `steps` env steps, built and warmed up first."""
    env = presets.make_env("dqn", env_id, config)
    agent = presets.build("dqn", env, config, seed=0)
    agent.fit(env, nb_steps=config.warmup + 2 * steps, verbose=0, seed=0)  # traces, compiles
    return dqn.fit_round(agent, env, steps)


def _sb3_round(config: presets.DQNConfig, steps: int) -> Callable[[], int] | None:
    """A round of SB3's `learn` on a plain MLP config; None without the `[compare]` extra."""
    from agents.benchmarks.suite import sb3_version

    if sb3_version() is None:
        return None
    from agents.benchmarks.sb3_baseline import dqn_learner

    return dqn_learner(MLP_ENV_ID, config, steps)
