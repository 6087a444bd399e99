"""The Blob game as a single Gymnasium environment."""

from __future__ import annotations

import operator
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from blobenv import observation, rendering, rules, state

#: The largest side of a rendered frame in pixels (`size * cell_px`): 8192 is 200 MB of RGB.
MAX_FRAME_PX = 8192


class BlobEnv(gym.Env[np.ndarray, int]):
    """Reach the food on a grid without touching the enemy.

    ## Description
    Three blobs share a `size` x `size` grid: the player, the food and the enemy. The player moves
    one king step at a time; reaching the food wins, touching the enemy loses. The game comes from
    sentdex's "Reinforcement Learning with Python" tutorial, with its moves made deterministic.

    ## Action Space
    `Discrete(9)`, moves as (dx, dy), clamped at the walls:

    | Num | Move     | Num | Move    | Num | Move    |
    |-----|----------|-----|---------|-----|---------|
    | 0   | (+1, +1) | 3   | (+1, -1)| 6   | (0, +1) |
    | 1   | (-1, -1) | 4   | (+1, 0) | 7   | (0, -1) |
    | 2   | (-1, +1) | 5   | (-1, 0) | 8   | stay    |

    ## Observation Space
    - `obs_type="rgb"`: `Box(0, 255, (size, size, 3), uint8)`, row = y and column = x, black
      background, food (0, 255, 0), enemy (255, 0, 0), player (0, 175, 255), drawn in that
      order so the player is on top.
    - `obs_type="coords"`: `MultiDiscrete([2 * size - 1] * 4)`, the tutorial's Q-table state
      `(player - food, player - enemy)` as (dx, dy, dx, dy), each offset by `size - 1`.

    ## Starting State
    The three blobs start on distinct uniformly random cells. `reset(options={"player": (x, y),
    "food": (x, y), "enemy": (x, y)})` starts from given distinct cells instead.

    ## Rewards
    After the player's move (and the food's and enemy's, when they move): -300 if the player is
    on the enemy's cell, else +25 if it is on the food's cell, else -1.

    ## Episode End
    - Termination: the player reaches the enemy's or the food's cell.
    - Truncation: after 200 steps, by the `TimeLimit` that `gymnasium.make` adds.

    `info` holds `player`, `food` and `enemy` as (x, y) tuples of ints, `distance` (the
    Chebyshev distance from the player to the food) and `is_success` (the food was reached).

    ## Arguments
    ```python
    gymnasium.make("Blob-v0", size=10, obs_type="rgb", moving_food=False, moving_enemy=False,
                   cell_px=30, render_mode=None)
    ```
    - `size`: cells per side, 3 to 1000.
    - `obs_type`: `"rgb"` or `"coords"`.
    - `moving_food`, `moving_enemy`: after the player's move, the food and then the enemy take
      one uniformly random step of the nine.
    - `cell_px`: pixels per cell in rendered frames (`"rgb_array"` and `"human"`).
    - `render_mode`: `None`, `"human"` (a pygame window), `"rgb_array"` or `"ansi"` (text).

    ## Version History
    - v0: Initial version: deterministic moves, rgb and coords observations, moving blobs as
      options.
    """

    metadata = {"render_modes": ["human", "rgb_array", "ansi"], "render_fps": 10}

    def __init__(
        self,
        size: int = 10,
        obs_type: str = "rgb",
        moving_food: bool = False,
        moving_enemy: bool = False,
        cell_px: int = 30,
        render_mode: str | None = None,
    ) -> None:
        self.size = rules.check_size(size)
        self.obs_type = observation.check_obs_type(obs_type)
        self.moving_food = _check_bool("moving_food", moving_food)
        self.moving_enemy = _check_bool("moving_enemy", moving_enemy)
        self.cell_px = rendering.check_cell_px(cell_px)
        self.render_mode = rendering.check_render_mode(render_mode, self.metadata["render_modes"])
        if self.render_mode in ("rgb_array", "human") and self.size * self.cell_px > MAX_FRAME_PX:
            raise ValueError(
                f"size {self.size} x cell_px {self.cell_px} makes frames of "
                f"{self.size * self.cell_px} pixels a side; at most {MAX_FRAME_PX}: "
                "give a smaller cell_px"
            )
        self.action_space = spaces.Discrete(rules.NUM_ACTIONS)
        self.observation_space = observation.observation_space(self.obs_type, self.size)
        self._player: np.ndarray | None = None
        self._food: np.ndarray | None = None
        self._enemy: np.ndarray | None = None
        self._steps = 0
        self._return = 0.0
        self._window: rendering.HumanWindow | None = None

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move the player (then the food and enemy, when they move) and judge the outcome.

        Args:
            action: An int in ``[0, 8]``.

        Returns:
            ``(observation, reward, terminated, truncated, info)``; ``truncated`` is always
            False here (the ``TimeLimit`` wrapper truncates).

        Raises:
            gymnasium.error.ResetNeeded: ``reset`` has not been called yet, or the episode has
                ended (terminated).
            ValueError: ``action`` is not an integer in the action space (a bool is not).
        """
        if self._player is None:
            raise ResetNeeded("Call reset() before step(): the game has not started")
        try:
            if isinstance(action, (bool, np.bool_)):
                raise TypeError("a bool is not an action")
            index = operator.index(action)
        except TypeError:
            index = -1
        if not 0 <= index < rules.NUM_ACTIONS:
            raise ValueError(
                f"{action!r} invalid: expected an int in the action space {self.action_space}"
            )
        if self._finished():
            raise ResetNeeded(
                "the episode has ended (terminated: the player is on the food's or the enemy's "
                "cell); call reset() before step()"
            )
        rewards, terminated = rules.step(
            self._player,
            self._food,
            self._enemy,
            index,
            self.size,
            self.np_random,
            self.moving_food,
            self.moving_enemy,
        )
        (reward,), (terminated,) = rewards.tolist(), terminated.tolist()
        self._steps += 1
        self._return += reward
        if self.render_mode == "human":
            self.render()
        obs, info = self._observe(reward == rules.FOOD_REWARD)
        return obs, reward, terminated, False, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game.

        Args:
            seed: Seeds ``np_random``, from which the start cells are drawn.
            options: Either empty, or ``{"player": (x, y), "food": (x, y), "enemy": (x, y)}`` to
                start from those distinct cells.

        Returns:
            ``(observation, info)``.

        Raises:
            TypeError: ``options`` is neither a dict nor None.
            ValueError: ``options`` has other keys, lacks one of the three, or holds bad cells.
        """
        if options is not None and not isinstance(options, dict):
            raise TypeError(f"options must be a dict or None, got {options!r}")
        super().reset(seed=seed)
        if options:
            positions = rules.check_start_options(options, self.size, 1)
        else:
            positions = rules.spawn(self.np_random, 1, self.size)
        self._player, self._food, self._enemy = positions
        self._steps = 0
        self._return = 0.0
        if self.render_mode == "human":
            self.render()
        return self._observe(False)

    def render(self) -> np.ndarray | str | None:
        """Render the game in the env's ``render_mode``.

        Returns:
            ``"rgb_array"``: a ``(size * cell_px, size * cell_px, 3)`` uint8 frame;
            ``"ansi"``: the grid as text; ``"human"``: None, after showing the frame in a window
            titled with the step and return.

        Raises:
            gymnasium.error.ResetNeeded: ``reset`` has not been called yet.
        """
        example = 'gymnasium.make("Blob-v0", render_mode="rgb_array")'
        if not rendering.can_render(self.render_mode, self._player is not None, example):
            return None
        cells = self._cells()
        if self.render_mode == "ansi":
            return rendering.ansi_text(*cells, self.size)
        frame = rendering.rgb_frame(observation.rgb_image(*cells, self.size), self.cell_px)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            height, width = frame.shape[:2]
            self._window = rendering.HumanWindow(width, height, self.metadata["render_fps"])
        self._window.show(frame, f"Blob  step {self._steps}  return {self._return:g}")
        return None

    def close(self) -> None:
        """Close the human-mode window, if one is open; closing twice is harmless."""
        if self._window is not None:
            self._window.close()
            self._window = None

    def get_keys_to_action(self) -> dict[tuple[str, ...], int]:
        """Map keys to actions for ``gymnasium.utils.play.play``.

        w/a/s/d move up/left/down/right (up is -y, as rows grow downwards), q/e/z/c and
        two-key combinations such as w+d move diagonally, and space stays. Pass ``noop=8`` to
        ``play`` so that pressing nothing also stays.

        Returns:
            Key tuples to action indices.
        """
        return {
            ("w",): 7,
            ("s",): 6,
            ("a",): 5,
            ("d",): 4,
            ("q",): 1,
            ("e",): 3,
            ("z",): 2,
            ("c",): 0,
            ("a", "w"): 1,
            ("d", "w"): 3,
            ("a", "s"): 2,
            ("d", "s"): 0,
            (" ",): rules.STAY,
        }

    def get_state(self) -> dict[str, Any]:
        """Returns the game's full state as JSON-able data, which `set_state` restores exactly.

        The state holds the three cells, the step count and return of the episode, and
        `np_random`'s state, so a restored env plays on as this one would (the time limit's
        step count belongs to the `TimeLimit` wrapper, not to this env).

        Returns:
            A dict of JSON-able values.
        """
        return {
            "settings": self._state_settings(),
            "positions": state.positions_state((self._player, self._food, self._enemy)),
            "steps": self._steps,
            "return": self._return,
            "np_random": state.rng_state(self._np_random),
        }

    def set_state(self, saved: dict[str, Any]) -> None:
        """Restores a state from `get_state`, checking all of it before the env changes.

        Args:
            saved: A state of a `BlobEnv` with this env's `size`, `moving_food` and
                `moving_enemy`.

        Raises:
            ValueError: ``saved`` is not such a state, or it is damaged.
        """
        keys = ("settings", "positions", "steps", "return", "np_random")
        state.check_keys(saved, keys, "BlobEnv")
        state.check_settings(saved["settings"], self._state_settings(), "BlobEnv")
        cells = state.checked_positions(saved["positions"], "BlobEnv", 1, self.size)
        steps = state.checked_int(saved["steps"], "steps")
        episode_return = saved["return"]
        if isinstance(episode_return, bool) or not isinstance(episode_return, (int, float)):
            raise ValueError(f"return must be a number, got {episode_return!r}")
        rng = state.checked_rng(saved["np_random"])
        self._player, self._food, self._enemy = cells
        self._steps, self._return = steps, float(episode_return)
        # Gymnasium's setter marks the seed unknown (-1), as after any generator set by hand.
        self._np_random, self._np_random_seed = rng, (None if rng is None else -1)

    def _finished(self) -> bool:
        """Whether the episode has terminated: the player shares a cell with the food or enemy."""
        player = self._player
        return bool((player == self._food).all() or (player == self._enemy).all())

    def _state_settings(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "moving_food": self.moving_food,
            "moving_enemy": self.moving_enemy,
        }

    def __getstate__(self) -> dict[str, Any]:
        """Pickle everything but the pygame window, which a copy reopens when it renders."""
        state = self.__dict__.copy()
        state["_window"] = None
        return state

    def _cells(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        (player,), (food,), (enemy,) = (
            self._player.tolist(),
            self._food.tolist(),
            self._enemy.tolist(),
        )
        return tuple(player), tuple(food), tuple(enemy)

    def _observe(self, is_success: bool) -> tuple[np.ndarray, dict[str, Any]]:
        player, food, enemy = self._cells()
        if self.obs_type == "rgb":
            obs = observation.rgb_image(player, food, enemy, self.size)
        else:
            games = observation.coords_observations(
                self._player, self._food, self._enemy, self.size
            )
            obs = games[0]
        info = {
            "player": player,
            "food": food,
            "enemy": enemy,
            "distance": max(abs(player[0] - food[0]), abs(player[1] - food[1])),
            "is_success": is_success,
        }
        return obs, info


def _check_bool(name: str, value: Any) -> bool:
    """`value` as a bool; raises TypeError unless it is one (NumPy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)
