"""The tutorial's DQN loop, the baseline that `DQNAgent.fit`'s speed is measured against."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

#: The tutorial's settings: minibatch, discount, target copy every that many episodes, deque size.
MINIBATCH_SIZE = 64
DISCOUNT = 0.99
UPDATE_TARGET_EVERY = 5
REPLAY_MEMORY_SIZE = 50_000


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
        self.replay_memory: deque[tuple[Any, ...]] = deque(maxlen=REPLAY_MEMORY_SIZE)
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


def warmed_up(model: Any, env: gym.Env, seed: int) -> TutorialLoop:
    """A tutorial loop on `model` with a full first minibatch, traced (two steps, to be untimed).

    Args:
        model: The Q-network.
        env: The env.
        seed: Seeds the loop.

    Returns:
        The loop, ready to be timed.
    """
    loop = TutorialLoop(model, env, seed)
    loop.fill(MINIBATCH_SIZE)
    loop.run(2)
    return loop
