"""The tutorial's DQN loop: predict to act, predict twice and fit once to learn, every step."""

from __future__ import annotations

import gymnasium
import numpy as np

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.benchmarks import tutorial_loop


def test_tutorial_loop_learns_every_step_with_predict_and_fit(monkeypatch):
    import keras

    from agents.networks import blob_cnn

    keras.utils.set_random_seed(0)
    model = blob_cnn((10, 10, 3), 9, hidden_units=8)
    loop = tutorial_loop.warmed_up(model, gymnasium.make("Blob-v0"), seed=0)
    calls = {"predict": 0, "fit": 0}
    for name in calls:
        method = getattr(loop.model, name)

        def counted(*args, _method=method, _name=name, **kwargs):
            calls[_name] += 1
            return _method(*args, **kwargs)

        monkeypatch.setattr(loop.model, name, counted)
    before = [w.copy() for w in loop.model.get_weights()]
    assert loop.run(3) == 3
    assert calls == {"predict": 6, "fit": 3}  # per step: act, current states; and one fit
    assert len(loop.replay_memory) == tutorial_loop.MINIBATCH_SIZE + 5
    assert any(
        not np.array_equal(b, a) for b, a in zip(before, loop.model.get_weights(), strict=True)
    )
