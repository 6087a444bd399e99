from __future__ import annotations

import numpy as np
import pytest

from blobenv import heuristic, rules


def cells(*xy: tuple[int, int]) -> np.ndarray:
    return np.array(xy, dtype=rules.CELL_DTYPE)


def landing(player: np.ndarray, actions: np.ndarray, size: int) -> np.ndarray:
    after = player.copy()
    rules.move(after, actions, size)
    return after


def test_it_takes_a_move_that_ends_closest_to_the_food():
    actions = heuristic.cautious_actions(cells((0, 0)), cells((3, 0)), cells((9, 9)), 10, True)
    assert landing(cells((0, 0)), actions, 10).tolist() == [[1, 1]]  # distance 2, lowest index


@pytest.mark.parametrize("moving_enemy", [False, True])
def test_it_never_ends_where_the_enemy_can_be_when_a_safe_move_exists(moving_enemy):
    rng = np.random.default_rng(1)
    player, food, enemy = rules.spawn(rng, 5000, 6)
    actions = heuristic.cautious_actions(player, food, enemy, 6, moving_enemy)
    reach = 1 if moving_enemy else 0
    after = landing(player, actions, 6)
    to_enemy = rules.chebyshev_distance(after, enemy)
    every = np.stack([rules.chebyshev_distance(landing(player, a, 6), enemy) for a in range(9)])
    safe_exists = (every > reach).any(axis=0)
    assert safe_exists.mean() > 0.95
    assert (to_enemy[safe_exists] > reach).all()
    # Among the safe moves, none gets closer to the food.
    to_food = np.stack([rules.chebyshev_distance(landing(player, a, 6), food) for a in range(9)])
    best = np.where(every > reach, to_food, rules.MAX_SIZE).min(axis=0)
    np.testing.assert_array_equal(
        rules.chebyshev_distance(after, food)[safe_exists], best[safe_exists]
    )


def test_the_static_game_is_played_to_the_exact_optimum_of_its_starts():
    from blobenv.solver import optimal_returns

    seeds = range(300)
    player, food, enemy = rules.spawn_seeded(seeds, 10)
    returns, running = np.zeros(300), np.ones(300, dtype=bool)
    for _ in range(200):
        actions = heuristic.cautious_actions(player, food, enemy, 10, False)
        rewards, terminated = rules.step(player, food, enemy, actions, 10)
        returns += np.where(running, rewards, 0.0)
        running &= ~terminated
    assert not running.any()
    np.testing.assert_allclose(returns.mean(), optimal_returns(seeds).mean(), atol=0.05)
