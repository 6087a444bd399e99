"""agents.xla: when the compiled steps use XLA, and the DQN's `jit_compile`."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from agents.dqn import DQNAgent
from agents.memory import SequentialMemory
from agents.xla import use_xla


def dense() -> keras.Model:
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(8)(inputs)))


def conv() -> keras.Model:
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def nested_conv() -> keras.Model:
    inputs = keras.Input((6, 6, 1))
    return keras.Model(inputs, conv()(inputs))


class NoJit(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_jit = False

    def call(self, x):
        return x


def no_jit() -> keras.Model:
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(2)(NoJit()(inputs)))


@pytest.mark.parametrize(
    "build, expected",
    [(dense, True), (conv, False), (nested_conv, False), (no_jit, False)],
    ids=["dense", "conv", "nested-conv", "supports_jit-false"],
)
def test_auto_uses_xla_unless_a_layer_is_a_convolution_or_does_not_support_it(build, expected):
    assert use_xla("auto", [build()]) is expected
    assert use_xla(True, [build()]) is True and use_xla(False, [build()]) is False


@pytest.mark.parametrize("value", ["yes", 1, None, "AUTO"])
def test_other_values_raise(value):
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto', got"):
        use_xla(value, [dense()])


def agent() -> DQNAgent:
    return DQNAgent(dense(), 2, SequentialMemory(100), nb_steps_warmup=10, batch_size=4)


@pytest.mark.parametrize("jit_compile", [True, False, "auto"])
def test_the_dqn_compiles_its_steps_as_told_and_keeps_the_choice_in_its_config(jit_compile):
    dqn = agent()
    dqn.compile("adam", jit_compile=jit_compile)
    assert dqn._train_many_fn.function._jit_compile is (jit_compile is not False)
    rebuilt = DQNAgent.from_config(dqn.get_config())
    assert rebuilt.jit_compile == jit_compile
    assert rebuilt._train_many_fn.function._jit_compile is (jit_compile is not False)
    obs = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(dqn._q_fn(obs).numpy(), dqn.model(obs).numpy(), atol=1e-5)


def test_the_dqn_rejects_another_jit_compile_before_building_anything():
    dqn = agent()
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto'"):
        dqn.compile("adam", jit_compile="fast")
    assert not dqn.compiled
