"""The exact optimal play of Blob with moving food and enemy, by finite-horizon value iteration.

A state is the three cells ``(player, food, enemy)``; the player is never on the food's or the
enemy's cell (that ends the episode), but the food and the enemy may share a cell once they move.
One step, exactly as ``rules.step`` plays it: the player moves, then the food and then the enemy
each take one uniformly random step of the nine (all clamped at the walls), and only then is the
outcome judged: the enemy's cell first (-300, terminated), then the food's (+25, terminated), else
-1. So with ``V`` the optimal values with one step less to go, and ``W = reward + V`` (``V`` taken
as 0 on the cells that end the episode), the values with ``t`` steps left are

    V_t(p, f, e) = max over the player's moves p -> p' of E[W(p', f', e')],

the expectation over the food's step f -> f' and the enemy's step e -> e'. The nine steps are
every (dx, dy) in {-1, 0, 1}^2 and clamp each coordinate on its own, so dx and dy are independent
uniform draws of {-1, 0, 1}: the expectation is four 3-cell averages, one along each coordinate of
the food and of the enemy, and the player's maximum is two 3-cell maxima. A backup is a dozen or so
array operations over the ``size**6`` table (10**6 states on 10 x 10: 8 MB of float64).

Memory: the ``max_steps + 1`` tables of 10 x 10 would be 1.6 GB. :class:`MovingSolver` keeps one
table every ``checkpoint_every`` steps (about the square root of the horizon) and recomputes the
tables between two of them, once per block, when they are asked for: recomputed tables are
bit-for-bit the ones of the first pass, and 10 x 10 holds at most about 30 tables (240 MB).
Grids whose tables all fit in 64 MB keep them all.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from blobenv import rules
from blobenv.registration import MAX_EPISODE_STEPS

#: The largest grid solved: its table is (16 * 16) ** 3 float64, 134 MB, and each backup reads it
#: about a dozen times.
MAX_SIZE = 16
#: Below this many bytes for all the tables, :class:`MovingSolver` keeps every one of them.
STORE_ALL_BYTES = 64 * 2**20
#: Axes of a value table, indexed ``[player_x, player_y, food_x, food_y, enemy_x, enemy_y]``.
PLAYER_AXES, FOOD_AXES, ENEMY_AXES = (0, 1), (2, 3), (4, 5)


class MovingSolver:
    """The optimal expected returns and actions of every state of one Blob game, at every step.

    Args:
        size: The grid size, ``rules.MIN_SIZE`` to :data:`MAX_SIZE`.
        moving_food: Whether the food takes a random step after each move.
        moving_enemy: Whether the enemy takes a random step after each move.
        max_steps: The time limit: the most steps an episode has left, from its start.
        checkpoint_every: Keep one value table every this many steps and recompute the others
            on demand; None keeps them all when they fit in :data:`STORE_ALL_BYTES`, and one
            every ``ceil(sqrt(max_steps))`` steps otherwise.

    Raises:
        TypeError: ``size`` is not an int, or a ``moving_*`` flag is not a bool.
        ValueError: ``size``, ``max_steps`` or ``checkpoint_every`` is out of range.
    """

    def __init__(
        self,
        size: int = 10,
        moving_food: bool = True,
        moving_enemy: bool = True,
        max_steps: int = MAX_EPISODE_STEPS,
        checkpoint_every: int | None = None,
    ) -> None:
        self._backup = _Backup(size, moving_food, moving_enemy)
        self.size = self._backup.size
        self.moving_food, self.moving_enemy = bool(moving_food), bool(moving_enemy)
        self.max_steps = _check_int(max_steps, "max_steps", 0)
        if checkpoint_every is None:
            fits = (self.max_steps + 1) * self._backup.table_bytes <= STORE_ALL_BYTES
            checkpoint_every = 1 if fits else math.ceil(math.sqrt(self.max_steps))
        self.checkpoint_every = _check_int(checkpoint_every, "checkpoint_every", 1)
        values = self._backup.zeros()
        self._checkpoints = {0: values}
        for steps_left in range(1, self.max_steps + 1):
            values = self._backup(values)
            if steps_left % self.checkpoint_every == 0 or steps_left == self.max_steps:
                self._checkpoints[steps_left] = values
        self._block: dict[int, np.ndarray] = {}

    def value_table(self, steps_left: int | None = None) -> np.ndarray:
        """Return the optimal values of all states with ``steps_left`` steps to go.

        Args:
            steps_left: ``0`` to ``max_steps``; None for ``max_steps`` (an episode's start).

        Returns:
            A read-only ``(size,) * 6`` float64 array indexed ``[player_x, player_y, food_x,
            food_y, enemy_x, enemy_y]``; 0 where the player is on the food or the enemy.
        """
        steps_left = self._check_steps(steps_left, 0)
        if steps_left in self._checkpoints:
            return self._checkpoints[steps_left]
        if steps_left not in self._block:
            start = steps_left - steps_left % self.checkpoint_every
            values, self._block = self._checkpoints[start], {}
            for later in range(start + 1, min(start + self.checkpoint_every, self.max_steps)):
                values = self._backup(values)
                self._block[later] = values
        return self._block[steps_left]

    def values(
        self, player: object, food: object, enemy: object, steps_left: int | None = None
    ) -> np.ndarray:
        """Return the optimal expected returns of many states.

        Args:
            player: ``(n, 2)`` ``(x, y)`` player cells, or one ``(x, y)``.
            food: The food's cells, likewise.
            enemy: The enemy's cells, likewise.
            steps_left: Steps to go before the time limit; None for ``max_steps``.

        Returns:
            ``(n,)`` float64 optimal expected returns.

        Raises:
            ValueError: A cell is off the grid, the player is on its food's or enemy's cell (the
                episode has ended), or ``steps_left`` is out of range.
        """
        cells = self._check_states(player, food, enemy)
        return self.value_table(steps_left)[_index(*cells)]

    def value(
        self,
        player: Sequence[int],
        food: Sequence[int],
        enemy: Sequence[int],
        steps_left: int | None = None,
    ) -> float:
        """Return the optimal expected return of one state (see :meth:`values`)."""
        return float(self.values(player, food, enemy, steps_left)[0])

    def q_values(
        self, player: object, food: object, enemy: object, steps_left: int | None = None
    ) -> np.ndarray:
        """Return the expected return of each action, followed by optimal play, in many states.

        Args:
            player: ``(n, 2)`` ``(x, y)`` player cells, or one ``(x, y)``.
            food: The food's cells, likewise.
            enemy: The enemy's cells, likewise.
            steps_left: Steps to go, at least 1; None for ``max_steps``.

        Returns:
            ``(n, 9)`` float64, indexed by the env's action indices (``rules.ACTIONS``).

        Raises:
            ValueError: As :meth:`values`, or no step is left.
        """
        player, food, enemy = self._check_states(player, food, enemy)
        later = self.value_table(self._check_steps(steps_left, 1) - 1)
        n, k = len(player), rules.NUM_ACTIONS
        # Every outcome of a step: (game, action, food step, enemy step); a still blob has one.
        player = _moved(player, k, self.size)[:, :, None, None]
        food = _moved(food, k if self.moving_food else 1, self.size)[:, None, :, None]
        enemy = _moved(enemy, k if self.moving_enemy else 1, self.size)[:, None, None, :]
        on_food = (player == food).all(axis=-1)
        on_enemy = (player == enemy).all(axis=-1)
        index = _index(*np.broadcast_arrays(player, food, enemy))
        landing = np.where(
            on_enemy,
            rules.ENEMY_PENALTY,
            np.where(on_food, rules.FOOD_REWARD, rules.MOVE_PENALTY + later[index]),
        )
        return landing.reshape(n, k, -1).mean(axis=2)

    def optimal_actions(
        self, player: object, food: object, enemy: object, steps_left: int | None = None
    ) -> np.ndarray:
        """Return an optimal action in each of many states: the lowest-numbered best one.

        Args and Raises: as :meth:`q_values` (ties are judged to float64 rounding).

        Returns:
            ``(n,)`` int64 action indices in ``[0, 8]``.
        """
        return self.q_values(player, food, enemy, steps_left).argmax(axis=1)

    def optimal_action(
        self,
        player: Sequence[int],
        food: Sequence[int],
        enemy: Sequence[int],
        steps_left: int | None = None,
    ) -> int:
        """Return an optimal action in one state (see :meth:`optimal_actions`)."""
        return int(self.optimal_actions(player, food, enemy, steps_left)[0])

    def _check_steps(self, steps_left: object, low: int) -> int:
        if steps_left is None:
            steps_left = self.max_steps
        if isinstance(steps_left, bool) or not isinstance(steps_left, (int, np.integer)):
            raise ValueError(f"steps_left must be an int, got {steps_left!r}")
        if not low <= steps_left <= self.max_steps:
            raise ValueError(
                f"steps_left must be between {low} and max_steps={self.max_steps}, got {steps_left}"
            )
        return int(steps_left)

    def _check_states(self, player: object, food: object, enemy: object) -> tuple:
        cells = []
        for name, value in zip(rules.POSITION_KEYS, (player, food, enemy), strict=True):
            array = np.asarray(value)
            if array.ndim == 1:
                array = array[None]
            if array.ndim != 2 or array.shape[1] != 2 or not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"{name} must be integer (x, y) cells, got {value!r}")
            if array.size and (array.min() < 0 or array.max() >= self.size):
                raise ValueError(
                    f"{name} cells must lie on the {self.size} x {self.size} grid, got {value!r}"
                )
            cells.append(array.astype(rules.CELL_DTYPE))
        if not len(cells[0]) == len(cells[1]) == len(cells[2]):
            raise ValueError(f"as many player, food and enemy cells, got {[len(c) for c in cells]}")
        for name, other in (("food", cells[1]), ("enemy", cells[2])):
            if (cells[0] == other).all(axis=1).any():
                raise ValueError(
                    f"the player is on the {name}'s cell: the episode has ended, no value to give"
                )
        return tuple(cells)


def optimal_returns(
    seeds: Sequence[int],
    size: int = 10,
    moving_food: bool = True,
    moving_enemy: bool = True,
    max_steps: int = MAX_EPISODE_STEPS,
) -> np.ndarray:
    """Return the optimal expected return of the game ``reset(seed=s)`` starts, per seed.

    Args:
        seeds: Non-negative integer seeds, as given to ``BlobEnv(size=size, ...).reset``.
        size: The grid size.
        moving_food: Whether the food takes a random step after each move.
        moving_enemy: Whether the enemy takes a random step after each move.
        max_steps: The time limit in steps.

    Returns:
        ``(len(seeds),)`` float64 optimal expected returns.
    """
    table = _start_values(size, moving_food, moving_enemy, max_steps)
    return table[_index(*rules.spawn_seeded(seeds, size))]


def mean_optimal_return(
    size: int = 10,
    moving_food: bool = True,
    moving_enemy: bool = True,
    seeds: Sequence[int] | None = None,
    max_steps: int = MAX_EPISODE_STEPS,
) -> float:
    """Return the mean optimal expected return over the env's random starts.

    Args:
        size: The grid size.
        moving_food: Whether the food takes a random step after each move.
        moving_enemy: Whether the enemy takes a random step after each move.
        seeds: The reset seeds to average over; None for the exact expectation over the env's
            start distribution, uniform over the ordered triples of distinct cells.
        max_steps: The time limit in steps.

    Returns:
        The mean, a float.
    """
    if seeds is not None:
        return float(optimal_returns(seeds, size, moving_food, moving_enemy, max_steps).mean())
    table = _start_values(size, moving_food, moving_enemy, max_steps)
    cells = np.arange(size * size)
    player, food, enemy = np.meshgrid(cells, cells, cells, indexing="ij")
    distinct = (player != food) & (player != enemy) & (food != enemy)
    return float(table.reshape(player.shape)[distinct].mean())


@functools.lru_cache(maxsize=4)
def _start_values(size: int, moving_food: bool, moving_enemy: bool, max_steps: int) -> np.ndarray:
    # Only the last table: max_steps backups in three tables' memory, whatever the horizon.
    backup = _Backup(size, moving_food, moving_enemy)
    values = backup.zeros()
    for _ in range(_check_int(max_steps, "max_steps", 0)):
        values = backup(values)
    return values


class _Backup:
    """One Bellman backup of a game's value table, with its reward table and work buffers."""

    def __init__(self, size: object, moving_food: object, moving_enemy: object) -> None:
        size = rules.check_size(size)
        if size > MAX_SIZE:
            raise ValueError(
                f"size must be at most {MAX_SIZE} for the moving solver, got {size}: its table "
                f"of size**6 float64 would take {8 * size**6 / 1e9:.1f} GB"
            )
        self.size, self.shape, self.table_bytes = size, (size,) * 6, 8 * size**6
        self.random_axes = (FOOD_AXES if _check_bool(moving_food, "moving_food") else ()) + (
            ENEMY_AXES if _check_bool(moving_enemy, "moving_enemy") else ()
        )
        grid = np.arange(size)
        x = [grid.reshape((size,) + (1,) * (5 - axis)) for axis in range(6)]
        on_food = (x[0] == x[2]) & (x[1] == x[3])
        on_enemy = (x[0] == x[4]) & (x[1] == x[5])
        self.rewards = np.where(
            on_enemy,
            float(rules.ENEMY_PENALTY),
            np.where(on_food, float(rules.FOOD_REWARD), float(rules.MOVE_PENALTY)),
        )
        self.ended = np.flatnonzero(np.broadcast_to(on_food | on_enemy, self.shape))
        self.buffers = (np.empty(self.shape), np.empty(self.shape))

    def zeros(self) -> np.ndarray:
        """Return the values with no step left: all 0, read-only."""
        values = np.zeros(self.shape)
        values.flags.writeable = False
        return values

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Return the values with one step more to go than ``values``, as a new read-only table."""
        landing, spare = self.buffers
        np.add(values, self.rewards, out=landing)  # `values` is 0 where the episode has ended
        for axis in self.random_axes:
            _sum_neighbours(landing, axis, spare)
            landing, spare = spare, landing
        if self.random_axes:
            landing /= 3 ** len(self.random_axes)
        new = np.empty(self.shape)
        _max_neighbours(landing, PLAYER_AXES[0], spare)
        _max_neighbours(spare, PLAYER_AXES[1], new)
        new.reshape(-1)[self.ended] = 0.0
        new.flags.writeable = False
        return new


def _sum_neighbours(table: np.ndarray, axis: int, out: np.ndarray) -> None:
    """Write into ``out`` the sum of ``table`` at i - 1, i and i + 1 along ``axis``, clamped."""
    _combine_neighbours(np.add, table, axis, out)


def _max_neighbours(table: np.ndarray, axis: int, out: np.ndarray) -> None:
    """Write into ``out`` the maximum of ``table`` at i - 1, i and i + 1 along ``axis``, clamped."""
    _combine_neighbours(np.maximum, table, axis, out)


def _combine_neighbours(op: np.ufunc, table: np.ndarray, axis: int, out: np.ndarray) -> None:
    """Write into ``out`` ``op`` of ``table`` at i - 1, i and i + 1 along ``axis``, clamped.

    A step off the grid stays at the wall, so the wall's own value counts twice there.
    """
    flat, into, stride = table.reshape(-1), out.reshape(-1), table.strides[axis] // table.itemsize
    # Shifting the flat array by one stride is one contiguous operation; it is only wrong at the
    # first and last index along `axis`, which are then redone.
    into[:stride] = flat[:stride]
    op(flat[stride:], flat[:-stride], out=into[stride:])
    op(into[:-stride], flat[stride:], out=into[:-stride])
    rows, cols = _blocks(table, axis), _blocks(out, axis)
    for wall, inner in ((0, 1), (-1, -2)):
        op(rows[:, wall], rows[:, wall], out=cols[:, wall])
        op(cols[:, wall], rows[:, inner], out=cols[:, wall])


def _blocks(table: np.ndarray, axis: int) -> np.ndarray:
    """View a C-contiguous table as (before ``axis``, ``axis``, after ``axis``)."""
    return table.reshape(math.prod(table.shape[:axis]), table.shape[axis], -1)


def _moved(cells: np.ndarray, moves: int, size: int) -> np.ndarray:
    """Return ``(n, moves, 2)``: each cell after each of the first ``moves`` actions (1: stay)."""
    actions = np.arange(rules.NUM_ACTIONS)[:moves] if moves > 1 else [rules.STAY]
    moved = np.repeat(cells, moves, axis=0)
    rules.move(moved, np.tile(actions, len(cells)), size)
    return moved.reshape(len(cells), moves, 2)


def _index(player: np.ndarray, food: np.ndarray, enemy: np.ndarray) -> tuple:
    """The value-table index of states given as ``(..., 2)`` cell arrays."""
    return (
        player[..., 0],
        player[..., 1],
        food[..., 0],
        food[..., 1],
        enemy[..., 0],
        enemy[..., 1],
    )


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)
