"""A cautious greedy policy for Blob: the hand-written floor a learned agent should beat.

Each step it takes the move that ends closest to the food (king-move distance; the lowest action
index among ties) among the moves that cannot be caught this step: never onto the enemy's cell,
and, when the enemy moves, never within its one-step reach. If every move is within reach it
closes in on the food anyway. It plays every game of a batch at once, from the blobs' cells.
"""

from __future__ import annotations

import numpy as np

from blobenv import rules

#: What a move that the enemy can reach costs in the ranking: more than any distance to the food.
_CAUGHT = rules.MAX_SIZE


def cautious_actions(
    player: np.ndarray, food: np.ndarray, enemy: np.ndarray, size: int, moving_enemy: bool
) -> np.ndarray:
    """Return the heuristic's action in each of many games.

    Args:
        player: ``(n, 2)`` ``(x, y)`` player cells.
        food: ``(n, 2)`` food cells.
        enemy: ``(n, 2)`` enemy cells.
        size: The grid size (moves clamp at the walls).
        moving_enemy: Whether the enemy takes a random step after the player's move.

    Returns:
        ``(n,)`` int64 action indices into ``rules.ACTIONS``.
    """
    n, k = len(player), rules.NUM_ACTIONS
    # Every game's k landing cells, one row each, beside k copies of its food and enemy cells.
    after = np.repeat(np.asarray(player, dtype=rules.CELL_DTYPE), k, axis=0)
    rules.move(after, np.tile(np.arange(k), n), size)
    to_food = rules.chebyshev_distance(after, np.repeat(food, k, axis=0)).reshape(n, k)
    to_enemy = rules.chebyshev_distance(after, np.repeat(enemy, k, axis=0)).reshape(n, k)
    caught = to_enemy <= (1 if moving_enemy else 0)
    return np.argmin(to_food + _CAUGHT * caught, axis=1)
