"""The one transition type: what an env step produced, from the env driver to the memories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TransitionBatch:
    """A batch of transitions, one row per sub-env step; row k of every array belongs together.

    The env driver (`agents.env_driver`) makes one per batched env step, with a row per sub-env;
    `valid_rows()` leaves out the rows that are no transitions, and that batch is what
    `Agent.backward` and the memories' `append` receive.

    Attributes:
        obs: (B, *obs_shape) observations the actions were taken in.
        actions: (B,) actions taken.
        rewards: (B,) rewards received.
        next_obs: (B, *obs_shape) observations reached (the final ones where an episode ended).
        terminated: (B,) bools: the episode ended in a terminal state (no bootstrapping).
        truncated: (B,) bools: the episode was cut short (a time limit); such rows bootstrap.
        env_ids: (B,) distinct ints >= 0, the sub-env (stream) of each row; `arange(B)` if not
            given.
        valid: (B,) bools, False for a row that is no transition (a vector env's autoreset
            step, see `agents.env_driver`); all True if not given.
        next_masks: (B, n) bools, the legal actions in `next_obs` (see `agents.action_masks`);
            None when the env gives no masks.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    env_ids: np.ndarray | None = None
    valid: np.ndarray | None = None
    next_masks: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("obs", "actions", "rewards", "next_obs"):
            object.__setattr__(self, name, np.asarray(getattr(self, name)))
        # The memories check the rows against each other (and name what is wrong); the
        # defaults take the batch size from obs, as those checks do.
        rows = self.obs.shape[0] if self.obs.ndim else 0
        env_ids = np.arange(rows) if self.env_ids is None else self.env_ids
        valid = np.ones(rows, dtype=bool) if self.valid is None else self.valid
        object.__setattr__(self, "env_ids", np.asarray(env_ids))
        object.__setattr__(self, "valid", np.asarray(valid, dtype=bool))
        for name in ("terminated", "truncated"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=bool))
        if self.next_masks is not None:
            object.__setattr__(self, "next_masks", np.asarray(self.next_masks, dtype=bool))

    @classmethod
    def single(
        cls,
        obs: Any,
        action: int,
        reward: float,
        next_obs: Any,
        terminated: bool,
        truncated: bool,
        env_id: int = 0,
    ) -> TransitionBatch:
        """A batch of one transition (of sub-env `env_id`), e.g. for `memory.append`."""
        return cls(
            np.asarray(obs)[None], np.asarray([action]), np.asarray([reward]),
            np.asarray(next_obs)[None], np.asarray([terminated]), np.asarray([truncated]),
            np.asarray([env_id]),
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.obs)

    @property
    def done(self) -> np.ndarray:
        """(B,) bools: the row's episode ended (terminated or truncated)."""
        return self.terminated | self.truncated

    def select(self, rows: np.ndarray) -> TransitionBatch:
        """The batch of the given rows (a boolean mask or indices), env ids kept."""
        return TransitionBatch(
            self.obs[rows], self.actions[rows], self.rewards[rows], self.next_obs[rows],
            self.terminated[rows], self.truncated[rows], self.env_ids[rows], self.valid[rows],
            None if self.next_masks is None else self.next_masks[rows],
        )  # fmt: skip

    def valid_rows(self) -> TransitionBatch:
        """The batch of the valid rows only: the transitions to learn from and count."""
        return self if self.valid.all() else self.select(self.valid)
