"""On-policy SARSA with a Keras Q-network (keras-rl's SARSAAgent), with compiled steps."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from agents import agent_state, keras_state, weights_file
from agents.compiled import Compiled
from agents.core import Agent
from agents.env_driver import EnvDriver
from agents.hyperparameters import check_int, check_number
from agents.losses import metric_functions, td_loss
from agents.model_checks import check_action_model, check_discrete_env
from agents.policy import EpsGreedyQPolicy, GreedyQPolicy, policy_from_config
from agents.transitions import TransitionBatch

#: A sub-env's entry in `next_actions` when no next action is pending for it.
NO_ACTION = -1


class SARSAAgent(Agent):
    """SARSA (on-policy TD(0)) on a Keras Q-network, without replay, in the keras-rl style.

    Each update fits Q(s, a) to `r + gamma * Q(s', a')` on the rows of one batched env step
    (with a vector env, all its rows form one minibatch), once every `train_interval` env
    steps after `nb_steps_warmup`. a' is the action the agent then takes in s': `backward`
    draws it from the acting policy (with Q before the update, as in Sutton and Barto's
    SARSA) and keeps it in `next_actions`, and the next `forward` returns it for that sub-env
    instead of choosing again. A row whose episode ended gets no pending action: its next
    observation is a reset one, chosen for afresh; a terminated row does not bootstrap, a
    truncated one bootstraps from the a' drawn for its final observation (never taken). The
    pending actions are state (saved in checkpoints); a `fit` that does not resume exactly
    (see `Agent.resumes_exactly`) resets the env and drops them. `test` acts greedily from
    `test_policy` and leaves them alone.

    Args:
        model: A Keras model from observations to `nb_actions` Q-values (it gets float32
            casts of the raw observations).
        nb_actions: Number of discrete actions.
        policy: Exploration policy while training (default `EpsGreedyQPolicy(0.1)`).
        test_policy: Policy for `test` (default `GreedyQPolicy()`).
        gamma: Discount factor in [0, 1].
        nb_steps_warmup: Env steps before the first update, an integer >= 0.
        train_interval: Env steps per update, an integer >= 1; the update learns from the
            rows of the step that makes it due (the steps between are not learned from).
        delta_clip: Huber loss threshold; inf gives the squared error.

    Raises:
        TypeError: If `model` is not a keras.Model or a policy is not a policy.
        ValueError: If a numeric argument is not a number of its kind or is out of range (the
            message names it), or the model does not have one input and `nb_actions` outputs.
    """

    #: Per sub-env, the action `forward` takes next (NO_ACTION where none is pending).
    state_attributes = ("next_actions",)

    def __init__(
        self,
        model: keras.Model,
        nb_actions: int,
        policy: Any = None,
        test_policy: Any = None,
        gamma: float = 0.99,
        nb_steps_warmup: int = 10,
        train_interval: int = 1,
        delta_clip: float = math.inf,
    ):
        super().__init__()
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
        check_int("nb_actions", nb_actions, 1)
        check_number("gamma", gamma, 0, 1)
        check_int("nb_steps_warmup", nb_steps_warmup, 0)
        check_int("train_interval", train_interval, 1)
        check_number("delta_clip", delta_clip, 0, math.inf, low_open=True)
        check_action_model(model, nb_actions)
        for name, value in {"policy": policy, "test_policy": test_policy}.items():
            if value is not None and not callable(getattr(value, "select_action", None)):
                raise TypeError(f"{name} must be a policy (agents.policy), got {value!r}")
        self.model = model
        self.nb_actions = int(nb_actions)
        self.policy = policy if policy is not None else EpsGreedyQPolicy(0.1)
        self.test_policy = test_policy if test_policy is not None else GreedyQPolicy()
        self.gamma = float(gamma)
        self.nb_steps_warmup = int(nb_steps_warmup)
        self.train_interval = int(train_interval)
        self.delta_clip = float(delta_clip)
        self.next_actions: list[int] = []
        self.optimizer: keras.optimizers.Optimizer | None = None
        self._metric_fns: list[tuple[str, Any]] = []

    @property
    def metrics_names(self) -> list[str]:
        """loss, mean_q, then the metrics given to `compile`."""
        return ["loss", "mean_q", *(name for name, _ in self._metric_fns)]

    def compile(self, optimizer: Any = "adam", metrics: list[Any] | None = None) -> None:
        """Builds the optimizer and the compiled act and train steps.

        Args:
            optimizer: A Keras optimizer or its name.
            metrics: Keras metric names or functions, computed on (TD target, Q of the action).
        """
        self.optimizer = keras.optimizers.get(optimizer)
        self._metric_fns = metric_functions(metrics)
        self.optimizer.build(self.model.trainable_variables)
        self._q_fn = Compiled(self._q_values)
        self._train_fn = Compiled(self._train_step)
        self.compiled = True

    def check_env(self, driver: EnvDriver) -> None:
        """Checks that the env's observations fit the model and its actions are nb_actions."""
        check_discrete_env(self, driver, self.model.input_shape[1:])

    def start_episodes(self) -> None:
        """Drops the pending next actions: the env was reset, their episodes are gone."""
        self.next_actions = []

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """The pending next action of each sub-env while training, else the policy's choice."""
        if not self.training:
            return self.acting_policy().select_action(self._q_fn(obs).numpy(), self.rng)
        actions = np.array(self.next_actions or [NO_ACTION] * len(obs), dtype=np.int64)
        fresh = np.flatnonzero(actions == NO_ACTION)
        if fresh.size:
            q_values = self._q_fn(obs[fresh]).numpy()
            actions[fresh] = self.acting_policy().select_action(q_values, self.rng)
        self.next_actions = [NO_ACTION] * len(obs)
        return actions

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """Draws each row's next action a', keeps it pending, and updates when one is due."""
        before, after = self.step, self.step + len(batch)
        policy = self.acting_policy()
        policy.step = after  # a' is taken at the next env step: annealed as of then
        next_actions = policy.select_action(self._q_fn(batch.next_obs).numpy(), self.rng)
        pending = np.array(self.next_actions, dtype=np.int64)
        pending[batch.env_ids] = np.where(batch.done, NO_ACTION, next_actions)
        self.next_actions = pending.tolist()
        if (
            after <= self.nb_steps_warmup
            or after // self.train_interval == before // self.train_interval
        ):
            return {}
        discounts = np.where(batch.terminated, 0.0, self.gamma).astype(np.float32)
        loss, mean_q, _, extras = self._train_fn(
            batch.obs, batch.actions, batch.rewards.astype(np.float32), batch.next_obs,
            next_actions, discounts,
        )  # fmt: skip
        metrics = {"loss": float(loss), "mean_q": float(mean_q)}
        for (name, _), value in zip(self._metric_fns, extras, strict=True):
            metrics[name] = float(value)
        return metrics

    def _q_values(self, obs: Any) -> Any:
        return self.model(tf.cast(obs, tf.float32), training=False)

    def _train_step(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, next_actions: Any, discounts: Any
    ) -> tuple[Any, Any, Any, list[Any]]:
        """One SARSA update; returns the loss, the mean Q-value, the TD errors and metrics."""
        next_q = self.model(tf.cast(next_obs, tf.float32), training=False)
        bootstrap = tf.gather(next_q, tf.cast(next_actions, tf.int64), axis=1, batch_dims=1)
        targets = rewards + discounts * bootstrap
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            q = self.model(tf.cast(obs, tf.float32), training=True)
            q_taken = tf.gather(q, tf.cast(actions, tf.int64), axis=1, batch_dims=1)
            td_errors = targets - q_taken
            loss = tf.reduce_mean(td_loss(td_errors, self.delta_clip))
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        extras = [tf.reduce_mean(fn(targets, q_taken)) for _, fn in self._metric_fns]
        return loss, tf.reduce_mean(q), td_errors, extras

    def get_weights(self) -> list[np.ndarray]:
        """The Q-network's weights."""
        return self.model.get_weights()

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Sets the Q-network's weights from `get_weights()`'s output."""
        self.model.set_weights(weights)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the Q-network's weights to a Keras `.weights.h5` file, atomically."""
        weights_file.save_weights([self.model], filepath, overwrite)

    def load_weights(self, filepath: str) -> None:
        """Reads weights written by `save_weights`.

        Raises:
            FileNotFoundError: If the file is missing.
            ValueError: If the file is corrupt or holds another architecture's weights.
        """
        weights_file.load_weights([self.model], filepath)

    def get_state(
        self, include_memory: bool = False
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """`Agent.get_state` (the pending next actions among it) plus the network and optimizer.

        Raises:
            RuntimeError: If the agent is not compiled (it has no optimizer state yet).
        """
        self.require_compiled()
        values, arrays = super().get_state(include_memory)
        own = keras_state.model_state(self.model, self.optimizer, self._state_variables())
        return {**values, **own[0]}, {**arrays, **own[1]}

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """`Agent.set_state` plus the variables; the agent must be compiled like the saved one.

        Raises:
            RuntimeError: If the agent is not compiled.
            ValueError: If the state is of another network or optimizer, misses variables, or
                its pending next actions are not actions of this agent (or NO_ACTION).
        """
        self.require_compiled()
        agent_state.require(values, ("network", "optimizer", "next_actions"), "a SARSAAgent")
        pending = values["next_actions"]
        if not isinstance(pending, list) or not all(
            isinstance(a, int) and not isinstance(a, bool) and NO_ACTION <= a < self.nb_actions
            for a in pending
        ):
            raise ValueError(
                f"the state's next_actions must be a list of ints in [{NO_ACTION}, "
                f"{self.nb_actions}), got {str(pending)[:200]}"
            )
        groups = self._state_variables()
        keras_state.check_model_state(values, arrays, self.model, self.optimizer, groups)
        super().set_state(values, arrays)
        keras_state.assign_variable_arrays(groups, arrays)

    def _state_variables(self) -> dict[str, list[Any]]:
        return {"online": list(self.model.variables), "optimizer": list(self.optimizer.variables)}

    def get_config(self) -> dict[str, Any]:
        """JSON-able arguments, with the model as Keras JSON and the optimizer's config."""
        return {
            "model": self.model.to_json(),
            "nb_actions": self.nb_actions,
            "policy": self.policy.get_config(),
            "test_policy": self.test_policy.get_config(),
            "gamma": self.gamma,
            "nb_steps_warmup": self.nb_steps_warmup,
            "train_interval": self.train_interval,
            "delta_clip": None if math.isinf(self.delta_clip) else self.delta_clip,
            "optimizer": keras.optimizers.serialize(self.optimizer) if self.optimizer else None,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SARSAAgent:
        """Rebuilds (and compiles) an agent from `get_config()`'s output, without weights."""
        config = dict(config)
        optimizer = config.pop("optimizer")
        delta_clip = config.pop("delta_clip")
        agent = cls(
            model=keras.models.model_from_json(config.pop("model")),
            policy=policy_from_config(config.pop("policy")),
            test_policy=policy_from_config(config.pop("test_policy")),
            delta_clip=math.inf if delta_clip is None else delta_clip,
            **config,
        )
        agent.compile(keras.optimizers.deserialize(optimizer) if optimizer else "adam")
        return agent
