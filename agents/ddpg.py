"""Deep deterministic policy gradient (DDPG), with TD3's corrections as options."""

from __future__ import annotations

import dataclasses
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
from agents.n_step import StoredRows
from agents.random import RandomProcess, check_process, explore, process_from_config
from agents.transitions import TransitionBatch

#: Prefix of the random process's arrays among the agent's state arrays.
PROCESS_PREFIX = "random_process."


class DDPGAgent(Agent):
    """DDPG in the keras-rl style (Lillicrap et al., 2016), compiled with `tf.function`.

    The actor maps observations to actions; the critic, a model with two inputs (one of them
    `critic_action_input`), maps (action, observation) to Q. Each update fits the critic to
    `reward + discount * Q_target(next_obs, actor_target(next_obs))` (the memory's `discounts`
    hold gamma**k, 0 after a terminal state, so truncated transitions bootstrap), then moves the
    actor up the critic's gradient. Acting is the actor's action plus the random process's
    noise (in the action's units) while training, the actor's action in `test`; the env driver
    clips it to the action space's bounds, and the clipped action is what is learned from.

    TD3's corrections (Fujimoto et al., 2018), which `agents.td3.TD3Agent` turns on: twin
    critics (the target takes the smaller of the two), target policy smoothing (clipped
    Gaussian noise on the target's action) and delayed actor updates (and target updates) every
    `policy_delay` critic updates.

    Args:
        nb_actions: The action's size (the Box space's shape is `(nb_actions,)`).
        actor: A Keras model from observations to `(batch, nb_actions)` actions.
        critic: A Keras model with two inputs, the action and the observation (in any order),
            and one output `(batch, 1)`.
        critic_action_input: The critic's action input (one of `critic.inputs`).
        memory: A replay memory from `agents.memory` (its gamma must equal `gamma`).
        gamma: Discount factor in [0, 1].
        batch_size: Transitions per update.
        nb_steps_warmup_critic: Env steps before the critic's first update.
        nb_steps_warmup_actor: Env steps before the actor's first update.
        train_interval: Env steps per update (> 0; below 1: several updates per env step).
        target_model_update: < 1: soft update with this tau after each update of a network;
            >= 1: copy every network to its target every that many env steps.
        random_process: Exploration noise from `agents.random` (None: none), of size
            `nb_actions`.
        delta_clip: Huber loss threshold of the critic; inf gives the squared error.
        nb_steps_random: Env steps at the start acting uniformly at random within the action
            bounds (Stable-Baselines3's `learning_starts` exploration); 0: keras-rl's behaviour.
        reward_scale: Rewards are multiplied by this before learning.
        twin_critics: TD3's clipped double Q-learning: a second critic (a fresh copy of
            `critic`'s architecture) and the smaller target of the two.
        policy_delay: Critic updates per actor (and target) update.
        target_policy_noise: Std of the Gaussian noise on the target's action (action units).
        target_noise_clip: That noise is clipped to [-this, this].

    Raises:
        TypeError: If a model is not a keras.Model, the memory not a memory or the process not
            a random process.
        ValueError: If a number is out of range, the models do not fit `nb_actions` (the critic
            without the action input, an actor of another output shape), the process is of
            another size, or the memory's gamma is not `gamma`.
    """

    state_attributes = ("updates",)

    def __init__(
        self,
        nb_actions: int,
        actor: keras.Model,
        critic: keras.Model,
        critic_action_input: Any,
        memory: Any,
        gamma: float = 0.99,
        batch_size: int = 32,
        nb_steps_warmup_critic: int = 1000,
        nb_steps_warmup_actor: int = 1000,
        train_interval: float = 1,
        target_model_update: float = 0.001,
        random_process: RandomProcess | None = None,
        delta_clip: float = math.inf,
        nb_steps_random: int = 0,
        reward_scale: float = 1.0,
        twin_critics: bool = False,
        policy_delay: int = 1,
        target_policy_noise: float = 0.0,
        target_noise_clip: float = 0.5,
    ):
        super().__init__()
        check_int("nb_actions", nb_actions, 1)
        self.action_input_index = _action_input_index(critic, critic_action_input)
        _check_models(nb_actions, actor, critic, self.action_input_index)
        check_number("gamma", gamma, 0, 1)
        check_int("batch_size", batch_size, 1)
        for name, value in {
            "nb_steps_warmup_critic": nb_steps_warmup_critic,
            "nb_steps_warmup_actor": nb_steps_warmup_actor,
            "nb_steps_random": nb_steps_random,
        }.items():
            check_int(name, value, 0)
        check_int("policy_delay", policy_delay, 1)
        for name, value in {
            "train_interval": train_interval,
            "target_model_update": target_model_update,
            "reward_scale": reward_scale,
        }.items():
            check_number(name, value, 0, math.inf, low_open=True, high_open=True)
        check_number("delta_clip", delta_clip, 0, math.inf, low_open=True)
        check_number("target_policy_noise", target_policy_noise, 0, math.inf, high_open=True)
        check_number("target_noise_clip", target_noise_clip, 0, math.inf)
        if not isinstance(twin_critics, bool):
            raise ValueError(f"twin_critics must be a bool, got {twin_critics!r}")
        check_replay_memory(memory, gamma)
        check_process(random_process, nb_actions)
        self.nb_actions = nb_actions
        self.actor = actor
        self.critics = [critic] + ([keras.models.clone_model(critic)] if twin_critics else [])
        self.memory = memory
        self.random_process = random_process
        self.gamma = gamma
        self.batch_size = batch_size
        self.nb_steps_warmup_critic = nb_steps_warmup_critic
        self.nb_steps_warmup_actor = nb_steps_warmup_actor
        self.train_interval = train_interval
        self.target_model_update = target_model_update
        self.delta_clip = delta_clip
        self.nb_steps_random = nb_steps_random
        self.reward_scale = reward_scale
        self.twin_critics = twin_critics
        self.policy_delay = policy_delay
        self.target_policy_noise = target_policy_noise
        self.target_noise_clip = target_noise_clip
        #: Critic updates so far (the actor's are every `policy_delay`-th of them).
        self.updates = 0
        self.actor_optimizer: keras.optimizers.Optimizer | None = None
        self.critic_optimizer: keras.optimizers.Optimizer | None = None
        self.target_actor: keras.Model | None = None
        self.target_critics: list[keras.Model] = []
        self._bounds = (np.full(nb_actions, -np.inf), np.full(nb_actions, np.inf))

    @property
    def critic(self) -> keras.Model:
        """The (first) critic."""
        return self.critics[0]

    @property
    def metrics_names(self) -> list[str]:
        """The critic's loss and mean Q-value."""
        return ["loss", "mean_q"]

    def episode_metrics(self) -> dict[str, float]:
        """The exploration noise's current sigma, if there is a random process."""
        if self.random_process is None:
            return {}
        self.random_process.step = self.step
        return {"noise_sigma": self.random_process.current_sigma}

    def compile(self, optimizer: Any = "adam", metrics: list[Any] | None = None) -> None:
        """Creates the target networks and the compiled act and train steps.

        Args:
            optimizer: One Keras optimizer (or name) for both, copied, or a pair
                `(actor_optimizer, critic_optimizer)` as in keras-rl.
            metrics: Not supported (keras-rl's DDPG takes none either); must be None or empty.

        Raises:
            ValueError: If metrics are given or the optimizer pair is not a pair.
        """
        if metrics:
            raise ValueError(f"{type(self).__name__}.compile takes no metrics, got {metrics!r}")
        if isinstance(optimizer, (list, tuple)):
            if len(optimizer) != 2:
                raise ValueError(
                    f"give one optimizer or (actor_optimizer, critic_optimizer), got {optimizer!r}"
                )
            actor_optimizer, critic_optimizer = (keras.optimizers.get(o) for o in optimizer)
        else:
            actor_optimizer = keras.optimizers.get(optimizer)
            critic_optimizer = type(actor_optimizer).from_config(actor_optimizer.get_config())
        self.actor_optimizer, self.critic_optimizer = actor_optimizer, critic_optimizer
        self.target_actor = _copy(self.actor)
        self.target_critics = [_copy(critic) for critic in self.critics]
        self.actor_optimizer.build(self.actor.trainable_variables)
        self.critic_optimizer.build(self._critic_variables())
        self._act_fn = Compiled(self._act)
        self._train_many_fn = Compiled(self._train_steps)
        self._td_fn = Compiled(self._td_errors)
        self.compiled = True

    def check_env(self, driver: EnvDriver) -> None:
        """Checks the env's spaces against the models and keeps the action bounds."""
        space = driver.action_space
        require_action_space(space, gymnasium.spaces.Box, self)
        if space.shape != (self.nb_actions,):
            raise ValueError(
                f"the agent has nb_actions={self.nb_actions}, the env's actions are {space}"
            )
        check_observations(self.actor.input_shape[1:], driver.observation_space, "the actor")
        if self.nb_steps_random and not space.is_bounded("both"):
            raise ValueError(
                f"nb_steps_random={self.nb_steps_random} draws uniform actions, but {space} is "
                "not bounded on both sides; give nb_steps_random=0"
            )
        self._bounds = (space.low.astype(np.float32), space.high.astype(np.float32))

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """The actor's actions, plus exploration noise (or random actions at first) in fit."""
        if self.training and self.step < self.nb_steps_random:
            return self.rng.uniform(*self._bounds, (len(obs), self.nb_actions))
        actions = self._act_fn(obs).numpy()
        if not self.training:
            return actions
        return explore(self.random_process, self.step, actions, self.rng)

    def end_episode(self, env_index: int) -> None:
        """Restarts the random process of the sub-env whose episode ended."""
        if self.random_process is not None:
            self.random_process.reset_states(env_index)

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """Stores the transitions, then runs the updates and target copies that are due."""
        self.memory.append(self.storable(batch))
        return self.learn(len(batch))

    def storable(self, batch: TransitionBatch) -> TransitionBatch:
        """`batch` as the memory stores it: float32 actions."""
        return dataclasses.replace(batch, actions=batch.actions.astype(np.float32))

    def learn(self, count: int) -> dict[str, float]:
        """Runs the updates and target copies due as `step` goes on by `count` env steps.

        For a learner fed by collectors (`agents.distributed`); `backward` does the same.
        """
        return replay.learn_due(
            self, count, self.nb_steps_warmup_critic, self._update, self.update_target_models
        )

    def td_errors(self, rows: StoredRows) -> np.ndarray:
        """The (first) critic's TD errors of completed transitions, without target noise.

        A collector's initial priorities (Ape-X): `rows` as `agents.n_step.NStepWindows` makes
        them from `storable` batches. Returns one float32 per row.
        """
        obs, actions, rewards, next_obs, discounts, _ = rows
        if len(obs) == 0:
            return np.zeros(0, dtype=np.float32)
        return self._td_fn(obs, actions, rewards, next_obs, discounts, *self._bounds).numpy()

    def update_target_models(self) -> None:
        """Copies the actor's and the critics' weights to their targets."""
        for target, online in self._critic_pairs() + self._actor_pairs():
            target.assign(online)

    def _update(self, step: int, count: int) -> dict[str, float]:
        """Runs `count` updates in one compiled call; returns their mean metrics."""
        stacked = replay.sample_stacked(self, step, count)
        obs, actions, rewards, next_obs, discounts, weights, indices, _ = stacked
        delayed = (self.updates + np.arange(count)) % self.policy_delay == 0
        train_actor = delayed & (step > self.nb_steps_warmup_actor)
        noise = np.zeros((count, self.batch_size, self.nb_actions), dtype=np.float32)
        if self.target_policy_noise > 0:
            noise = self.rng.normal(0.0, self.target_policy_noise, noise.shape)
            noise = np.clip(noise, -self.target_noise_clip, self.target_noise_clip)
        losses, mean_qs, td_errors = self._train_many_fn(
            obs, actions, rewards, next_obs, discounts, weights, noise.astype(np.float32),
            delayed, train_actor, *self._bounds,
        )  # fmt: skip
        self.updates += count
        if hasattr(self.memory, "update_priorities"):
            self.memory.update_priorities(indices.ravel(), td_errors.numpy().ravel())
        return {"loss": float(np.mean(losses)), "mean_q": float(np.mean(mean_qs))}

    def _act(self, obs: Any) -> Any:
        return self.actor(tf.cast(obs, tf.float32), training=False)

    def _q(self, critic: keras.Model, obs: Any, actions: Any, training: bool = False) -> Any:
        inputs = [actions, obs] if self.action_input_index == 0 else [obs, actions]
        return critic(inputs, training=training)[:, 0]

    def _train_steps(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any,
        weights: Any, noise: Any, delayed: Any, train_actor: Any, low: Any, high: Any,
    ) -> tuple[Any, Any, Any]:  # fmt: skip
        """Runs one update per leading index of the stacked batches (one Python call for all)."""
        count = tf.shape(obs)[0]
        losses = tf.TensorArray(tf.float32, size=count)
        mean_qs = tf.TensorArray(tf.float32, size=count)
        td_errors = tf.TensorArray(tf.float32, size=count)
        for k in tf.range(count):
            loss, mean_q, td = self._train_critics(
                obs[k], actions[k], rewards[k], next_obs[k], discounts[k], weights[k],
                noise[k], low, high,
            )  # fmt: skip
            if train_actor[k]:
                self._train_actor(obs[k])
            if self.target_model_update < 1:
                if delayed[k]:
                    self._soft_update(self._critic_pairs())
                if train_actor[k]:
                    self._soft_update(self._actor_pairs())
            losses = losses.write(k, loss)
            mean_qs = mean_qs.write(k, mean_q)
            td_errors = td_errors.write(k, td)
        return losses.stack(), mean_qs.stack(), td_errors.stack()

    def _train_critics(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any,
        weights: Any, noise: Any, low: Any, high: Any,
    ) -> tuple[Any, Any, Any]:  # fmt: skip
        obs = tf.cast(obs, tf.float32)
        targets = self._targets(rewards, next_obs, discounts, noise, low, high)
        variables = self._critic_variables()
        with tf.GradientTape() as tape:
            qs = [self._q(critic, obs, actions, training=True) for critic in self.critics]
            loss = tf.add_n(
                [tf.reduce_mean(weights * td_loss(targets - q, self.delta_clip)) for q in qs]
            )
        grads = tape.gradient(loss, variables)
        self.critic_optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss / len(qs), tf.reduce_mean(qs[0]), targets - qs[0]

    def _targets(
        self, rewards: Any, next_obs: Any, discounts: Any, noise: Any, low: Any, high: Any
    ) -> Any:
        """Rewards plus the discounted (smallest) target Q of the target actor's next action."""
        next_obs = tf.cast(next_obs, tf.float32)
        next_actions = tf.clip_by_value(
            self.target_actor(next_obs, training=False) + noise, low, high
        )
        next_q = tf.reduce_min(
            tf.stack([self._q(target, next_obs, next_actions) for target in self.target_critics]),
            axis=0,
        )
        return rewards * self.reward_scale + discounts * next_q

    def _td_errors(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, discounts: Any, low: Any,
        high: Any,
    ) -> Any:  # fmt: skip
        targets = self._targets(rewards, next_obs, discounts, 0.0, low, high)
        return targets - self._q(self.critic, tf.cast(obs, tf.float32), actions)

    def _train_actor(self, obs: Any) -> None:
        obs = tf.cast(obs, tf.float32)
        variables = self.actor.trainable_variables
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(self._q(self.critic, obs, self.actor(obs, training=True)))
        grads = tape.gradient(loss, variables)
        self.actor_optimizer.apply_gradients(zip(grads, variables, strict=True))

    def _soft_update(self, pairs: list[tuple[Any, Any]]) -> None:
        """Moves each target variable of the (target, online) pairs by tau."""
        tau = self.target_model_update
        for target, online in pairs:
            target.assign(tau * online + (1.0 - tau) * target)

    def _critic_pairs(self) -> list[tuple[Any, Any]]:
        return [
            pair
            for target, critic in zip(self.target_critics, self.critics, strict=True)
            for pair in zip(target.weights, critic.weights, strict=True)
        ]

    def _actor_pairs(self) -> list[tuple[Any, Any]]:
        return list(zip(self.target_actor.weights, self.actor.weights, strict=True))

    def _critic_variables(self) -> list[Any]:
        return [v for critic in self.critics for v in critic.trainable_variables]

    # --- weights and state ------------------------------------------------------------------

    def _models(self) -> list[keras.Model]:
        return [self.actor, *self.critics]

    def get_weights(self) -> list[np.ndarray]:
        """The actor's weights, then each critic's."""
        return weights_file.get_weights(self._models())

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Sets the weights from `get_weights()`'s output, and the targets' once compiled."""
        weights_file.set_weights(self._models(), weights)
        if self.target_actor is not None:
            self.update_target_models()

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the actor's and the critics' weights to one `.weights.h5` file, atomically."""
        weights_file.save_weights(self._models(), filepath, overwrite)

    def load_weights(self, filepath: str) -> None:
        """Reads weights written by `save_weights` into the networks and their targets.

        Raises:
            FileNotFoundError: If the file is missing.
            ValueError: If the file is corrupt or holds other networks' weights.
        """
        weights_file.load_weights(self._models(), filepath)
        if self.target_actor is not None:
            self.update_target_models()

    def get_state(
        self, include_memory: bool = False
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """`Agent.get_state` plus the networks', targets' and optimizers' variables and the noise.

        Raises:
            RuntimeError: If the agent is not compiled (it has no optimizer state yet).
        """
        self.require_compiled()
        values, arrays = super().get_state(include_memory)
        values["networks"] = [keras_state.network_description(m) for m in self._models()]
        values["optimizers"] = [
            keras_state.optimizer_description(o)
            for o in (self.actor_optimizer, self.critic_optimizer)
        ]
        arrays.update(keras_state.variable_arrays(self._state_variables()))
        if self.random_process is not None:
            process = self.random_process.get_state()
            arrays.update({PROCESS_PREFIX + key: value for key, value in process.items()})
        return values, arrays

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """`Agent.set_state` plus the variables and the process; compiled like the saved one.

        Raises:
            RuntimeError: If the agent is not compiled.
            ValueError: If the state is of other networks or optimizers, or misses a part.
        """
        self.require_compiled()
        agent_state.require(values, ("networks", "optimizers"), f"a {type(self).__name__}")
        models, saved = self._models(), values["networks"]
        if not isinstance(saved, list) or len(saved) != len(models):
            raise ValueError(
                f"the state holds {len(saved) if isinstance(saved, list) else saved!r} "
                f"networks; this {type(self).__name__} has {len(models)} (actor, critics)"
            )
        for description, model in zip(saved, models, strict=True):
            keras_state.check_network(description, model)
        optimizers = (self.actor_optimizer, self.critic_optimizer)
        saved = values["optimizers"]
        if not isinstance(saved, list) or len(saved) != 2:
            raise ValueError(f"the state must hold 2 optimizers (actor, critic), got {saved!r}")
        for description, optimizer in zip(saved, optimizers, strict=True):
            keras_state.check_optimizer(description, optimizer)
        groups = self._state_variables()
        keras_state.check_variable_arrays(groups, arrays)
        process = None
        if self.random_process is not None:
            process = self.random_process.check_state({
                key[len(PROCESS_PREFIX):]: value for key, value in arrays.items()
                if key.startswith(PROCESS_PREFIX)
            })  # fmt: skip
        super().set_state(values, arrays)
        keras_state.assign_variable_arrays(groups, arrays)
        if process is not None:
            self.random_process.set_state(process)

    def _state_variables(self) -> dict[str, list[Any]]:
        groups = {"actor": list(self.actor.variables)}
        groups.update({f"critic{i}": list(c.variables) for i, c in enumerate(self.critics)})
        groups["target_actor"] = list(self.target_actor.variables)
        groups.update(
            {f"target_critic{i}": list(c.variables) for i, c in enumerate(self.target_critics)}
        )
        groups["actor_optimizer"] = list(self.actor_optimizer.variables)
        groups["critic_optimizer"] = list(self.critic_optimizer.variables)
        return groups

    def get_config(self) -> dict[str, Any]:
        """JSON-able arguments: the models as Keras JSON, the process's and optimizers' configs."""
        process = self.random_process
        return {
            "nb_actions": self.nb_actions,
            "actor": self.actor.to_json(),
            "critic": self.critic.to_json(),
            "critic_action_input": self.action_input_index,
            "memory": self.memory.get_config(),
            "gamma": self.gamma,
            "batch_size": self.batch_size,
            "nb_steps_warmup_critic": self.nb_steps_warmup_critic,
            "nb_steps_warmup_actor": self.nb_steps_warmup_actor,
            "train_interval": self.train_interval,
            "target_model_update": self.target_model_update,
            "random_process": None if process is None else process.get_config(),
            "delta_clip": None if math.isinf(self.delta_clip) else self.delta_clip,
            "nb_steps_random": self.nb_steps_random,
            "reward_scale": self.reward_scale,
            "twin_critics": self.twin_critics,
            "policy_delay": self.policy_delay,
            "target_policy_noise": self.target_policy_noise,
            "target_noise_clip": self.target_noise_clip,
            "optimizers": [
                keras.optimizers.serialize(o) if o else None
                for o in (self.actor_optimizer, self.critic_optimizer)
            ],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DDPGAgent:
        """Rebuilds (and compiles) an agent from `get_config()`'s output, without weights."""
        config = dict(config)
        critic = keras.models.model_from_json(config.pop("critic"))
        index = config.pop("critic_action_input")
        if not isinstance(index, int) or index not in (0, 1) or len(critic.inputs) != 2:
            raise ValueError(f"critic_action_input must be the index 0 or 1, got {index!r}")
        process = config.pop("random_process")
        optimizers = config.pop("optimizers")
        delta_clip = config.pop("delta_clip")
        agent = cls(
            actor=keras.models.model_from_json(config.pop("actor")),
            critic=critic,
            critic_action_input=critic.inputs[index],
            memory=memory_from_config(config.pop("memory")),
            random_process=None if process is None else process_from_config(process),
            delta_clip=math.inf if delta_clip is None else delta_clip,
            **config,
        )
        agent.compile([keras.optimizers.deserialize(o) if o else "adam" for o in optimizers])
        return agent


def _copy(model: keras.Model) -> keras.Model:
    """A clone of `model` with its weights."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def _action_input_index(critic: Any, action_input: Any) -> int:
    """Which of the critic's two inputs is `action_input` (keras-rl's critic_action_input)."""
    if not isinstance(critic, keras.Model):
        raise TypeError(f"critic must be a keras.Model, got {type(critic).__name__}")
    if len(critic.inputs) != 2:
        raise ValueError(
            f"the critic must have two inputs, the action and the observation; it has "
            f"{len(critic.inputs)}"
        )
    for index, tensor in enumerate(critic.inputs):
        if tensor is action_input:
            return index
    raise ValueError(
        "critic_action_input must be one of the critic's inputs (the action input tensor the "
        f"critic was built on), got {action_input!r}"
    )


def _check_models(nb_actions: int, actor: Any, critic: keras.Model, action_index: int) -> None:
    if not isinstance(actor, keras.Model):
        raise TypeError(f"actor must be a keras.Model, got {type(actor).__name__}")
    if len(actor.inputs) != 1 or len(actor.outputs) != 1:
        raise ValueError("the actor must have one input (the observation) and one output")
    if tuple(actor.outputs[0].shape)[1:] != (nb_actions,):
        raise ValueError(
            f"the actor's output must have shape (batch, nb_actions={nb_actions}), got "
            f"{tuple(actor.outputs[0].shape)}"
        )
    action_shape = tuple(critic.inputs[action_index].shape)[1:]
    if action_shape != (nb_actions,):
        raise ValueError(
            f"the critic's action input has shape {action_shape}; the actions are ({nb_actions},)"
        )
    obs_shape = tuple(critic.inputs[1 - action_index].shape)[1:]
    if obs_shape != tuple(actor.inputs[0].shape)[1:]:
        raise ValueError(
            f"the critic takes observations of shape {obs_shape}, the actor of shape "
            f"{tuple(actor.inputs[0].shape)[1:]}"
        )
    if len(critic.outputs) != 1 or tuple(critic.outputs[0].shape)[1:] != (1,):
        raise ValueError(
            f"the critic must have one output of shape (batch, 1), got "
            f"{[tuple(o.shape) for o in critic.outputs]}"
        )
