"""Visualizer: renders the agent's env after every env step of a run."""

from __future__ import annotations

import sys
from typing import Any

import keras


class Visualizer(keras.callbacks.Callback):
    """Calls `agent.env.render()` after every env step of `fit` or `test` (keras-rl's).

    The env must have been made with a `render_mode`: "human" shows a window, "ansi" text is
    printed, an "rgb_array" frame is kept in `last_frame`. It renders in `on_action_end`, which
    the agent calls once per batched `env.step`, so a vector env is rendered once per step of all
    its sub-envs, also across autoresets (see `agents.callback_list`).

    Attributes:
        last_frame: What the last `render()` call returned.
    """

    def __init__(self) -> None:
        super().__init__()
        self.last_frame = None

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

    def on_action_end(self, action: Any, logs: dict | None = None) -> None:
        """Renders the env after the batched env step that took `action`."""
        self.last_frame = self.model.env.render()
        if isinstance(self.last_frame, str):
            sys.stdout.write(self.last_frame + "\n")
