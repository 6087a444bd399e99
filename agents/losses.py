"""The TD loss every Keras agent minimises (DQN, SARSA, DDPG/TD3's critics, NAF), and metrics."""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf


def td_loss(td_errors: Any, delta_clip: float) -> Any:
    """keras-rl's Huber loss: 0.5 td**2 within `delta_clip` of 0, linear beyond; inf: squared.

    Args:
        td_errors: A tensor of TD errors.
        delta_clip: The threshold (> 0, or inf).

    Returns:
        The elementwise loss, of the errors' shape.
    """
    if math.isinf(delta_clip):
        return 0.5 * tf.square(td_errors)
    abs_errors = tf.abs(td_errors)
    quadratic = tf.minimum(abs_errors, delta_clip)
    return 0.5 * tf.square(quadratic) + delta_clip * (abs_errors - quadratic)


def metric_functions(metrics: list[Any] | None) -> list[tuple[str, Any]]:
    """(name, function) of Keras metric names or functions, as `compile(metrics=...)` takes."""
    functions = []
    for metric in metrics or []:
        fn = keras.metrics.get(metric)
        functions.append((metric if isinstance(metric, str) else fn.__name__, fn))
    return functions
