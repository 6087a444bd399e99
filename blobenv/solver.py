"""The exact optimal play of static Blob: the ceiling every agent is measured against.

With the food and enemy still, the best episode walks a shortest king-move path to the food that
never enters the enemy's cell: every step costs 1 except the last, which earns 25, so a path of
``d`` steps returns ``26 - d``. (A player already on the food stays and eats it: 25.) Should the
food be more than the time limit away, standing still until truncation (-1 a step) still beats
the enemy (-300). A breadth-first search from the food, run on many games at once as array
dilations, gives every cell's number of steps to the food.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from blobenv import rules
from blobenv.registration import MAX_EPISODE_STEPS

UNREACHABLE = -1


def distance_maps(food: np.ndarray, enemy: np.ndarray, size: int) -> np.ndarray:
    """Return each cell's number of king moves to the food, never entering the enemy's cell.

    Args:
        food: ``(n, 2)`` ``(x, y)`` food cells.
        enemy: ``(n, 2)`` enemy cells.
        size: The grid size.

    Returns:
        An ``(n, size, size)`` int64 array indexed ``[game, y, x]``, :data:`UNREACHABLE` at the
        enemy's cell.
    """
    n = len(food)
    games = np.arange(n)
    distances = np.full((n, size, size), UNREACHABLE, dtype=np.int64)
    blocked = np.zeros((n, size, size), dtype=bool)
    blocked[games, enemy[:, 1], enemy[:, 0]] = True
    reached = np.zeros((n, size, size), dtype=bool)
    reached[games, food[:, 1], food[:, 0]] = True
    distances[reached] = 0
    for steps in range(1, size * size):
        # One king move from any reached cell: a 3 x 3 dilation, done along x and then y.
        along_x = reached.copy()
        along_x[:, :, 1:] |= reached[:, :, :-1]
        along_x[:, :, :-1] |= reached[:, :, 1:]
        grown = along_x.copy()
        grown[:, 1:] |= along_x[:, :-1]
        grown[:, :-1] |= along_x[:, 1:]
        frontier = grown & ~reached & ~blocked
        if not frontier.any():
            break
        distances[frontier] = steps
        reached |= frontier
    return distances


def optimal_returns_from(
    player: np.ndarray,
    food: np.ndarray,
    enemy: np.ndarray,
    size: int = 10,
    max_steps: int = MAX_EPISODE_STEPS,
) -> np.ndarray:
    """Return the optimal return of each of many static games.

    Args:
        player: ``(n, 2)`` ``(x, y)`` player cells.
        food: ``(n, 2)`` food cells.
        enemy: ``(n, 2)`` enemy cells, each apart from its game's player and food.
        size: The grid size.
        max_steps: The time limit in steps.

    Returns:
        ``(n,)`` float64 optimal returns.

    Raises:
        ValueError: A cell is off the grid, or an enemy shares a cell with its player or food.
    """
    player, food, enemy = _check_games(player, food, enemy, size)
    steps = distance_maps(food, enemy, size)[np.arange(len(player)), player[:, 1], player[:, 0]]
    # Every cell but the enemy's is reachable: one cell cannot cut a king-move grid in two.
    steps = np.maximum(steps, 1)  # a player on the food stays to eat it
    returns = np.where(
        steps <= max_steps,
        rules.FOOD_REWARD + rules.MOVE_PENALTY * (steps - 1),
        rules.MOVE_PENALTY * max_steps,
    )
    return returns.astype(np.float64)


def optimal_return(
    player: Sequence[int],
    food: Sequence[int],
    enemy: Sequence[int],
    size: int = 10,
    max_steps: int = MAX_EPISODE_STEPS,
) -> float:
    """Return the optimal return of one static game.

    Args:
        player: The player's ``(x, y)``.
        food: The food's ``(x, y)``.
        enemy: The enemy's ``(x, y)``, apart from the player's and the food's.
        size: The grid size.
        max_steps: The time limit in steps.

    Returns:
        The best return any policy gets from this state.

    Raises:
        ValueError: A cell is off the grid, or the enemy shares a cell with the player or food.
    """
    return float(optimal_returns_from(player, food, enemy, size, max_steps)[0])


def optimal_action(
    player: Sequence[int], food: Sequence[int], enemy: Sequence[int], size: int = 10
) -> int:
    """Return an optimal action in a static game: the lowest-numbered one on a shortest path.

    Args:
        player: The player's ``(x, y)``.
        food: The food's ``(x, y)``.
        enemy: The enemy's ``(x, y)``, apart from the player's and the food's.
        size: The grid size.

    Returns:
        An action index in ``[0, 8]``; 8 (stay) when the player is on the food.

    Raises:
        ValueError: A cell is off the grid, or the enemy shares a cell with the player or food.
    """
    player, food, enemy = _check_games(player, food, enemy, size)
    distances = distance_maps(food, enemy, size)[0]
    here = distances[player[0, 1], player[0, 0]]
    if here == 0:
        return rules.STAY
    targets = np.repeat(player, rules.NUM_ACTIONS, axis=0)
    rules.move(targets, np.arange(rules.NUM_ACTIONS), size)
    after = distances[targets[:, 1], targets[:, 0]]
    return int(np.flatnonzero(after == here - 1)[0])


def optimal_returns(
    seeds: Sequence[int], size: int = 10, max_steps: int = MAX_EPISODE_STEPS
) -> np.ndarray:
    """Return the optimal return of the game ``BlobEnv(size=size).reset(seed=s)`` starts, per seed.

    Args:
        seeds: Non-negative integer seeds.
        size: The grid size.
        max_steps: The time limit in steps.

    Returns:
        ``(len(seeds),)`` float64 optimal returns, e.g. to report an agent's ratio to optimum.
    """
    return optimal_returns_from(*rules.spawn_seeded(seeds, size), size, max_steps)


def _check_games(
    player: object, food: object, enemy: object, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cells = [np.asarray(a, dtype=rules.CELL_DTYPE).reshape(-1, 2) for a in (player, food, enemy)]
    for name, array in zip(rules.POSITION_KEYS, cells, strict=True):
        if array.size and (array.min() < 0 or array.max() >= size):
            raise ValueError(f"{name} cells must lie on the {size} x {size} grid, got {array}")
    player, food, enemy = cells
    for name, other in (("player", player), ("food", food)):
        if np.all(other == enemy, axis=1).any():
            raise ValueError(f"the enemy must not share a cell with the {name}")
    return player, food, enemy
