"""Action masks: which discrete actions are legal now, in the two conventions envs use.

An env gives masks by a method `action_masks()` (sb3-contrib's MaskablePPO convention; the
method wins where there are both) or as `info["action_mask"]` of `reset` and `step` (as
Gymnasium's Taxi does). A mask is one bool per action, True where the action is legal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium.vector import SyncVectorEnv, VectorEnv

#: The info key of the info convention.
INFO_KEY = "action_mask"


def mask_method(env: Any) -> Callable[[], np.ndarray] | None:
    """The callable that returns the masks of `env`'s current observations, or None.

    A single env's is its `action_masks` (found through its wrappers). A vector env's is its
    own `action_masks` if it has one (one row per sub-env), else, for a `SyncVectorEnv` whose
    sub-envs have one, their masks stacked. Other vector envs (`AsyncVectorEnv`) give masks
    through their infos only.
    """
    if not isinstance(env, VectorEnv):
        method = _masks_method_of(env)
        return None if method is None else lambda: np.asarray(method())[None]
    if callable(getattr(env, "action_masks", None)):
        return env.action_masks
    base = env.unwrapped
    if isinstance(base, SyncVectorEnv):
        methods = [_masks_method_of(sub_env) for sub_env in base.envs]
        if all(method is not None for method in methods):
            return lambda: np.stack([np.asarray(method()) for method in methods])
    return None


def info_masks(infos: dict[str, Any], is_vector: bool, num_envs: int) -> np.ndarray | None:
    """The masks in `infos` (one row per sub-env), or None if they hold none.

    A vector env's sub-envs whose info lacks the key (Gymnasium's `_action_mask` is False for
    them) get masks allowing every action.
    """
    if not isinstance(infos, dict) or INFO_KEY not in infos:
        return None
    if not is_vector:
        return np.asarray(infos[INFO_KEY])[None]
    masks = np.asarray(infos[INFO_KEY])
    present = np.asarray(infos.get(f"_{INFO_KEY}", np.ones(num_envs, dtype=bool)), dtype=bool)
    if masks.ndim == 2 and not present.all():
        masks = np.where(present[:, None], masks, True)
    return masks


def checked_masks(masks: Any, num_envs: int, nb_actions: int, acting: np.ndarray) -> np.ndarray:
    """`masks` as a (num_envs, nb_actions) bool array, checked.

    Args:
        masks: What the env gave: bools, or 0/1 numbers.
        num_envs: Rows expected.
        nb_actions: The Discrete space's size.
        acting: (num_envs,) bools: the rows an action is chosen for, which must allow one.

    Raises:
        ValueError: If the shape or the values are wrong, or an acting row allows no action.
    """
    array = np.asarray(masks)
    expected = (num_envs, nb_actions)
    if (
        array.shape != expected
        or array.dtype.kind not in "biuf"
        or not np.isin(array, (0, 1)).all()
    ):
        raise ValueError(
            f"action masks must be {expected} bools (one per action of each sub-env, True where "
            f"legal), got {array.dtype} of shape {array.shape}: {array.tolist()}"
        )
    array = array.astype(bool)
    blocked = np.flatnonzero(acting & ~array.any(axis=1))
    if blocked.size:
        raise ValueError(
            f"the action mask of sub-env {int(blocked[0])} allows no action; a state the agent "
            "acts in needs at least one legal action"
        )
    return array


def require_legal(actions: np.ndarray, masks: np.ndarray, acting: np.ndarray, start: int) -> None:
    """Raises ValueError if an acting row's action (of a space starting at `start`) is masked."""
    actions = np.asarray(actions)
    if actions.shape != acting.shape or actions.dtype.kind not in "iu":
        return  # the driver's action check names what is wrong
    index = actions.astype(np.int64) - start
    legal = masks[np.arange(len(index)), np.clip(index, 0, masks.shape[1] - 1)]
    illegal = np.flatnonzero(acting & ~legal)
    if illegal.size:
        row = int(illegal[0])
        raise ValueError(
            f"action {int(actions[row])} of sub-env {row} is masked out; legal there: "
            f"{(np.flatnonzero(masks[row]) + start).tolist()}"
        )


#: The logit of a masked action: its probability is 0 and its entropy term 0 * -1e8 = 0.
MASKED_LOGIT = -1e8


def masked_logits(logits: Any, masks: Any) -> Any:
    """`logits` where `masks` is True, `MASKED_LOGIT` (exp 0, finite) elsewhere."""
    import tensorflow as tf

    return tf.where(tf.cast(masks, tf.bool), logits, tf.constant(MASKED_LOGIT, logits.dtype))


def _masks_method_of(env: Any) -> Callable[[], Any] | None:
    try:
        method = env.get_wrapper_attr("action_masks")
    except AttributeError:
        return None
    return method if callable(method) else None
