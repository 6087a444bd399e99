"""Many Blob games stepped together with array operations: a native Gymnasium vector env."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from blobenv import observation, rendering, rules, state


class BlobVectorEnv(VectorEnv):
    """``num_envs`` Blob games, stepped in one batch by the same rules as :class:`BlobEnv`.

    Sub-env ``i`` reset with seed ``s`` starts exactly like ``BlobEnv.reset(seed=s)``; after that
    the food's and enemy's moves and later episodes' starts come from one shared generator (seeded
    by ``reset(seed=...)``), so they are reproducible but differ from a ``SyncVectorEnv``'s.

    Sub-envs autoreset in Gymnasium's default next-step mode: the step after one terminates or
    truncates resets it, returning its first observation with reward 0 and both flags False, and
    ignoring its action. Episodes are truncated after ``max_episode_steps`` steps.

    ``infos`` holds, for every sub-env, the keys of :class:`BlobEnv`'s info as arrays
    (``player``, ``food``, ``enemy`` of shape ``(num_envs, 2)``; ``distance``; ``is_success``),
    each with its ``_key`` mask.
    """

    metadata = {
        "render_modes": ["rgb_array", "ansi"],
        "render_fps": 10,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        size: int = 10,
        obs_type: str = "rgb",
        moving_food: bool = False,
        moving_enemy: bool = False,
        cell_px: int = 30,
        render_mode: str | None = None,
        max_episode_steps: int = 200,
    ) -> None:
        """Create the games; call ``reset`` before ``step``.

        Args:
            num_envs: Number of games, at least 1.
            size: Cells per side, 3 to 1000.
            obs_type: ``"rgb"`` or ``"coords"``.
            moving_food: Whether the food takes a random step after the player's move.
            moving_enemy: Whether the enemy takes a random step after the food's.
            cell_px: Pixels per cell in rendered frames.
            render_mode: ``None``, ``"rgb_array"`` (a list of frames) or ``"ansi"`` (a list of
                text grids).
            max_episode_steps: Steps after which an episode is truncated, at least 1.

        Raises:
            TypeError: ``num_envs``, ``size`` or ``max_episode_steps`` is not an int.
            ValueError: An argument is out of range or not one of the valid choices.
        """
        for name, value in (("num_envs", num_envs), ("max_episode_steps", max_episode_steps)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.num_envs = int(num_envs)
        self.max_episode_steps = int(max_episode_steps)
        self.size = rules.check_size(size)
        self.obs_type = observation.check_obs_type(obs_type)
        self.moving_food = bool(moving_food)
        self.moving_enemy = bool(moving_enemy)
        self.cell_px = rendering.check_cell_px(cell_px)
        self.render_mode = rendering.check_render_mode(render_mode, self.metadata["render_modes"])
        self.single_action_space = spaces.Discrete(rules.NUM_ACTIONS)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = observation.observation_space(self.obs_type, self.size)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._player: np.ndarray | None = None
        self._food: np.ndarray | None = None
        self._enemy: np.ndarray | None = None
        self._steps = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game in every sub-env.

        Args:
            seed: ``None`` (draw from the shared generator), an int ``s`` (sub-env ``i`` gets
                ``s + i``, as in ``SyncVectorEnv``), or one int or None per sub-env.
            options: Either empty, or ``{"player": ..., "food": ..., "enemy": ...}``, each of
                shape ``(num_envs, 2)``, to start from those cells.

        Returns:
            ``(observations, infos)``.

        Raises:
            TypeError: ``seed`` is neither None, an int nor a sequence of ints and Nones.
            ValueError: A seed list of the wrong length, or bad ``options``.
        """
        if seed is None or isinstance(seed, (int, np.integer)):
            super().reset(seed=None if seed is None else int(seed))
            seeds = None if seed is None else [int(seed) + i for i in range(self.num_envs)]
        else:
            ints = f"seed must be None, an int or {self.num_envs} ints, got {seed!r}"
            if isinstance(seed, (str, bytes)) or not isinstance(seed, Iterable):
                raise TypeError(ints)
            seeds = list(seed)
            if not all(s is None or isinstance(s, (int, np.integer)) for s in seeds):
                raise TypeError(ints)
            if len(seeds) != self.num_envs:
                raise ValueError(
                    f"seed must be None, an int or {self.num_envs} seeds, got {len(seeds)} seeds"
                )
            if any(s is not None for s in seeds):
                # The shared generator depends on every seed and its place (0 marks a None).
                entropy = [0 if s is None else int(s) + 1 for s in seeds]
                self.np_random = np.random.Generator(
                    np.random.PCG64(np.random.SeedSequence(entropy))
                )
        if options:
            positions = rules.check_start_options(options, self.size, self.num_envs)
        else:
            positions = rules.spawn(self.np_random, self.num_envs, self.size)
            if seeds is not None:
                seeded = [i for i, s in enumerate(seeds) if s is not None]
                for array, start in zip(
                    positions,
                    rules.spawn_seeded([seeds[i] for i in seeded], self.size),
                    strict=True,
                ):
                    array[seeded] = start
        self._player, self._food, self._enemy = positions
        self._steps[:] = 0
        self._needs_reset[:] = False
        return self._observations(), self._infos(np.zeros(self.num_envs, dtype=bool))

    def step(
        self, actions: np.ndarray | Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every game; games that ended on the previous step restart instead.

        Args:
            actions: ``num_envs`` ints in ``[0, 8]``.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``.

        Raises:
            gymnasium.error.ResetNeeded: ``reset`` has not been called yet.
            ValueError: ``actions`` is not ``num_envs`` ints in the action space.
        """
        if self._player is None:
            raise ResetNeeded("Call reset() before step(): the games have not started")
        actions = np.asarray(actions)
        if (
            actions.shape != (self.num_envs,)
            or actions.dtype.kind not in "iu"
            or actions.min() < 0
            or actions.max() >= rules.NUM_ACTIONS
        ):
            raise ValueError(
                f"{actions!r} invalid: expected {self.num_envs} ints in the action space "
                f"{self.action_space}"
            )
        rewards, terminations = rules.step(
            self._player,
            self._food,
            self._enemy,
            actions,
            self.size,
            self.np_random,
            self.moving_food,
            self.moving_enemy,
        )
        self._steps += 1
        restart = self._needs_reset
        if restart.any():
            # Next-step autoreset: the games that ended last step start over, ignoring their action.
            for array, start in zip(
                (self._player, self._food, self._enemy),
                rules.spawn(self.np_random, int(restart.sum()), self.size),
                strict=True,
            ):
                array[restart] = start
            self._steps[restart] = 0
            rewards[restart] = 0.0
            terminations[restart] = False
        truncations = self._steps >= self.max_episode_steps
        self._needs_reset = terminations | truncations
        return (
            self._observations(),
            rewards,
            terminations,
            truncations,
            self._infos(rewards == rules.FOOD_REWARD),
        )

    def render(self) -> list[np.ndarray] | list[str] | None:
        """Render every game.

        Returns:
            ``"rgb_array"``: one ``(size * cell_px, size * cell_px, 3)`` frame per sub-env;
            ``"ansi"``: one text grid per sub-env; None without a render mode.

        Raises:
            gymnasium.error.ResetNeeded: ``reset`` has not been called yet.
        """
        example = 'gymnasium.make_vec("Blob-v0", num_envs=4, render_mode="rgb_array")'
        if not rendering.can_render(self.render_mode, self._player is not None, example):
            return None
        if self.render_mode == "ansi":
            return [
                rendering.ansi_text(tuple(p), tuple(f), tuple(e), self.size)
                for p, f, e in zip(
                    self._player.tolist(), self._food.tolist(), self._enemy.tolist(), strict=True
                )
            ]
        images = observation.rgb_observations(self._player, self._food, self._enemy, self.size)
        return [rendering.rgb_frame(image, self.cell_px) for image in images]

    def get_state(self) -> dict[str, Any]:
        """Returns every game's full state as JSON-able data, which `set_state` restores exactly.

        The state holds the cells, the episodes' step counts, which games reset on the next
        step (autoreset) and the shared generator's state.

        Returns:
            A dict of JSON-able values.
        """
        return {
            "settings": self._state_settings(),
            "positions": state.positions_state((self._player, self._food, self._enemy)),
            "steps": self._steps.tolist(),
            "needs_reset": self._needs_reset.tolist(),
            "np_random": state.rng_state(self._np_random),
        }

    def set_state(self, saved: dict[str, Any]) -> None:
        """Restores a state from `get_state`, checking all of it before the env changes.

        Args:
            saved: A state of a `BlobVectorEnv` with this env's `num_envs`, `size`,
                `max_episode_steps`, `moving_food` and `moving_enemy`.

        Raises:
            ValueError: ``saved`` is not such a state, or it is damaged.
        """
        keys = ("settings", "positions", "steps", "needs_reset", "np_random")
        state.check_keys(saved, keys, "BlobVectorEnv")
        state.check_settings(saved["settings"], self._state_settings(), "BlobVectorEnv")
        n = self.num_envs
        cells = state.checked_positions(saved["positions"], "BlobVectorEnv", n, self.size)
        steps = [state.checked_int(value, "steps") for value in _list(saved["steps"], n)]
        needs_reset = _list(saved["needs_reset"], n)
        if not all(isinstance(value, bool) for value in needs_reset):
            raise ValueError(f"needs_reset must be {n} bools, got {needs_reset!r}")
        rng = state.checked_rng(saved["np_random"])
        self._player, self._food, self._enemy = cells
        self._steps = np.array(steps, dtype=np.int64)
        self._needs_reset = np.array(needs_reset, dtype=bool)
        # Gymnasium's setter marks the seed unknown (-1), as after any generator set by hand.
        self._np_random, self._np_random_seed = rng, (None if rng is None else -1)

    def _state_settings(self) -> dict[str, Any]:
        return {
            "num_envs": self.num_envs, "size": self.size, "moving_food": self.moving_food,
            "moving_enemy": self.moving_enemy, "max_episode_steps": self.max_episode_steps,
        }  # fmt: skip

    def _observations(self) -> np.ndarray:
        return observation.observations(
            self.obs_type, self._player, self._food, self._enemy, self.size
        )

    def _infos(self, is_success: np.ndarray) -> dict[str, Any]:
        infos = {
            "player": self._player.copy(),
            "food": self._food.copy(),
            "enemy": self._enemy.copy(),
            "distance": rules.chebyshev_distance(self._player, self._food),
            "is_success": is_success,
        }
        for key in list(infos):
            infos[f"_{key}"] = np.ones(self.num_envs, dtype=bool)
        return infos


def _list(value: Any, n: int) -> list[Any]:
    """``value`` checked to be a list of ``n`` items."""
    if not isinstance(value, list) or len(value) != n:
        raise ValueError(f"expected a list of {n} values, one per sub-env, got {value!r}")
    return value
