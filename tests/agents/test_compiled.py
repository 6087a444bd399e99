"""`agents.compiled.Compiled`: a tf.function dispatched once per argument signature."""

from __future__ import annotations

import numpy as np
import pytest

from agents.compiled import Compiled


def affine(x, scale, shift=None):
    out = x * scale
    return out if shift is None else out + shift


def test_results_are_the_tf_functions_and_each_signature_is_looked_up_once():
    compiled = Compiled(affine)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for _ in range(3):
        np.testing.assert_allclose(compiled(x, np.float32(2)).numpy(), x * 2)
    np.testing.assert_allclose(compiled(x, np.float32(2), x).numpy(), x * 3)
    np.testing.assert_allclose(compiled(x[:1], np.float32(3)).numpy(), x[:1] * 3)
    # A Python value is part of the signature, not a tensor: another value, another function.
    np.testing.assert_allclose(compiled(x, 4.0).numpy(), x * 4)
    assert len(compiled._concrete) == 4


def test_a_missing_argument_is_tf_functions_own_error():
    with pytest.raises(TypeError, match="scale"):
        Compiled(affine)(np.ones(2, np.float32))
