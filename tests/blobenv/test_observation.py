from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from blobenv import observation, rules

BLACK = (0, 0, 0)
FOOD = (0, 255, 0)
ENEMY = (255, 0, 0)
PLAYER = (0, 175, 255)


def cells(*xy: tuple[int, int]) -> np.ndarray:
    return np.array(xy, dtype=rules.CELL_DTYPE)


def colour_at(image: np.ndarray, x: int, y: int) -> tuple[int, ...]:
    return tuple(image[y, x].tolist())


def test_colours_match_the_spec():
    assert observation.FOOD_COLOUR == FOOD
    assert observation.ENEMY_COLOUR == ENEMY
    assert observation.PLAYER_COLOUR == PLAYER


@pytest.mark.parametrize("n", [1, 3])
def test_rgb_draws_each_blob_at_row_y_column_x_on_black(n):
    player = np.tile(cells((1, 4)), (n, 1))
    food = np.tile(cells((3, 0)), (n, 1))
    enemy = np.tile(cells((0, 2)), (n, 1))
    images = observation.rgb_observations(player, food, enemy, 5)
    assert images.shape == (n, 5, 5, 3) and images.dtype == np.uint8
    single = observation.rgb_image((1, 4), (3, 0), (0, 2), 5)
    assert single.shape == (5, 5, 3) and single.dtype == np.uint8
    for image in (*images, single):
        assert colour_at(image, 1, 4) == PLAYER
        assert colour_at(image, 3, 0) == FOOD
        assert colour_at(image, 0, 2) == ENEMY
        lit = image.any(axis=2)
        assert lit.sum() == 3  # everything else is black


@pytest.mark.parametrize("n", [1, 2])
def test_rgb_draw_order_is_food_then_enemy_then_player(n):
    # player on food, player on enemy, food under enemy: the later blob is on top.
    for player, food, enemy, top in (
        ((2, 2), (2, 2), (0, 0), PLAYER),
        ((2, 2), (0, 0), (2, 2), PLAYER),
        ((0, 0), (2, 2), (2, 2), ENEMY),
    ):
        images = observation.rgb_observations(
            np.tile(cells(player), (n, 1)),
            np.tile(cells(food), (n, 1)),
            np.tile(cells(enemy), (n, 1)),
            3,
        )
        for image in images:
            assert colour_at(image, 2, 2) == top
        assert colour_at(observation.rgb_image(player, food, enemy, 3), 2, 2) == top


def test_single_game_and_batched_drawings_agree():
    n, size = 300, 4
    player, food, enemy = rules.spawn(np.random.default_rng(0), n, size)
    rng = np.random.default_rng(1)
    rules.step(player, food, enemy, rng.integers(0, 9, n), size, rng, True, True)
    batch = observation.rgb_observations(player, food, enemy, size)
    shared = [(a == b).all(axis=1) for a, b in ((player, food), (player, enemy), (food, enemy))]
    assert all(s.any() for s in shared)  # every kind of overlap is drawn
    for i in range(n):
        cells = (tuple(a[i].tolist()) for a in (player, food, enemy))
        np.testing.assert_array_equal(observation.rgb_image(*cells, size), batch[i])


def test_coords_are_the_offsets_to_food_and_enemy_shifted_by_size_minus_one():
    player, food, enemy = cells((0, 9), (5, 5)), cells((9, 0), (5, 4)), cells((0, 0), (6, 6))
    coords = observation.coords_observations(player, food, enemy, 10)
    assert coords.dtype == np.int64
    assert coords.tolist() == [[0, 18, 9, 18], [9, 10, 8, 8]]
    space = observation.observation_space("coords", 10)
    assert all(c in space for c in coords)


def test_spaces():
    assert observation.observation_space("rgb", 7) == spaces.Box(0, 255, (7, 7, 3), np.uint8)
    assert observation.observation_space("coords", 7) == spaces.MultiDiscrete([13] * 4)


def test_every_call_returns_a_fresh_array():
    player, food, enemy = cells((0, 0)), cells((1, 1)), cells((2, 2))
    for obs_type in observation.OBS_TYPES:
        first = observation.observations(obs_type, player, food, enemy, 3)
        second = observation.observations(obs_type, player, food, enemy, 3)
        assert not np.shares_memory(first, second)
    first, second = (observation.rgb_image((0, 0), (1, 1), (2, 2), 3) for _ in range(2))
    assert not np.shares_memory(first, second)


def test_unknown_obs_type_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"one of \['rgb', 'coords'\], got 'pixels'"):
        observation.check_obs_type("pixels")


def test_positions_from_rgb_reads_back_the_cells_drawn():
    rng = np.random.default_rng(0)
    player, food, enemy = rules.spawn(rng, 500, 7)
    food[:50] = enemy[:50]  # moving food and enemy may share a cell: the food is under it
    read = observation.positions_from_rgb(observation.rgb_observations(player, food, enemy, 7))
    for got, want in zip(read, (player, food, enemy), strict=True):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == rules.CELL_DTYPE


def test_positions_from_rgb_reads_an_ended_games_hidden_blobs_under_the_player():
    caught = observation.rgb_observations(cells((2, 2)), cells((0, 4)), cells((2, 2)), 5)
    player, food, enemy = observation.positions_from_rgb(caught)
    assert player.tolist() == enemy.tolist() == [[2, 2]] and food.tolist() == [[0, 4]]


def test_positions_from_rgb_rejects_what_is_not_a_batch_of_blob_images():
    image = observation.rgb_observations(cells((0, 0)), cells((1, 1)), cells((2, 2)), 4)
    with pytest.raises(ValueError, match=r"expected \(n, size, size, 3\) rgb images"):
        observation.positions_from_rgb(image[0])
    with pytest.raises(ValueError, match="image 1 has no player pixel"):
        observation.positions_from_rgb(np.concatenate([image, np.zeros_like(image)]))
