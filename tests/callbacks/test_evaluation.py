"""PeriodicEvaluation: points on the interval, the best weights kept and restored, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from callbacks import PeriodicEvaluation
from tests.callbacks.fake_agent import FakeAgent, run


class Scripted:
    """An `evaluate` that returns the next of `returns` and sets the agent's weights apart."""

    def __init__(self, returns):
        self.returns = list(returns)
        self.seen: list[tuple[int, float]] = []

    def __call__(self, agent):
        value = self.returns[len(self.seen)]
        self.seen.append((agent.step, value))
        agent.weights = [np.array([float(agent.step)])]  # weights that name their step
        return {"mean_return": value, "success_rate": 1.0}


def test_points_fall_on_the_interval_and_time_leaves_the_evaluations_out():
    evaluate = Scripted([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    callback = PeriodicEvaluation(evaluate, every=5)
    run(FakeAgent(), [callback], [5, 7, 4, 6])  # 22 steps
    assert [point["steps"] for point in callback.points] == [0, 5, 10, 15, 20, 22]
    assert all(point["success_rate"] == 1.0 for point in callback.points)
    seconds = [point["seconds"] for point in callback.points]
    assert seconds == sorted(seconds) and callback.train_seconds >= seconds[-1]


def test_the_best_points_weights_are_kept_and_restored():
    evaluate = Scripted([-5.0, 3.0, 9.0, 4.0, 9.0, 1.0])
    chosen = []
    callback = PeriodicEvaluation(evaluate, 5, on_best=lambda agent, p: chosen.append(p["steps"]))
    agent = FakeAgent()
    run(agent, [callback], [5, 7, 4, 6])
    assert callback.best["steps"] == 10 and callback.best["mean_return"] == 9.0  # first of ties
    assert chosen == [0, 5, 10]
    agent.weights = [np.array([-1.0])]
    assert callback.restore_best()
    np.testing.assert_array_equal(agent.get_weights()[0], [10.0])


def test_a_resumed_best_must_be_beaten():
    kept = [np.array([42.0])]
    evaluate = Scripted([1.0, 2.0, 30.0])
    callback = PeriodicEvaluation(evaluate, 5, best={"mean_return": 20.0}, best_weights=kept)
    agent = FakeAgent()
    run(agent, [callback], [5, 4])  # points at 0, 5 and 9: only the last beats 20
    assert callback.best["steps"] == 9 and callback.restore_best()
    np.testing.assert_array_equal(agent.get_weights()[0], [9.0])
    never = PeriodicEvaluation(
        Scripted([1.0, 2.0]), 5, best={"mean_return": 20.0}, best_weights=kept
    )
    other = FakeAgent()
    run(other, [never], [5])
    assert never.restore_best() and other.get_weights()[0][0] == 42.0


def test_without_a_best_point_restore_leaves_the_agent_alone():
    callback = PeriodicEvaluation(Scripted([]), 5)
    callback.set_model(FakeAgent())
    assert callback.restore_best() is False


def test_a_monitored_figure_that_only_falls_or_is_nan_keeps_the_first_real_best():
    callback = PeriodicEvaluation(Scripted([3.0, float("nan"), 1.0]), 5)
    run(FakeAgent(), [callback], [5, 5])
    assert callback.best["steps"] == 0


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="every must be a positive int"):
        PeriodicEvaluation(Scripted([]), 0)
    with pytest.raises(ValueError, match="every must be a positive int"):
        PeriodicEvaluation(Scripted([]), 2.5)
    with pytest.raises(ValueError, match="best and best_weights together"):
        PeriodicEvaluation(Scripted([]), 5, best={"mean_return": 1.0})
    with pytest.raises(ValueError, match="no 'ratio'"):
        PeriodicEvaluation(Scripted([]), 5, "ratio", {"mean_return": 1.0}, [np.zeros(1)])
    callback = PeriodicEvaluation(lambda agent: {"score": 1.0}, 5)
    with pytest.raises(KeyError, match="no 'mean_return' figure"):
        run(FakeAgent(), [callback], [5])
