"""A stand-in agent and a driver that calls callback hooks exactly as the agent protocol says.

The protocol is `agents.callback_list`'s, for a single env (a batch of one sub-env).

Lets the callback tests run without a learning agent: episodes have fixed lengths and rewards,
and "training" starts after a warm-up, producing known loss / mean_q values.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

_FALLBACKS = {
    "on_episode_begin": "on_epoch_begin",
    "on_episode_end": "on_epoch_end",
    "on_step_begin": "on_train_batch_begin",
    "on_step_end": "on_train_batch_end",
}


class FakeAgent:
    """Has the attributes callbacks read from an agent, and weights that are one counter."""

    metrics_names = ["loss", "mean_q"]

    def __init__(self, env=None, warmup: int = 3):
        self.step = 0
        self.episode = 0
        self.stop_training = False
        self.interrupted = False
        self.training = False
        self.env = None
        self.run_env = env
        self.warmup = warmup
        self.weights = [np.zeros(1)]
        self.saved: list[str] = []

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        Path(filepath).write_text(f"weights at step {self.step}")
        self.saved.append(filepath)

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        self.weights = [w.copy() for w in weights]

    @staticmethod
    def metrics_at(step: int) -> dict[str, float]:
        return {"loss": 1.0 / (step + 1), "mean_q": float(step)}


def episode_reward(episode: int, length: int) -> float:
    """The reward of episode `episode` of `length` steps: -1 per step, +25 at the end."""
    return float(-(length - 1) + 25 + episode)


def run(agent, callbacks, lengths, mode="train", nb_steps=None, nb_episodes=None):
    """Drives `callbacks` through episodes of the given `lengths`, as the agent protocol says.

    Returns the list of episode logs. Stops early when a callback sets agent.stop_training.
    """
    history = keras.callbacks.History()
    callbacks = [*callbacks, history]
    params = {
        "nb_steps": nb_steps,
        "nb_episodes": nb_episodes if nb_steps is None else None,
        "verbose": 0,
        "mode": mode,
        "num_envs": 1,
        "log_interval": 10_000,
    }
    if params["nb_steps"] is None and params["nb_episodes"] is None:
        params["nb_episodes"] = len(lengths)
    for cb in callbacks:
        cb.set_model(agent)
        cb.set_params(params)

    def call(name, *args):
        for cb in callbacks:
            hook = getattr(cb, name, None)
            if hook is None and name in _FALLBACKS:
                hook = getattr(cb, _FALLBACKS[name])
            if hook is not None:
                hook(*args)

    training = mode == "train"
    agent.training, agent.stop_training, agent.env = training, False, agent.run_env
    for cb in callbacks:
        cb.on_train_begin({})
    all_logs = []
    try:
        _episodes(agent, call, lengths, training, all_logs)
    finally:
        agent.env = None
    for cb in callbacks:
        cb.on_train_end({})
    return all_logs, history


def _episodes(agent, call, lengths, training, all_logs):
    run_steps = 0
    for index, length in enumerate(lengths):
        episode = agent.episode if training else index
        call("on_episode_begin", episode, {})
        total, sums, count = 0.0, {"loss": 0.0, "mean_q": 0.0}, 0
        for t in range(length):
            step = agent.step if training else run_steps
            call("on_step_begin", step, {})
            actions = np.array([t % 9])
            call("on_action_begin", actions, {})
            call("on_action_end", actions, {})
            reward = episode_reward(episode, length) - total if t == length - 1 else -1.0
            total += reward
            metrics = agent.metrics_at(step) if training and step >= agent.warmup else {}
            for key, value in metrics.items():
                sums[key] += value
            count += bool(metrics)
            if training:
                agent.step += 1
            run_steps += 1
            call("on_step_end", step, {"reward": reward, "action": t % 9, "episode": episode,
                                       **metrics})  # fmt: skip
            # Like the real loop: a stop mid-episode ends the run without ending the episode.
            if agent.stop_training and t < length - 1:
                return
        logs = {
            "episode_reward": total,
            "nb_episode_steps": length,
            "nb_steps": agent.step if training else run_steps,
            **{key: (value / count if count else math.nan) for key, value in sums.items()},
            "eps": 0.5,
        }
        if training:
            agent.episode += 1
        call("on_episode_end", episode, logs)
        all_logs.append(logs)
        if agent.stop_training:
            return
