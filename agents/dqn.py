"""Deep Q-network agent (double, dueling, prioritised replay, n-step) with compiled steps."""

from __future__ import annotations

import dataclasses
import math
import weakref
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from agents import agent_state, keras_state, replay, weights_file
from agents.compiled import Compiled
from agents.core import Agent
from agents.env_driver import EnvDriver
from agents.hyperparameters import check_int, check_number
from agents.layers import DuelingQ
from agents.losses import metric_functions, td_loss
from agents.memory import memory_from_config
from agents.model_checks import check_action_model, check_discrete_env, check_replay_memory
from agents.n_step import StoredRows
from agents.policy import EpsGreedyQPolicy, GreedyQPolicy, policy_from_config
from agents.transitions import TransitionBatch
from agents.xla import use_xla


class DQNAgent(Agent):
    """Deep Q-learning in the keras-rl style, compiled with `tf.function`.

    Acting is one compiled forward pass per batched env step; learning runs every update due
    at a batched env step (`train_interval` env steps per update), or in a round of
    `train_freq` env steps, in one compiled call, with XLA unless `compile(jit_compile=...)`
    says otherwise. The TD target is `reward + discount * Q_target(next_obs, a*)`, where the
    memory's `discounts` hold gamma**k (0 after a terminal state, so truncated transitions
    bootstrap) and a* is the target's argmax (or the online network's, with double DQN).

    Where the env gives action masks (`env.action_masks()` or `info["action_mask"]`, see
    `agents.action_masks`), masked actions are never chosen, exploring or not, and a* is the
    best legal action of next_obs (the memory keeps next_obs's masks).

    Args:
        model: A Keras model from observations to `nb_actions` Q-values. It should scale pixels
            itself (as `agents.networks` do); the agent feeds it float32 casts of raw observations.
        nb_actions: Number of discrete actions.
        memory: A replay memory from `agents.memory` (its gamma must equal `gamma`).
        policy: Exploration policy while training (default `EpsGreedyQPolicy(0.1)`).
        test_policy: Policy for `test`, always in test mode (default `GreedyQPolicy()`).
        gamma: Discount factor in [0, 1].
        batch_size: Transitions per update, an integer >= 1.
        nb_steps_warmup: Env steps before the first update, an integer >= 0.
        train_interval: Env steps per update (> 0); below 1 means several updates per env step.
        train_freq: Env steps per training round (Stable-Baselines3's `train_freq`), an integer
            >= 1: the updates and target copies due within a round wait for its end, and its
            updates run in one compiled call (with one env, 4 gives 4 updates a call instead of 1).
        target_model_update: >= 1: copy the online weights to the target every that many env
            steps; < 1: soft update with that tau after every update.
        enable_double_dqn: Select the next action with the online network.
        enable_dueling_network: Replace the model's last layer by a dueling head.
        dueling_type: "avg", "max" or "naive" (see `agents.layers.DuelingQ`).
        delta_clip: Huber loss threshold; inf gives the squared error.
        reward_scale: Rewards are multiplied by this before learning (Q-values are then in
            scaled units).
        reward_clip: Each reward is clipped to [-reward_clip, reward_clip] (in the env's units)
            as it is stored, before n-step sums and `reward_scale`; inf keeps it. A rare, huge
            penalty (Blob's -300 enemy) otherwise stretches the Q-values' range so far that the
            small differences between moves are lost in it. The greedy policy is unchanged as
            long as the clipped penalty is still worse than any alternative.

    Raises:
        TypeError: If `model` is not a keras.Model, `memory` not a replay memory or a policy
            not a policy.
        ValueError: If a numeric argument is not a number of its kind (a string, None) or is
            out of range (the message names it and what it must be), if the model does not
            fit `nb_actions`, or if the memory's gamma is not `gamma`.
    """

    uses_action_masks = True

    def __init__(
        self,
        model: keras.Model,
        nb_actions: int,
        memory: Any,
        policy: Any = None,
        test_policy: Any = None,
        gamma: float = 0.99,
        batch_size: int = 32,
        nb_steps_warmup: int = 1000,
        train_interval: float = 1,
        train_freq: int = 1,
        target_model_update: float = 10_000,
        enable_double_dqn: bool = False,
        enable_dueling_network: bool = False,
        dueling_type: str = "avg",
        delta_clip: float = math.inf,
        reward_scale: float = 1.0,
        reward_clip: float = math.inf,
    ):
        super().__init__()
        check_action_model(model, nb_actions)
        check_number("gamma", gamma, 0, 1)
        check_int("batch_size", batch_size, 1)
        check_int("nb_steps_warmup", nb_steps_warmup, 0)
        check_int("train_freq", train_freq, 1)
        positive = {
            "train_interval": train_interval,
            "target_model_update": target_model_update,
            "reward_scale": reward_scale,
        }
        for name, value in positive.items():
            check_number(name, value, 0, math.inf, low_open=True, high_open=True)
        # inf is allowed: it turns the clipping off.
        for name, value in {"delta_clip": delta_clip, "reward_clip": reward_clip}.items():
            check_number(name, value, 0, math.inf, low_open=True)
        check_replay_memory(memory, gamma)
        _check_policies(policy, test_policy)
        if dueling_type not in DuelingQ.TYPES:
            raise ValueError(f"dueling_type must be one of {DuelingQ.TYPES}, got {dueling_type!r}")
        self.base_model = model
        self.model = _dueling(model, nb_actions, dueling_type) if enable_dueling_network else model
        self.nb_actions = nb_actions
        self.memory = memory
        self.policy = policy if policy is not None else EpsGreedyQPolicy(0.1)
        self.test_policy = test_policy if test_policy is not None else GreedyQPolicy()
        self.gamma = gamma
        self.batch_size = batch_size
        self.nb_steps_warmup = nb_steps_warmup
        self.train_interval = train_interval
        self.train_freq = train_freq
        self.target_model_update = target_model_update
        self.enable_double_dqn = enable_double_dqn
        self.enable_dueling_network = enable_dueling_network
        self.dueling_type = dueling_type
        self.delta_clip = delta_clip
        self.reward_scale = reward_scale
        self.reward_clip = reward_clip
        self.optimizer: keras.optimizers.Optimizer | None = None
        self.jit_compile: Any = "auto"
        self.target_model: keras.Model | None = None
        self._metric_fns: list[tuple[str, Any]] = []
        self._padded_count = 1
        self._driver: weakref.ref | None = None
        self._prefetched: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def metrics_names(self) -> list[str]:
        """loss, mean_q, then the metrics given to `compile`."""
        return ["loss", "mean_q", *(name for name, _ in self._metric_fns)]

    def compile(
        self, optimizer: Any = "adam", metrics: list[Any] | None = None, jit_compile: Any = "auto"
    ) -> None:
        """Creates the target network and the compiled act and train steps.

        Args:
            optimizer: A Keras optimizer or its name.
            metrics: Keras metric names or functions, computed on (TD target, Q of the action).
            jit_compile: Compile both steps with XLA: True, False or "auto" (XLA unless the
                model has convolutions, see `agents.xla`), as in `keras.Model.compile`.

        Raises:
            ValueError: If `jit_compile` is none of True, False, "auto".
        """
        xla = use_xla(jit_compile, [self.model])
        self.jit_compile = jit_compile
        self.optimizer = keras.optimizers.get(optimizer)
        self._metric_fns = metric_functions(metrics)
        self.target_model = keras.models.clone_model(self.model)
        self.target_model.set_weights(self.model.get_weights())
        self.optimizer.build(self.model.trainable_variables)
        self._q_fn = Compiled(self._q_values, jit_compile=xla)
        self._train_many_fn = Compiled(self._train_steps, jit_compile=xla)
        self._td_fn = Compiled(self._td_errors, jit_compile=xla)
        self.compiled = True

    def check_env(self, driver: EnvDriver) -> None:
        """Checks that the env's observations fit the model and its actions match nb_actions.

        The driver is remembered (weakly): an update reads the observations it will act on next.
        """
        check_discrete_env(self, driver, self.model.input_shape[1:])
        self._driver = weakref.ref(driver)
        self._prefetched = None

    def forward(self, obs: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
        """Chooses an action per observation with the training or test policy.

        With `masks` (the env's action masks), only legal actions are chosen.
        """
        q_values = self._take_prefetched(obs)
        if q_values is None:
            q_values = self._q_fn(obs).numpy()
        if masks is None:
            return self.acting_policy().select_action(q_values, self.rng)
        return self.acting_policy().select_action(q_values, self.rng, masks)

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """Stores the transitions, then runs the updates and target copies that are due."""
        self.memory.append(self.storable(batch))
        return self.learn(len(batch))

    def storable(self, batch: TransitionBatch) -> TransitionBatch:
        """`batch` as the memory stores it: rewards clipped to `reward_clip`."""
        rewards = np.clip(batch.rewards, -self.reward_clip, self.reward_clip)
        return dataclasses.replace(batch, rewards=rewards)

    def learn(self, count: int) -> dict[str, float]:
        """Runs the updates and target copies due as `step` goes on by `count` env steps.

        For a learner fed by collectors (`agents.distributed`), which stores their transitions
        with `memory.extend` and advances `step` itself; `backward` does the same in one process.
        """
        return replay.learn_due(
            self,
            count,
            self.nb_steps_warmup,
            self._update,
            self.update_target_model,
            self.train_freq,
        )

    def td_errors(self, rows: StoredRows) -> np.ndarray:
        """The TD errors of completed transitions under the current networks (no update).

        A collector's initial priorities (Ape-X): `rows` as `agents.n_step.NStepWindows` makes
        them from `storable` batches. Returns one float32 per row.
        """
        count = len(rows[0])
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        # Padded to a power of two, so that XLA compiles once per size class, not per count.
        padded = _power_of_two(count)
        arrays = (None if array is None else _pad(array, padded) for array in rows)
        return self._td_fn(*arrays).numpy()[:count]

    def update_target_model(self) -> None:
        """Copies the online network's weights to the target network."""
        for target, online in zip(self.target_model.weights, self.model.weights, strict=True):
            target.assign(online)

    def _update(self, step: int, count: int) -> dict[str, float]:
        """Runs `count` updates in one compiled call; returns their mean metrics.

        The stacked batches are padded with zeros to the largest power of two run so far, of
        which the call runs the first `count`: a vector env's step yields a varying number of
        transitions (rows that only reset yield none), and XLA compiles once per shape.
        """
        batches = replay.sample_stacked(self, step, count)
        self._padded_count = max(self._padded_count, _power_of_two(count))
        padded = self._padded_count
        obs, actions, rewards, next_obs, discounts, weights, _, next_masks = (
            None if array is None else _pad(array, padded) for array in batches
        )
        driver = self._driver() if self._driver is not None else None
        acting = None if driver is None else driver.obs
        losses, mean_qs, td_errors, extras, q_values = self._train_many_fn(
            obs, actions, rewards, next_obs, discounts, weights, next_masks, np.int32(count),
            acting,
        )  # fmt: skip
        # The next forward most likely acts on `acting`: its Q-values came with the updates.
        self._prefetched = None if acting is None else (acting.copy(), q_values.numpy())
        if hasattr(self.memory, "update_priorities"):
            # Priorities of a fused group are refreshed together, after its last update.
            td_errors = td_errors.numpy()[:count]
            self.memory.update_priorities(batches.indices.ravel(), td_errors.ravel())
        metrics = {
            "loss": float(np.mean(losses.numpy()[:count])),
            "mean_q": float(np.mean(mean_qs.numpy()[:count])),
        }
        for (name, _), values in zip(self._metric_fns, extras.numpy()[:count].T, strict=True):
            metrics[name] = float(values.mean())
        return metrics

    def _train_steps(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any, weights: Any,
        next_masks: Any, count: Any, acting: Any = None,
    ) -> tuple[Any, Any, Any, Any, Any]:  # fmt: skip
        """Runs an update for each of the first `count` batches stacked on the leading axis.

        Returns each field for every stacked batch (those past `count` are zeros), then the
        Q-values of the observations `acting` after the updates (None without them): the act
        step of the next env step, in the same call.
        """
        size = tf.shape(obs)[0]
        arrays = tuple(
            tf.TensorArray(tf.float32, size=size, element_shape=shape)
            for shape in ([], [], weights.shape[1:], [len(self._metric_fns)])
        )

        def update(k: Any, arrays: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
            loss, mean_q, td, extra = self._train_step(
                obs[k], actions[k], rewards[k], next_obs[k], discounts[k], weights[k],
                None if next_masks is None else next_masks[k],
            )  # fmt: skip
            values = (loss, mean_q, td, tf.stack(extra) if extra else tf.zeros(0))
            return k + 1, tuple(a.write(k, v) for a, v in zip(arrays, values, strict=True))

        # A trip count below a static bound: XLA compiles once for every `count`, and the rows
        # not written stack as zeros.
        _, arrays = tf.while_loop(
            lambda k, _: k < count, update, (tf.constant(0), arrays), maximum_iterations=size
        )
        losses, mean_qs, td_errors, extras = (array.stack() for array in arrays)
        q_values = None if acting is None else self._q_values(acting)
        return losses, mean_qs, td_errors, extras, q_values

    def _take_prefetched(self, obs: np.ndarray) -> np.ndarray | None:
        """The Q-values the last update computed for `obs`, if it computed them for these.

        Used once: any forward clears them, as do weight changes (`set_weights`, `set_state`).
        """
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is None or not self.training:
            return None
        acting, q_values = prefetched
        same = acting.shape == obs.shape and acting.dtype == obs.dtype
        return q_values if same and np.array_equal(acting, obs) else None

    def _q_values(self, obs: Any) -> Any:
        return self.model(tf.cast(obs, tf.float32), training=False)

    def _targets(self, rewards: Any, next_obs: Any, discounts: Any, next_masks: Any) -> Any:
        """The TD targets: scaled rewards plus the discounted target Q of the chosen next action."""
        next_obs = tf.cast(next_obs, tf.float32)
        next_q = self.target_model(next_obs, training=False)
        chooser = self.model(next_obs, training=False) if self.enable_double_dqn else next_q
        if next_masks is not None:
            # Only legal next actions are bootstrapped from (a terminal state's are not used).
            chooser = tf.where(next_masks, chooser, tf.constant(-np.inf, chooser.dtype))
        next_actions = tf.argmax(chooser, axis=1)
        bootstrap = tf.gather(next_q, next_actions, axis=1, batch_dims=1)
        rewards = tf.cast(rewards, tf.float32) * self.reward_scale
        return rewards + tf.cast(discounts, tf.float32) * bootstrap

    def _td_errors(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any, next_masks: Any
    ) -> Any:
        targets = self._targets(rewards, next_obs, discounts, next_masks)
        q = self.model(tf.cast(obs, tf.float32), training=False)
        return targets - tf.gather(q, tf.cast(actions, tf.int64), axis=1, batch_dims=1)

    def _train_step(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any, weights: Any,
        next_masks: Any = None,
    ) -> tuple[Any, Any, Any, list[Any]]:  # fmt: skip
        targets = self._targets(rewards, next_obs, discounts, next_masks)
        obs = tf.cast(obs, tf.float32)
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            q = self.model(obs, training=True)
            q_taken = tf.gather(q, tf.cast(actions, tf.int64), axis=1, batch_dims=1)
            td_errors = targets - q_taken
            loss = tf.reduce_mean(
                tf.cast(weights, tf.float32) * td_loss(td_errors, self.delta_clip)
            )
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        if self.target_model_update < 1:
            tau = self.target_model_update
            for target, online in zip(self.target_model.weights, self.model.weights, strict=True):
                target.assign(tau * online + (1.0 - tau) * target)
        extra = [tf.reduce_mean(fn(targets, q_taken)) for _, fn in self._metric_fns]
        return loss, tf.reduce_mean(q), td_errors, extra

    def get_weights(self) -> list[np.ndarray]:
        """The online network's weights."""
        return self.model.get_weights()

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Sets the online network's weights, and the target's once compiled."""
        self.model.set_weights(weights)
        self._prefetched = None
        if self.target_model is not None:
            self.update_target_model()

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the online network's weights to a Keras `.weights.h5` file, atomically."""
        weights_file.save_weights([self.model], filepath, overwrite)

    def load_weights(self, filepath: str) -> None:
        """Reads weights written by `save_weights` into both networks.

        Raises:
            FileNotFoundError: If the file is missing.
            ValueError: If the file is corrupt or holds another architecture's weights.
        """
        weights_file.load_weights([self.model], filepath)
        self._prefetched = None
        if self.target_model is not None:
            self.update_target_model()

    def get_state(
        self, include_memory: bool = False
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """`Agent.get_state` plus the online, target and optimizer variables.

        The values describe the network and the optimizer, so that `set_state` can name a
        mismatch. `variables` include the dropout seed generators' states.

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
            ValueError: If the state is of another network or optimizer, or misses variables.
        """
        self.require_compiled()
        agent_state.require(values, ("network", "optimizer"), f"a {type(self).__name__}")
        groups = self._state_variables()
        keras_state.check_model_state(values, arrays, self.model, self.optimizer, groups)
        super().set_state(values, arrays)
        keras_state.assign_variable_arrays(groups, arrays)
        self._prefetched = None

    def _state_variables(self) -> dict[str, list[Any]]:
        return {
            "online": list(self.model.variables),
            "target": list(self.target_model.variables),
            "optimizer": list(self.optimizer.variables),
        }

    def get_config(self) -> dict[str, Any]:
        """JSON-able arguments, with the model as Keras JSON and the optimizer's config."""
        return {
            "model": self.base_model.to_json(),
            "nb_actions": self.nb_actions,
            "memory": self.memory.get_config(),
            "policy": self.policy.get_config(),
            "test_policy": self.test_policy.get_config(),
            "gamma": self.gamma,
            "batch_size": self.batch_size,
            "nb_steps_warmup": self.nb_steps_warmup,
            "train_interval": self.train_interval,
            "train_freq": self.train_freq,
            "target_model_update": self.target_model_update,
            "enable_double_dqn": self.enable_double_dqn,
            "enable_dueling_network": self.enable_dueling_network,
            "dueling_type": self.dueling_type,
            "delta_clip": None if math.isinf(self.delta_clip) else self.delta_clip,
            "reward_scale": self.reward_scale,
            "reward_clip": None if math.isinf(self.reward_clip) else self.reward_clip,
            "optimizer": keras.optimizers.serialize(self.optimizer) if self.optimizer else None,
            "jit_compile": self.jit_compile,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DQNAgent:
        """Rebuilds (and compiles) an agent from `get_config()`'s output, without weights."""
        config = dict(config)
        model = keras.models.model_from_json(config.pop("model"))
        optimizer = config.pop("optimizer")
        delta_clip = config.pop("delta_clip")
        reward_clip = config.pop("reward_clip", None)
        jit_compile = config.pop("jit_compile", "auto")
        agent = cls(
            model=model,
            memory=memory_from_config(config.pop("memory")),
            policy=policy_from_config(config.pop("policy")),
            test_policy=policy_from_config(config.pop("test_policy")),
            delta_clip=math.inf if delta_clip is None else delta_clip,
            reward_clip=math.inf if reward_clip is None else reward_clip,
            **config,
        )
        optimizer = keras.optimizers.deserialize(optimizer) if optimizer else "adam"
        agent.compile(optimizer, jit_compile=jit_compile)
        return agent


def _power_of_two(count: int) -> int:
    """The smallest power of two >= `count` (>= 1): the padded sizes XLA compiles for."""
    return 1 << (count - 1).bit_length()


def _pad(array: np.ndarray, size: int) -> np.ndarray:
    """`array` with zeros appended along its first axis up to `size` rows."""
    if len(array) == size:
        return array
    padding = np.zeros((size - len(array), *array.shape[1:]), array.dtype)
    return np.concatenate([array, padding])


def _check_policies(policy: Any, test_policy: Any) -> None:
    """Raises TypeError unless the policies are policies (or None)."""
    for name, value in {"policy": policy, "test_policy": test_policy}.items():
        if value is not None and not callable(getattr(value, "select_action", None)):
            raise TypeError(f"{name} must be a policy (agents.policy), got {value!r}")


def _dueling(model: keras.Model, nb_actions: int, dueling_type: str) -> keras.Model:
    """The model with its last layer replaced by a value-and-advantages head."""
    features = model.layers[-2].output
    value_and_advantages = keras.layers.Dense(
        nb_actions + 1, kernel_initializer="zeros", name="value_advantages"
    )(features)
    q_values = DuelingQ(dueling_type, name="dueling_q")(value_and_advantages)
    return keras.Model(model.inputs, q_values, name=f"{model.name}_dueling")
