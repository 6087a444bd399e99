"""Replay memories: preallocated NumPy rings of (n-step) transitions, uniform or prioritized."""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from agents.n_step import NStepWindows, StoredRows, action_storage_dtype
from agents.schedules import LinearSchedule
from agents.sum_tree import SumTree
from agents.transitions import TransitionBatch

# Schaul et al.'s annealing of beta to 1; frozen, so safe to share as a default argument.
DEFAULT_BETA = LinearSchedule(0.4, 1.0, 100_000)


class Batch(NamedTuple):
    """A sampled batch of transitions; row i of every array belongs to the same transition.

    Attributes:
        obs: Observations, in the stored dtype (uint8 pixels stay uint8).
        actions: Actions taken in `obs`: int64 (B,) for a Discrete space, float32
            (B, *action_shape) for a Box space.
        rewards: float32 discounted sums r_0 + gamma * r_1 + ... of the k <= n_step rewards
            from `obs` on.
        next_obs: Observations k steps after `obs`, to bootstrap from.
        discounts: float32 gamma**k, or 0.0 where the episode terminated within the k steps.
            The TD target is `rewards + discounts * max_a Q(next_obs, a)`.
        weights: float32 importance-sampling weights (ones for uniform sampling).
        indices: int64 ring positions, for `PrioritizedMemory.update_priorities`.
        next_masks: bools (B, nb_actions), the legal actions in `next_obs`, where the env
            gives action masks (see `agents.action_masks`); None otherwise.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    discounts: np.ndarray
    weights: np.ndarray
    indices: np.ndarray
    next_masks: np.ndarray | None = None


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_unit(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


class SequentialMemory:
    """A ring of the last `limit` transitions, sampled uniformly (with replacement).

    Storage is allocated on the first append from that observation's shape and dtype, so uint8
    pixels stay uint8: 50,000 transitions of 10x10x3 observations take about 30 MB.

    With `n_step` > 1, each env stream (an `env_ids` entry of the batches given to `append`)
    keeps its last transitions pending and stores the n-step transition once n rewards follow
    it. When an episode ends every pending window is stored, cut short: a terminated end gives
    discount 0, a truncated end bootstraps from the last `next_obs` with gamma**k for the k
    rewards summed. Windows never mix streams or episodes: a stream whose new obs is not its last
    next_obs (its env was reset without the episode end reaching the memory) has its window
    stored as truncated first.

    Args:
        limit: Number of transitions kept, at least 1.
        n_step: Rewards summed per transition, at least 1.
        gamma: Discount in [0, 1] of the n-step sums and `Batch.discounts`; use the agent's.

    Attributes:
        step: The agent's step, which the agent sets before sampling (PrioritizedMemory anneals
            beta with it).

    Raises:
        TypeError, ValueError: If an argument has the wrong type or is out of range.
    """

    def __init__(self, limit: int, n_step: int = 1, gamma: float = 0.99) -> None:
        self.limit = _check_int("limit", limit, 1)
        self.n_step = _check_int("n_step", n_step, 1)
        self.gamma = _check_unit("gamma", gamma)
        self.step = 0
        self._windows = NStepWindows(self.n_step, self.gamma)
        self._storage: dict[str, np.ndarray] = {}
        self._next = 0
        self._size = 0
        self._rng = np.random.default_rng()

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes held by the transition storage (0 before the first append)."""
        return sum(array.nbytes for array in self._storage.values())

    def append(self, batch: TransitionBatch) -> None:
        """Adds a batch of transitions, one from each of its B env streams (a vector env's step).

        Rows marked invalid (a vector env's autoreset steps) are left out; the `env_ids` say
        which stream each row continues (see the class docstring for n-step).

        Args:
            batch: (B, *obs_shape) obs and next_obs (the final observations at an episode
                end), (B,) integer actions or (B, *action_shape) finite float ones (the first
                append fixes which), finite rewards, bools terminated and truncated,
                and distinct env ids >= 0. `TransitionBatch.single(...)` makes a batch of one.

        Raises:
            TypeError, ValueError: On a wrong dtype or shape (the first observation fixes them),
                a non-finite reward, or repeated or negative env ids.
        """
        if not isinstance(batch, TransitionBatch):
            raise TypeError(
                f"append takes an agents.transitions.TransitionBatch, got {type(batch).__name__}"
            )
        batch = batch.valid_rows()
        _check_rows(batch, self._storage)
        if len(batch) == 0:
            return
        if not self._storage:
            masks = batch.next_masks
            self._allocate(batch.obs[0], batch.actions[0], None if masks is None else masks[0])
        for transitions in self._windows.push(batch):
            self._write(*transitions)

    def extend(self, rows: StoredRows, td_errors: np.ndarray | None = None) -> None:
        """Stores completed (n-step) transitions as they are: a distributed learner's input.

        The rows come out of an `agents.n_step.NStepWindows` with this memory's n_step and gamma
        (a collector's, see `agents.distributed`), so they bypass this memory's own windows.

        Args:
            rows: (obs, actions, rewards, next_obs, discounts, next_masks) of M transitions.
            td_errors: M TD errors for their initial priorities; a uniform memory ignores them.

        Raises:
            TypeError, ValueError: If the rows disagree in length, do not fit the stored
                shapes and dtypes, or have non-finite rewards or discounts outside [0, 1].
        """
        obs, actions, rewards, next_obs, discounts, next_masks = rows
        if len(obs) == 0:
            return
        batch = TransitionBatch(
            obs, actions, rewards, next_obs, np.zeros(len(obs), bool), np.zeros(len(obs), bool),
            next_masks=next_masks,
        )  # fmt: skip
        _check_rows(batch, self._storage)
        discounts = np.asarray(discounts, dtype=np.float32)
        if discounts.shape != rewards.shape or not np.all((discounts >= 0) & (discounts <= 1)):
            raise ValueError(f"discounts must be {len(obs)} numbers in [0, 1], got {discounts}")
        if td_errors is not None:
            td_errors = np.asarray(td_errors, dtype=np.float64)
            if td_errors.shape != rewards.shape:
                raise ValueError(f"got {len(obs)} rows but td_errors of shape {td_errors.shape}")
            _check_finite_td_errors(td_errors)
        if not self._storage:
            self._allocate(obs[0], actions[0], None if next_masks is None else next_masks[0])
        indices = self._write(obs, actions, rewards, next_obs, discounts, next_masks)
        if td_errors is not None:
            self._set_initial_priorities(indices, td_errors[-len(indices) :])

    def flush(self) -> None:
        """Stores every pending n-step window now, as truncated (bootstrapping from its last state).

        For the end of training, so that the last steps can be sampled too; windows of streams
        that restart are stored without it. A no-op when n_step is 1.
        """
        for transitions in self._windows.flush():
            self._write(*transitions)

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> Batch:
        """Draws `batch_size` transitions, with replacement.

        Uniformly here; in proportion to priority in `PrioritizedMemory`.

        Args:
            batch_size: At least 1 and at most `len(self)`.
            rng: The generator to draw from; the memory's own unseeded one if None.

        Returns:
            A Batch: weights of 1 here, the normalised importance-sampling weights in
            `PrioritizedMemory`.

        Raises:
            ValueError: If the memory is empty or holds fewer than `batch_size` transitions.
        """
        batches = self.sample_batches(batch_size, 1, rng)
        return Batch(*(None if array is None else array[0] for array in batches))

    def sample_batches(
        self, batch_size: int, count: int, rng: np.random.Generator | None = None
    ) -> Batch:
        """Draws `count` batches at once, as `count` calls of `sample` would (same draws).

        One draw and one gather for all, for agents that run several updates in one call.

        Args:
            batch_size: At least 1 and at most `len(self)`.
            count: Batches, at least 1.
            rng: The generator to draw from; the memory's own unseeded one if None.

        Returns:
            A Batch whose arrays have two leading axes, (count, batch_size, ...).

        Raises:
            ValueError: If the memory is empty or holds fewer than `batch_size` transitions, or
                `count` is below 1.
        """
        self._check_batch_size(batch_size)
        _check_int("count", count, 1)
        indices, weights = self._draw(batch_size, count, self._rng if rng is None else rng)
        return self._gather(indices, weights)

    def _draw(
        self, batch_size: int, count: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(count, batch_size) ring indices drawn uniformly, and their weights (ones)."""
        indices = rng.integers(0, self._size, (count, batch_size))
        return indices, np.ones((count, batch_size), dtype=np.float32)

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able `{"class_name": ..., "config": {...}}` for `memory_from_config`."""
        config = {"limit": self.limit, "n_step": self.n_step, "gamma": self.gamma}
        return {"class_name": type(self).__name__, "config": config}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Returns everything needed to restore the memory exactly, as arrays (for `np.savez`).

        The rows, ring position and size, the pending n-step windows and the settings that
        shaped them (checked on load). The internal generator is not included.
        """
        state = {
            "limit": np.array(self.limit),
            "n_step": np.array(self.n_step),
            "gamma": np.array(self.gamma),
            "size": np.array(self._size),
            "next_index": np.array(self._next),
        }
        state.update({key: array[: self._size].copy() for key, array in self._storage.items()})
        state.update(self._windows.state_dict())
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restores the memory from `state_dict()`'s output (e.g. loaded back from an .npz).

        Raises:
            ValueError: If the state comes from a memory with other settings, or is inconsistent.
        """
        _require(state, ("limit", "n_step", "gamma", "size", "next_index"), "a replay memory's")
        for key in ("limit", "n_step", "gamma"):
            if float(state[key]) != float(getattr(self, key)):
                raise ValueError(f"state has {key}={state[key]}, this memory {getattr(self, key)}")
        size, next_index = int(state["size"]), int(state["next_index"])
        full_ring = size == self.limit and 0 <= next_index < self.limit
        if not (full_ring or 0 <= size == next_index < self.limit):
            raise ValueError(f"inconsistent state: size {size}, next_index {next_index}")
        self._storage = {}
        if "obs" in state:
            if "actions" not in state or state["actions"].shape[:1] != state["obs"].shape[:1]:
                raise ValueError("state has observations but no actions of the same length")
            mask = state["next_masks"][0] if "next_masks" in state else None
            self._allocate(state["obs"][0], state["actions"][0], mask)
            for key, array in self._storage.items():
                if state[key].shape != (size,) + array.shape[1:]:
                    raise ValueError(f"state[{key!r}] has shape {state[key].shape}, size {size}")
                array[:size] = state[key]
        elif size:
            raise ValueError(f"state has size {size} but no stored transitions")
        self._size, self._next = size, next_index
        self._windows.load_state_dict(state)

    def _allocate(self, obs: np.ndarray, action: np.ndarray, mask: np.ndarray | None) -> None:
        """Storage for observations like `obs`, actions like `action`, masks like `mask`."""
        action_dtype = action_storage_dtype(action.dtype)
        self._storage = {
            "obs": np.zeros((self.limit, *obs.shape), dtype=obs.dtype),
            "actions": np.zeros((self.limit, *action.shape), dtype=action_dtype),
            "rewards": np.zeros(self.limit, dtype=np.float32),
            "next_obs": np.zeros((self.limit, *obs.shape), dtype=obs.dtype),
            "discounts": np.zeros(self.limit, dtype=np.float32),
        }
        if mask is not None:
            self._storage["next_masks"] = np.ones((self.limit, *mask.shape), dtype=bool)

    def _write(self, obs, actions, rewards, next_obs, discounts, next_masks) -> np.ndarray:
        """Stores M transitions at the ring's next positions (only the last `limit` if M > it).

        Returns the ring positions written, in the rows' order.
        """
        rows = {"obs": obs, "actions": actions, "rewards": rewards}
        rows.update({"next_obs": next_obs, "discounts": discounts, "next_masks": next_masks})
        count = min(len(actions), self.limit)
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        indices = (self._next + np.arange(count)) % self.limit
        for key, array in self._storage.items():
            array[indices] = rows[key][-count:]
        self._next = (self._next + count) % self.limit
        self._size = min(self._size + count, self.limit)
        self._on_write(indices)
        return indices

    def _on_write(self, indices: np.ndarray) -> None:
        """Hook for subclasses: `indices` were just (over)written."""

    def _set_initial_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Hook for subclasses: the TD errors of the transitions just written at `indices`."""

    def _check_batch_size(self, batch_size: int) -> None:
        _check_int("batch_size", batch_size, 1)
        if self._size == 0:
            raise ValueError("cannot sample from an empty memory; append transitions first")
        if batch_size > self._size:
            raise ValueError(f"batch_size {batch_size} exceeds the {self._size} stored transitions")

    def _gather(self, indices: np.ndarray, weights: np.ndarray) -> Batch:
        storage = self._storage
        return Batch(
            storage["obs"][indices],
            storage["actions"][indices],
            storage["rewards"][indices],
            storage["next_obs"][indices],
            storage["discounts"][indices],
            weights,
            indices,
            storage["next_masks"][indices] if "next_masks" in storage else None,
        )


def _check_finite_td_errors(td_errors: np.ndarray) -> None:
    finite = np.isfinite(td_errors)
    if not finite.all():
        raise ValueError(f"td_errors must be finite, got {td_errors[~finite][:5].tolist()}")


def _require(state: dict[str, np.ndarray], keys: tuple[str, ...], what: str) -> None:
    missing = [key for key in keys if key not in state]
    if missing:
        raise ValueError(f"state lacks {missing}; expected {what} state_dict()")


def _check_obs(name: str, obs: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if obs.shape != shape:
        raise ValueError(
            f"{name} has shape {obs.shape}, expected {shape} (a batch of {shape[0]} of the "
            f"memory's observation shape {shape[1:]})"
        )
    if not np.can_cast(obs.dtype, dtype, casting="same_kind"):
        raise TypeError(f"{name} has dtype {obs.dtype}, expected {dtype} (the memory's)")


def _check_rows(batch: TransitionBatch, storage: dict[str, np.ndarray]) -> None:
    """Checks `append`'s batch: its arrays against each other, and against the `storage`."""
    obs, actions, rewards, env_ids = batch.obs, batch.actions, batch.rewards, batch.env_ids
    stored = storage.get("obs")
    if obs.ndim == 0:
        raise ValueError("obs must have a leading batch axis, got a scalar")
    rows = obs.shape[:1]
    if stored is not None:
        _check_obs("obs", obs, rows + stored.shape[1:], stored.dtype)
    _check_obs("next_obs", batch.next_obs, obs.shape, obs.dtype)
    stored_actions = None if stored is None else storage["actions"]
    discrete = actions.dtype.kind in "iu"
    if (
        actions.shape[:1] != rows
        or actions.dtype.kind not in "iuf"
        or (discrete and actions.ndim != 1)
    ):
        raise TypeError(
            f"actions must be {rows[0]} ints (Discrete) or rows of floats (Box), got "
            f"{actions.dtype} {actions.shape}"
        )
    if stored_actions is not None and (
        actions.shape[1:] != stored_actions.shape[1:]
        or action_storage_dtype(actions.dtype) != stored_actions.dtype
    ):
        raise TypeError(
            f"actions have dtype {actions.dtype} and shape {actions.shape[1:]} per row; the "
            f"memory stores {stored_actions.dtype} of shape {stored_actions.shape[1:]}"
        )
    if not discrete and not np.all(np.isfinite(actions)):
        raise ValueError(f"actions must be finite, got {actions.tolist()}")
    masks, stored_masks = batch.next_masks, storage.get("next_masks")
    if stored is not None and (masks is None) != (stored_masks is None):
        raise ValueError(
            "the memory stores next-state action masks; this batch has none"
            if masks is None
            else "this batch has action masks; the memory stores none (its first had none)"
        )
    if masks is not None and (
        masks.shape[:1] != rows
        or masks.ndim != 2
        or (stored_masks is not None and masks.shape[1:] != stored_masks.shape[1:])
    ):
        raise ValueError(f"next_masks must be one row of bools per transition, got {masks.shape}")
    if rewards.shape != rows or rewards.dtype.kind not in "iuf":
        raise TypeError(f"rewards must be {rows} numbers, got {rewards.dtype} {rewards.shape}")
    if not np.all(np.isfinite(rewards)):
        raise ValueError(f"rewards must be finite, got {rewards.tolist()}")
    for name in ("terminated", "truncated"):
        if getattr(batch, name).shape != rows:
            raise ValueError(
                f"{name} has shape {getattr(batch, name).shape}, expected {rows} (one per row)"
            )
    if env_ids.shape != rows or env_ids.dtype.kind not in "iu":
        raise TypeError(f"env_ids must be {rows} ints, got {env_ids.dtype} {env_ids.shape}")
    if rows[0] and (env_ids.min() < 0 or len(np.unique(env_ids)) != rows[0]):
        raise ValueError(f"env_ids must be distinct and >= 0, got {env_ids.tolist()}")


class PrioritizedMemory(SequentialMemory):
    """A ring sampled in proportion to priority (Schaul et al., 2016, proportional variant).

    Priorities are (|td_error| + eps)**alpha, kept in a sum tree; new transitions get the
    largest priority seen so far, so each is likely sampled at least once. `sample` is
    stratified (one draw in each of `batch_size` equal segments of the total priority) and
    returns importance-sampling weights (N * P(i))**-beta divided by the batch's largest.
    A schedule `beta` is read at `memory.step`, which the agent sets to its step before sampling.

    Args:
        limit: Number of transitions kept, at least 1.
        alpha: Prioritization exponent in [0, 1] (0 is uniform).
        beta: Importance-sampling exponent in [0, 1], or a LinearSchedule of it (both ends in
            [0, 1]) over `memory.step`.
        eps: Added to |td_error| (> 0) so that no transition becomes unsampleable.
        n_step: Rewards summed per transition, at least 1.
        gamma: Discount in [0, 1]; use the agent's.

    Raises:
        TypeError, ValueError: If an argument has the wrong type or is out of range.
    """

    def __init__(
        self,
        limit: int,
        alpha: float = 0.6,
        beta: float | LinearSchedule = DEFAULT_BETA,
        eps: float = 1e-6,
        n_step: int = 1,
        gamma: float = 0.99,
    ) -> None:
        super().__init__(limit, n_step=n_step, gamma=gamma)
        self.alpha = _check_unit("alpha", alpha)
        if isinstance(beta, LinearSchedule):
            _check_unit("beta's start", beta.start)
            _check_unit("beta's end", beta.end)
            self.beta: float | LinearSchedule = beta
        else:
            self.beta = _check_unit("beta", beta)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < np.inf:
            raise ValueError(f"eps must be a finite number > 0, got {eps!r}")
        self.eps = float(eps)
        self._tree = SumTree(self.limit)
        self._max_priority = 1.0

    def current_beta(self) -> float:
        """Returns beta at `self.step`."""
        return self.beta(self.step) if isinstance(self.beta, LinearSchedule) else self.beta

    def _draw(
        self, batch_size: int, count: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(count, batch_size) indices, each batch stratified, and their normalised weights."""
        segment = self._tree.total / batch_size
        values = (np.arange(batch_size) + rng.random((count, batch_size))) * segment
        indices, priorities = self._tree.find(values.ravel())
        priorities = priorities.reshape(count, batch_size)
        # (N * P(i))**-beta / max_j (N * P(j))**-beta simplifies to (min_j p_j / p_i)**beta.
        weights = (priorities.min(axis=1, keepdims=True) / priorities) ** self.current_beta()
        return indices.reshape(count, batch_size), weights.astype(np.float32)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Sets the priorities of sampled transitions from their new TD errors.

        Args:
            indices: `Batch.indices` of the sample, each in [0, len(self)).
            td_errors: One finite TD error per index, of either sign (the priority uses |td|).

        Raises:
            ValueError: If the shapes differ, an index is out of range, or a TD error is NaN or
                infinite.
        """
        indices, td_errors = np.asarray(indices), np.asarray(td_errors, dtype=np.float64)
        if indices.shape != td_errors.shape:
            raise ValueError(
                f"got indices of shape {indices.shape} but td_errors of {td_errors.shape}"
            )
        if indices.dtype.kind not in "iu":
            raise TypeError(f"indices must be integers, got {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= self._size):
            raise ValueError(f"indices must be in [0, {self._size}), got {indices.tolist()}")
        _check_finite_td_errors(td_errors)
        priorities = (np.abs(td_errors) + self.eps) ** self.alpha
        self._tree.update(indices, priorities)
        self._max_priority = max(self._max_priority, float(priorities.max(initial=0.0)))

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able `{"class_name": ..., "config": {...}}` for `memory_from_config`."""
        config = super().get_config()
        beta = self.beta.get_config() if isinstance(self.beta, LinearSchedule) else self.beta
        config["config"].update(alpha=self.alpha, beta=beta, eps=self.eps)
        return config

    def state_dict(self) -> dict[str, np.ndarray]:
        """Like `SequentialMemory.state_dict`, plus the priorities, max priority and step."""
        state = super().state_dict()
        state.update(alpha=np.array(self.alpha), eps=np.array(self.eps))
        state["priorities"] = self._tree.leaves[: self._size]
        state["max_priority"] = np.array(self._max_priority)
        state["step"] = np.array(self.step)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restores the memory from `state_dict()`'s output, sum tree included.

        Raises:
            ValueError: If the state comes from a memory with other settings, or is inconsistent.
        """
        _require(
            state, ("alpha", "eps", "priorities", "max_priority", "step"), "a PrioritizedMemory's"
        )
        for key in ("alpha", "eps"):
            if float(state[key]) != getattr(self, key):
                raise ValueError(f"state has {key}={state[key]}, this memory {getattr(self, key)}")
        super().load_state_dict(state)
        priorities = np.asarray(state["priorities"], dtype=np.float64)
        if priorities.shape != (self._size,) or not np.all(priorities > 0):
            raise ValueError(f"state needs {self._size} priorities > 0, got {priorities.shape}")
        leaves = np.zeros(self.limit)
        leaves[: self._size] = priorities
        self._tree.load_leaves(leaves)
        self._max_priority = float(state["max_priority"])
        self.step = int(state["step"])

    def _on_write(self, indices: np.ndarray) -> None:
        self._tree.update(indices, np.full(len(indices), self._max_priority))

    def _set_initial_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        self.update_priorities(indices, td_errors)


def memory_from_config(config: dict[str, Any]) -> SequentialMemory:
    """Rebuilds an (empty) memory from `get_config()`'s output.

    Raises:
        ValueError: If `config` is not a memory config.
    """
    classes = {cls.__name__: cls for cls in (SequentialMemory, PrioritizedMemory)}
    if not isinstance(config, dict) or config.get("class_name") not in classes:
        raise ValueError(f"expected a config with class_name in {sorted(classes)}, got {config!r}")
    kwargs = dict(config["config"])
    if isinstance(kwargs.get("beta"), dict):
        kwargs["beta"] = LinearSchedule.from_config(kwargs["beta"])
    return classes[config["class_name"]](**kwargs)
