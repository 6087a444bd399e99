"""Steps a single or a vector Gymnasium env as one batch, hiding how each one resets."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from agents.transitions import TransitionBatch


class EnvDriver:
    """Presents a `gymnasium.Env` or a `gymnasium.vector.VectorEnv` as a batch of sub-envs.

    A single env is reset by the driver when its episode ends. A vector env resets itself: in
    NEXT_STEP mode (Gymnasium's default) the step after an episode's end is a reset whose row is
    marked invalid, which `next_valid` tells before that step; in SAME_STEP mode the final
    observation is taken from the infos.

    Args:
        env: The environment to drive.
        nb_max_episode_steps: Optional cap on episode length; an episode reaching it is
            truncated (single envs only; give a vector env its own time limit).

    Raises:
        TypeError: If `env` is neither a Gymnasium env nor a vector env.
        ValueError: If the action space is not Discrete, or the vector env cannot autoreset.
    """

    def __init__(self, env: gymnasium.Env | VectorEnv, nb_max_episode_steps: int | None = None):
        self.env = env
        self.is_vector = isinstance(env, VectorEnv)
        if not self.is_vector and not isinstance(env, gymnasium.Env):
            raise TypeError(f"expected a gymnasium.Env or gymnasium.vector.VectorEnv, got {env!r}")
        space = env.single_action_space if self.is_vector else env.action_space
        if not isinstance(space, gymnasium.spaces.Discrete):
            raise ValueError(f"agents need a Discrete action space, got {space}")
        self.action_space = space
        self.observation_space = (
            env.single_observation_space if self.is_vector else env.observation_space
        )
        self.num_envs = env.num_envs if self.is_vector else 1
        self.autoreset_mode = None
        if self.is_vector:
            self.autoreset_mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
            if self.autoreset_mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
                raise ValueError(
                    f"vector envs must autoreset in NEXT_STEP or SAME_STEP mode, "
                    f"got {self.autoreset_mode}"
                )
            if nb_max_episode_steps is not None:
                raise ValueError(
                    "nb_max_episode_steps is for single envs; give the vector env a time limit "
                    "(e.g. make_vec(..., max_episode_steps=N))"
                )
        if nb_max_episode_steps is not None and nb_max_episode_steps < 1:
            raise ValueError(f"nb_max_episode_steps must be >= 1, got {nb_max_episode_steps}")
        self.nb_max_episode_steps = nb_max_episode_steps
        self.obs: np.ndarray | None = None
        self._resetting = np.zeros(self.num_envs, dtype=bool)
        self._env_ids = np.arange(self.num_envs)
        self._episode_steps = 0

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Resets every sub-env and returns the batch of first observations."""
        obs, _ = self.env.reset(seed=seed)
        self.obs = np.asarray(obs) if self.is_vector else np.asarray(obs)[None]
        self._resetting[:] = False
        self._episode_steps = 0
        return self.obs

    @property
    def next_valid(self) -> np.ndarray:
        """(num_envs,) bools: which rows the next `step` makes valid transitions.

        False only for a NEXT_STEP vector env's sub-envs whose episode ended on the last step:
        their next step just resets them.
        """
        return ~self._resetting

    def step(self, actions: np.ndarray) -> TransitionBatch:
        """Takes one action in each sub-env; `self.obs` then holds the observations to act on.

        Returns:
            One row per sub-env (`env_ids` 0..num_envs-1), rows that are no transition marked
            invalid (see `next_valid`).
        """
        obs = self.obs
        valid = self.next_valid
        if self.is_vector:
            next_obs, rewards, terminated, truncated, infos = self.env.step(actions)
            self.obs = np.asarray(next_obs)
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                next_obs = self._final_observations(next_obs, terminated | truncated, infos)
            else:
                self._resetting = np.asarray(terminated) | np.asarray(truncated)
        else:
            next_ob, reward, term, trunc, _ = self.env.step(int(actions[0]))
            self._episode_steps += 1
            if self.nb_max_episode_steps is not None:
                trunc = trunc or (not term and self._episode_steps >= self.nb_max_episode_steps)
            next_obs = np.asarray(next_ob)[None]
            rewards, terminated, truncated = np.array([reward]), np.array([term]), np.array([trunc])
            self.obs = next_obs
            if term or trunc:
                self.obs = np.asarray(self.env.reset()[0])[None]
                self._episode_steps = 0
        return TransitionBatch(
            obs,
            np.asarray(actions),
            np.asarray(rewards, dtype=np.float64),
            np.asarray(next_obs),
            np.asarray(terminated, dtype=bool),
            np.asarray(truncated, dtype=bool),
            self._env_ids,
            valid,
        )

    @staticmethod
    def _final_observations(obs: Any, done: np.ndarray, infos: dict) -> np.ndarray:
        """Replaces the reset observations of finished sub-envs by their final observations."""
        next_obs = np.array(obs, copy=True)
        for i in np.flatnonzero(done):
            next_obs[i] = infos["final_obs"][i]
        return next_obs
