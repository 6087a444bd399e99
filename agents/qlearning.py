"""Tabular Q-learning for Discrete and MultiDiscrete observation spaces."""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from agents.atomic import atomic_file
from agents.core import Agent
from agents.env_driver import EnvDriver, require_action_space
from agents.hyperparameters import check_int, check_number
from agents.transitions import TransitionBatch

#: Largest table the agent will allocate (states x actions), about 1 GiB of float64.
MAX_TABLE_ENTRIES = 2**27
#: Bytes per table entry (float64).
TABLE_ITEMSIZE = 8


class QLearningAgent(Agent):
    """One-step Q-learning on a dense table, one row per state of a Discrete/MultiDiscrete space.

    A MultiDiscrete observation is flattened to a row with `np.ravel_multi_index` (after
    subtracting the space's `start`), so Blob's coords, FrozenLake and Taxi all work. Actions
    are epsilon-greedy while training (ties among the best actions broken at random, so an
    untouched state is explored evenly) and greedy (lowest index among ties) in `test`. Epsilon
    is multiplied by `epsilon_decay` after every finished training episode, down to
    `min_epsilon`. The TD target is `r + gamma * max_a Q(s', a)`, without the bootstrap term
    when the transition terminated (a truncated one bootstraps).

    The defaults were chosen by measurement on Blob-v0 with `obs_type="coords"` (see
    `scripts/tune_qlearning.py`): moves are deterministic, so `learning_rate=1.0`; a table of
    zeros is optimistic against Blob's -1 step reward, so every action of a state gets tried
    before any is repeated; a constant 0.2 exploration keeps revisiting alternatives that were
    tried before better paths behind them were known. With them the greedy policy reaches 90%
    of the exact optimum in 3.5-4.25M env steps (3 seeds; 64 sub-envs); the tutorial's settings
    (`QLearningAgent.tutorial`) are still at -21 (optimum +21.3) after 4M.

    Args:
        observation_space: A `Discrete` or `MultiDiscrete` space.
        nb_actions: Number of discrete actions.
        learning_rate: Step size of the update, in (0, 1].
        gamma: Discount factor, in [0, 1].
        epsilon: Initial probability of a uniformly random action while training.
        epsilon_decay: Factor applied to epsilon after each finished training episode.
        min_epsilon: Floor of epsilon.
        initial_q: Initial table values: a number, or a `(low, high)` pair for values drawn
            uniformly from [low, high) (the tutorial's is (-5, 0)).
        seed: Seeds the agent's generator (random initial values, exploration).

    Raises:
        TypeError: If the observation space is not Discrete or MultiDiscrete.
        ValueError: If an argument is not a number of its kind (a string, None) or is out of
            range (the message names it and what it must be), or the table would be too large.
    """

    #: The table and the current (decayed) epsilon; `get_config` gives the initial one.
    state_attributes = ("table", "epsilon")

    def __init__(
        self,
        observation_space: spaces.Space,
        nb_actions: int,
        learning_rate: float = 1.0,
        gamma: float = 0.99,
        epsilon: float = 0.2,
        epsilon_decay: float = 1.0,
        min_epsilon: float = 0.0,
        initial_q: float | Sequence[float] = 0.0,
        seed: int | None = None,
    ):
        super().__init__()
        self.observation_space = observation_space
        self._nvec, self._start = _space_layout(observation_space)
        check_int("nb_actions", nb_actions, 1)
        for name, value in {"learning_rate": learning_rate, "epsilon_decay": epsilon_decay}.items():
            check_number(name, value, 0, 1, low_open=True)
        for name, value in {"gamma": gamma, "epsilon": epsilon, "min_epsilon": min_epsilon}.items():
            check_number(name, value, 0, 1)
        entries = table_entries(observation_space, nb_actions)
        if entries > MAX_TABLE_ENTRIES:
            raise ValueError(
                f"a table of {entries // nb_actions} states x {nb_actions} actions "
                f"(observation_space x nb_actions: {entries} entries, {entries * TABLE_ITEMSIZE} "
                f"bytes of float64) exceeds the {MAX_TABLE_ENTRIES} entries this agent allocates"
            )
        # Row-major strides: the table row of a state, as np.ravel_multi_index would give it.
        self._strides = np.cumprod(np.r_[1, self._nvec[:0:-1]])[::-1]
        self.nb_actions = int(nb_actions)
        self.learning_rate = float(learning_rate)
        self.gamma = float(gamma)
        self.initial_epsilon = float(epsilon)
        self.epsilon = self.initial_epsilon
        self.epsilon_decay = float(epsilon_decay)
        self.min_epsilon = float(min_epsilon)
        self.initial_q = _check_initial_q(initial_q)
        if seed is not None:
            check_int("seed", seed, 0)
        self.seed_value = seed
        self.rng = np.random.default_rng(seed)
        shape = (entries // self.nb_actions, self.nb_actions)
        if isinstance(self.initial_q, float):
            self.table = np.full(shape, self.initial_q)
        else:
            self.table = self.rng.uniform(*self.initial_q, size=shape)
        self.compiled = True

    @classmethod
    def tutorial(
        cls, observation_space: spaces.Space, nb_actions: int, seed: int | None = None
    ) -> QLearningAgent:
        """The tutorial's settings: table uniform in [-5, 0), alpha 0.1, gamma 0.95, eps 0.9.

        Epsilon decays x0.9998 per episode. On 9-action Blob these learn slowly: see the README.
        """
        return cls(
            observation_space, nb_actions, learning_rate=0.1, gamma=0.95, epsilon=0.9,
            epsilon_decay=0.9998, min_epsilon=0.0, initial_q=(-5.0, 0.0), seed=seed,
        )  # fmt: skip

    @property
    def metrics_names(self) -> list[str]:
        """The mean absolute TD error of each update."""
        return ["td_error"]

    def episode_metrics(self) -> dict[str, float]:
        """The exploration rate used in the episode that just ended."""
        return {"eps": self.epsilon}

    def state_index(self, obs: np.ndarray) -> np.ndarray:
        """Returns the table row of each observation in the batch `obs`.

        Raises:
            ValueError: If `obs` is not a batch of integer observations inside the space.
        """
        obs = np.asarray(obs)
        item_shape = self.observation_space.shape
        if obs.ndim != 1 + len(item_shape) or obs.shape[1:] != item_shape:
            raise ValueError(
                f"expected a batch of observations of shape (batch, *{item_shape}) for "
                f"{self.observation_space}, got shape {obs.shape}"
            )
        if obs.dtype.kind not in "iu":
            raise ValueError(f"observations must be integers, got dtype {obs.dtype}")
        coords = obs.reshape(len(obs), -1).astype(np.int64, copy=False) - self._start
        # Seen as unsigned, a negative coordinate is huge: one comparison checks both bounds.
        if (coords.view(np.uint64) >= self._nvec).any():
            outside = ((coords < 0) | (coords >= self._nvec)).any(axis=1)
            bad = obs[np.flatnonzero(outside)[0]]
            raise ValueError(f"observation {bad.tolist()} is outside {self.observation_space}")
        return coords @ self._strides

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """Epsilon-greedy actions while training, greedy ones in `test`."""
        q = self.table[self.state_index(obs)]
        if not self.training:
            return q.argmax(axis=1)
        # One draw per call (rng.integers costs ten times rng.random at batch size 1): a value
        # per action breaks ties among the best at random, then an explore coin, then an action.
        draws = self.rng.random((len(q), self.nb_actions + 2))
        is_best = q == q.max(axis=1, keepdims=True)
        greedy = (is_best * draws[:, : self.nb_actions]).argmax(axis=1)
        random_actions = (draws[:, -1] * self.nb_actions).astype(np.int64)
        return np.where(draws[:, -2] < self.epsilon, random_actions, greedy)

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """One Q-learning update per transition of the batch.

        Returns:
            {"td_error": mean absolute TD error before the update}.

        Raises:
            ValueError: If a reward is NaN or infinite (the table is left as it was).
        """
        if not np.all(np.isfinite(batch.rewards)):
            raise ValueError(f"rewards must be finite, got {np.asarray(batch.rewards).tolist()}")
        states = self.state_index(batch.obs)
        next_values = self.table[self.state_index(batch.next_obs)].max(axis=1)
        targets = batch.rewards + self.gamma * next_values * ~batch.terminated
        actions = batch.actions
        current = self.table[states, actions]
        td_errors = targets - current
        # Assignment, not np.add.at: two sub-envs updating one entry in a batch count once.
        self.table[states, actions] = current + self.learning_rate * td_errors
        return {"td_error": float(np.abs(td_errors).sum()) / len(td_errors)}

    def end_episode(self, env_index: int) -> None:
        """Decays epsilon once per finished training episode."""
        self.epsilon = max(self.min_epsilon, self.epsilon * self.epsilon_decay)

    def check_env(self, driver: EnvDriver) -> None:
        """Raises ValueError unless the env's states and actions are the agent's (any int dtype)."""
        space = driver.observation_space
        if not (
            type(space) is type(self.observation_space)
            and space.shape == self.observation_space.shape
            and all(map(np.array_equal, _space_layout(space), (self._nvec, self._start)))
        ):
            raise ValueError(
                f"the env's observation space {driver.observation_space} is not the agent's "
                f"{self.observation_space}"
            )
        require_action_space(driver.action_space, spaces.Discrete, self)
        if driver.action_space.n != self.nb_actions:
            raise ValueError(
                f"the env has {driver.action_space.n} actions, the agent {self.nb_actions}"
            )

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments (the observation space as a dict).

        `epsilon` is the constructor's; the current, decayed one is state (see `get_state`).
        """
        initial_q = self.initial_q
        return {
            "observation_space": space_to_config(self.observation_space),
            "nb_actions": self.nb_actions,
            "learning_rate": self.learning_rate,
            "gamma": self.gamma,
            "epsilon": self.initial_epsilon,
            "epsilon_decay": self.epsilon_decay,
            "min_epsilon": self.min_epsilon,
            "initial_q": initial_q if isinstance(initial_q, float) else list(initial_q),
            "seed": self.seed_value,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> QLearningAgent:
        """Rebuilds an agent from `get_config()`'s output (its table holds the initial values)."""
        config = dict(config)
        config["observation_space"] = space_from_config(config["observation_space"])
        return cls(**config)

    def get_weights(self) -> list[np.ndarray]:
        """Returns a copy of the table."""
        return [self.table.copy()]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Replaces the table by `weights[0]`.

        Raises:
            ValueError: If `weights` is not one array of the table's shape.
        """
        if len(weights) != 1:
            raise ValueError(f"expected [table], got a list of {len(weights)} arrays")
        self.table = self._checked_table(np.asarray(weights[0]), "the given table")

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the table to `filepath` as .npz, atomically.

        Raises:
            FileExistsError: If the file exists and `overwrite` is False.
        """
        filepath = os.fspath(filepath)
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{filepath} exists; pass overwrite=True to replace it")
        with atomic_file(filepath) as file:
            np.savez(file, table=self.table)

    def load_weights(self, filepath: str) -> None:
        """Reads a table written by `save_weights`.

        Raises:
            FileNotFoundError: If the file does not exist.
            ValueError: If the file is not a valid table file or its table has another shape.
        """
        filepath = os.fspath(filepath)
        if not os.path.isfile(filepath):
            raise FileNotFoundError(f"no Q-table file at {filepath}")
        try:
            with np.load(filepath, allow_pickle=False) as data:
                table = data["table"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise ValueError(f"{filepath} is not a Q-table .npz file: {error}") from error
        self.table = self._checked_table(table, filepath)

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restores a state from `get_state`, refusing a table that is not finite.

        Raises:
            ValueError: If the state does not fit this agent or its table holds NaN or inf.
        """
        if "table" in arrays:
            _check_finite(np.asarray(arrays["table"]), "the state")
        super().set_state(values, arrays)

    def _checked_table(self, table: np.ndarray, source: str) -> np.ndarray:
        if table.shape != self.table.shape or not np.issubdtype(table.dtype, np.floating):
            raise ValueError(
                f"{source} holds a {table.dtype} table of shape {table.shape}; this agent needs "
                f"a float table of shape {self.table.shape} (states x actions)"
            )
        _check_finite(table, source)
        return table.astype(np.float64)


def _check_finite(table: np.ndarray, source: str) -> None:
    """Raises ValueError if a numeric `table` holds NaN or inf (`source` holds it)."""
    if table.dtype.kind in "fc" and not np.all(np.isfinite(table)):
        raise ValueError(f"{source} holds a table whose values are not finite (NaN or inf)")


def table_entries(observation_space: spaces.Space, nb_actions: int) -> int:
    """Entries of the table of `observation_space` x `nb_actions`, computed without allocating.

    Raises:
        TypeError: If the space is not Discrete or MultiDiscrete.
    """
    nvec = _space_layout(observation_space)[0]
    return math.prod(int(n) for n in nvec) * int(nb_actions)  # Python ints: no overflow


def _space_layout(space: spaces.Space) -> tuple[np.ndarray, np.ndarray]:
    """The sizes and starts of a space's integer coordinates, flattened to int64 vectors."""
    if isinstance(space, spaces.Discrete):
        return np.array([space.n], dtype=np.int64), np.array([space.start], dtype=np.int64)
    if isinstance(space, spaces.MultiDiscrete):
        return (
            np.asarray(space.nvec, dtype=np.int64).reshape(-1),
            np.asarray(space.start, dtype=np.int64).reshape(-1),
        )
    raise TypeError(
        f"QLearningAgent needs a Discrete or MultiDiscrete observation space, got {space}; "
        "image envs such as Blob-v0 need obs_type='coords' (or the DQNAgent)"
    )


def _check_initial_q(initial_q: Any) -> float | tuple[float, float]:
    if isinstance(initial_q, (int, float, np.number)) and not isinstance(initial_q, bool):
        return float(initial_q)
    if isinstance(initial_q, Sequence) and not isinstance(initial_q, str) and len(initial_q) == 2:
        low, high = float(initial_q[0]), float(initial_q[1])
        if low < high:
            return low, high
    raise ValueError(
        f"initial_q must be a number or a (low, high) pair with low < high, got {initial_q!r}"
    )


def space_to_config(space: spaces.Space) -> dict[str, Any]:
    """A JSON-able description of a Discrete or MultiDiscrete space."""
    _space_layout(space)  # raises TypeError for other spaces
    if isinstance(space, spaces.Discrete):
        return {
            "type": "Discrete",
            "n": int(space.n),
            "start": int(space.start),
            "dtype": np.dtype(space.dtype).name,
        }
    return {
        "type": "MultiDiscrete",
        "nvec": np.asarray(space.nvec).tolist(),
        "start": np.asarray(space.start).tolist(),
        "dtype": np.dtype(space.dtype).name,
    }


#: The keys of each kind of space description.
_SPACE_KEYS = {
    "Discrete": {"type", "n", "start", "dtype"},
    "MultiDiscrete": {"type", "nvec", "start", "dtype"},
}


def space_from_config(config: dict[str, Any]) -> spaces.Space:
    """Rebuilds a space from `space_to_config`'s output.

    Raises:
        ValueError: If the description is not one `space_to_config` writes.
    """
    kind = config.get("type") if isinstance(config, dict) else None
    if kind not in _SPACE_KEYS or set(config) != _SPACE_KEYS[kind]:
        raise ValueError(f"expected a Discrete or MultiDiscrete space description, got {config!r}")
    try:
        if kind == "Discrete":
            space = spaces.Discrete(config["n"], start=config["start"], dtype=config["dtype"])
        else:
            space = spaces.MultiDiscrete(
                config["nvec"], start=config["start"], dtype=config["dtype"]
            )
        same = space_to_config(space) == config  # gymnasium converts some values silently
    except (AssertionError, TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"invalid {kind} space description {config!r}: {error}") from error
    if not same:
        raise ValueError(f"invalid {kind} space description {config!r}: not integers of its dtype")
    return space
