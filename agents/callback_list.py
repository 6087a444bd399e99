"""Drives Keras callbacks from an agent's loop, with keras-rl's episode, step and action hooks.

The hook contract of `Agent.fit` and `Agent.test`, per batched env step (one `env.step` of all
sub-envs; a single env is a batch of one):

1. `on_episode_begin(episode, {})` for each sub-env that starts an episode.
2. `on_step_begin(step, {})` for each row that this env step makes a transition, in sub-env
   order, numbered on from the agent's step count in `fit` (the run's in `test`).
3. `on_action_begin(actions, {})` once, with the batch of actions (one per sub-env).
4. `env.step(actions)`, then `on_action_end(actions, {})` once.
5. In `fit`, learning from the transitions (`Agent.backward`).
6. `on_step_end(step, logs)` for the same rows with the same numbers as step 2; `logs` holds
   the row's `reward`, `action` and `episode`, and the metrics of the learning step.
7. `on_episode_end(episode, logs)` for each sub-env whose episode ended.
8. `on_env_step_end({})` once. Here, and only here (and after `fit`), the loop's state is
   consistent: a checkpoint taken here resumes exactly (see `agents.fit_state`).

Which rows are transitions is known before stepping: with Gymnasium's default NEXT_STEP
autoreset, a sub-env whose episode ended on the previous step is only reset by this one (its
action is ignored). That row gets no step hooks and is not counted, so every `on_step_begin`
has its `on_step_end` and the step numbers count the transitions. The action hooks are per env
step: a callback that must act once per `env.step` (rendering, timing) uses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# An agent hook and the stock Keras hook a callback without it gets instead.
_FALLBACKS = {
    "on_episode_begin": "on_epoch_begin",
    "on_episode_end": "on_epoch_end",
    "on_step_begin": "on_train_batch_begin",
    "on_step_end": "on_train_batch_end",
}
# Agent hooks without a Keras counterpart: only callbacks that define them get them.
_AGENT_ONLY = ("on_action_begin", "on_action_end", "on_env_step_end")


class CallbackList:
    """Calls the agent protocol's hooks on a list of `keras.callbacks.Callback` objects.

    A callback that defines `on_episode_*` / `on_step_*` gets those; any other (a stock Keras
    callback such as `CSVLogger` or `EarlyStopping`) gets `on_epoch_*` per episode and
    `on_train_batch_*` per step, so it treats an episode as an epoch. `on_action_*` and
    `on_env_step_end` go only to callbacks that define them. See the module docstring for
    when each hook is called.

    Args:
        callbacks: The callbacks, in the order they are called.
        agent: The agent, given to each callback as its `model`.
        params: The run's parameters, given to each callback as its `params`.
    """

    def __init__(self, callbacks: Iterable[Any], agent: Any, params: dict[str, Any]):
        self.callbacks = list(callbacks)
        self._hooks: dict[str, list] = {}
        for callback in self.callbacks:
            callback.set_model(agent)
            callback.set_params(params)
        for name in ("on_train_begin", "on_train_end", *_FALLBACKS):
            self._hooks[name] = [self._resolve(cb, name) for cb in self.callbacks]
        # Step hooks run every env step: skip the callbacks for which they do nothing.
        for name in ("on_step_begin", "on_step_end"):
            pairs = zip(self.callbacks, self._hooks[name], strict=True)
            self._hooks[name] = [hook for cb, hook in pairs if not _step_hook_is_noop(cb, name)]
        for name in _AGENT_ONLY:
            self._hooks[name] = [getattr(cb, name) for cb in self.callbacks if hasattr(cb, name)]

    @staticmethod
    def _resolve(callback: Any, name: str):
        hook = getattr(callback, name, None)
        if hook is None:
            hook = getattr(callback, _FALLBACKS[name])
        return hook

    def call(self, name: str, *args: Any) -> None:
        """Calls hook `name` (e.g. "on_episode_end") on every callback with `args`."""
        for hook in self._hooks[name]:
            hook(*args)

    def has(self, name: str) -> bool:
        """Whether any callback does something in hook `name`."""
        return bool(self._hooks[name])


def _step_hook_is_noop(callback: Any, name: str) -> bool:
    """Whether `callback` inherits Keras's empty hooks for `name` and its fallbacks."""
    import keras

    def inherited(hook_name: str) -> bool:
        function = getattr(getattr(callback, hook_name, None), "__func__", None)
        return function is getattr(keras.callbacks.Callback, hook_name)

    if hasattr(callback, name):
        return False
    # Keras forwards on_train_batch_* to the legacy on_batch_* hooks.
    legacy = _FALLBACKS[name].replace("_train", "")
    return inherited(_FALLBACKS[name]) and inherited(legacy)
