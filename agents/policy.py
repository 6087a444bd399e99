"""Action-selection policies over Q-values (keras-rl's names), batched over envs."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from agents.schedules import LinearSchedule


class Policy:
    """Chooses one action per row of a (batch, nb_actions) array of Q-values.

    Attributes:
        step: The agent's step, which the agent sets before selecting (used by annealing).
        training: False while the agent tests, which the agent sets (used by annealing).
    """

    def __init__(self) -> None:
        self.step = 0
        self.training = True

    def select_action(
        self, q_values: np.ndarray, rng: np.random.Generator, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns an int64 array (batch,) of actions for `q_values` of shape (batch, nb_actions).

        Args:
            q_values: (batch, nb_actions) finite Q-values.
            rng: The generator of any random draw.
            masks: (batch, nb_actions) bools, True for the legal actions (at least one per
                row); a masked action is never chosen. None: all are legal.

        Raises:
            ValueError: If `q_values` is not a 2-D array of finite numbers with >= 1 action,
                or `masks` does not fit it.
        """
        raise NotImplementedError

    @property
    def metrics(self) -> dict[str, float]:
        """The policy's current settings, for logging (e.g. `{"eps": 0.53}`)."""
        return {}

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able `{"class_name": ..., "config": {...}}` for `policy_from_config`."""
        return {"class_name": type(self).__name__, "config": {}}


class GreedyQPolicy(Policy):
    """Always the action of highest Q-value; ties go to the first such action (argmax)."""

    def select_action(
        self, q_values: np.ndarray, rng: np.random.Generator, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns the (legal) argmax action of each row (`rng` is unused)."""
        q_values = _check_q_values(q_values)
        return _greedy(q_values, None if masks is None else _check_masks(masks, q_values.shape))


class EpsGreedyQPolicy(Policy):
    """A uniformly random action with probability eps, else the greedy (first argmax) one.

    Args:
        eps: Exploration probability in [0, 1].

    Raises:
        ValueError: If eps is outside [0, 1].
    """

    def __init__(self, eps: float = 0.1) -> None:
        super().__init__()
        self.eps = eps

    @property
    def eps(self) -> float:
        """Exploration probability in [0, 1]; setting it validates the value."""
        return self._eps

    @eps.setter
    def eps(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ValueError(f"eps must be a number in [0, 1], got {value!r}")
        self._eps = float(value)

    def select_action(
        self, q_values: np.ndarray, rng: np.random.Generator, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns, per row, a random (legal) action with probability eps, else the argmax one."""
        q_values = _check_q_values(q_values)
        batch, nb_actions = q_values.shape
        # Both draws are always made, so the generator advances the same whatever eps is.
        explore = rng.random(batch) < self._eps
        if masks is None:
            random_actions = rng.integers(0, nb_actions, batch)
        else:
            masks = _check_masks(masks, q_values.shape)
            # The k-th legal action of each row, k uniform over the row's legal count.
            k = np.floor(rng.random(batch) * masks.sum(axis=1))
            random_actions = (np.cumsum(masks, axis=1) <= k[:, None]).sum(axis=1)
        return np.where(explore, random_actions, _greedy(q_values, masks))

    @property
    def metrics(self) -> dict[str, float]:
        """`{"eps": eps}`."""
        return {"eps": self._eps}

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able `{"class_name": ..., "config": {"eps": ...}}`."""
        return {"class_name": type(self).__name__, "config": {"eps": self._eps}}


class BoltzmannQPolicy(Policy):
    """Samples action a with probability softmax(clip(Q / tau))[a].

    Args:
        tau: Temperature > 0; high explores more, low is nearly greedy.
        clip: (low, high) bounds on Q / tau before the softmax (keras-rl's guard).

    Raises:
        ValueError: If tau is not a finite number > 0 or clip is not an increasing pair.
    """

    def __init__(self, tau: float = 1.0, clip: tuple[float, float] = (-500.0, 500.0)) -> None:
        super().__init__()
        self.tau = tau
        if len(clip) != 2 or not clip[0] < clip[1]:
            raise ValueError(f"clip must be a (low, high) pair with low < high, got {clip!r}")
        self.clip = (float(clip[0]), float(clip[1]))

    @property
    def tau(self) -> float:
        """Temperature, a finite number > 0; setting it validates the value."""
        return self._tau

    @tau.setter
    def tau(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < np.inf:
            raise ValueError(f"tau must be a finite number > 0, got {value!r}")
        self._tau = float(value)

    def probabilities(self, q_values: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
        """Returns the (batch, nb_actions) action probabilities for `q_values` (0 if masked)."""
        q_values = _check_q_values(q_values)
        logits = np.clip(q_values / self._tau, *self.clip)
        if masks is not None:
            logits = np.where(_check_masks(masks, q_values.shape), logits, -np.inf)
        # Shifting by the row maximum leaves the softmax unchanged and keeps exp() finite.
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        return weights / weights.sum(axis=1, keepdims=True)

    def select_action(
        self, q_values: np.ndarray, rng: np.random.Generator, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns one action per row, drawn from `probabilities(q_values, masks)`."""
        cumulative = self.probabilities(q_values, masks).cumsum(axis=1)
        # Scaling the draw by the last cumulative value keeps rounding from running past it.
        draws = rng.random((len(cumulative), 1)) * cumulative[:, -1:]
        # The first action whose cumulative probability passes the draw has a weight > 0.
        return (cumulative <= draws).sum(axis=1)

    @property
    def metrics(self) -> dict[str, float]:
        """`{"tau": tau}`."""
        return {"tau": self._tau}

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able `{"class_name": ..., "config": {"tau": ..., "clip": [...]}}`."""
        config = {"tau": self._tau, "clip": list(self.clip)}
        return {"class_name": type(self).__name__, "config": config}


class LinearAnnealedPolicy(Policy):
    """Anneals a setting of an inner policy linearly with the agent's step (keras-rl's).

    While training, `inner_policy.<attr>` goes from `value_max` at step 0 to `value_min` at
    `nb_steps` and stays there; while testing (`training` False) it is `value_test`. The agent
    sets `step` and `training`; the inner policy's attribute is overwritten.

    Args:
        inner_policy: The policy to drive, e.g. `EpsGreedyQPolicy()`.
        attr: A numeric setting of the inner policy ("eps", or "tau" for Boltzmann).
        value_max: Value at step 0.
        value_min: Value from `nb_steps` on.
        value_test: Value while testing.
        nb_steps: Steps the annealing takes, at least 1.

    Raises:
        TypeError: If `inner_policy` is not a Policy.
        ValueError: If `attr` is not a numeric setting of it, a value is invalid for it, or
            `nb_steps` < 1.
    """

    def __init__(
        self,
        inner_policy: Policy,
        attr: str = "eps",
        value_max: float = 1.0,
        value_min: float = 0.1,
        value_test: float = 0.05,
        nb_steps: int = 10_000,
    ) -> None:
        super().__init__()
        if not isinstance(inner_policy, Policy):
            raise TypeError(f"inner_policy must be a Policy, got {inner_policy!r}")
        settings = inner_policy.get_config()["config"]
        numeric = sorted(k for k, v in settings.items() if isinstance(v, float))
        if attr not in numeric:
            raise ValueError(
                f"{type(inner_policy).__name__} has no numeric setting {attr!r} to anneal; "
                f"expected one of {numeric}"
            )
        self._schedule = LinearSchedule(value_max, value_min, nb_steps)
        # The inner policy's setter validates each value; value_max is left set, as at step 0.
        for value in (value_min, value_test, value_max):
            setattr(inner_policy, attr, value)
        self.inner_policy, self.attr = inner_policy, attr
        self.value_test = float(value_test)

    @property
    def value(self) -> float:
        """The setting's value now: annealed at `step` while training, `value_test` otherwise."""
        return self._schedule(self.step) if self.training else self.value_test

    def select_action(
        self, q_values: np.ndarray, rng: np.random.Generator, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """Sets the inner policy's attribute to `value`, then lets it select."""
        setattr(self.inner_policy, self.attr, self.value)
        if masks is None:
            return self.inner_policy.select_action(q_values, rng)
        return self.inner_policy.select_action(q_values, rng, masks)

    @property
    def metrics(self) -> dict[str, float]:
        """`{attr: value}`, e.g. `{"eps": 0.53}`."""
        return {self.attr: self.value}

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able config with the inner policy's config nested."""
        config = {
            "inner_policy": self.inner_policy.get_config(),
            "attr": self.attr,
            "value_max": self._schedule.start,
            "value_min": self._schedule.end,
            "value_test": self.value_test,
            "nb_steps": self._schedule.nb_steps,
        }
        return {"class_name": type(self).__name__, "config": config}


def policy_from_config(config: dict[str, Any]) -> Policy:
    """Rebuilds a policy from `get_config()`'s output.

    Raises:
        ValueError: If `config` is not a policy config.
    """
    classes = {
        cls.__name__: cls
        for cls in (GreedyQPolicy, EpsGreedyQPolicy, BoltzmannQPolicy, LinearAnnealedPolicy)
    }
    if not isinstance(config, dict) or config.get("class_name") not in classes:
        raise ValueError(f"expected a config with class_name in {sorted(classes)}, got {config!r}")
    kwargs = dict(config.get("config", {}))
    if "inner_policy" in kwargs:
        kwargs["inner_policy"] = policy_from_config(kwargs["inner_policy"])
    if "clip" in kwargs:
        kwargs["clip"] = tuple(kwargs["clip"])
    return classes[config["class_name"]](**kwargs)


def _check_q_values(q_values: np.ndarray) -> np.ndarray:
    q_values = np.asarray(q_values, dtype=np.float64)
    if q_values.ndim != 2 or q_values.shape[1] < 1:
        raise ValueError(f"q_values must have shape (batch, nb_actions), got {q_values.shape}")
    if not np.all(np.isfinite(q_values)):
        raise ValueError(
            "q_values must be finite; got NaN or inf (from non-finite observations, or weights "
            "that are not finite)"
        )
    return q_values


def _check_masks(masks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    masks = np.asarray(masks)
    if masks.shape != shape or masks.dtype != bool or not masks.any(axis=1).all():
        raise ValueError(
            f"masks must be {shape} bools with a legal action in every row, got {masks.dtype} "
            f"of shape {masks.shape}"
        )
    return masks


def _greedy(q_values: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
    """The first argmax of each row, over the legal actions only when (checked) `masks` is given."""
    if masks is None:
        return q_values.argmax(axis=1)
    return np.where(masks, q_values, -np.inf).argmax(axis=1)
