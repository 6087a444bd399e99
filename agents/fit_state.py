"""The fit loop's own state: the episodes in progress, and how it is saved with the agent.

`Agent.fit` keeps, per sub-env, the return, length, metric sums and id of the episode in
progress in an `EpisodeBook`, and which episode ids to hand out next. Between two batched env
steps this book, the env driver's state (the current observations) and the env's own state are
consistent; `export` turns them into the agent state's "fit_loop" part and `restore` puts them
back, so that `fit(..., resume=True)` goes on exactly where the saved run was. For an env that
cannot save its state (see `agents.env_driver.env_state`) only the ids are saved.

Episode ids are handed out as episodes begin. When a reset drops the episodes in progress (a
new `fit`, or a resume that cannot restore the env), their ids were never logged, so the next
episodes get them first (`fresh_book`): the ids of finished episodes stay unique and gapless.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.env_driver import EnvDriver

#: The fit loop's key among an agent's state values, and its arrays' prefix among the arrays.
KEY, PREFIX = "fit_loop", "fit_loop."
_METRIC = "metric."


class EpisodeBook:
    """The per-sub-env bookkeeping of the training episodes in progress.

    Attributes:
        returns: (n,) float64 returns so far.
        lengths: (n,) int64 steps so far.
        metric_sums: Metric name -> (n,) float64 sums of the learning steps' metrics.
        metric_counts: (n,) int64 learning steps summed.
        episode_ids: (n,) int64 ids of the episodes in progress, -1 where none has begun.
        next_episode: The id after every id handed out so far.
        free_ids: Ids of dropped episodes, handed out (lowest first) before `next_episode`.
        in_step: True while a batched env step is under way (the state is then inconsistent).
    """

    def __init__(
        self,
        num_envs: int,
        metric_names: list[str],
        next_episode: int,
        free_ids: list[int] | None = None,
    ):
        self.returns = np.zeros(num_envs)
        self.lengths = np.zeros(num_envs, dtype=np.int64)
        self.metric_sums = {name: np.zeros(num_envs) for name in metric_names}
        self.metric_counts = np.zeros(num_envs, dtype=np.int64)
        self.episode_ids = np.full(num_envs, -1, dtype=np.int64)
        self.next_episode = next_episode
        self.free_ids = sorted(free_ids or [])
        self.in_step = False

    def begin(self, index: int) -> int:
        """Gives sub-env `index` the next id for the episode it begins, and returns it."""
        if self.free_ids:
            episode = self.free_ids.pop(0)
        else:
            episode, self.next_episode = self.next_episode, self.next_episode + 1
        self.episode_ids[index] = episode
        return episode

    def in_flight(self) -> list[int]:
        """The ids of the episodes in progress."""
        return [int(i) for i in self.episode_ids if i >= 0]

    def arrays(self) -> dict[str, np.ndarray]:
        """The book's arrays by name (metric sums under "metric.<name>")."""
        arrays = {
            "returns": self.returns,
            "lengths": self.lengths,
            "metric_counts": self.metric_counts,
            "episode_ids": self.episode_ids,
        }
        arrays.update({_METRIC + name: sums for name, sums in self.metric_sums.items()})
        return arrays

    def end(self, index: int) -> None:
        """Clears sub-env `index`'s entry once its episode has ended."""
        self.returns[index], self.lengths[index] = 0.0, 0
        self.metric_counts[index], self.episode_ids[index] = 0, -1
        for sums in self.metric_sums.values():
            sums[index] = 0.0


def export(driver: EnvDriver, book: EpisodeBook) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The fit loop's state: all of it when consistent and the env saves its state.

    Returns:
        `(values, arrays)`: values {"next_episode", "free_ids", "driver"} ("driver" None when
        only the ids are saved: the episodes in progress are then dropped, their ids free) and
        the arrays, named with `PREFIX`, copied.
    """
    driver_state = None if book.in_step else driver.get_state()
    free_ids = book.free_ids + (book.in_flight() if driver_state is None else [])
    values: dict[str, Any] = {
        "next_episode": int(book.next_episode),
        "free_ids": sorted(free_ids),
        "driver": None,
    }
    if driver_state is None:
        return values, {}
    values["driver"] = driver_state[0]
    arrays = {**book.arrays(), **{"driver." + k: v for k, v in driver_state[1].items()}}
    return values, {PREFIX + name: np.array(array) for name, array in arrays.items()}


def check(values: Any, arrays: dict[str, np.ndarray], metric_names: list[str]) -> None:
    """Raises ValueError unless `values` and `arrays` are an `export` for these metrics.

    `values` None (a state without a fit loop) must come without the loop's arrays. The env's
    part is checked by `restore`, against the env it goes into.
    """
    saved_names = {name for name in arrays if name.startswith(PREFIX)}
    if values is None and not saved_names:
        return
    if not isinstance(values, dict) or set(values) != {"next_episode", "free_ids", "driver"}:
        raise ValueError(
            f"the state's fit_loop must hold next_episode, free_ids and driver, got {values!r}"
        )
    next_episode, free_ids = values["next_episode"], values["free_ids"]
    if isinstance(next_episode, bool) or not isinstance(next_episode, int) or next_episode < 0:
        raise ValueError(f"the state's fit_loop next_episode must be an int >= 0: {next_episode!r}")
    if (
        not isinstance(free_ids, list)
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in free_ids)
        or len(set(free_ids)) != len(free_ids)
        or not all(0 <= i < next_episode for i in free_ids)
    ):
        raise ValueError(
            f"the state's fit_loop free_ids must be distinct ints below {next_episode=}, "
            f"got {str(free_ids)[:200]}"
        )
    if values["driver"] is None:
        if saved_names:
            raise ValueError(f"the state's fit_loop has no driver but arrays {sorted(saved_names)}")
        return
    ids = arrays.get(PREFIX + "episode_ids")
    if ids is None or ids.ndim != 1:
        raise ValueError("the state's fit_loop has no episode_ids array of one row per sub-env")
    book = EpisodeBook(len(ids), metric_names, next_episode)
    for name, own in book.arrays().items():
        saved = arrays.get(PREFIX + name)
        if saved is None or saved.shape != own.shape or saved.dtype != own.dtype:
            found = None if saved is None else f"{saved.shape} {saved.dtype}"
            raise ValueError(
                f"the state's fit_loop {name} is {found}; expected {own.shape} {own.dtype}"
            )
    known = [*book.arrays(), "driver.obs", "driver.masks"]
    unknown = saved_names - {PREFIX + name for name in known}
    if unknown:
        raise ValueError(f"the state's fit_loop has unknown arrays {sorted(unknown)}")
    if np.any(ids >= next_episode) or np.any(ids < -1) or set(ids.tolist()) & set(free_ids):
        raise ValueError(
            f"the state's fit_loop episode ids {ids} do not fit {next_episode=}, {free_ids=}"
        )


def restore(
    values: dict[str, Any],
    arrays: dict[str, np.ndarray],
    driver: EnvDriver,
    metric_names: list[str],
) -> EpisodeBook | None:
    """Restores a `check`ed state into `driver` (and its env) and returns its book.

    Returns:
        The book, or None when the state holds only the next episode id (the caller resets the
        env and starts a book at that id).

    Raises:
        ValueError: If the state does not fit the driver's env (nothing has changed then).
    """
    if values["driver"] is None:
        return None
    ids = arrays[PREFIX + "episode_ids"]
    if len(ids) != driver.num_envs:
        raise ValueError(
            f"the saved fit loop had {len(ids)} sub-envs; this env has {driver.num_envs}"
        )
    driver_arrays = {
        name[len(PREFIX + "driver.") :]: array
        for name, array in arrays.items()
        if name.startswith(PREFIX + "driver.")
    }
    driver.set_state(values["driver"], driver_arrays)
    book = EpisodeBook(driver.num_envs, metric_names, values["next_episode"], values["free_ids"])
    for name, array in book.arrays().items():
        array[...] = arrays[PREFIX + name]
    return book


def fresh_book(
    values: dict[str, Any], arrays: dict[str, np.ndarray], num_envs: int, metric_names: list[str]
) -> EpisodeBook:
    """A book for a reset env that goes on with a `check`ed state's ids.

    The episodes that state had in progress are dropped: their ids are handed out first.
    """
    free_ids = list(values["free_ids"])
    if values["driver"] is not None:
        free_ids += [int(i) for i in arrays[PREFIX + "episode_ids"] if i >= 0]
    return EpisodeBook(num_envs, metric_names, values["next_episode"], free_ids)
