from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils import seeding

from blobenv import rules

MOVES = {
    0: (1, 1),
    1: (-1, -1),
    2: (-1, 1),
    3: (1, -1),
    4: (1, 0),
    5: (-1, 0),
    6: (0, 1),
    7: (0, -1),
    8: (0, 0),
}


def cells(*xy: tuple[int, int]) -> np.ndarray:
    return np.array(xy, dtype=rules.CELL_DTYPE)


def test_actions_table_is_the_architectures_order():
    assert rules.ACTIONS.tolist() == [list(MOVES[a]) for a in range(9)]
    assert rules.NUM_ACTIONS == 9 and rules.STAY == 8
    assert not rules.ACTIONS.flags.writeable


def test_reward_constants():
    assert (rules.ENEMY_PENALTY, rules.FOOD_REWARD, rules.MOVE_PENALTY) == (-300, 25, -1)


@pytest.mark.parametrize("action", range(9))
def test_every_move_from_the_centre(action):
    player = cells((4, 5))
    rewards, terminated = rules.step(player, cells((0, 0)), cells((9, 9)), [action], 10)
    dx, dy = MOVES[action]
    assert player.tolist() == [[4 + dx, 5 + dy]]
    assert rewards.tolist() == [-1.0] and terminated.tolist() == [False]


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ((0, 5), 5, (0, 5)),  # left wall
        ((0, 5), 1, (0, 4)),  # left wall, diagonal slides along it
        ((9, 5), 4, (9, 5)),  # right wall
        ((9, 5), 0, (9, 6)),
        ((5, 0), 7, (5, 0)),  # top wall
        ((5, 0), 3, (6, 0)),
        ((5, 9), 6, (5, 9)),  # bottom wall
        ((5, 9), 2, (4, 9)),
        ((0, 0), 1, (0, 0)),  # corners
        ((9, 9), 0, (9, 9)),
        ((0, 9), 2, (0, 9)),
        ((9, 0), 3, (9, 0)),
    ],
)
def test_moves_clamp_at_each_wall(start, action, end):
    player = cells(start)
    rules.move(player, [action], 10)
    assert tuple(player[0].tolist()) == end


def test_reward_and_termination_in_each_case():
    player = cells((1, 1), (1, 1), (1, 1))
    food = cells((2, 2), (5, 5), (2, 2))
    enemy = cells((5, 5), (2, 2), (2, 2))  # third game: food and enemy share the cell
    rewards, terminated = rules.step(player, food, enemy, np.array([0, 0, 0]), 10)
    assert rewards.dtype == np.float64 and terminated.dtype == bool
    assert rewards.tolist() == [25.0, -300.0, -300.0]  # the enemy is checked first
    assert terminated.tolist() == [True, True, True]
    rewards, terminated = rules.step(cells((1, 1)), cells((5, 5)), cells((7, 7)), [8], 10)
    assert rewards.tolist() == [-1.0] and terminated.tolist() == [False]


def test_a_single_action_applies_to_every_game():
    player = cells((1, 1), (3, 3))
    rules.step(player, cells((8, 8), (8, 8)), cells((9, 9), (9, 9)), 4, 10)
    assert player.tolist() == [[2, 1], [4, 3]]


def test_static_food_and_enemy_stay_put_and_moving_ones_take_one_step():
    rng = np.random.default_rng(0)
    n = 2000
    player, food, enemy = rules.spawn(rng, n, 10)
    food0, enemy0 = food.copy(), enemy.copy()
    rules.step(player, food, enemy, np.full(n, 8), 10, rng)
    assert (food == food0).all() and (enemy == enemy0).all()
    rules.step(player, food, enemy, np.full(n, 8), 10, rng, moving_food=True, moving_enemy=True)
    for before, after in ((food0, food), (enemy0, enemy)):
        assert np.abs(after - before).max() == 1
        assert (after >= 0).all() and (after <= 9).all()
        assert (after != before).any(axis=1).mean() > 0.7  # 8 of the 9 steps move, off the walls


def test_moving_enemy_can_step_onto_the_player():
    rng = np.random.default_rng(1)
    n = 900
    player = np.tile(cells((5, 5)), (n, 1))
    food = np.tile(cells((0, 0)), (n, 1))
    enemy = np.tile(cells((6, 6)), (n, 1))
    rewards, terminated = rules.step(player, food, enemy, np.full(n, 8), 10, rng, False, True)
    caught = (enemy == player).all(axis=1)
    assert 50 < caught.sum() < 150  # one step in nine
    assert (rewards[caught] == -300).all() and terminated[caught].all()
    assert (rewards[~caught] == -1).all()


def test_spawn_places_three_distinct_cells_on_the_grid():
    player, food, enemy = rules.spawn(np.random.default_rng(3), 5000, 4)
    for a in (player, food, enemy):
        assert a.shape == (5000, 2) and a.dtype == rules.CELL_DTYPE and a.flags.c_contiguous
        assert a.min() >= 0 and a.max() <= 3
    for a, b in ((player, food), (player, enemy), (food, enemy)):
        assert not (a == b).all(axis=1).any()


def test_spawn_is_uniform_over_ordered_triples():
    size, n = 3, 90_000
    player, food, enemy = rules.spawn(np.random.default_rng(4), n, size)
    flat = [a[:, 0] + size * a[:, 1] for a in (player, food, enemy)]
    triple = (flat[0] * 9 + flat[1]) * 9 + flat[2]
    counts = np.bincount(triple, minlength=729)
    seen = counts[counts > 0]
    assert len(seen) == 9 * 8 * 7
    expected = n / (9 * 8 * 7)
    chi2 = ((seen - expected) ** 2 / expected).sum()
    assert chi2 < 504 + 5 * np.sqrt(2 * 503)  # 503 degrees of freedom, five sigma


def test_spawn_seeded_draws_like_a_seeded_generator():
    player, food, enemy = rules.spawn_seeded([7, 8], 10)
    for i, seed in enumerate((7, 8)):
        p, f, e = rules.spawn(seeding.np_random(seed)[0], 1, 10)
        assert [player[i].tolist(), food[i].tolist(), enemy[i].tolist()] == [
            p[0].tolist(),
            f[0].tolist(),
            e[0].tolist(),
        ]
    assert rules.spawn_seeded([], 10)[0].shape == (0, 2)


def test_check_start_options_accepts_cells_and_rejects_bad_ones():
    player, food, enemy = rules.check_start_options(
        {"player": (0, 0), "food": (1, 2), "enemy": [2, 2]}, 3, 1
    )
    assert player.tolist() == [[0, 0]] and food.tolist() == [[1, 2]]
    assert enemy.dtype == rules.CELL_DTYPE
    with pytest.raises(ValueError, match=r"exactly \['player', 'food', 'enemy'\]"):
        rules.check_start_options({"player": (0, 0)}, 3, 1)
    with pytest.raises(ValueError, match="food must lie on the grid"):
        rules.check_start_options({"player": (0, 0), "food": (3, 0), "enemy": (1, 1)}, 3, 1)
    with pytest.raises(ValueError, match=r"enemy must be 1 integer \(x, y\) cells"):
        rules.check_start_options({"player": (0, 0), "food": (2, 0), "enemy": (1.5, 1)}, 3, 1)
    with pytest.raises(ValueError, match="player and enemy must start on different cells"):
        rules.check_start_options({"player": (0, 0), "food": (2, 0), "enemy": (0, 0)}, 3, 1)


@pytest.mark.parametrize(
    ("size", "error", "match"),
    [
        (2, ValueError, "between 3 and 1000, got 2"),
        (1001, ValueError, "got 1001"),
        ("10", TypeError, "size must be an int"),
        (True, TypeError, "size must be an int"),
    ],
)
def test_check_size_rejects_bad_sizes(size, error, match):
    with pytest.raises(error, match=match):
        rules.check_size(size)


def test_chebyshev_distance():
    a = cells((0, 0), (3, 7), (5, 5))
    b = cells((2, 1), (0, 0), (5, 5))
    assert rules.chebyshev_distance(a, b).tolist() == [2, 7, 0]
