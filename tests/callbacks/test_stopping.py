import math

import keras
import numpy as np
import pytest

from callbacks import StopOnRewardThreshold
from tests.callbacks.fake_agent import FakeAgent, episode_reward, run


def test_training_stops_once_the_moving_mean_reaches_the_threshold(capsys):
    # Episode e of 3 steps earns 23 + e: means over 3 episodes are 24, 25, 26, ...
    stopper = StopOnRewardThreshold(threshold=26.0, window=3, verbose=1)
    agent = FakeAgent()
    logs, _ = run(agent, [stopper], [3] * 20)
    assert len(logs) == 5 and stopper.stopped_episode == 4
    assert np.mean([log["episode_reward"] for log in logs[-3:]]) == 26.0
    assert agent.stop_training
    assert "reached 26; stopping" in capsys.readouterr().out


def test_no_stop_before_the_window_is_full():
    # The first episode alone is far above the threshold, but one episode is not a window.
    stopper = StopOnRewardThreshold(threshold=episode_reward(0, 3) - 1, window=5)
    logs, _ = run(FakeAgent(), [stopper], [3, 30, 30, 30, 30, 30])
    assert len(logs) == 6 and stopper.stopped_episode is None


def test_each_run_starts_a_new_window():
    stopper = StopOnRewardThreshold(threshold=0.0, window=2)
    agent = FakeAgent()
    run(agent, [stopper], [50])  # reward -24: below the threshold
    logs, _ = run(agent, [stopper], [3, 3])
    assert len(logs) == 2 and stopper.stopped_episode == 2


@pytest.mark.parametrize(
    ("threshold", "error", "message"),
    [
        (True, TypeError, "threshold must be a real number"),
        ("100", TypeError, "threshold must be a real number"),
        (None, TypeError, "threshold must be a real number"),
        (math.nan, ValueError, "threshold must be a finite number"),
        (math.inf, ValueError, "threshold must be a finite number"),
    ],
)
def test_thresholds_that_are_not_numbers_are_rejected(threshold, error, message):
    with pytest.raises(error, match=message):
        StopOnRewardThreshold(threshold)


@pytest.mark.parametrize(("window", "error"), [(0, ValueError), (2.0, TypeError)])
def test_bad_windows_are_rejected(window, error):
    with pytest.raises(error, match="window"):
        StopOnRewardThreshold(1.0, window=window)


def test_numpy_thresholds_are_accepted():
    assert StopOnRewardThreshold(np.float32(2.5)).threshold == 2.5


def test_an_episode_without_reward_is_an_error():
    stopper = StopOnRewardThreshold(1.0)
    stopper.set_model(FakeAgent())
    with pytest.raises(KeyError, match="needs a numeric 'episode_reward'"):
        stopper.on_episode_end(0, {"nb_episode_steps": 3})


def test_stock_early_stopping_on_episode_reward_stops_the_run():
    # Longer and longer episodes: rewards 24, 17, 7, -2, ... never improve on the first.
    stopper = keras.callbacks.EarlyStopping(monitor="episode_reward", mode="max", patience=2)
    agent = FakeAgent()
    logs, _ = run(agent, [stopper], [2, 10, 20, 30, 40, 50])
    assert len(logs) == 3 and agent.stop_training and stopper.stopped_epoch == 2
