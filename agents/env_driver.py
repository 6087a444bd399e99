"""Steps a single or a vector Gymnasium env as one batch, hiding how each one resets."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, TimeLimit

from agents import action_masks
from agents.transitions import TransitionBatch

#: Episodes of an env without a time limit of its own are cut (truncated) after this many steps
#: in `Agent.test` and in evaluations, so that a policy stuck in a loop (CliffWalking's, walking
#: into a wall) cannot hang a run.
DEFAULT_MAX_EPISODE_STEPS = 10_000

#: Gymnasium's wrappers whose whole state is these attributes (PassiveEnvChecker's flags only
#: say which checks have run, so they are left out).
_WRAPPER_STATE = {
    TimeLimit: ("_elapsed_steps",),
    OrderEnforcing: ("_has_reset",),
    PassiveEnvChecker: (),
}
#: What a restored wrapper is set to besides: the checker's first-call checks count as done (the
#: saved run has had its reset, which they compare the first step with).
_RESTORED = {
    PassiveEnvChecker: {
        "checked_reset": True,
        "checked_step": True,
        "checked_data_reuse": True,
        "_previous_data": None,
    },
}


class EnvDriver:
    """Presents a `gymnasium.Env` or a `gymnasium.vector.VectorEnv` as a batch of sub-envs.

    A single env is reset by the driver when its episode ends. A vector env resets itself: in
    NEXT_STEP mode (Gymnasium's default) the step after an episode's end is a reset whose row is
    marked invalid, which `next_valid` tells before that step; in SAME_STEP mode the final
    observation is taken from the infos.

    Actions are checked against the action space before the env sees them: a Discrete space's
    must be integers in its range, a Box space's must have its shape (one row per sub-env) and
    be finite; those are clipped to the space's bounds and cast to its dtype, and the clipped
    actions are the ones the transitions record.

    An episode reaching the driver's cap (`nb_max_episode_steps`) is truncated and reset by the
    driver: a single env with `reset()`, a vector env's sub-env with Gymnasium's partial reset
    `reset(options={"reset_mask": mask})` (its sync and async vector envs have it from 1.1),
    so that sub-env is never marked invalid.

    With `read_masks`, a Discrete env's action masks (`env.action_masks()` or
    `info["action_mask"]`, see `agents.action_masks`) are read and checked after every reset
    and step: `masks` holds those of `obs`, and each transition's `next_masks` those of its
    next_obs (all True where the env does not tell: a SAME_STEP vector env's final states
    through `action_masks()`).

    Args:
        env: The environment to drive.
        nb_max_episode_steps: Optional cap on episode length.
        default_max_episode_steps: The cap when `nb_max_episode_steps` is None and the env has
            no time limit of its own (see `time_limit`); None: no cap then.
        read_masks: Read the env's action masks (for an agent that uses them).

    Attributes:
        nb_max_episode_steps: The cap in force (None: none).
        masks: (num_envs, n) bools, the legal actions in `obs`; None if the env gives none.

    Raises:
        TypeError: If `env` is neither a Gymnasium env nor a vector env.
        ValueError: If the action space is neither Discrete nor Box, the vector env cannot
            autoreset, the cap is below 1, or a vector env is to be capped but cannot reset
            single sub-envs.
    """

    def __init__(
        self,
        env: gymnasium.Env | VectorEnv,
        nb_max_episode_steps: int | None = None,
        default_max_episode_steps: int | None = None,
        read_masks: bool = False,
    ):
        self.env = env
        self.is_vector = isinstance(env, VectorEnv)
        if not self.is_vector and not isinstance(env, gymnasium.Env):
            raise TypeError(f"expected a gymnasium.Env or gymnasium.vector.VectorEnv, got {env!r}")
        space = env.single_action_space if self.is_vector else env.action_space
        if not isinstance(space, (gymnasium.spaces.Discrete, gymnasium.spaces.Box)):
            raise ValueError(f"agents need a Discrete or Box action space, got {space}")
        self.action_space = space
        self.continuous = isinstance(space, gymnasium.spaces.Box)
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
        if nb_max_episode_steps is None and time_limit(env) is None:
            nb_max_episode_steps = default_max_episode_steps
        if nb_max_episode_steps is not None and nb_max_episode_steps < 1:
            raise ValueError(f"nb_max_episode_steps must be >= 1, got {nb_max_episode_steps}")
        if (
            self.is_vector
            and nb_max_episode_steps is not None
            and not isinstance(env.unwrapped, (SyncVectorEnv, AsyncVectorEnv))
        ):
            raise ValueError(
                f"cannot cut the episodes of {env} at {nb_max_episode_steps} steps: it has no "
                "partial reset (reset_mask); give it a time limit of its own, e.g. "
                "gymnasium.make_vec(env_id, num_envs=N, max_episode_steps=M)"
            )
        self.nb_max_episode_steps = nb_max_episode_steps
        self.obs: np.ndarray | None = None
        self.masks: np.ndarray | None = None
        self.read_masks = read_masks and not self.continuous
        self._mask_method = action_masks.mask_method(env) if self.read_masks else None
        self._resetting = np.zeros(self.num_envs, dtype=bool)
        self._env_ids = np.arange(self.num_envs)
        self._episode_steps = np.zeros(self.num_envs, dtype=np.int64)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Resets every sub-env and returns the batch of first observations."""
        obs, infos = self.env.reset(seed=seed)
        self.obs = np.asarray(obs) if self.is_vector else np.asarray(obs)[None]
        self._resetting[:] = False
        self._episode_steps[:] = 0
        self.masks = self._checked(self._read_masks(infos), self.next_valid)
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
        actions = self.checked_actions(actions)
        if self.is_vector:
            next_obs, rewards, terminated, truncated, infos = self.env.step(actions)
            terminated, truncated = np.asarray(terminated), np.asarray(truncated)
            self.obs = np.asarray(next_obs)
            masks = next_masks = self._read_masks(infos)
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                next_obs = self._final_observations(next_obs, terminated | truncated, infos)
                next_masks = self._final_masks(next_masks, terminated | truncated, infos)
            else:
                self._resetting = terminated | truncated
            cut = self._count_steps(valid, terminated | truncated)
            if cut.any():
                # The partial reset may reuse the step's buffer: keep the final observations.
                next_obs, truncated = np.array(next_obs, copy=True), truncated | cut
                reset_obs, reset_infos = self.env.reset(options={"reset_mask": cut})
                self.obs = np.asarray(reset_obs)
                masks = self._reset_masks(masks, cut, reset_infos)
            next_masks = self._checked(next_masks, np.zeros(self.num_envs, dtype=bool))
            self.masks = self._checked(masks, self.next_valid)
        else:
            action = actions[0] if self.continuous else int(actions[0])
            next_ob, reward, term, trunc, info = self.env.step(action)
            trunc = trunc or bool(self._count_steps(valid, np.array([term or trunc]))[0])
            next_obs = np.asarray(next_ob)[None]
            rewards, terminated, truncated = np.array([reward]), np.array([term]), np.array([trunc])
            self.obs = next_obs
            next_masks = self._checked(self._read_masks(info), np.array([not (term or trunc)]))
            self.masks = next_masks
            if term or trunc:
                reset_ob, info = self.env.reset()
                self.obs = np.asarray(reset_ob)[None]
                self.masks = self._checked(self._read_masks(info), np.ones(1, dtype=bool))
        return TransitionBatch(
            obs,
            actions,
            np.asarray(rewards, dtype=np.float64),
            np.asarray(next_obs),
            np.asarray(terminated, dtype=bool),
            np.asarray(truncated, dtype=bool),
            self._env_ids,
            valid,
            next_masks,
        )

    def checked_actions(self, actions: Any) -> np.ndarray:
        """`actions` (one per sub-env) checked against the action space, Box ones clipped.

        Raises:
            ValueError: If there is not one action per sub-env, a Box action has another shape
                or is not finite, or a Discrete action is no integer of the space.
        """
        space, actions = self.action_space, np.asarray(actions)
        if self.continuous:
            expected = (self.num_envs, *space.shape)
            if actions.shape != expected or actions.dtype.kind not in "iuf":
                raise ValueError(
                    f"expected actions of shape {expected} (one row per sub-env) for {space}, "
                    f"got {actions.dtype} of shape {actions.shape}"
                )
            if not np.all(np.isfinite(actions)):
                raise ValueError(f"actions must be finite, got {actions.tolist()}")
            return np.clip(actions, space.low, space.high).astype(space.dtype)
        low, high = int(space.start), int(space.start + space.n)
        if (
            actions.shape != (self.num_envs,)
            or actions.dtype.kind not in "iu"
            or not np.all((actions >= low) & (actions < high))
        ):
            raise ValueError(
                f"expected {self.num_envs} integer actions in [{low}, {high}) for {space}, got "
                f"{actions.dtype} {actions.tolist()}"
            )
        return actions

    def _read_masks(self, infos: Any) -> Any:
        """The env's masks of its current observations (its method's, else the infos'), or None."""
        if not self.read_masks:
            return None
        if self._mask_method is not None:
            return self._mask_method()
        return action_masks.info_masks(infos, self.is_vector, self.num_envs)

    def _checked(self, masks: Any, acting: np.ndarray) -> np.ndarray | None:
        if masks is None:
            return None
        return action_masks.checked_masks(masks, self.num_envs, int(self.action_space.n), acting)

    def _final_masks(self, masks: Any, done: np.ndarray, infos: dict) -> Any:
        """A SAME_STEP step's masks of the final observations (all True where not told)."""
        if masks is None or not done.any():
            return masks
        final = np.array(masks, dtype=bool, copy=True)
        final_info = infos.get("final_info", {}) if self._mask_method is None else {}
        told = action_masks.info_masks(final_info, True, self.num_envs)
        for i in np.flatnonzero(done):
            final[i] = told[i] if told is not None else True
        return final

    def _reset_masks(self, masks: Any, reset: np.ndarray, infos: dict) -> Any:
        """The masks after a partial reset of the `reset` sub-envs."""
        if self._mask_method is not None:
            return self._mask_method()
        told = action_masks.info_masks(infos, True, self.num_envs)
        if masks is None or told is None:
            return masks if told is None else told
        return np.where(reset[:, None], told, masks)

    def _count_steps(self, valid: np.ndarray, ended: np.ndarray) -> np.ndarray:
        """Counts a step of the `valid` sub-envs; returns those that the cap cuts now.

        A sub-env whose episode `ended` by itself, or is cut, starts again from 0.
        """
        self._episode_steps[valid] += 1
        cut = np.zeros(self.num_envs, dtype=bool)
        if self.nb_max_episode_steps is not None:
            cut = valid & ~ended & (self._episode_steps >= self.nb_max_episode_steps)
        self._episode_steps[ended | cut] = 0
        return cut

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """Returns the driver's and the env's state, or None if the env cannot save its state.

        See `env_state` for the envs that can. The state is consistent between two `step` calls.

        Returns:
            `(values, arrays)`: JSON-able values (the env's state among them) and the current
            observations as array "obs" (and their action masks as "masks", if any); or None.
        """
        if self.obs is None or self.observation_space.shape is None:
            return None  # not started, or observations that are no single array
        env = env_state(self.env)
        if env is None:
            return None
        steps = self._episode_steps.tolist()
        values = {
            "env": env,
            "resetting": self._resetting.tolist(),
            "episode_steps": steps if self.is_vector else steps[0],
        }
        arrays = {"obs": self.obs}
        if self.masks is not None:
            arrays["masks"] = self.masks
        return values, arrays

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restores a state from `get_state` into this driver and its env.

        A vector env's `episode_steps` is one count per sub-env (an int, as older states hold,
        counts for every sub-env).

        Raises:
            ValueError: If the state does not fit this env (another shape or kind of env), or
                is damaged; nothing has changed then.
        """
        if not isinstance(values, dict) or set(values) != {"env", "resetting", "episode_steps"}:
            raise ValueError(f"a driver state holds env, resetting and episode_steps: {values!r}")
        n, obs = self.num_envs, arrays.get("obs")
        shape = (n, *self.observation_space.shape)
        if obs is None or obs.shape != shape:
            found = None if obs is None else obs.shape
            raise ValueError(f"the state's observations have shape {found}; this env's {shape}")
        resetting, steps = values["resetting"], values["episode_steps"]
        if not isinstance(resetting, list) or len(resetting) != n:
            raise ValueError(f"the state's resetting must be {n} bools, got {resetting!r}")
        if not all(isinstance(flag, bool) for flag in resetting):
            raise ValueError(f"the state's resetting must be {n} bools, got {resetting!r}")
        counts = steps if self.is_vector and isinstance(steps, list) else [steps] * n
        if len(counts) != n or not all(_is_count(count) for count in counts):
            raise ValueError(f"the state's episode_steps must be {n} ints >= 0, got {steps!r}")
        masks = arrays.get("masks")
        if masks is not None:
            masks = self._checked(masks, ~np.array(resetting, dtype=bool))
        set_env_state(self.env, values["env"])
        self.obs = obs.copy()
        self._resetting = np.array(resetting, dtype=bool)
        self._episode_steps = np.array(counts, dtype=np.int64)
        if masks is None and self._mask_method is not None:
            masks = self._checked(self._mask_method(), self.next_valid)
        self.masks = masks

    @staticmethod
    def _final_observations(obs: Any, done: np.ndarray, infos: dict) -> np.ndarray:
        """Replaces the reset observations of finished sub-envs by their final observations."""
        next_obs = np.array(obs, copy=True)
        for i in np.flatnonzero(done):
            next_obs[i] = infos["final_obs"][i]
        return next_obs


#: The agents for each kind of action space, for the message of a misfit.
_AGENTS_FOR = {
    gymnasium.spaces.Discrete: "DQNAgent, PPOAgent, SARSAAgent, CEMAgent or QLearningAgent",
    gymnasium.spaces.Box: "DDPGAgent, TD3Agent, NAFAgent or PPOAgent",
}


def require_action_space(space: gymnasium.Space, kind: type, agent: Any) -> None:
    """Raises ValueError unless the action space `space` is a `kind` (Discrete or Box).

    Args:
        space: The env's (single) action space.
        kind: `gymnasium.spaces.Discrete` or `gymnasium.spaces.Box`.
        agent: The agent, named in the message.
    """
    if not isinstance(space, kind):
        other = next((agents for cls, agents in _AGENTS_FOR.items() if isinstance(space, cls)), "")
        raise ValueError(
            f"a {type(agent).__name__} needs a {kind.__name__} action space, the env has "
            f"{space}" + (f": use a {other}" if other else "")
        )


def time_limit(env: Any) -> int | None:
    """The episode length at which `env` truncates by itself; None if it has no known limit.

    A single env's is its `TimeLimit` wrapper's. A vector env's is its sub-envs' for a
    `SyncVectorEnv` (the longest; None if one has none), else its spec's (`make_vec`'s
    `max_episode_steps` argument, else the id's), else its `max_episode_steps` attribute (Blob's
    native vector env has one).
    """
    if not isinstance(env, VectorEnv):
        while isinstance(env, gymnasium.Wrapper):
            if isinstance(env, TimeLimit):
                return env._max_episode_steps
            env = env.env
        return None
    base = env.unwrapped
    if isinstance(base, SyncVectorEnv):
        limits = [time_limit(sub_env) for sub_env in base.envs]
        return None if None in limits else max(limits)
    if base.spec is None:
        return getattr(base, "max_episode_steps", None)
    limit = base.spec.kwargs.get("max_episode_steps", base.spec.max_episode_steps)
    return None if limit is None or limit < 0 else limit  # make's -1: no TimeLimit


def env_state(env: Any) -> list[dict[str, Any]] | None:
    """The full state of `env` through its wrappers, or None if it cannot be saved.

    An env can be saved when the env under its wrappers (or a wrapper on the way) has
    `get_state()` and `set_state(state)`, like the Blob envs, and every wrapper above it is one
    whose state is known here (Gymnasium's `TimeLimit`, `OrderEnforcing`, `PassiveEnvChecker`).

    Returns:
        One JSON-able entry per layer, outermost first; None if the env cannot be saved.
    """
    layers = []
    while True:
        if _saves_state(env):
            layers.append({"class": type(env).__name__, "state": env.get_state()})
            return layers
        names = _WRAPPER_STATE.get(type(env))
        if names is None:
            return None
        attributes = {name: getattr(env, name) for name in names}
        layers.append({"class": type(env).__name__, "attributes": attributes})
        env = env.env


def set_env_state(env: Any, layers: Any) -> None:
    """Restores an `env_state(...)` into `env`, which must be wrapped the same way.

    Raises:
        ValueError: If the layers do not match the env's, or the env refuses its state; the
            env's own check comes before any wrapper changes.
    """
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"an env state must be a non-empty list of layers, got {layers!r}")
    wrappers = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict) or layer.get("class") != type(env).__name__:
            found = layer.get("class") if isinstance(layer, dict) else layer
            raise ValueError(f"the env state's layer {index} is {found!r}; this env's is {env!r}")
        if index == len(layers) - 1:
            break
        names = _WRAPPER_STATE.get(type(env))
        attributes = layer.get("attributes")
        if (
            names is None
            or not isinstance(attributes, dict)
            or set(attributes) != set(names)
            or not all(value is None or isinstance(value, int) for value in attributes.values())
        ):
            raise ValueError(f"the env state's layer {index} does not fit {env!r}: {layer!r}")
        wrappers.append((env, attributes))
        env = env.env
    if not _saves_state(env) or "state" not in layers[-1]:
        raise ValueError(f"the env state's last layer does not fit {env!r}, which saves no state")
    env.set_state(layers[-1]["state"])
    for wrapper, attributes in wrappers:
        for name, value in {**attributes, **_RESTORED.get(type(wrapper), {})}.items():
            setattr(wrapper, name, value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _saves_state(env: Any) -> bool:
    return all(callable(getattr(type(env), name, None)) for name in ("get_state", "set_state"))
