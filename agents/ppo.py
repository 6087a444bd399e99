"""Proximal policy optimization (PPO, clipped objective) on the agents' fit loop."""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import keras
import numpy as np
import tensorflow as tf

from agents import agent_state, keras_state, weights_file
from agents.action_masks import masked_logits
from agents.core import Agent
from agents.env_driver import EnvDriver, require_action_space
from agents.hyperparameters import check_int, check_number
from agents.model_checks import check_observations
from agents.ppo_losses import METRICS, gae, ppo_loss_terms
from agents.running_statistics import RunningStatistics
from agents.transitions import TransitionBatch

__all__ = ["PPOAgent", "RunningStatistics", "gae", "ppo_loss_terms"]

#: Normalized observations and rewards are clipped to +-this (as Stable-Baselines3's).
NORMALIZED_CLIP = 10.0
#: Added to variances before dividing by their square root.
EPSILON = 1e-8


class _LogStd(keras.layers.Layer):
    """The Gaussian policy's state-independent log standard deviations (trainable)."""

    def __init__(self, size: int) -> None:
        super().__init__(name="log_std")
        self.value = self.add_weight(shape=(size,), initializer="zeros", name="log_std")
        self.built = True


class PPOAgent(Agent):
    """PPO with the clipped surrogate objective (Schulman et al., 2017), SB3's arguments.

    Training collects a rollout of `n_steps` batched env steps (n_steps rows per sub-env, less
    a NEXT_STEP vector env's autoreset rows), then computes GAE advantages per sub-env (see
    `gae`; a time limit bootstraps from V of the final observation) and runs `n_epochs`
    passes of shuffled minibatches of `batch_size` rows (advantages normalized per minibatch)
    over `policy_loss + vf_coef * value_loss - ent_coef * entropy` (see `ppo_loss_terms`),
    the gradients clipped to a global norm of `max_grad_norm`. Actions are drawn from a
    categorical policy of the model's logits (Discrete) or a Gaussian of its mean and the
    agent's state-independent `log_std` (Box); the loss uses the drawn action unclipped (the
    driver clips what the env gets). `test` acts greedily (argmax, mean).

    Where a Discrete env gives action masks (`env.action_masks()` or `info["action_mask"]`, see
    `agents.action_masks`), masked actions get probability 0 in acting and in the loss (their
    logits are set to `agents.action_masks.MASKED_LOGIT`, as sb3-contrib's MaskablePPO does).

    With `normalize_obs`, observations are standardized by running statistics (updated from
    every training observation) and clipped to +-10; with `normalize_reward`, rewards are
    divided by the running deviation of the discounted return per sub-env, clipped to +-10
    (as SB3's VecNormalize). The statistics are weights of the agent (`statistics`: saved
    agents, weights files and checkpoints keep them) and `test` uses them. The rollout in
    progress is not saved: a `fit` that resets the env ends each sub-env's part of it there
    (bootstrapped as a truncation); a loaded checkpoint starts a fresh rollout.

    Args:
        model: A Keras model from observations to `[policy output, value (batch, 1)]`; see
            `agents.networks.actor_critic`.
        action_space: The env's action space, Discrete or a 1-D Box.
        n_steps: Batched env steps per rollout.
        batch_size: Rows per minibatch (the last of an epoch may be smaller).
        n_epochs: Passes over each rollout.
        gamma: Discount factor in [0, 1].
        gae_lambda: GAE's lambda in [0, 1].
        clip_range: The surrogate's clip, > 0.
        clip_range_vf: The value's clip around the rollout's values, > 0; None: no clip.
        ent_coef: Weight of the entropy bonus, >= 0.
        vf_coef: Weight of the value loss, >= 0.
        max_grad_norm: Global gradient-norm clip, > 0 (inf: none).
        normalize_obs: Standardize observations by running statistics.
        normalize_reward: Scale rewards by the running deviation of discounted returns.

    Raises:
        TypeError: If `model` is not a keras.Model or `action_space` not Discrete or Box.
        ValueError: If a number is out of range (the message names it), or the model's
            outputs do not fit the action space.
    """

    state_attributes = ("updates",)
    uses_action_masks = True

    def __init__(
        self,
        model: keras.Model,
        action_space: gymnasium.spaces.Discrete | gymnasium.spaces.Box,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float = 0.2,
        clip_range_vf: float | None = None,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        normalize_obs: bool = False,
        normalize_reward: bool = False,
    ):
        super().__init__()
        size = _action_size(action_space)
        _check_model(model, size)
        for name, value in (
            ("n_steps", n_steps),
            ("batch_size", batch_size),
            ("n_epochs", n_epochs),
        ):
            check_int(name, value, 1)
        check_number("gamma", gamma, 0, 1)
        check_number("gae_lambda", gae_lambda, 0, 1)
        check_number("clip_range", clip_range, 0, math.inf, low_open=True, high_open=True)
        if clip_range_vf is not None:
            check_number("clip_range_vf", clip_range_vf, 0, math.inf, low_open=True)
        check_number("ent_coef", ent_coef, 0, math.inf, high_open=True)
        check_number("vf_coef", vf_coef, 0, math.inf, high_open=True)
        check_number("max_grad_norm", max_grad_norm, 0, math.inf, low_open=True)
        for name, value in (
            ("normalize_obs", normalize_obs),
            ("normalize_reward", normalize_reward),
        ):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be a bool, got {value!r}")
        obs_shape = tuple(model.input_shape[1:])
        if normalize_obs and None in obs_shape:
            raise ValueError(f"normalize_obs needs a model of fixed input shape, got {obs_shape}")
        self.model = model
        self.action_space = action_space
        self.discrete = isinstance(action_space, gymnasium.spaces.Discrete)
        self.n_steps, self.batch_size, self.n_epochs = int(n_steps), int(batch_size), int(n_epochs)
        self.gamma, self.gae_lambda = float(gamma), float(gae_lambda)
        self.clip_range = float(clip_range)
        self.clip_range_vf = None if clip_range_vf is None else float(clip_range_vf)
        self.ent_coef, self.vf_coef = float(ent_coef), float(vf_coef)
        self.max_grad_norm = float(max_grad_norm)
        self.normalize_obs, self.normalize_reward = normalize_obs, normalize_reward
        self.log_std = None if self.discrete else _LogStd(size)
        #: Updates (rollouts learned from) so far.
        self.updates = 0
        #: The running statistics (None without normalization): weights, saved with the agent.
        self.statistics = None
        if normalize_obs or normalize_reward:
            self.statistics = RunningStatistics(obs_shape if normalize_obs else ())
        self.optimizer: keras.optimizers.Optimizer | None = None
        self._action_size = size
        self._discounted_returns = np.zeros(0)
        self._clear_rollout()

    @property
    def metrics_names(self) -> list[str]:
        """The update's mean loss terms (see `ppo_loss_terms`) and the explained variance."""
        return [*METRICS, "explained_variance"]

    def compile(self, optimizer: Any = "adam") -> None:
        """Builds the optimizer and the compiled act and train steps.

        Args:
            optimizer: A Keras optimizer or its name.
        """
        self.optimizer = keras.optimizers.get(optimizer)
        self.optimizer.build(self._trainable())
        self._act_fn = tf.function(self._act, reduce_retracing=True)
        self._value_fn = tf.function(self._values, reduce_retracing=True)
        self._train_fn = tf.function(self._train_step, reduce_retracing=True)
        self.compiled = True

    def check_env(self, driver: EnvDriver) -> None:
        """Checks the env's action space against the agent's and its observations."""
        space = driver.action_space
        require_action_space(space, type(self.action_space), self)
        if _action_size(space) != self._action_size or space.shape != self.action_space.shape:
            raise ValueError(
                f"the agent acts in {self.action_space}, the env's actions are {space}"
            )
        check_observations(self.model.input_shape[1:], driver.observation_space, "the model")

    def start_episodes(self) -> None:
        """Ends each sub-env's part of the rollout: its episode in progress is gone."""
        if self._rollout:
            self._rollout[-1]["cut"] = True
        self._discounted_returns = np.zeros(0)

    def forward(self, obs: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
        """Samples one action per row in fit (and keeps it for `backward`); greedy in test.

        With `masks` (the env's action masks), only legal actions are chosen.
        """
        if self.training and self.normalize_obs:
            self.statistics.update("obs", np.asarray(obs, np.float64))
        inputs = self._normalized(obs)
        shape = (len(obs), self._action_size)
        if not self.training:
            noise = np.zeros(shape, np.float32)
        elif self.discrete:
            noise = self.rng.gumbel(size=shape).astype(np.float32)
        else:
            noise = self.rng.standard_normal(shape).astype(np.float32)
        actions, log_probs, values = (t.numpy() for t in self._act_fn(inputs, noise, masks))
        if self.training:
            self._pending = (inputs, actions, log_probs, values, masks)
        return actions

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """Stores the rows of the step; learns from the rollout once it is complete."""
        inputs, actions, log_probs, values, masks = self._pending
        rows = batch.env_ids
        step = {
            "obs": inputs[rows], "actions": actions[rows], "log_probs": log_probs[rows],
            "values": values[rows], "rewards": self._scaled_rewards(batch),
            "next_obs": self._normalized(batch.next_obs), "terminated": batch.terminated,
            "done": batch.done, "env_ids": rows, "cut": False,
        }  # fmt: skip
        if masks is not None:
            step["masks"] = masks[rows]
        if self._rollout and ("masks" in step) != ("masks" in self._rollout[0]):
            raise ValueError("the env gave action masks for part of a rollout only")
        self._rollout.append(step)
        if len(self._rollout) < self.n_steps:
            return {}
        return self._update()

    def _update(self) -> dict[str, float]:
        """Learns from the collected rollout, then starts a new one."""
        data = self._rollout_arrays()
        self._clear_rollout()
        order = np.arange(len(data["values"]))
        masks = data.get("masks")
        totals = dict.fromkeys(METRICS, 0.0)
        count = 0
        for _ in range(self.n_epochs):
            order = self.rng.permutation(len(order))
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                advantages = data["advantages"][rows]
                if len(rows) > 1:
                    advantages = (advantages - advantages.mean()) / (advantages.std() + EPSILON)
                terms = self._train_fn(
                    data["obs"][rows], data["actions"][rows], data["log_probs"][rows],
                    advantages.astype(np.float32), data["returns"][rows].astype(np.float32),
                    data["values"][rows], None if masks is None else masks[rows],
                )  # fmt: skip
                for name, value in zip(METRICS, terms, strict=True):
                    totals[name] += float(value)
                count += 1
        self.updates += 1
        metrics = {name: total / count for name, total in totals.items()}
        returns, values = data["returns"], data["values"]
        variance = np.var(returns)
        explained = 1.0 - np.var(returns - values) / variance if variance > 0 else float("nan")
        metrics["explained_variance"] = float(explained)
        return metrics

    def _rollout_arrays(self) -> dict[str, np.ndarray]:
        """The rollout's rows grouped by sub-env (in time order), with advantages and returns."""
        steps = self._rollout
        data = {key: np.concatenate([s[key] for s in steps]) for key in steps[0] if key != "cut"}
        ends = np.concatenate([np.full(len(s["env_ids"]), s["cut"]) for s in steps])
        order = np.argsort(data["env_ids"], kind="stable")
        data = {key: value[order] for key, value in data.items()}
        ends, ids = ends[order], data["env_ids"]
        last = np.append(ids[1:] != ids[:-1], True)  # each sub-env's last row
        stop = data["done"] | ends | last
        # Where the episode goes on, V(next_obs) is the next row's value; elsewhere compute it.
        next_values = np.append(data["values"][1:], 0.0).astype(np.float32)
        needed = np.flatnonzero(stop & ~data["terminated"])
        if needed.size:
            next_values[needed] = self._value_fn(data["next_obs"][needed]).numpy()
        data["advantages"], data["returns"] = gae(
            data["rewards"], data["values"], next_values, data["terminated"], stop,
            self.gamma, self.gae_lambda,
        )  # fmt: skip
        return data

    def _clear_rollout(self) -> None:
        self._rollout: list[dict[str, Any]] = []
        self._pending: tuple[np.ndarray, ...] | None = None

    # --- normalization -----------------------------------------------------------------------

    def _normalized(self, obs: np.ndarray) -> np.ndarray:
        if not self.normalize_obs:
            return np.asarray(obs, np.float32)
        mean, var, _ = self.statistics.get("obs")
        scaled = (np.asarray(obs, np.float64) - mean) / np.sqrt(var + EPSILON)
        return np.clip(scaled, -NORMALIZED_CLIP, NORMALIZED_CLIP).astype(np.float32)

    def _scaled_rewards(self, batch: TransitionBatch) -> np.ndarray:
        rewards = batch.rewards.astype(np.float32)
        if not self.normalize_reward:
            return rewards
        if len(self._discounted_returns) <= batch.env_ids.max():
            self._discounted_returns = np.zeros(batch.env_ids.max() + 1)
        returns = self._discounted_returns[batch.env_ids] * self.gamma + batch.rewards
        self.statistics.update("return", returns)
        self._discounted_returns[batch.env_ids] = np.where(batch.done, 0.0, returns)
        scaled = batch.rewards / np.sqrt(self.statistics.get("return")[1] + EPSILON)
        return np.clip(scaled, -NORMALIZED_CLIP, NORMALIZED_CLIP).astype(np.float32)

    # --- compiled steps ----------------------------------------------------------------------

    def _act(self, obs: Any, noise: Any, masks: Any = None) -> tuple[Any, Any, Any]:
        policy, values = self.model(obs, training=False)
        if masks is not None:
            policy = masked_logits(policy, masks)
        if self.discrete:
            actions = tf.argmax(policy + noise, axis=1)
        else:
            actions = policy + tf.exp(self.log_std.value) * noise
        log_probs, _ = self._log_probs_entropy(policy, actions)
        return actions, log_probs, values[:, 0]

    def _values(self, obs: Any) -> Any:
        return self.model(obs, training=False)[1][:, 0]

    def _log_probs_entropy(self, policy: Any, actions: Any) -> tuple[Any, Any]:
        if self.discrete:
            log_p = tf.nn.log_softmax(policy)
            taken = tf.gather(log_p, tf.cast(actions, tf.int64), axis=1, batch_dims=1)
            return taken, -tf.reduce_sum(tf.exp(log_p) * log_p, axis=1)
        log_std = self.log_std.value
        z = (tf.cast(actions, tf.float32) - policy) / tf.exp(log_std)
        log_2pi = math.log(2 * math.pi)
        log_probs = -0.5 * tf.reduce_sum(tf.square(z) + 2 * log_std + log_2pi, axis=1)
        entropy = tf.reduce_sum(log_std + 0.5 * (1 + log_2pi)) * tf.ones_like(log_probs)
        return log_probs, entropy

    def _train_step(
        self, obs: Any, actions: Any, old_log_probs: Any, advantages: Any, returns: Any,
        old_values: Any, masks: Any = None,
    ) -> list[Any]:  # fmt: skip
        """One minibatch update; returns the loss terms in `METRICS` order."""
        variables = self._trainable()
        with tf.GradientTape() as tape:
            policy, values = self.model(obs, training=True)
            if masks is not None:
                policy = masked_logits(policy, masks)
            log_probs, entropy = self._log_probs_entropy(policy, actions)
            terms = ppo_loss_terms(
                log_probs, old_log_probs, advantages, values[:, 0], old_values, returns,
                entropy, self.clip_range, self.clip_range_vf,
            )  # fmt: skip
            loss = (
                terms["policy_loss"]
                + self.vf_coef * terms["value_loss"]
                - self.ent_coef * terms["entropy"]
            )
        grads = tape.gradient(loss, variables)
        if math.isfinite(self.max_grad_norm):
            grads, _ = tf.clip_by_global_norm(grads, self.max_grad_norm)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return [terms[name] for name in METRICS]

    def _trainable(self) -> list[Any]:
        extra = [] if self.log_std is None else [self.log_std.value]
        return [*self.model.trainable_variables, *extra]

    # --- weights and state -------------------------------------------------------------------

    def _parts(self) -> list[Any]:
        """The layers whose weights are the agent's, the statistics' brought up to date."""
        if self.statistics is not None:
            self.statistics.store()
        return [self.model] + [p for p in (self.log_std, self.statistics) if p is not None]

    def _weights_set(self) -> None:
        """Reads the statistics back after their weights were set."""
        if self.statistics is not None:
            self.statistics.restore()

    def get_weights(self) -> list[np.ndarray]:
        """The model's weights, then the log-std (Box actions), then the running statistics."""
        return weights_file.get_weights(self._parts())

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Sets the weights from `get_weights()`'s output."""
        weights_file.set_weights(self._parts(), weights)
        self._weights_set()

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the weights (as `get_weights`'s) to one `.weights.h5` file, atomically."""
        weights_file.save_weights(self._parts(), filepath, overwrite)

    def load_weights(self, filepath: str) -> None:
        """Reads weights written by `save_weights`.

        Raises:
            FileNotFoundError: If the file is missing.
            ValueError: If the file is corrupt or holds other networks' weights.
        """
        weights_file.load_weights(self._parts(), filepath)
        self._weights_set()

    def get_state(
        self, include_memory: bool = False
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """`Agent.get_state` (the normalization statistics among it), the variables, optimizer.

        Raises:
            RuntimeError: If the agent is not compiled (it has no optimizer state yet).
        """
        self.require_compiled()
        values, arrays = super().get_state(include_memory)
        own = keras_state.model_state(self.model, self.optimizer, self._state_variables())
        return {**values, **own[0]}, {**arrays, **own[1]}

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """`Agent.set_state` plus the variables; drops the rollout in progress.

        Raises:
            RuntimeError: If the agent is not compiled.
            ValueError: If the state is of another network or optimizer or misses a part.
        """
        self.require_compiled()
        agent_state.require(values, ("network", "optimizer"), "a PPOAgent")
        groups = self._state_variables()
        keras_state.check_model_state(values, arrays, self.model, self.optimizer, groups)
        super().set_state(values, arrays)
        keras_state.assign_variable_arrays(groups, arrays)
        self._weights_set()
        self._clear_rollout()
        self._discounted_returns = np.zeros(0)

    def _state_variables(self) -> dict[str, list[Any]]:
        groups = {"model": list(self.model.variables)}
        if self.log_std is not None:
            groups["log_std"] = [self.log_std.value]
        if self.statistics is not None:
            self.statistics.store()
            groups["statistics"] = list(self.statistics.weights)
        groups["optimizer"] = list(self.optimizer.variables)
        return groups

    def get_config(self) -> dict[str, Any]:
        """JSON-able arguments: the model as Keras JSON, the action space, the optimizer."""
        return {
            "model": self.model.to_json(),
            "action_space": _space_config(self.action_space),
            "n_steps": self.n_steps,
            "batch_size": self.batch_size,
            "n_epochs": self.n_epochs,
            "gamma": self.gamma,
            "gae_lambda": self.gae_lambda,
            "clip_range": self.clip_range,
            "clip_range_vf": self.clip_range_vf,
            "ent_coef": self.ent_coef,
            "vf_coef": self.vf_coef,
            "max_grad_norm": None if math.isinf(self.max_grad_norm) else self.max_grad_norm,
            "normalize_obs": self.normalize_obs,
            "normalize_reward": self.normalize_reward,
            "optimizer": keras.optimizers.serialize(self.optimizer) if self.optimizer else None,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PPOAgent:
        """Rebuilds (and compiles) an agent from `get_config()`'s output, without weights."""
        config = dict(config)
        optimizer = config.pop("optimizer")
        max_grad_norm = config.pop("max_grad_norm")
        agent = cls(
            model=keras.models.model_from_json(config.pop("model")),
            action_space=_space_from_config(config.pop("action_space")),
            max_grad_norm=math.inf if max_grad_norm is None else max_grad_norm,
            **config,
        )
        agent.compile(keras.optimizers.deserialize(optimizer) if optimizer else "adam")
        return agent


def _action_size(space: Any) -> int:
    if isinstance(space, gymnasium.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gymnasium.spaces.Box):
        if len(space.shape) != 1:
            raise ValueError(f"a PPOAgent needs a 1-D Box action space, got {space}")
        return int(space.shape[0])
    raise TypeError(f"a PPOAgent needs a Discrete or Box action space, got {space!r}")


def _check_model(model: Any, size: int) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    shapes = [tuple(output.shape) for output in model.outputs]
    if (
        len(model.inputs) != 1
        or len(shapes) != 2
        or shapes[0][1:] != (size,)
        or shapes[1][1:] != (1,)
    ):
        raise ValueError(
            f"the model must map one observation input to [policy output (batch, {size}), "
            f"value (batch, 1)], got {len(model.inputs)} inputs and outputs {shapes}"
        )


def _space_config(space: Any) -> dict[str, Any]:
    if isinstance(space, gymnasium.spaces.Discrete):
        return {"class_name": "Discrete", "n": int(space.n), "start": int(space.start)}
    bound = lambda values: [float(v) if math.isfinite(v) else str(float(v)) for v in values]  # noqa: E731
    return {
        "class_name": "Box", "low": bound(space.low), "high": bound(space.high),
        "dtype": space.dtype.name,
    }  # fmt: skip


def _space_from_config(config: Any) -> gymnasium.spaces.Space:
    kind = config.get("class_name") if isinstance(config, dict) else None
    if kind == "Discrete":
        return gymnasium.spaces.Discrete(config["n"], start=config["start"])
    if kind == "Box":
        low, high = (
            np.array([float(v) for v in config[k]], config["dtype"]) for k in ("low", "high")
        )
        return gymnasium.spaces.Box(low, high, dtype=config["dtype"])
    raise ValueError(f"action_space must describe a Discrete or Box space, got {config!r}")
