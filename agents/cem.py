"""The cross-entropy method (keras-rl's CEMAgent) over a Keras model's weights."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from agents import agent_state, keras_state, weights_file
from agents.core import Agent
from agents.env_driver import EnvDriver
from agents.episode_memory import EpisodeParameterMemory, elite_count
from agents.hyperparameters import check_int, check_number
from agents.model_checks import check_action_model, check_discrete_env
from agents.transitions import TransitionBatch

__all__ = ["CEMAgent", "EpisodeParameterMemory"]

#: Prefix of the episode memory's arrays among the agent's state arrays.
MEMORY_PREFIX = "episode_memory."


class CEMAgent(Agent):
    """The cross-entropy method: a diagonal Gaussian over the model's weights, refit to the elite.

    `theta` holds the distribution: the means of the model's `num_weights` trainable weights,
    then their standard deviations. Every training episode acts with weights drawn from it,
    each sub-env of a vector env with its own draw (all sub-envs act in one compiled call:
    `model.stateless_call` per row). A finished episode's (weights, return) go into the memory
    and its sub-env draws new weights. Once more than `nb_steps_warmup` env steps have passed
    and the memory holds `batch_size` episodes, the end of every episode whose index is a
    multiple of `train_interval` samples `batch_size` episodes from the memory (as keras-rl;
    give the memory `limit=batch_size` for the plain method on the latest episodes) and sets
    the means and deviations to those of the best `num_best = floor(batch_size * elite_frac)`
    weight vectors, plus `noise_ampl * exp(-step * noise_decay_const)` on the deviations
    (keras-rl's noisy CEM, after Szita and Lorincz 2006). The model's weights are always the
    means (from the start: its own initial weights are replaced), and they are what `test`,
    `get_weights` and saved agents use. The metric `mean_best_reward` is the elite's mean
    return at an update. A `fit` that resets the env (any but an exact resume, see
    `resumes_exactly`) drops the returns of the episodes in progress, not their weights.

    Where it differs from keras-rl, and why:
        - Actions are the argmax of the model's output in training too (keras-rl sampled from
          a softmax of it), so that an episode's return scores the greedy policy that `test`
          runs; the weights' noise does the exploring. With `nb_actions=1` (a Discrete(1) env)
          the action is always 0, as in keras-rl.
        - `test` acts with the mean weights (keras-rl switched to the best single episode's
          weights at the end of `fit`: often a lucky draw rather than a good policy).
        - Updates wait until the memory holds `batch_size` episodes (keras-rl then sampled
          with replacement, repeating elites).
        - Only trainable weights are searched; non-trainable ones (e.g. normalization
          statistics) stay as the model has them.
        - `memory_interval` must be 1: keras-rl's larger values left rewards out of the
          episodes' returns.

    Args:
        model: A built Keras model from observations to `nb_actions` outputs. It should scale
            pixels itself; the agent feeds it float32 casts of raw observations.
        nb_actions: Number of discrete actions (the env's `Discrete(nb_actions)`).
        memory: An `EpisodeParameterMemory` holding at least `batch_size` episodes.
        batch_size: Episodes sampled per update, an integer >= 1.
        nb_steps_warmup: Env steps before the first update, an integer >= 0.
        train_interval: Update at every episode end whose episode index is a multiple of this.
        elite_frac: Fraction of the sampled episodes that is the elite, in (0, 1], with
            `batch_size * elite_frac >= 1`.
        memory_interval: keras-rl's argument; only 1.
        theta_init: Initial (means, standard deviations), an array of 2n finite numbers
            (deviations >= 0); None gives means 0 and deviations 1.
        noise_decay_const: Decay rate per env step of the added noise, >= 0.
        noise_ampl: Noise added to the deviations at step 0, >= 0.

    Raises:
        TypeError: If `model` is not a keras.Model or `memory` not an EpisodeParameterMemory.
        ValueError: If a numeric argument is not a number of its kind or is out of range (the
            message names it), if the model does not fit `nb_actions`, or if `theta_init`
            does not fit the model.
    """

    #: The distribution; `get_config` gives the initial one.
    state_attributes = ("theta",)

    def __init__(
        self,
        model: keras.Model,
        nb_actions: int,
        memory: EpisodeParameterMemory,
        batch_size: int = 50,
        nb_steps_warmup: int = 1000,
        train_interval: int = 50,
        elite_frac: float = 0.05,
        memory_interval: int = 1,
        theta_init: Any = None,
        noise_decay_const: float = 0.0,
        noise_ampl: float = 0.0,
    ):
        super().__init__()
        _check_model(model, nb_actions)
        if not isinstance(memory, EpisodeParameterMemory):
            raise TypeError(f"memory must be an EpisodeParameterMemory, got {memory!r}")
        check_int("batch_size", batch_size, 1)
        check_int("nb_steps_warmup", nb_steps_warmup, 0)
        check_int("train_interval", train_interval, 1)
        check_number("elite_frac", elite_frac, 0, 1, low_open=True)
        check_int("memory_interval", memory_interval, 1)
        check_number("noise_decay_const", noise_decay_const, 0, math.inf, high_open=True)
        check_number("noise_ampl", noise_ampl, 0, math.inf, high_open=True)
        if memory_interval != 1:
            raise ValueError(
                f"memory_interval must be 1 (every reward counts in an episode's return), "
                f"got {memory_interval}"
            )
        self.num_best = elite_count(batch_size, elite_frac)
        if self.num_best < 1:
            raise ValueError(
                f"batch_size * elite_frac must be >= 1 (an elite of at least one episode), got "
                f"{batch_size} * {elite_frac}"
            )
        if memory.limit < batch_size:
            raise ValueError(
                f"the memory keeps {memory.limit} episodes, fewer than batch_size={batch_size}"
            )
        self.model = model
        self.nb_actions = nb_actions
        self.memory = memory
        self.batch_size = batch_size
        self.nb_steps_warmup = nb_steps_warmup
        self.train_interval = train_interval
        self.elite_frac = elite_frac
        self.memory_interval = memory_interval
        self.noise_decay_const = noise_decay_const
        self.noise_ampl = noise_ampl
        self._shapes = [tuple(v.shape) for v in model.trainable_variables]
        self._sizes = [math.prod(shape) for shape in self._shapes]
        self.num_weights = sum(self._sizes)
        self.theta_init = None if theta_init is None else self._checked_theta(theta_init)
        self.theta = self.initial_theta()
        # Per sub-env: the weights its episode acts with and the return so far.
        self._sampled = np.zeros((0, self.num_weights))
        self._returns = np.zeros(0)
        self._assign_mean()

    @property
    def metrics_names(self) -> list[str]:
        """mean_best_reward: the elite's mean return at an update (keras-rl's)."""
        return ["mean_best_reward"]

    def initial_theta(self) -> np.ndarray:
        """A copy of `theta_init`, or means 0 and deviations 1 (keras-rl's) without one."""
        if self.theta_init is not None:
            return self.theta_init.copy()
        n = self.num_weights
        return np.concatenate([np.zeros(n), np.ones(n)])

    def compile(self) -> None:
        """Creates the compiled acting steps (CEM has no optimizer)."""
        self._greedy_fn = tf.function(self._greedy_actions, reduce_retracing=True)
        self._sampled_fn = tf.function(self._sampled_actions, reduce_retracing=True)
        self.compiled = True

    def check_env(self, driver: EnvDriver) -> None:
        """Checks that the env's observations fit the model and it has nb_actions actions."""
        check_discrete_env(self, driver, self.model.input_shape[1:])

    def start_episodes(self) -> None:
        """Drops the returns of the episodes in progress (the env was reset).

        Their sub-envs keep their weights (never scored) for the new episodes.
        """
        self._returns[:] = 0.0

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """The argmax of the model's output: each sub-env's own weights in fit, else the mean."""
        if not self.training:
            return self._greedy_fn(obs).numpy()
        if len(self._sampled) != len(obs):
            self._sampled = self._draw(len(obs))
            self._returns = np.zeros(len(obs))
        return self._sampled_fn(self._sampled.astype(np.float32), obs).numpy()

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """Adds the rewards to the returns; stores ended episodes, updates when due."""
        rows = batch.env_ids
        self._returns[rows] += batch.rewards
        step = self.step + len(batch)
        scores = []
        # The base ends the episodes in this order, counting `episode` up for each.
        for episode, i in enumerate(rows[batch.done], start=self.episode):
            self.memory.append(self._sampled[i], self._returns[i])
            self._returns[i] = 0.0
            if (
                step > self.nb_steps_warmup
                and episode % self.train_interval == 0
                and len(self.memory) >= self.batch_size
            ):
                scores.append(self.update_distribution(step))
            self._sampled[i] = self._draw(1)[0]
        return {"mean_best_reward": float(np.mean(scores))} if scores else {}

    def update_distribution(self, step: int) -> float:
        """Refits `theta` to the elite of `batch_size` episodes sampled from the memory.

        Args:
            step: The env step, which sets the noise added to the deviations.

        Returns:
            The elite's mean return.
        """
        params, returns = self.memory.sample(self.batch_size, self.rng)
        best = np.argsort(returns, kind="stable")[-self.num_best :]
        noise = self.noise_ampl * math.exp(-step * self.noise_decay_const)
        elite = params[best]
        self.theta = np.concatenate([elite.mean(axis=0), elite.std(axis=0) + noise])
        self._assign_mean()
        return float(returns[best].mean())

    def _draw(self, count: int) -> np.ndarray:
        mean, std = np.split(self.theta, 2)
        return mean + std * self.rng.standard_normal((count, self.num_weights))

    def _assign_mean(self) -> None:
        """Sets the model's trainable weights to the distribution's mean."""
        for variable, value in zip(
            self.model.trainable_variables, self._unflatten(self.theta), strict=True
        ):
            variable.assign(value)

    def _unflatten(self, flat: Any) -> list[Any]:
        """The first `num_weights` entries of `flat` in the trainable weights' shapes."""
        parts = np.split(flat[: self.num_weights], np.cumsum(self._sizes)[:-1])
        return [np.reshape(part, shape) for part, shape in zip(parts, self._shapes, strict=True)]

    def _greedy_actions(self, obs: Any) -> Any:
        return tf.argmax(self.model(tf.cast(obs, tf.float32), training=False), axis=1)

    def _sampled_actions(self, weights: Any, obs: Any) -> Any:
        """Row i's action with row i's flat weights, for every row in one vectorized call."""
        non_trainable = list(self.model.non_trainable_variables)

        def act(row: tuple[Any, Any]) -> Any:
            flat, single_obs = row
            parts = tf.split(flat, self._sizes)
            trainable = [tf.reshape(p, s) for p, s in zip(parts, self._shapes, strict=True)]
            output, _ = self.model.stateless_call(
                trainable, non_trainable, single_obs[None], training=False
            )
            return output[0]

        outputs = tf.vectorized_map(act, (weights, tf.cast(obs, tf.float32)))
        return tf.argmax(outputs, axis=1)

    def _checked_theta(self, theta: Any) -> np.ndarray:
        try:
            theta = np.array(theta, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"theta_init must be an array of numbers: {error}") from error
        n = self.num_weights
        if theta.shape != (2 * n,):
            raise ValueError(
                f"theta_init must have shape ({2 * n},): the means and deviations of the "
                f"model's {n} trainable weights; got {theta.shape}"
            )
        if not np.isfinite(theta).all() or (theta[n:] < 0).any():
            raise ValueError("theta_init must be finite, with deviations (its second half) >= 0")
        return theta

    # --- weights and state ---------------------------------------------------------------

    def get_weights(self) -> list[np.ndarray]:
        """The model's weights: the distribution's mean (what `test` acts with)."""
        return self.model.get_weights()

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Sets the model's weights and the mean to them (the deviations stay)."""
        self.model.set_weights(weights)
        self._take_mean_from_model()

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the mean weights to a Keras `.weights.h5` file, atomically."""
        weights_file.save_weights([self.model], filepath, overwrite)

    def load_weights(self, filepath: str) -> None:
        """Reads weights written by `save_weights` as the mean (the deviations stay).

        Raises:
            FileNotFoundError: If the file is missing.
            ValueError: If the file is corrupt or holds another architecture's weights.
        """
        weights_file.load_weights([self.model], filepath)
        self._take_mean_from_model()

    def _take_mean_from_model(self) -> None:
        flat = [np.ravel(v.numpy()) for v in self.model.trainable_variables]
        self.theta = self.theta.copy()
        self.theta[: self.num_weights] = np.concatenate(flat) if flat else []

    def get_state(
        self, include_memory: bool = False
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """`Agent.get_state` plus the network's description, the memory and the sub-envs' draws.

        The episode memory is the search's population, so it is always saved (the base's
        `include_memory` is for replay memories, which it can rebuild); `include_memory=True`
        only marks the state as holding it.
        """
        values, arrays = super().get_state(include_memory=False)
        values["network"] = keras_state.network_description(self.model)
        if include_memory:
            values["memory"] = self.memory.get_config()
        arrays.update({MEMORY_PREFIX + k: v for k, v in self.memory.state_dict().items()})
        arrays["sampled_weights"] = self._sampled
        arrays["episode_returns"] = self._returns
        return values, arrays

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """`Agent.set_state` plus the memory and the sub-envs' draws; all checked first.

        Raises:
            ValueError: If the state is of another network or memory, or its arrays misfit.
        """
        agent_state.require(values, ("network",), f"a {type(self).__name__}")
        keras_state.check_network(values["network"], self.model)
        own = self.memory.get_config()
        if values.get("memory", own) != own:
            raise ValueError(f"the state holds a memory {values['memory']}; this agent's is {own}")
        memory_state = self._checked_memory_state(arrays)
        sampled, returns = self._checked_draws(values, arrays)
        theta = arrays.get("theta")
        if theta is not None and (
            not np.isfinite(theta).all() or (theta[self.num_weights :] < 0).any()
        ):
            raise ValueError("the state's theta must be finite, with deviations >= 0")
        super().set_state({k: v for k, v in values.items() if k != "memory"}, arrays)
        self.memory.load_state_dict(memory_state)
        self._sampled, self._returns = sampled.copy(), returns.copy()
        self._assign_mean()

    def _checked_memory_state(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        state = {
            k[len(MEMORY_PREFIX) :]: v for k, v in arrays.items() if k.startswith(MEMORY_PREFIX)
        }
        try:
            EpisodeParameterMemory.from_config(self.memory.get_config()).load_state_dict(state)
        except ValueError as error:
            raise ValueError(
                f"the state's episode memory does not fit this agent's: {error}"
            ) from error
        params = state["params"]
        if len(params) and params.shape[1] != self.num_weights:
            raise ValueError(
                f"the state's episode memory holds {params.shape[1]} weights per episode; this "
                f"agent's model has {self.num_weights}"
            )
        return state

    def _checked_draws(
        self, values: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        sampled, returns = arrays.get("sampled_weights"), arrays.get("episode_returns")
        if sampled is None or returns is None:
            raise ValueError("the state has no sampled_weights and episode_returns arrays")
        rows = len(returns)
        if sampled.shape != (rows, self.num_weights) or returns.shape != (rows,):
            raise ValueError(
                f"the state's sampled_weights {sampled.shape} and episode_returns "
                f"{returns.shape} must be (sub-envs, {self.num_weights}) and (sub-envs,)"
            )
        loop = values.get("fit_loop")
        if isinstance(loop, dict) and loop.get("driver") is not None:
            ids = arrays.get("fit_loop.episode_ids")
            if ids is not None and len(ids) != rows:
                raise ValueError(
                    f"the state's fit loop has {len(ids)} sub-envs but {rows} sampled weights"
                )
        return sampled.astype(np.float64), returns.astype(np.float64)

    def get_config(self) -> dict[str, Any]:
        """JSON-able arguments, with the model as Keras JSON."""
        return {
            "model": self.model.to_json(),
            "nb_actions": self.nb_actions,
            "memory": self.memory.get_config(),
            "batch_size": self.batch_size,
            "nb_steps_warmup": self.nb_steps_warmup,
            "train_interval": self.train_interval,
            "elite_frac": self.elite_frac,
            "memory_interval": self.memory_interval,
            "theta_init": None if self.theta_init is None else self.theta_init.tolist(),
            "noise_decay_const": self.noise_decay_const,
            "noise_ampl": self.noise_ampl,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CEMAgent:
        """Rebuilds (and compiles) an agent from `get_config()`'s output, without weights."""
        config = dict(config)
        model = keras.models.model_from_json(config.pop("model"))
        memory = EpisodeParameterMemory.from_config(config.pop("memory"))
        agent = cls(model=model, memory=memory, **config)
        agent.compile()
        return agent


def _check_model(model: Any, nb_actions: int) -> None:
    check_action_model(model, nb_actions)
    if not model.trainable_variables:
        raise ValueError("the model has no trainable weights for the search")
