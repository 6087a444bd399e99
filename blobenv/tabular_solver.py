"""The exact optimum of tabular envs, from their transition table `P`.

Gymnasium's toy-text envs (FrozenLake, Taxi, CliffWalking) publish their dynamics as
`env.unwrapped.P[s][a] = [(prob, next_state, reward, terminated), ...]` and sample `step` from it.
Finite-horizon value iteration on that table gives the best expected undiscounted return from
every state with H steps left: the ceiling of any agent whose episodes are cut after H steps.

Refusals are ValueErrors (see `transition_table`); `has_transition_table` says beforehand
whether an id and its keyword arguments have a table the solver takes.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import gymnasium
import numpy as np

#: Largest table solved (states x actions): reading a bigger `P` dict would take long already.
MAX_STATE_ACTIONS = 1_000_000
#: How far, in total, the values returned may be from the exact H-step ones (see `solve`).
TOLERANCE = 1e-9
#: Options of the toy-text envs that change `step` beyond what `P` says, by attribute.
_OUTSIDE_THE_TABLE = {
    "fickle_passenger": "Taxi's fickle passenger changes destination outside P",
}
#: Solved tables and values of this process, by id, keyword arguments and horizon.
_CACHE: dict[tuple, Any] = {}


class TransitionTable(NamedTuple):
    """A `P` table as arrays, one entry per outcome of a (state, action).

    Attributes:
        n_states: Number of states.
        n_actions: Number of actions.
        rows: `state * n_actions + action` of each outcome.
        prob: Its probability.
        next_state: The state it leads to.
        reward: Its reward.
        terminated: Whether it ends the episode.
    """

    n_states: int
    n_actions: int
    rows: np.ndarray
    prob: np.ndarray
    next_state: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray

    def q_values(self, values: np.ndarray) -> np.ndarray:
        """The (n_states, n_actions) expected returns of one step, then `values` after it."""
        following = np.where(self.terminated, 0.0, values[self.next_state])
        weights = self.prob * (self.reward + following)
        size = self.n_states * self.n_actions
        return np.bincount(self.rows, weights, size).reshape(self.n_states, self.n_actions)


def transition_table(
    env: gymnasium.Env, max_state_actions: int = MAX_STATE_ACTIONS
) -> TransitionTable:
    """Reads and checks the transition table of `env.unwrapped.P`.

    Args:
        env: A Gymnasium env (wrapped or not).
        max_state_actions: The largest table (states x actions) read.

    Returns:
        The table as arrays.

    Raises:
        ValueError: If the env has no `P`, its action space is not `Discrete` from 0, the table
            is larger than `max_state_actions` (the message gives its size), an entry is not a
            distribution over the table's states, or an option of the env makes `step` depart
            from `P` (Taxi's `fickle_passenger`).
    """
    base = env.unwrapped
    table, space, name = getattr(base, "P", None), base.action_space, type(base).__name__
    if not isinstance(table, Mapping):
        raise ValueError(f"{name} has no transition table (no env.unwrapped.P)")
    if not isinstance(space, gymnasium.spaces.Discrete) or int(space.start) != 0:
        raise ValueError(f"{name}'s actions must be Discrete from 0 for P, got {space}")
    for attribute, reason in _OUTSIDE_THE_TABLE.items():
        if getattr(base, attribute, False):
            raise ValueError(f"{name}: {reason}, so P does not give its optimum")
    n_states, n_actions = len(table), int(space.n)
    if n_states * n_actions > max_state_actions:
        raise ValueError(
            f"{name}'s table has {n_states} states x {n_actions} actions = "
            f"{n_states * n_actions} state-actions, more than the {max_state_actions} solved"
        )
    if n_states * n_actions == 0:
        raise ValueError(f"{name}'s table is empty ({n_states} states x {n_actions} actions)")
    if set(table) != set(range(n_states)):
        raise ValueError(f"{name}'s P must have the states 0..{n_states - 1} as keys")
    outcomes = []
    for state in range(n_states):
        actions = table[state]
        if not isinstance(actions, Mapping) or set(actions) != set(range(n_actions)):
            raise ValueError(f"{name}'s P[{state}] must have the actions 0..{n_actions - 1}")
        for action in range(n_actions):
            row = state * n_actions + action
            try:
                outcomes.extend((row, *_outcome(outcome)) for outcome in actions[action])
            except (TypeError, ValueError) as error:
                raise ValueError(f"{name}'s P[{state}][{action}] is malformed: {error}") from error
    rows, prob, next_state, reward, terminated = np.array(outcomes, dtype=float).reshape(-1, 5).T
    table_arrays = TransitionTable(
        n_states, n_actions, rows.astype(np.int64), prob, next_state.astype(np.int64),
        reward, terminated.astype(bool),
    )  # fmt: skip
    _check_distributions(table_arrays, next_state, name)
    return table_arrays


def _outcome(outcome: Any) -> tuple[float, float, float, float]:
    """(prob, next_state, reward, terminated) as floats; ValueError if it is not four numbers."""
    prob, next_state, reward, terminated = outcome
    return float(prob), float(next_state), float(reward), float(terminated)


def _check_distributions(table: TransitionTable, next_state: np.ndarray, name: str) -> None:
    """Raises ValueError unless every (state, action) is a distribution over the table's states."""
    if not np.array_equal(next_state, table.next_state) or not (
        (0 <= table.next_state).all() and (table.next_state < table.n_states).all()
    ):
        raise ValueError(f"{name}'s P leads to states other than 0..{table.n_states - 1}")
    if not (np.isfinite(table.reward).all() and (table.prob >= 0).all()):
        raise ValueError(f"{name}'s P has a negative probability or a reward that is not finite")
    totals = np.bincount(table.rows, table.prob, table.n_states * table.n_actions)
    worst = int(np.abs(totals - 1).argmax())
    if abs(totals[worst] - 1) > 1e-6:
        state, action = divmod(worst, table.n_actions)
        raise ValueError(f"{name}'s P[{state}][{action}] probabilities sum to {totals[worst]}")


def solve(table: TransitionTable, horizon: int, tolerance: float = TOLERANCE) -> np.ndarray:
    """The best expected undiscounted return from each state with `horizon` steps left.

    Value iteration, one Bellman backup per step left, stops early when the values cannot move
    by more than `tolerance` any more: the backup moves no value by more than the last one did
    (its outcome probabilities sum to 1), so after a change of d with k steps left the values
    are within k * d of the H-step ones. A fixed point (d = 0, as in deterministic envs) is
    exact; 10,000 steps cost nothing once the values converge.

    Args:
        table: The env's transitions.
        horizon: Steps left, at least 0.
        tolerance: The largest total change the skipped steps may make.

    Returns:
        (n_states,) values.
    """
    values = np.zeros(table.n_states)
    for steps_left in range(1, horizon + 1):
        new_values = table.q_values(values).max(axis=1)
        change = float(np.abs(new_values - values).max())
        values = new_values
        if change * (horizon - steps_left) <= tolerance:
            break
    return values


def has_transition_table(env_id: str, **env_kwargs: Any) -> bool:
    """Whether `optimal_values(env_id, ..., **env_kwargs)` can solve the env (see its Raises)."""
    try:
        _table(env_id, env_kwargs)
    except ValueError:
        return False
    return True


def optimal_values(env_id: str, horizon: int | None = None, **env_kwargs: Any) -> np.ndarray:
    """The optimal expected undiscounted return of every state within `horizon` steps.

    The solved values are kept for the process (by id, keyword arguments and horizon), so that
    validating every N steps solves once.

    Args:
        env_id: A registered Gymnasium id.
        horizon: Steps per episode; None: the id's `max_episode_steps`.
        **env_kwargs: Passed to `gymnasium.make`.

    Returns:
        A read-only (n_states,) array.

    Raises:
        ValueError: If the env has no usable table (see `transition_table`), its table changes
            from one `make` to the next (a randomly generated FrozenLake map), or `horizon` is
            None and the id has no `max_episode_steps`.
    """
    if horizon is None:
        horizon = gymnasium.spec(env_id).max_episode_steps
        if horizon is None:
            raise ValueError(f"{env_id} has no max_episode_steps: give the horizon")
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 0:
        raise ValueError(f"horizon must be an int >= 0, got {horizon!r}")

    def compute() -> np.ndarray:
        values = solve(_table(env_id, env_kwargs), int(horizon))
        values.setflags(write=False)
        return values

    return _cached(("values", env_id, horizon), env_kwargs, compute)


def optimal_returns(
    env_id: str, seeds: Sequence[int], horizon: int | None = None, **env_kwargs: Any
) -> np.ndarray:
    """The optimal expected return of the episode that `reset(seed=s)` starts, for each seed.

    Args:
        env_id: A registered Gymnasium id.
        seeds: One seed per episode.
        horizon: Steps per episode; None: the id's `max_episode_steps`.
        **env_kwargs: Passed to `gymnasium.make`.

    Returns:
        (len(seeds),) optimal returns.

    Raises:
        ValueError: As `optimal_values`, or if the start state cannot be read (see
            `start_state`).
    """
    values = optimal_values(env_id, horizon, **env_kwargs)
    env = gymnasium.make(env_id, **env_kwargs)
    try:
        starts = [start_state(env, env.reset(seed=int(seed))[0]) for seed in seeds]
    finally:
        env.close()
    return values[np.array(starts, dtype=np.int64)]


def start_state(env: gymnasium.Env, obs: Any) -> int:
    """The table's state that `env` is in after a reset that returned `obs`.

    The observation when the observation space is `Discrete` of the table's size, else the
    toy-text envs' `env.unwrapped.s`.

    Raises:
        ValueError: If neither tells the state.
    """
    base, space = env.unwrapped, env.observation_space
    if isinstance(space, gymnasium.spaces.Discrete) and space.n == len(base.P):
        return int(obs) - int(space.start)
    if not hasattr(base, "s"):
        raise ValueError(f"{type(base).__name__}'s state is neither its observation nor env.s")
    return int(base.s)


def _table(env_id: str, env_kwargs: dict[str, Any]) -> TransitionTable:
    """The id's checked table, the same from one `make` to the next (kept for the process)."""

    def compute() -> TransitionTable | ValueError:
        tables = []
        for _ in range(2):
            env = gymnasium.make(env_id, **env_kwargs)
            try:
                tables.append(transition_table(env))
            except ValueError as error:
                return error
            finally:
                env.close()
        if not all(map(np.array_equal, *tables)):
            return ValueError(f"{env_id}'s table changes from one make to the next (random map?)")
        return tables[0]

    outcome = _cached(("table", env_id), env_kwargs, compute)
    if isinstance(outcome, ValueError):
        raise ValueError(str(outcome))
    return outcome


def _cached(key: tuple, env_kwargs: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """`compute()`, kept under `key` and the kwargs (computed afresh if they are unhashable)."""
    try:
        key = (*key, _frozen(env_kwargs))
    except TypeError:
        return compute()
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def _frozen(value: Any) -> Any:
    """A hashable stand-in for keyword arguments (dicts, lists, arrays); TypeError if none."""
    if isinstance(value, Mapping):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(map(_frozen, value))
    if isinstance(value, np.ndarray):
        return value.dtype.str, value.shape, value.tobytes()
    hash(value)
    return value
