"""Stable-Baselines3 with the RL Zoo's hyperparameters (DQN, DDPG, TD3, PPO): bench_suite's peer.

Imports stable_baselines3 (the `[compare]` extra); `agents.benchmarks.suite` imports this module
only when it is installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import stable_baselines3
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import NormalActionNoise

from agents.benchmarks.zoo import ZOO


class GreedyPolicy:
    """An SB3 model as `agents.evaluation.evaluate` takes an agent: greedy actions in a batch."""

    def __init__(self, model: Any):
        self.model = model
        self.training = False

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """The model's deterministic action for each observation."""
        return self.model.predict(obs, deterministic=True)[0]


class _Curve(BaseCallback):
    """Records a learning-curve point every `every` env steps, its own time left out."""

    def __init__(self, evaluate: Callable[[Any], dict[str, Any]], every: int):
        super().__init__()
        self.evaluate, self.every = evaluate, every
        self.points: list[dict[str, Any]] = []
        self.evaluation_seconds, self.start, self._next = 0.0, 0.0, every

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()
        self._next = self.every
        self._record()

    def _on_step(self) -> bool:
        # A vector env's step counts num_envs env steps: the first step at or past each point.
        if self.num_timesteps >= self._next:
            self._record()
            self._next += self.every * (1 + (self.num_timesteps - self._next) // self.every)
        return True

    def _on_training_end(self) -> None:
        if not self.points or self.points[-1]["steps"] != self.num_timesteps:
            self._record()

    def train_seconds(self) -> float:
        """Wall time since training started, the curve's evaluations left out."""
        return time.perf_counter() - self.start - self.evaluation_seconds

    def _record(self) -> None:
        began = time.perf_counter()
        point = {"steps": self.num_timesteps, "seconds": self.train_seconds()}
        self.points.append({**point, **self.evaluate(GreedyPolicy(self.model))})
        self.evaluation_seconds += time.perf_counter() - began


def train_sb3(
    agent: str,
    env_id: str,
    steps: int,
    seed: int,
    every: int,
    evaluate: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """Trains SB3's algorithm of `agent` with the RL Zoo's hyperparameters, recording its curve.

    Args:
        agent: "dqn", "ddpg", "td3" or "ppo" (SB3's DQN, DDPG, TD3, PPO).
        env_id: An id the RL Zoo has that algorithm's row for (`agents.benchmarks.zoo`).
        steps: Env steps to train.
        seed: Seeds SB3 (its networks, exploration and env).
        every: Env steps between curve points.
        evaluate: Maps a greedy policy to the figures of a curve point.

    Returns:
        `env_steps`, `train_seconds` (curve evaluations left out), `gradient_steps`, `curve`
        and `model` (the last one, which is what SB3's `learn` leaves).

    Raises:
        ValueError: If the RL Zoo has no row of that algorithm for `env_id`.
    """
    algorithm, rows = ZOO.get(agent, (agent.upper(), {}))
    if env_id not in rows:
        raise ValueError(f"the RL Zoo has no {algorithm} row for {env_id!r}; it has {sorted(rows)}")
    kwargs = dict(rows[env_id])
    n_envs = kwargs.pop("n_envs", 1)
    env = make_vec_env(env_id, n_envs, seed=seed) if n_envs > 1 else gymnasium.make(env_id)
    noise_std = kwargs.pop("noise_std", None)
    if noise_std is not None:
        size = env.action_space.shape[0]
        kwargs["action_noise"] = NormalActionNoise(np.zeros(size), noise_std * np.ones(size))
    for name, value in kwargs.items():
        if isinstance(value, str) and value.startswith("lin_"):
            kwargs[name] = _linear(float(value.removeprefix("lin_")))
    model = getattr(stable_baselines3, algorithm)(
        "MlpPolicy", env, seed=seed, device="cpu", verbose=0, **kwargs
    )
    curve = _Curve(evaluate, every)
    model.learn(total_timesteps=steps, callback=curve)
    env.close()
    return {
        "env_steps": int(model.num_timesteps),
        "train_seconds": curve.train_seconds(),
        "gradient_steps": int(model._n_updates),
        "curve": curve.points,
        "model": model,
    }


def dqn_learner(env_id: str, config: Any, steps: int) -> Callable[[], int]:
    """SB3's DQN in the configuration of one of our `DQNConfig`s, for speed: rounds of `learn`.

    The same MLP (`config.hidden_units` x 2 ReLU), batch, learning rate, gamma, replay size,
    warm-up and hard target interval, `config.num_envs` envs and one gradient step per env
    step (`gradient_steps=-1`), every `config.train_freq` env steps (SB3 counts its
    `train_freq` in vector-env steps of `num_envs` env steps each), as `update_rate` compares.
    It is built and run past its warm-up here.

    Returns:
        A round of work: `learn` for `steps` more env steps, returning the env steps taken.
    """
    env = make_vec_env(env_id, config.num_envs, seed=0)
    model = stable_baselines3.DQN(
        "MlpPolicy", env, learning_rate=config.lr, buffer_size=config.memory_size,
        learning_starts=config.warmup, batch_size=config.batch_size, gamma=config.gamma,
        train_freq=max(1, config.train_freq // config.num_envs), gradient_steps=-1,
        target_update_interval=int(config.target_update),
        policy_kwargs={"net_arch": [config.hidden_units] * 2}, seed=0, device="cpu",
    )  # fmt: skip
    model.learn(total_timesteps=config.warmup + 2 * steps)

    def work() -> int:
        before = model.num_timesteps
        model.learn(total_timesteps=steps, reset_num_timesteps=False)
        return model.num_timesteps - before

    return work


def _linear(start: float) -> Callable[[float], float]:
    """The RL Zoo's `lin_<start>` schedule: start * the progress remaining (1 to 0)."""
    return lambda progress_remaining: progress_remaining * start
