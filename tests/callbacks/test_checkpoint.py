from pathlib import Path

import keras
import numpy as np
import pytest

from callbacks import ModelIntervalCheckpoint
from tests.callbacks.fake_agent import FakeAgent, run

LENGTHS = [5, 7, 4, 6]


def test_weights_are_saved_every_interval_steps_with_step_and_episode_in_the_name(tmp_path):
    template = str(tmp_path / "ckpt-{step:04d}-ep{episode}.weights.h5")
    run(FakeAgent(), [ModelIntervalCheckpoint(template, interval=5)], LENGTHS)
    # 22 steps; episodes end after steps 5, 12, 16 and 22.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-0005-ep0.weights.h5",
        "ckpt-0010-ep1.weights.h5",
        "ckpt-0015-ep2.weights.h5",
        "ckpt-0020-ep3.weights.h5",
    ]
    assert (tmp_path / "ckpt-0015-ep2.weights.h5").read_text() == "weights at step 15"


def test_steps_carry_across_fit_calls(tmp_path):
    agent = FakeAgent()
    checkpoint = ModelIntervalCheckpoint(str(tmp_path / "{step}.weights.h5"), interval=4)
    run(agent, [checkpoint], [6])
    run(agent, [checkpoint], [6])
    assert sorted(int(p.name.split(".")[0]) for p in tmp_path.iterdir()) == [4, 8, 12]


def test_a_fixed_name_is_overwritten_and_the_save_goes_through_a_temporary_file(tmp_path):
    agent = FakeAgent()
    path = tmp_path / "latest.weights.h5"
    run(agent, [ModelIntervalCheckpoint(path, interval=5, verbose=1)], LENGTHS)
    assert path.read_text() == "weights at step 20"
    assert [Path(p).parent for p in agent.saved] == [tmp_path] * 4
    # Each save targets a fresh temporary name that keeps the ending Keras requires.
    assert all(Path(p).name.endswith("-latest.weights.h5") and p != str(path) for p in agent.saved)
    assert len(set(agent.saved)) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.weights.h5"]


class CrashingAgent(FakeAgent):
    """Writes part of the file, then fails, from its second save on."""

    def save_weights(self, filepath, overwrite=True):
        if self.saved:
            Path(filepath).write_text("half-writ")
            raise OSError("disk full")
        super().save_weights(filepath, overwrite)


def test_a_crash_mid_write_leaves_the_previous_checkpoint_intact(tmp_path):
    path = tmp_path / "latest.weights.h5"
    with pytest.raises(OSError, match="disk full"):
        run(CrashingAgent(), [ModelIntervalCheckpoint(path, interval=5)], LENGTHS)
    assert path.read_text() == "weights at step 5"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.weights.h5"]


class SilentAgent(FakeAgent):
    def save_weights(self, filepath, overwrite=True):
        pass


def test_save_weights_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="wrote no file there"):
        run(SilentAgent(), [ModelIntervalCheckpoint(tmp_path / "w.weights.h5", 2)], [3])


class KerasAgent(FakeAgent):
    """Saves a real Keras model's weights, as a DQN does."""

    def __init__(self):
        super().__init__()
        keras.utils.set_random_seed(1)
        self.model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])

    def save_weights(self, filepath, overwrite=True):
        self.model.save_weights(filepath, overwrite=overwrite)


def test_real_keras_weights_round_trip_through_an_atomic_checkpoint(tmp_path):
    agent = KerasAgent()
    path = tmp_path / "model-{step}.weights.h5"
    run(agent, [ModelIntervalCheckpoint(path, interval=3)], [3])
    restored = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    restored.load_weights(tmp_path / "model-3.weights.h5")
    for saved, loaded in zip(agent.model.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, loaded)


@pytest.mark.parametrize(
    ("filepath", "message"),
    [
        ("ckpt-{epoch}.weights.h5", r"has the field \{epoch\}; only \{step\} and \{episode\}"),
        ("ckpt-{}.weights.h5", r"has the field \{\}"),
        ("ckpt-{step.real}.weights.h5", r"has the field \{step.real\}"),
        ("ckpt-{step.weights.h5", "not a valid format string"),
        ("ckpt-{step:s}.weights.h5", "does not format integers"),
    ],
)
def test_bad_templates_are_rejected_at_construction(filepath, message):
    with pytest.raises(ValueError, match=message):
        ModelIntervalCheckpoint(filepath, interval=10)


@pytest.mark.parametrize(("interval", "error"), [(0, ValueError), ("10", TypeError)])
def test_bad_intervals_are_rejected(interval, error):
    with pytest.raises(error, match="interval"):
        ModelIntervalCheckpoint("w.weights.h5", interval=interval)


def test_escaped_braces_are_not_fields(tmp_path):
    run(FakeAgent(), [ModelIntervalCheckpoint(str(tmp_path / "{{x}}-{step}.h5"), 3)], [3])
    assert [p.name for p in tmp_path.iterdir()] == ["{x}-3.h5"]
