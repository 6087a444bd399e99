"""The rules of the Blob game, once, on batches of games held in NumPy arrays.

A batch of ``n`` games is three ``(n, 2)`` integer arrays of ``(x, y)`` cells: the player's, the
food's and the enemy's. :class:`blobenv.BlobEnv` plays a batch of one and
:class:`blobenv.BlobVectorEnv` a batch of many, so both follow these functions and no rule is
written twice.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding

#: The nine moves as ``(dx, dy)``, indexed by action; 8 is "stay".
ACTIONS = np.array(
    [[1, 1], [-1, -1], [-1, 1], [1, -1], [1, 0], [-1, 0], [0, 1], [0, -1], [0, 0]],
    dtype=np.int32,
)
ACTIONS.flags.writeable = False
_SHIFTED_ACTIONS = ACTIONS + 1
NUM_ACTIONS = len(ACTIONS)
STAY = 8
#: The blobs of a game, in the order the functions here take and return them.
POSITION_KEYS = ("player", "food", "enemy")

ENEMY_PENALTY = -300
FOOD_REWARD = 25
MOVE_PENALTY = -1
# Indexed by on_food + 2 * on_enemy: the enemy's cell is checked first, so it wins a shared cell.
_REWARDS = np.array([MOVE_PENALTY, FOOD_REWARD, ENEMY_PENALTY, ENEMY_PENALTY], dtype=np.float64)
_TERMINATED = np.array([False, True, True, True])

MIN_SIZE = 3
#: A 1000 x 1000 rgb observation is already 3 MB per step; anything larger is a mistake.
MAX_SIZE = 1000

#: Cells are int32 (x, y) pairs, so a cell is also one int64 and one comparison matches both axes.
CELL_DTYPE = np.int32


def check_size(size: object) -> int:
    """Validate a grid size.

    Args:
        size: The requested number of cells along each side.

    Returns:
        ``size`` as an ``int``.

    Raises:
        TypeError: ``size`` is not an integer.
        ValueError: ``size`` is outside ``[MIN_SIZE, MAX_SIZE]``.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an int, got {size!r} ({type(size).__name__})")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    return int(size)


def spawn(rng: np.random.Generator, n: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place ``n`` games' player, food and enemy on three distinct uniformly random cells each.

    Args:
        rng: The generator to draw from: one integer per game, which numbers one of the
            ``cells * (cells - 1) * (cells - 2)`` ordered triples of distinct cells.
        n: The number of games.
        size: The grid size.

    Returns:
        ``(player, food, enemy)``, each an ``(n, 2)`` :data:`CELL_DTYPE` array of ``(x, y)`` cells.
    """
    return _cells_of_triples(rng.integers(0, _triple_count(size), size=n), size)


def spawn_seeded(seeds: Sequence[int], size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start one game per seed exactly as ``BlobEnv(size=size).reset(seed=seed)`` does.

    Args:
        seeds: Non-negative integer seeds.
        size: The grid size.

    Returns:
        ``(player, food, enemy)``, each a ``(len(seeds), 2)`` :data:`CELL_DTYPE` array.
    """
    count = _triple_count(size)
    triples = [seeding.np_random(int(seed))[0].integers(0, count, size=1) for seed in seeds]
    return _cells_of_triples(np.concatenate(triples) if triples else np.zeros(0, np.int64), size)


def _triple_count(size: int) -> int:
    cells = size * size
    return cells * (cells - 1) * (cells - 2)


def _cells_of_triples(triples: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cells = size * size
    rest, player = np.divmod(triples, cells)
    enemy, food = np.divmod(rest, cells - 1)
    # Sampling without replacement: skip over the cells already taken, lowest first.
    food += food >= player
    enemy += enemy >= np.minimum(player, food)
    enemy += enemy >= np.maximum(player, food)
    xy = np.empty((3, len(triples), 2), dtype=CELL_DTYPE)
    flat = np.concatenate((player, food, enemy)).reshape(3, -1)
    np.divmod(flat, size, out=(xy[..., 1], xy[..., 0]))
    return xy[0], xy[1], xy[2]


def check_start_options(
    options: dict[str, Any], size: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate start cells given by a user in ``reset(options=...)``.

    Args:
        options: ``{"player": ..., "food": ..., "enemy": ...}``, each ``n`` integer ``(x, y)``
            cells of shape ``(n, 2)`` (or a single ``(x, y)`` when ``n == 1``).
        size: The grid size.
        n: The number of games.

    Returns:
        ``(player, food, enemy)`` as fresh ``(n, 2)`` :data:`CELL_DTYPE` arrays.

    Raises:
        ValueError: Other keys than the three, a cell of the wrong shape or off the grid, or two
            blobs of one game on the same cell.
    """
    if set(options) != set(POSITION_KEYS):
        raise ValueError(
            f"options must be empty or hold exactly {list(POSITION_KEYS)}, got {sorted(options)}"
        )
    arrays = {}
    for name in POSITION_KEYS:
        value = options[name]
        array = np.array(value)
        if array.shape == (2,) and n == 1:
            array = array[None]
        if array.shape != (n, 2) or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"{name} must be {n} integer (x, y) cells of shape ({n}, 2), got {value!r}"
            )
        if array.min() < 0 or array.max() >= size:
            raise ValueError(f"{name} must lie on the grid, 0 <= x, y < {size}, got {value!r}")
        arrays[name] = array.astype(CELL_DTYPE)
    for name_a, name_b in (("player", "food"), ("player", "enemy"), ("food", "enemy")):
        if np.any(np.all(arrays[name_a] == arrays[name_b], axis=1)):
            raise ValueError(f"{name_a} and {name_b} must start on different cells")
    return arrays["player"], arrays["food"], arrays["enemy"]


def random_steps(rng: np.random.Generator, positions: np.ndarray, size: int) -> None:
    """Move each blob in ``positions`` one uniformly random step of the nine, in place.

    Args:
        rng: The generator to draw the steps from.
        positions: ``(n, 2)`` :data:`CELL_DTYPE` cells, updated in place.
        size: The grid size (moves clamp at the walls).
    """
    move(positions, rng.integers(0, NUM_ACTIONS, size=len(positions)), size)


def move(positions: np.ndarray, actions: np.ndarray | Sequence[int], size: int) -> None:
    """Apply one action to each blob, clamping at the walls, in place.

    Args:
        positions: ``(n, 2)`` :data:`CELL_DTYPE` cells, updated in place.
        actions: ``n`` action indices into :data:`ACTIONS`, or one index for every blob.
        size: The grid size.
    """
    # Shifted by one, a coordinate indexes the clamping table: two calls instead of three.
    np.add(positions, _SHIFTED_ACTIONS.take(actions, axis=0), out=positions)
    _clamp_table(size).take(positions, out=positions)


@functools.cache
def _clamp_table(size: int) -> np.ndarray:
    # Entry i is the coordinate i - 1 clamped to the grid, for i - 1 in [-1, size].
    table = np.clip(np.arange(-1, size + 1), 0, size - 1).astype(CELL_DTYPE)
    table.flags.writeable = False
    return table


def step(
    player: np.ndarray,
    food: np.ndarray,
    enemy: np.ndarray,
    actions: np.ndarray | Sequence[int],
    size: int,
    rng: np.random.Generator | None = None,
    moving_food: bool = False,
    moving_enemy: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Play one step of every game, updating the positions in place.

    The player moves first; then the food, then the enemy, each take one random step when they
    move. The outcome is judged on the cells after all moves: the enemy's cell first (-300), then
    the food's (+25), else -1.

    Args:
        player: ``(n, 2)`` C-contiguous :data:`CELL_DTYPE` player cells, as :func:`spawn` makes.
        food: ``(n, 2)`` food cells, likewise.
        enemy: ``(n, 2)`` enemy cells, likewise.
        actions: ``n`` valid action indices, or one for every game (not checked here: the envs
            check them).
        size: The grid size.
        rng: The generator for the food's and enemy's moves; needed only when one moves.
        moving_food: Whether the food takes a random step.
        moving_enemy: Whether the enemy takes a random step.

    Returns:
        ``(rewards, terminated)``: an ``(n,)`` float64 and an ``(n,)`` bool array.
    """
    move(player, actions, size)
    if moving_food:
        random_steps(rng, food, size)
    if moving_enemy:
        random_steps(rng, enemy, size)
    # Seen as one int64 per cell, a single comparison matches both coordinates.
    cell = player.view(np.int64)
    on_food = (cell == food.view(np.int64))[:, 0]
    on_enemy = (cell == enemy.view(np.int64))[:, 0]
    outcome = on_food + 2 * on_enemy
    return _REWARDS[outcome], _TERMINATED[outcome]


def chebyshev_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the king-move distance between two batches of cells.

    Args:
        a: ``(n, 2)`` cells.
        b: ``(n, 2)`` cells.

    Returns:
        ``(n,)`` integer distances.
    """
    gaps = np.abs(a - b)
    return np.maximum(gaps[:, 0], gaps[:, 1])
