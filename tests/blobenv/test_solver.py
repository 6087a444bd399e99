from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

from blobenv import BlobEnv, rules, solver


@pytest.mark.parametrize(
    ("player", "food", "enemy", "expected_return", "expected_action"),
    [
        ((0, 0), (1, 1), (5, 5), 25.0, 0),  # one diagonal step
        ((0, 0), (5, 5), (9, 9), 21.0, 0),  # five diagonal steps
        ((0, 0), (5, 5), (1, 1), 20.0, 2),  # the enemy blocks the diagonal: one step longer
        ((3, 3), (3, 3), (0, 0), 25.0, rules.STAY),  # already on the food: stay and eat it
        ((0, 0), (9, 0), (5, 5), 17.0, 0),  # nine steps; ties go to the lowest action
        ((9, 9), (0, 0), (5, 5), 16.0, 1),  # around the enemy on the diagonal costs a step
    ],
)
def test_hand_cases(player, food, enemy, expected_return, expected_action):
    assert solver.optimal_return(player, food, enemy) == expected_return
    assert solver.optimal_action(player, food, enemy) == expected_action


def test_distance_map_is_king_distance_around_the_enemy():
    distances = solver.distance_maps(
        np.array([[0, 0]], dtype=rules.CELL_DTYPE), np.array([[1, 1]], dtype=rules.CELL_DTYPE), 3
    )[0]
    assert distances.tolist() == [[0, 1, 2], [1, -1, 2], [2, 2, 3]]  # (2, 2) goes around


def test_time_limit_caps_a_hopeless_walk_at_standing_still():
    assert solver.optimal_return((0, 0), (9, 9), (5, 0), max_steps=8) == -8.0
    assert solver.optimal_return((0, 0), (9, 9), (5, 0), max_steps=9) == 17.0


def brute_force_values(size: int, horizon: int) -> dict:
    """Finite-horizon value iteration over every static state, stepping with rules.step."""
    grid = [(x, y) for y in range(size) for x in range(size)]
    pairs = [(f, e) for f, e in itertools.permutations(grid, 2)]
    states = [(p, f, e) for f, e in pairs for p in grid if p != e]
    n, k = len(states), rules.NUM_ACTIONS
    player = np.array([s[0] for s in states for _ in range(k)], dtype=rules.CELL_DTYPE)
    food = np.array([s[1] for s in states for _ in range(k)], dtype=rules.CELL_DTYPE)
    enemy = np.array([s[2] for s in states for _ in range(k)], dtype=rules.CELL_DTYPE)
    rewards, terminated = rules.step(player, food, enemy, np.tile(np.arange(k), n), size)
    index = {state: i for i, state in enumerate(states)}
    successor = np.array(
        [
            index.get((tuple(p), tuple(f), tuple(e)), 0)
            for p, f, e in zip(player.tolist(), food.tolist(), enemy.tolist(), strict=True)
        ]
    )
    values = np.zeros(n)
    for _ in range(horizon):
        q = rewards + np.where(terminated, 0.0, values[successor])
        values = q.reshape(n, k).max(axis=1)
    return dict(zip(states, values.tolist(), strict=True))


@pytest.mark.parametrize(("size", "horizon"), [(3, 1), (3, 2), (4, 3), (4, 200)])
def test_solver_matches_brute_force_on_small_grids(size, horizon):
    values = brute_force_values(size, horizon)
    states = list(values)
    player, food, enemy = (
        np.array([s[i] for s in states], dtype=rules.CELL_DTYPE) for i in range(3)
    )
    returns = solver.optimal_returns_from(player, food, enemy, size, max_steps=horizon)
    np.testing.assert_array_equal(returns, np.array([values[s] for s in states]))


def test_optimal_actions_earn_the_optimal_return_in_the_env():
    env = gym.make("Blob-v0")
    for seed in range(30):
        _, info = env.reset(seed=seed)
        expected = solver.optimal_return(info["player"], info["food"], info["enemy"])
        total, done = 0.0, False
        while not done:
            action = solver.optimal_action(info["player"], info["food"], info["enemy"])
            _, reward, terminated, truncated, info = env.step(action)
            total += reward
            done = terminated or truncated
        assert total == expected and info["is_success"]


def test_optimal_returns_follow_the_seeded_env_starts():
    seeds = [0, 1, 2, 99, 12345]
    returns = solver.optimal_returns(seeds)
    for seed, value in zip(seeds, returns, strict=True):
        _, info = BlobEnv().reset(seed=seed)
        assert value == solver.optimal_return(info["player"], info["food"], info["enemy"])
    assert solver.optimal_returns(seeds, size=5).shape == (5,)


def test_mean_optimum_over_random_10x10_starts_is_about_21_3():
    returns = solver.optimal_returns(range(5000))
    assert returns.mean() == pytest.approx(21.32, abs=0.1)
    assert returns.max() == 25.0 and returns.min() >= 26 - 10


def test_bad_states_are_clear_errors():
    with pytest.raises(ValueError, match="enemy must not share a cell with the player"):
        solver.optimal_return((1, 1), (2, 2), (1, 1))
    with pytest.raises(ValueError, match="enemy must not share a cell with the food"):
        solver.optimal_action((1, 1), (2, 2), (2, 2))
    with pytest.raises(ValueError, match="food cells must lie on the 10 x 10 grid"):
        solver.optimal_return((1, 1), (10, 2), (0, 0))
