"""Evaluation summaries: episodes cut by the time limit, the ratio or gap to a tabular optimum."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from agents.qlearning import QLearningAgent
from agents.scoring import blob_optimum, describe_evaluation, evaluate_agent, evaluation_seeds
from blobenv import tabular_solver
from tests.gym_ids import TAXI

#: The shortest way across FrozenLake 4x4 (0 left, 1 down, 2 right, 3 up), by state.
FROZEN_LAKE_ROUTE = {0: 2, 1: 2, 2: 1, 6: 1, 10: 1, 14: 2}
#: Along the cliff's edge (0 up, 1 right, 2 down): up from the start, right, down to the goal.
CLIFF_ROUTE = {36: 0, **{state: 1 for state in range(24, 35)}, 35: 2}


class StatePolicy:
    """Plays `actions[state]` in each Discrete state, 0 elsewhere."""

    training = False

    def __init__(self, actions: dict[int, int]):
        self.actions = actions

    def forward(self, obs: np.ndarray) -> np.ndarray:
        return np.array([self.actions.get(int(state), 0) for state in obs])


class Constant:
    """Plays `action` always, whatever the observations."""

    training = False

    def __init__(self, action: int):
        self.action = action

    def forward(self, obs: np.ndarray) -> np.ndarray:
        return np.full(len(obs), self.action)


def untrained(env_id: str) -> QLearningAgent:
    """A table of zeros: its greedy action is always 0."""
    env = gymnasium.make(env_id)
    return QLearningAgent(env.observation_space, int(env.action_space.n), seed=0)


def test_the_best_route_on_frozen_lake_is_the_whole_optimum():
    summary = evaluate_agent(
        StatePolicy(FROZEN_LAKE_ROUTE), "FrozenLake-v1", evaluation_seeds(5), {"is_slippery": False}
    )
    assert summary["optimal_mean_return"] == 1.0 and summary["ratio_to_optimum"] == 1.0
    assert summary["episodes_cut"] == 0 and "gap_to_optimum" not in summary
    assert describe_evaluation(summary).endswith(", 100.0% of the optimum (1.00)")


def test_an_untrained_taxi_is_cut_at_200_steps_and_measured_against_the_optimum():
    summary = evaluate_agent(untrained(TAXI), TAXI, evaluation_seeds(100))
    assert summary["optimal_mean_return"] == 8.0  # over these seeds' start states
    assert summary["mean_return"] == -200.0 and summary["episodes_cut"] == 100
    assert summary["ratio_to_optimum"] == -25.0
    line = describe_evaluation(summary)
    assert "-2500.0% of the optimum (8.00), 100 episodes reached the time limit" in line


def test_cliff_walking_reports_the_gap_to_its_negative_optimum():
    best = evaluate_agent(StatePolicy(CLIFF_ROUTE), "CliffWalking-v1", evaluation_seeds(3))
    assert best["optimal_mean_return"] == -13.0 and best["gap_to_optimum"] == 0.0
    assert best["mean_return"] == -13.0 and best["episodes_cut"] == 0
    assert "ratio_to_optimum" not in best
    assert describe_evaluation(best).endswith(", 0.00 below the optimum (-13.00)")


def test_an_untrained_table_on_cliff_walking_ends_cut_at_the_evaluation_limit():
    # Always up: from the start to the top row, then into the wall, with no time limit of its own.
    summary = evaluate_agent(untrained("CliffWalking-v1"), "CliffWalking-v1", evaluation_seeds(2))
    assert summary["mean_length"] == 10_000 and summary["episodes_cut"] == 2
    assert summary["gap_to_optimum"] == -13.0 + 10_000
    line = describe_evaluation(summary)
    assert line.endswith("9987.00 below the optimum (-13.00), 2 episodes reached the time limit")


def test_validations_solve_the_table_once(monkeypatch):
    solves = []
    solve = tabular_solver.solve

    def counted(table, horizon, *args):
        solves.append(horizon)
        return solve(table, horizon, *args)

    monkeypatch.setattr(tabular_solver, "solve", counted)
    kwargs = {"map_name": "8x8", "is_slippery": False}  # solved by no other test
    for _ in range(3):
        summary = evaluate_agent(Constant(0), "FrozenLake-v1", evaluation_seeds(2), kwargs)
    assert solves == [100] and summary["optimal_mean_return"] == 1.0
    assert summary["ratio_to_optimum"] == 0.0  # always left: stays at the start until cut
    assert summary["episodes_cut"] == 2


def test_envs_without_a_table_get_no_optimum():
    summary = evaluate_agent(Constant(0), "CartPole-v1", evaluation_seeds(3))
    assert summary["episodes_cut"] == 0  # all fall over
    assert not {"optimal_mean_return", "ratio_to_optimum", "gap_to_optimum"} & set(summary)


def test_static_blob_keeps_its_own_optimum():
    kwargs = {"size": 5, "obs_type": "coords"}
    seeds = evaluation_seeds(4)
    summary = evaluate_agent(Constant(8), "Blob-v0", seeds, kwargs)  # stays
    optimum = float(np.mean(blob_optimum("Blob-v0", kwargs, seeds)))
    assert summary["optimal_mean_return"] == optimum
    assert summary["ratio_to_optimum"] == pytest.approx(summary["mean_return"] / optimum)
    assert "gap_to_optimum" not in summary and summary["success_rate"] == 0.0
    assert summary["episodes_cut"] == 4  # standing still never ends an episode


def test_moving_blob_games_are_measured_against_their_exact_expected_optimum():
    from blobenv import moving_solver

    seeds = evaluation_seeds(50)
    optimum = blob_optimum("BlobMoving-v0", {"size": 5}, seeds)
    np.testing.assert_array_equal(optimum, moving_solver.optimal_returns(seeds, 5, True, True))
    food_only = blob_optimum("Blob-v0", {"size": 5, "moving_food": True}, seeds)
    assert not np.array_equal(food_only, optimum)
    summary = evaluate_agent(Constant(8), "BlobMoving-v0", seeds, {"size": 5})  # stays
    assert summary["optimal_mean_return"] == pytest.approx(optimum.mean())
    assert summary["ratio_to_optimum"] == summary["mean_return"] / optimum.mean()
