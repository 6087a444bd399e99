"""N-step returns: per-env-stream windows that turn 1-step transitions into n-step ones."""

from __future__ import annotations

import numpy as np

from agents.transitions import TransitionBatch

# (obs, actions, rewards, next_obs, discounts, next_masks) of completed n-step transitions, one
# row each: the rows the memories store (next_masks None when the env gives no action masks).
StoredRows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def action_storage_dtype(dtype: np.dtype) -> np.dtype:
    """How actions are stored: int64 for a Discrete space's, float32 for a Box space's."""
    return np.dtype(np.int64) if np.dtype(dtype).kind in "iu" else np.dtype(np.float32)


class NStepWindows:
    """Keeps, per env stream, the last transitions until their n-step return is known.

    Stream s holds `lengths[s]` < n pending transitions between calls: their obs, actions and
    rewards, and the stream's latest next_obs (and its action masks, when batches have them).
    A transition is completed when n rewards follow it (discount gamma**n), or earlier when its
    episode ends: at a termination with discount 0, at a truncation with gamma**k for the k
    rewards summed, bootstrapping from the last next_obs.

    Args:
        n_step: Rewards summed per transition, at least 1.
        gamma: Discount in [0, 1].
    """

    def __init__(self, n_step: int, gamma: float) -> None:
        self.n_step, self.gamma = n_step, gamma
        self._slots = np.arange(n_step)
        self._arrays: dict[str, np.ndarray] = {}

    def push(self, batch: TransitionBatch) -> list[StoredRows]:
        """Adds one transition to each stream in `batch.env_ids` (distinct ids, one per row).

        A pending window whose last next_obs differs from its stream's new obs belongs to an
        episode that was cut off unseen (e.g. the envs were reset by a new `fit`); it is
        completed as truncated first, so episodes never mix.

        Args:
            batch: Checked transitions, all valid (see `SequentialMemory.append`).

        Returns:
            The completed transitions, in groups to store in order.
        """
        obs, actions, rewards, next_obs = batch.obs, batch.actions, batch.rewards, batch.next_obs
        terminated, env_ids = batch.terminated, batch.env_ids
        masks = batch.next_masks
        self._ensure_streams(
            int(env_ids.max()) + 1, obs[0], actions[0], None if masks is None else masks[0]
        )
        window = self._arrays
        completed = []
        if self.n_step > 1:
            pending = window["lengths"][env_ids] > 0
            if pending.any():
                changed = obs != window["last_next_obs"][env_ids]
                stale = env_ids[pending & changed.reshape(len(env_ids), -1).any(axis=1)]
                completed += self._cut(stale)
        position = window["lengths"][env_ids]
        window["obs"][env_ids, position] = obs
        window["actions"][env_ids, position] = actions
        window["rewards"][env_ids, position] = rewards
        window["last_next_obs"][env_ids] = next_obs
        if masks is not None:
            window["last_next_masks"][env_ids] = masks
        window["lengths"][env_ids] += 1
        lengths = window["lengths"][env_ids]
        ended = batch.done
        full = (lengths == self.n_step) & ~ended
        # An ended stream completes every pending start; a full one only its oldest.
        selected = ended[:, None] & (self._slots < lengths[:, None])
        selected[:, 0] |= full
        completed += self._complete(env_ids, selected, terminated)
        full_ids = env_ids[full]
        for key in ("obs", "actions", "rewards"):
            window[key][full_ids, :-1] = window[key][full_ids, 1:]
        window["lengths"][full_ids] -= 1
        window["lengths"][env_ids[ended]] = 0
        return completed

    def flush(self) -> list[StoredRows]:
        """Completes every pending window as truncated; returns those transitions."""
        if not self._arrays:
            return []
        return self._cut(np.flatnonzero(self._arrays["lengths"]))

    def _cut(self, streams: np.ndarray) -> list[StoredRows]:
        """Completes the whole windows of `streams` as truncated and empties them."""
        lengths = self._arrays["lengths"]
        selected = self._slots < lengths[streams, None]
        completed = self._complete(streams, selected, np.zeros(len(streams), dtype=bool))
        lengths[streams] = 0
        return completed

    def _complete(
        self, streams: np.ndarray, selected: np.ndarray, terminated: np.ndarray
    ) -> list[StoredRows]:
        """Builds the transitions from slot j to the newest, where selected[i, j] for streams[i]."""
        if not selected.any():
            return []
        window = self._arrays
        lengths = window["lengths"][streams]
        rewards = np.where(self._slots < lengths[:, None], window["rewards"][streams], 0.0)
        # returns[:, j]: discounted sum of the rewards from slot j to the newest.
        returns = rewards.copy()
        for slot in range(self.n_step - 2, -1, -1):
            returns[:, slot] += self.gamma * returns[:, slot + 1]
        row, slot = np.nonzero(selected)
        stream = streams[row]
        discounts = np.where(terminated[row], 0.0, self.gamma ** (lengths[row] - slot))
        masks = window.get("last_next_masks")
        return [
            (
                window["obs"][stream, slot],
                window["actions"][stream, slot],
                returns[row, slot].astype(np.float32),
                window["last_next_obs"][stream],
                discounts.astype(np.float32),
                None if masks is None else masks[stream],
            )
        ]

    def _ensure_streams(
        self, count: int, obs: np.ndarray, action: np.ndarray, mask: np.ndarray | None
    ) -> None:
        """Makes room for `count` streams: observations like `obs`, actions like `action`.

        Their last next_obs's action masks are kept too when `mask` (one such row) is given.
        """
        old = self._arrays
        if old and len(old["lengths"]) >= count:
            return
        obs_shape, action_dtype = obs.shape, action_storage_dtype(action.dtype)
        self._arrays = {
            "obs": np.zeros((count, self.n_step, *obs_shape), dtype=obs.dtype),
            "actions": np.zeros((count, self.n_step, *action.shape), dtype=action_dtype),
            "rewards": np.zeros((count, self.n_step), dtype=np.float64),
            "last_next_obs": np.zeros((count, *obs_shape), dtype=obs.dtype),
            "lengths": np.zeros(count, dtype=np.int64),
        }
        if mask is not None:
            self._arrays["last_next_masks"] = np.ones((count, *mask.shape), dtype=bool)
        for key, array in old.items():
            self._arrays[key][: len(array)] = array

    def state_dict(self) -> dict[str, np.ndarray]:
        """The pending windows as arrays, keys prefixed with "window_"."""
        return {f"window_{key}": array.copy() for key, array in self._arrays.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restores the windows saved by `state_dict` (none if `state` has none).

        Raises:
            ValueError: If the saved windows are inconsistent or from another n_step.
        """
        self._arrays = {}
        if "window_lengths" not in state:
            return
        lengths = np.asarray(state["window_lengths"])
        if lengths.ndim != 1 or not np.all((lengths >= 0) & (lengths < self.n_step)):
            raise ValueError(f"window lengths must be in [0, {self.n_step}), got {lengths}")
        obs, actions = np.asarray(state["window_obs"]), np.asarray(state["window_actions"])
        if obs.ndim < 2 or actions.ndim < 2:
            raise ValueError(f"window observations and actions need 2 leading axes: {obs.shape}")
        masks = state.get("window_last_next_masks")
        mask = None if masks is None else np.asarray(masks)[0]
        self._ensure_streams(len(lengths), obs[0, 0], actions[0, 0], mask)
        for key, array in self._arrays.items():
            saved = np.asarray(state[f"window_{key}"])
            if saved.shape != array.shape:
                raise ValueError(
                    f"state['window_{key}'] has shape {saved.shape}, expected {array.shape}"
                )
            array[...] = saved
