"""Visualizer: renders the agent's env after every step of a run."""

from __future__ import annotations

import sys

import keras


class Visualizer(keras.callbacks.Callback):
    """Calls `agent.env.render()` after every env step of `fit` or `test`.

    The env must have been made with a `render_mode`: "human" shows a window, "ansi" text is
    printed, an "rgb_array" frame is kept in `last_frame`. With a vector env of N sub-envs, the
    agent calls the step hooks N times per batched step; the env is rendered once per batch.

    Attributes:
        last_frame: What the last `render()` call returned.
    """

    def __init__(self) -> None:
        super().__init__()
        self.last_frame = None
        self._calls = 0
        self._num_envs = 1

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Checks that the agent has an env that can render."""
        env = getattr(self.model, "env", None)
        if env is None:
            raise ValueError("Visualizer needs agent.env, the env of the run; it is None")
        if getattr(env, "render_mode", None) is None:
            raise ValueError(
                "Visualizer needs an env made with a render_mode, e.g. "
                "gymnasium.make('Blob-v0', render_mode='human'); this env has render_mode=None"
            )
        self._num_envs = int((self.params or {}).get("num_envs", 1))
        self._calls = 0

    def on_step_end(self, step: int, logs: dict | None = None) -> None:
        """Renders the env once per batched step."""
        self._calls += 1
        if self._calls % self._num_envs:
            return
        self.last_frame = self.model.env.render()
        if isinstance(self.last_frame, str):
            sys.stdout.write(self.last_frame + "\n")
