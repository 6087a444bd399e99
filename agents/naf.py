"""Normalized advantage functions (Gu et al. 2016; keras-rl's NAFAgent), with compiled steps."""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import keras
import numpy as np
import tensorflow as tf

from agents import agent_state, keras_state, replay, weights_file
from agents.compiled import Compiled
from agents.core import Agent
from agents.env_driver import EnvDriver, require_action_space
from agents.hyperparameters import check_int, check_number
from agents.losses import td_loss
from agents.memory import memory_from_config
from agents.model_checks import check_observations, check_replay_memory
from agents.networks import COVARIANCE_MODES, entry_count
from agents.random import RandomProcess, check_process, explore, process_from_config
from agents.transitions import TransitionBatch

#: The three networks, by their constructor arguments' names (and get_config's keys).
MODEL_NAMES = ("V_model", "L_model", "mu_model")
#: Prefix of the random process's arrays among the agent's state arrays.
PROCESS_PREFIX = "random_process."


class NAFAgent(Agent):
    """Q-learning for continuous actions with a quadratic advantage, in the keras-rl style.

    Q(s, a) = V(s) - 1/2 (a - mu(s))^T P(s) (a - mu(s)) with P = L L^T, so the greedy action
    is mu(s) in closed form. The TD target is `reward + discount * V_target(next_obs)`, where
    the memory's `discounts` hold gamma**k (0 after a terminal state, so truncated transitions
    bootstrap); only V has a target network. All three networks learn from the one loss,
    with one optimizer. While training the agent acts with mu(s) plus the random process's
    noise (one noise stream per sub-env), in `test` with mu(s); the env driver clips actions
    to the space's bounds and the memory stores the clipped ones.

    Unlike keras-rl's, whose L model also took the action, the L model here takes the
    observation only: P depends on the state alone (as in the paper), so the action input
    was unused.

    Args:
        nb_actions: Length of the action vector (the Box action space's shape is (nb_actions,)).
        V_model: A Keras model from observations to the state value, shape (batch, 1).
        L_model: A Keras model from observations to the entries of the lower-triangular L
            (see `lower_triangular`): nb_actions * (nb_actions + 1) / 2 of them for
            covariance_mode "full", nb_actions for "diag".
        mu_model: A Keras model from observations to the greedy action, (batch, nb_actions).
        memory: A replay memory from `agents.memory` (its gamma must equal `gamma`).
        random_process: Exploration noise from `agents.random` of size nb_actions; None acts
            greedily in training too.
        covariance_mode: "full" (any positive definite P) or "diag" (a diagonal P).
        gamma: Discount factor in [0, 1].
        batch_size: Transitions per update, an integer >= 1.
        nb_steps_warmup: Env steps before the first update, an integer >= 0.
        train_interval: Env steps per update (> 0); below 1 means several updates per env step.
        target_model_update: >= 1: copy V's weights to its target every that many env steps;
            < 1: soft update with that tau after every update.
        delta_clip: Huber loss threshold; inf gives the squared error.
        reward_scale: Rewards are multiplied by this before learning (V and Q are then in
            scaled units).

    Raises:
        TypeError: If a model is not a keras.Model, `memory` not a replay memory or
            `random_process` not a random process.
        ValueError: If a numeric argument is out of range or not a number of its kind (the
            message names it), the models do not fit each other, `nb_actions` or the
            covariance mode, the process is of another size, or the memory's gamma is not
            `gamma`.
    """

    def __init__(
        self,
        nb_actions: int,
        V_model: keras.Model,
        L_model: keras.Model,
        mu_model: keras.Model,
        memory: Any,
        random_process: RandomProcess | None = None,
        covariance_mode: str = "full",
        gamma: float = 0.99,
        batch_size: int = 32,
        nb_steps_warmup: int = 1000,
        train_interval: float = 1,
        target_model_update: float = 10_000,
        delta_clip: float = math.inf,
        reward_scale: float = 1.0,
    ):
        super().__init__()
        check_int("nb_actions", nb_actions, 1)
        if covariance_mode not in COVARIANCE_MODES:
            raise ValueError(
                f"covariance_mode must be one of {COVARIANCE_MODES}, got {covariance_mode!r}"
            )
        models = dict(zip(MODEL_NAMES, (V_model, L_model, mu_model), strict=True))
        _check_models(models, nb_actions, covariance_mode)
        check_number("gamma", gamma, 0, 1)
        check_int("batch_size", batch_size, 1)
        check_int("nb_steps_warmup", nb_steps_warmup, 0)
        for name, value in {
            "train_interval": train_interval,
            "target_model_update": target_model_update,
            "reward_scale": reward_scale,
        }.items():
            check_number(name, value, 0, math.inf, low_open=True, high_open=True)
        check_number("delta_clip", delta_clip, 0, math.inf, low_open=True)  # inf: no clipping
        check_replay_memory(memory, gamma)
        check_process(random_process, nb_actions)
        self.nb_actions = nb_actions
        self.V_model, self.L_model, self.mu_model = V_model, L_model, mu_model
        self.memory = memory
        self.random_process = random_process
        self.covariance_mode = covariance_mode
        self.gamma = gamma
        self.batch_size = batch_size
        self.nb_steps_warmup = nb_steps_warmup
        self.train_interval = train_interval
        self.target_model_update = target_model_update
        self.delta_clip = delta_clip
        self.reward_scale = reward_scale
        self.optimizer: keras.optimizers.Optimizer | None = None
        self.target_V_model: keras.Model | None = None

    @property
    def metrics_names(self) -> list[str]:
        """The metrics `backward` returns: loss, and mean_q (the mean Q(s, a) of a batch)."""
        return ["loss", "mean_q"]

    @property
    def models(self) -> dict[str, keras.Model]:
        """The online networks by argument name: V_model, L_model, mu_model."""
        return dict(zip(MODEL_NAMES, (self.V_model, self.L_model, self.mu_model), strict=True))

    @property
    def trainable_variables(self) -> list[Any]:
        """The three online networks' trainable variables, in `models` order."""
        return [v for model in self.models.values() for v in model.trainable_variables]

    def compile(self, optimizer: Any = "adam") -> None:
        """Creates V's target network and the compiled act and train steps.

        Args:
            optimizer: A Keras optimizer or its name, for all three networks.
        """
        self.optimizer = keras.optimizers.get(optimizer)
        self.target_V_model = keras.models.clone_model(self.V_model)
        self.target_V_model.set_weights(self.V_model.get_weights())
        self.optimizer.build(self.trainable_variables)
        self._mu_fn = Compiled(self._greedy_actions)
        self._train_many_fn = Compiled(self._train_steps)
        self.compiled = True

    def check_env(self, driver: EnvDriver) -> None:
        """Checks that the env's observations fit the models and its actions nb_actions."""
        require_action_space(driver.action_space, gymnasium.spaces.Box, self)
        check_observations(self.V_model.input_shape[1:], driver.observation_space, "the models")
        if driver.action_space.shape != (self.nb_actions,):
            raise ValueError(
                f"the agent has nb_actions={self.nb_actions}, the env has {driver.action_space}"
            )

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """mu(obs), plus one noise row per sub-env while training."""
        actions = self._mu_fn(obs).numpy()
        if not self.training:
            return actions
        return explore(self.random_process, self.step, actions, self.rng)

    def end_episode(self, env_index: int) -> None:
        """Restarts the noise of sub-env `env_index` (an Ornstein-Uhlenbeck process's x)."""
        if self.random_process is not None:
            self.random_process.reset_states(env_index)

    def episode_metrics(self) -> dict[str, float]:
        """The noise's current sigma (none without a random process)."""
        if self.random_process is None:
            return {}
        self.random_process.step = self.step
        return {"noise_sigma": self.random_process.current_sigma}

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """Stores the transitions, then runs the updates and target copies that are due."""
        self.memory.append(batch)
        return replay.learn_due(
            self, len(batch), self.nb_steps_warmup, self._update, self.update_target_model
        )

    def update_target_model(self) -> None:
        """Copies V's weights to its target network."""
        for target, online in zip(self.target_V_model.weights, self.V_model.weights, strict=True):
            target.assign(online)

    def q_values(self, obs: Any, actions: Any) -> np.ndarray:
        """Q(obs, actions) of the online networks, shape (batch,)."""
        obs, actions = tf.cast(obs, tf.float32), tf.cast(actions, tf.float32)
        return self._q(obs, actions, training=False).numpy()

    def _update(self, step: int, count: int) -> dict[str, float]:
        """Runs `count` updates in one compiled call; returns their mean metrics."""
        stacked = replay.sample_stacked(self, step, count)
        obs, actions, rewards, next_obs, discounts, weights, indices, _ = stacked
        losses, mean_qs, td_errors = self._train_many_fn(
            obs, actions, rewards, next_obs, discounts, weights
        )
        if hasattr(self.memory, "update_priorities"):
            self.memory.update_priorities(indices.ravel(), td_errors.numpy().ravel())
        return {"loss": float(np.mean(losses)), "mean_q": float(np.mean(mean_qs))}

    def _greedy_actions(self, obs: Any) -> Any:
        return self.mu_model(tf.cast(obs, tf.float32), training=False)

    def _q(self, obs: Any, actions: Any, training: bool) -> Any:
        value = self.V_model(obs, training=training)[:, 0]
        lower = lower_triangular(
            self.L_model(obs, training=training), self.nb_actions, self.covariance_mode
        )
        offset = actions - self.mu_model(obs, training=training)
        # (a - mu)^T L L^T (a - mu) = |L^T (a - mu)|^2
        projected = tf.einsum("bji,bj->bi", lower, offset)
        return value - 0.5 * tf.reduce_sum(tf.square(projected), axis=1)

    def _train_steps(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any, weights: Any
    ) -> tuple[Any, Any, Any]:
        """Runs one update per leading index of the stacked batches (one Python call for all)."""
        count = tf.shape(obs)[0]
        losses = tf.TensorArray(tf.float32, size=count)
        mean_qs = tf.TensorArray(tf.float32, size=count)
        td_errors = tf.TensorArray(tf.float32, size=count)
        for k in tf.range(count):
            loss, mean_q, td = self._train_step(
                obs[k], actions[k], rewards[k], next_obs[k], discounts[k], weights[k]
            )
            losses = losses.write(k, loss)
            mean_qs = mean_qs.write(k, mean_q)
            td_errors = td_errors.write(k, td)
        return losses.stack(), mean_qs.stack(), td_errors.stack()

    def _train_step(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any, weights: Any
    ) -> tuple[Any, Any, Any]:
        obs, next_obs = tf.cast(obs, tf.float32), tf.cast(next_obs, tf.float32)
        bootstrap = self.target_V_model(next_obs, training=False)[:, 0]
        rewards = tf.cast(rewards, tf.float32) * self.reward_scale
        targets = rewards + tf.cast(discounts, tf.float32) * bootstrap
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            q = self._q(obs, tf.cast(actions, tf.float32), training=True)
            td_errors = targets - q
            loss = tf.reduce_mean(
                tf.cast(weights, tf.float32) * td_loss(td_errors, self.delta_clip)
            )
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        if self.target_model_update < 1:
            tau = self.target_model_update
            pairs = zip(self.target_V_model.weights, self.V_model.weights, strict=True)
            for target, online in pairs:
                target.assign(tau * online + (1.0 - tau) * target)
        return loss, tf.reduce_mean(q), td_errors

    def get_weights(self) -> list[np.ndarray]:
        """The online networks' weights: V's, then L's, then mu's."""
        return weights_file.get_weights(list(self.models.values()))

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Sets the online networks' weights from `get_weights()`'s output (and V's target).

        Raises:
            ValueError: If there are not as many weights as the networks have, or one has
                another shape; nothing changes then.
        """
        weights = [np.asarray(w) for w in weights]
        own = self.get_weights()
        if len(weights) != len(own):
            raise ValueError(f"expected {len(own)} weight arrays (V, L, mu), got {len(weights)}")
        for i, (given, expected) in enumerate(zip(weights, own, strict=True)):
            if given.shape != expected.shape:
                raise ValueError(
                    f"weight {i} has shape {given.shape}, the networks' has {expected.shape}"
                )
        start = 0
        for model in self.models.values():
            count = len(model.get_weights())
            model.set_weights(weights[start : start + count])
            start += count
        if self.target_V_model is not None:
            self.update_target_model()

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the three online networks' weights to one `.weights.h5` file, atomically."""
        weights_file.save_weights(list(self.models.values()), filepath, overwrite)

    def load_weights(self, filepath: str) -> None:
        """Reads weights written by `save_weights` into the networks (and V's target).

        Raises:
            FileNotFoundError: If the file is missing.
            ValueError: If the file is corrupt or holds other networks' weights.
        """
        weights_file.load_weights(list(self.models.values()), filepath)
        if self.target_V_model is not None:
            self.update_target_model()

    def get_state(
        self, include_memory: bool = False
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """`Agent.get_state` plus the variables and the random process's state.

        The variables are the online networks', V target's and the optimizer's; the random
        process's arrays are named PROCESS_PREFIX + its state names.

        Raises:
            RuntimeError: If the agent is not compiled (it has no optimizer state yet).
        """
        self.require_compiled()
        values, arrays = super().get_state(include_memory)
        values["networks"] = {
            name: keras_state.network_description(model) for name, model in self.models.items()
        }
        values["optimizer"] = keras_state.optimizer_description(self.optimizer)
        values["random_process"] = _process_name(self.random_process)
        arrays.update(keras_state.variable_arrays(self._state_variables()))
        if self.random_process is not None:
            for name, array in self.random_process.get_state().items():
                arrays[PROCESS_PREFIX + name] = array
        return values, arrays

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """`Agent.set_state` plus the variables and the random process's state.

        Raises:
            RuntimeError: If the agent is not compiled.
            ValueError: If the state is of other networks, another optimizer or random
                process, or misses variables; nothing changes then.
        """
        self.require_compiled()
        owner = f"a {type(self).__name__}"
        agent_state.require(values, ("networks", "optimizer", "random_process"), owner)
        networks = values["networks"]
        if not isinstance(networks, dict) or set(networks) != set(MODEL_NAMES):
            raise ValueError(f"the state's networks must describe {MODEL_NAMES}")
        for name, model in self.models.items():
            keras_state.check_network(networks[name], model, name)
        keras_state.check_optimizer(values["optimizer"], self.optimizer)
        groups = self._state_variables()
        keras_state.check_variable_arrays(groups, arrays)
        process_state = self._checked_process_state(values["random_process"], arrays)
        super().set_state(values, arrays)
        keras_state.assign_variable_arrays(groups, arrays)
        if process_state is not None:
            self.random_process.set_state(process_state)

    def _checked_process_state(
        self, saved_name: Any, arrays: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray] | None:
        own = _process_name(self.random_process)
        if saved_name != own:
            raise ValueError(f"the state has a random process {saved_name}, this agent a {own}")
        if self.random_process is None:
            return None
        return self.random_process.check_state({
            key[len(PROCESS_PREFIX):]: value for key, value in arrays.items()
            if key.startswith(PROCESS_PREFIX)
        })  # fmt: skip

    def _state_variables(self) -> dict[str, list[Any]]:
        return {
            "online": [v for model in self.models.values() for v in model.variables],
            "target": list(self.target_V_model.variables),
            "optimizer": list(self.optimizer.variables),
        }

    def get_config(self) -> dict[str, Any]:
        """JSON-able arguments: the models as Keras JSON, the parts' and optimizer's configs."""
        process = self.random_process
        return {
            "nb_actions": self.nb_actions,
            **{name: model.to_json() for name, model in self.models.items()},
            "memory": self.memory.get_config(),
            "random_process": None if process is None else process.get_config(),
            "covariance_mode": self.covariance_mode,
            "gamma": self.gamma,
            "batch_size": self.batch_size,
            "nb_steps_warmup": self.nb_steps_warmup,
            "train_interval": self.train_interval,
            "target_model_update": self.target_model_update,
            "delta_clip": None if math.isinf(self.delta_clip) else self.delta_clip,
            "reward_scale": self.reward_scale,
            "optimizer": keras.optimizers.serialize(self.optimizer) if self.optimizer else None,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> NAFAgent:
        """Rebuilds (and compiles) an agent from `get_config()`'s output, without weights."""
        config = dict(config)
        models = {name: keras.models.model_from_json(config.pop(name)) for name in MODEL_NAMES}
        process = config.pop("random_process")
        optimizer = config.pop("optimizer")
        delta_clip = config.pop("delta_clip")
        agent = cls(
            **models,
            memory=memory_from_config(config.pop("memory")),
            random_process=None if process is None else process_from_config(process),
            delta_clip=math.inf if delta_clip is None else delta_clip,
            **config,
        )
        agent.compile(keras.optimizers.deserialize(optimizer) if optimizer else "adam")
        return agent


def lower_triangular(entries: Any, nb_actions: int, covariance_mode: str = "full") -> Any:
    """The lower-triangular L of shape (batch, n, n) from the L model's output.

    "full" fills the lower triangle row by row ((0, 0), (1, 0), (1, 1), (2, 0), ...); "diag"
    the diagonal only. Diagonal entries go through exp, so L is invertible and P = L L^T
    positive definite.

    Args:
        entries: (batch, entry_count(n, covariance_mode)) floats.
        nb_actions: n.
        covariance_mode: "full" or "diag".
    """
    if covariance_mode == "full":
        rows, cols = np.tril_indices(nb_actions)
    else:
        rows = cols = np.arange(nb_actions)
    entries = tf.convert_to_tensor(entries, tf.float32)
    entries = tf.where(rows == cols, tf.exp(entries), entries)
    index = np.zeros((nb_actions, nb_actions), np.int32)
    index[rows, cols] = np.arange(1, len(rows) + 1)
    padded = tf.concat([tf.zeros_like(entries[:, :1]), entries], axis=1)  # entry 0: the zeros
    return tf.gather(padded, index, axis=1)


def _check_models(models: dict[str, Any], nb_actions: int, covariance_mode: str) -> None:
    """Raises TypeError or ValueError unless the three models fit each other and the sizes."""
    for name, model in models.items():
        if not isinstance(model, keras.Model):
            raise TypeError(f"{name} must be a keras.Model, got {type(model).__name__}")
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ValueError(
                f"{name} must have one input and one output, got {len(model.inputs)} "
                f"and {len(model.outputs)}"
            )
    inputs = {name: tuple(model.inputs[0].shape[1:]) for name, model in models.items()}
    if len(set(inputs.values())) != 1:
        raise ValueError(f"the models must take the same observations, got input shapes {inputs}")
    outputs = {
        "V_model": (1, "1"),
        "L_model": (
            entry_count(nb_actions, covariance_mode),
            f"{entry_count(nb_actions, covariance_mode)} for covariance_mode={covariance_mode!r}"
            f" and nb_actions={nb_actions}",
        ),
        "mu_model": (nb_actions, f"nb_actions={nb_actions}"),
    }
    for name, (size, what) in outputs.items():
        shape = tuple(models[name].outputs[0].shape)
        if len(shape) != 2 or shape[1] != size:
            raise ValueError(f"{name}'s output must have shape (batch, {what}), got {shape}")


def _process_name(process: RandomProcess | None) -> str | None:
    return None if process is None else type(process).__name__
