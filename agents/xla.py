"""Whether an agent's compiled steps use XLA (`tf.function(jit_compile=...)`), Keras's way.

`jit_compile` takes what `keras.Model.compile` takes: True, False or "auto". "auto" uses XLA
unless a layer of the model says it does not support it (`layer.supports_jit`, Keras's own flag)
or is a convolution: on CPU, XLA ran the train step of the tutorial's Conv2D(256) network
10-27x slower than TensorFlow's graph mode, and those of small dense networks and of Blob's
feature layers 2-3x faster (`python scripts/bench.py --only xla`).
"""

from __future__ import annotations

from typing import Any

import keras

_CONVOLUTIONS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
)


def use_xla(jit_compile: Any, models: list[keras.Model]) -> bool:
    """Whether steps running `models` should be compiled with XLA.

    Args:
        jit_compile: True, False or "auto" (see the module docstring).
        models: The models the steps call.

    Returns:
        `jit_compile` itself if it is a bool; for "auto", True unless a layer of a model does not
        support XLA or is a convolution.

    Raises:
        ValueError: If `jit_compile` is none of True, False, "auto".
    """
    if isinstance(jit_compile, bool):
        return jit_compile
    if not isinstance(jit_compile, str) or jit_compile != "auto":
        raise ValueError(f"jit_compile must be True, False or 'auto', got {jit_compile!r}")
    return all(
        getattr(layer, "supports_jit", True) and not isinstance(layer, _CONVOLUTIONS)
        for model in models
        for layer in _layers(model)
    )


def _layers(model: Any) -> list[Any]:
    """Every layer of a model, those of nested models included."""
    nested = getattr(model, "layers", [])
    return [model, *(layer for child in nested for layer in _layers(child))]
