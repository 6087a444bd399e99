"""Random processes for exploring continuous actions (keras-rl's names), batched over sub-envs."""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any, ClassVar

import numpy as np

from agents.hyperparameters import check_int, check_number
from agents.schedules import LinearSchedule


class RandomProcess:
    """Noise of shape (size,) per sub-env, whose sigma can anneal with the agent's step.

    Sigma goes linearly from `sigma` at step 0 to `sigma_min` at `n_steps_annealing` and stays
    there; without `sigma_min` it is constant. State that checkpoints keep is in the attributes
    named by `state_names`, arrays of shape (n, size), one row per sub-env seen.

    Attributes:
        size: Length of each noise vector.
        step: The agent's env step, which the agent sets before sampling (used by annealing).
    """

    state_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, size: int, mu: Any, sigma: float, sigma_min: float | None, n_steps_annealing: int
    ) -> None:
        check_int("size", size, 1)
        check_number("sigma", sigma, 0, math.inf, high_open=True)
        if sigma_min is not None:
            check_number("sigma_min", sigma_min, 0, sigma)
        check_int("n_steps_annealing", n_steps_annealing, 1)
        self.size, self.step = int(size), 0
        self.mu = _vector("mu", mu, self.size)
        self.sigma = float(sigma)
        self.sigma_min = None if sigma_min is None else float(sigma_min)
        self.n_steps_annealing = int(n_steps_annealing)
        end = self.sigma if sigma_min is None else self.sigma_min
        self._schedule = LinearSchedule(self.sigma, end, self.n_steps_annealing)
        self._config = {
            "mu": _config_value(mu, self.mu),
            "sigma": self.sigma,
            "sigma_min": self.sigma_min,
            "n_steps_annealing": self.n_steps_annealing,
            "size": self.size,
        }

    @property
    def current_sigma(self) -> float:
        """Sigma at `step`."""
        return self._schedule(self.step)

    def sample(self, rng: np.random.Generator, env_ids: np.ndarray | None = None) -> np.ndarray:
        """Returns float32 noise of shape (len(env_ids), size), one row per given sub-env.

        Args:
            rng: The generator to draw from (the agent's).
            env_ids: Distinct sub-env ids >= 0; None means one env, id 0.

        Raises:
            TypeError: If `rng` is not a NumPy Generator.
            ValueError: If `env_ids` is not a 1-D array of distinct integers >= 0.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {rng!r}")
        ids = np.zeros(1, np.int64) if env_ids is None else np.asarray(env_ids)
        if ids.size == 0:
            ids = ids.reshape(0).astype(np.int64)
        if ids.ndim != 1 or ids.dtype.kind not in "iu" or (ids < 0).any():
            raise ValueError(f"env_ids must be a 1-D array of integers >= 0, got {env_ids!r}")
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"env_ids must be distinct, got {ids.tolist()}")
        return self._sample(rng, ids.astype(np.int64)).astype(np.float32)

    def _sample(self, rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reset_states(self, env_id: int | None = None) -> None:
        """Resets sub-env `env_id`'s state (None: every sub-env's), as at an episode's start."""
        if env_id is not None:
            check_int("env_id", env_id, 0)

    def get_config(self) -> dict[str, Any]:
        """Returns a JSON-able `{"class_name": ..., "config": {...}}` for `process_from_config`."""
        return {"class_name": type(self).__name__, "config": copy.deepcopy(self._config)}

    def get_state(self) -> dict[str, np.ndarray]:
        """Returns copies of the state arrays by name (none for a process without state)."""
        return {name: getattr(self, name).copy() for name in self.state_names}

    def check_state(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Returns float64 copies of `get_state()`-like `arrays` once they are checked.

        Raises:
            ValueError: If names are missing or unexpected, or an array is not a finite float
                array of shape (n, size); the message names it.
        """
        if not isinstance(arrays, dict) or set(arrays) != set(self.state_names):
            got = sorted(arrays) if isinstance(arrays, dict) else arrays
            raise ValueError(
                f"a {type(self).__name__}'s state has arrays {list(self.state_names)}, got {got!r}"
            )
        checked = {}
        for name, value in arrays.items():
            array = np.asarray(value)
            if array.dtype.kind != "f" or array.ndim != 2 or array.shape[1] != self.size:
                raise ValueError(
                    f"state array {name!r} must be a float array of shape (n, {self.size}), "
                    f"got {array.dtype} of shape {array.shape}"
                )
            if not np.isfinite(array).all():
                raise ValueError(f"state array {name!r} must be finite, got NaN or inf")
            checked[name] = array.astype(np.float64)
        return checked

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restores `get_state()`'s output; checks all of it first (see `check_state`)."""
        for name, array in self.check_state(arrays).items():
            setattr(self, name, array)


class GaussianWhiteNoiseProcess(RandomProcess):
    """Independent noise mu + sigma_t * N(0, 1) at each step; it keeps no state.

    Args:
        mu: Mean, a number or an array broadcastable to (size,).
        sigma: Standard deviation at step 0, >= 0.
        sigma_min: Standard deviation from `n_steps_annealing` on, in [0, sigma]; None: constant.
        n_steps_annealing: Steps the annealing takes, >= 1.
        size: Length of each noise vector, >= 1.

    Raises:
        ValueError: If an argument is out of range, not finite, or of the wrong size.
    """

    def __init__(
        self,
        mu: Any = 0.0,
        sigma: float = 1.0,
        sigma_min: float | None = None,
        n_steps_annealing: int = 1000,
        size: int = 1,
    ) -> None:
        super().__init__(size, mu, sigma, sigma_min, n_steps_annealing)

    def _sample(self, rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
        return self.mu + self.current_sigma * rng.standard_normal((len(ids), self.size))


class OrnsteinUhlenbeckProcess(RandomProcess):
    """Noise that reverts to mu: x += theta (mu - x) dt + sigma_t sqrt(dt) N(0, 1).

    Each sub-env has its own x (the rows of `x_prev`), which starts at `x0` (zeros if None).
    For small dt its stationary standard deviation is sigma / sqrt(2 theta).

    Args:
        theta: Rate of reversion to mu, >= 0.
        mu: Mean, a number or an array broadcastable to (size,).
        sigma: Noise scale at step 0, >= 0.
        dt: Time step, > 0.
        x0: Starting value, like mu; None: zeros.
        size: Length of each noise vector, >= 1.
        sigma_min: Noise scale from `n_steps_annealing` on, in [0, sigma]; None: constant.
        n_steps_annealing: Steps the annealing takes, >= 1.

    Raises:
        ValueError: If an argument is out of range, not finite, or of the wrong size.
    """

    state_names = ("x_prev",)

    def __init__(
        self,
        theta: float,
        mu: Any = 0.0,
        sigma: float = 1.0,
        dt: float = 1e-2,
        x0: Any = None,
        size: int = 1,
        sigma_min: float | None = None,
        n_steps_annealing: int = 1000,
    ) -> None:
        super().__init__(size, mu, sigma, sigma_min, n_steps_annealing)
        check_number("theta", theta, 0, math.inf, high_open=True)
        check_number("dt", dt, 0, math.inf, low_open=True, high_open=True)
        self.theta, self.dt = float(theta), float(dt)
        self.x0 = None if x0 is None else _vector("x0", x0, self.size)
        self.x_prev = np.zeros((0, self.size))
        self._config.update(theta=self.theta, dt=self.dt, x0=_config_value(x0, self.x0))

    def _start(self) -> np.ndarray:
        return np.zeros(self.size) if self.x0 is None else self.x0

    def _sample(self, rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
        missing = int(ids.max(initial=-1)) + 1 - len(self.x_prev)
        if missing > 0:
            self.x_prev = np.vstack([self.x_prev, np.tile(self._start(), (missing, 1))])
        x = self.x_prev[ids]
        noise = self.current_sigma * math.sqrt(self.dt) * rng.standard_normal(x.shape)
        x = x + self.theta * (self.mu - x) * self.dt + noise
        self.x_prev[ids] = x
        return x

    def reset_states(self, env_id: int | None = None) -> None:
        """Sets sub-env `env_id`'s x (None: every sub-env's) back to x0 (zeros if None)."""
        super().reset_states(env_id)
        rows = slice(None) if env_id is None else slice(env_id, env_id + 1)
        self.x_prev[rows] = self._start()


def process_from_config(config: dict[str, Any]) -> RandomProcess:
    """Rebuilds a process from `get_config()`'s output.

    Raises:
        ValueError: If `config` is not a random process's config.
    """
    classes = {cls.__name__: cls for cls in (GaussianWhiteNoiseProcess, OrnsteinUhlenbeckProcess)}
    if not isinstance(config, dict) or config.get("class_name") not in classes:
        raise ValueError(f"expected a config with class_name in {sorted(classes)}, got {config!r}")
    return classes[config["class_name"]](**config.get("config", {}))


def _vector(name: str, value: Any, size: int) -> np.ndarray:
    """`value` (a number or an array broadcastable to (size,)) as a float64 array (size,)."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        array = np.broadcast_to(array.astype(np.float64), (size,)).copy()
    except ValueError:
        raise ValueError(
            f"{name} must be a number or an array broadcastable to the size ({size},), "
            f"got shape {array.shape}"
        ) from None
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return array


def _config_value(value: Any, array: np.ndarray | None) -> float | list[float] | None:
    """A number as given (a float), an array as a list of its `array` (size,), or None."""
    if array is None:
        return None
    return float(value) if isinstance(value, numbers.Real) else array.tolist()


def check_process(process: Any, nb_actions: int) -> None:
    """Raises unless `process` is None or a random process of size `nb_actions`.

    Raises:
        TypeError: If it is not a process of this module.
        ValueError: If its size is not `nb_actions`.
    """
    if process is None:
        return
    if not isinstance(process, RandomProcess):
        raise TypeError(f"random_process must be a random process (agents.random), got {process!r}")
    if process.size != nb_actions:
        raise ValueError(
            f"the random process has size {process.size}, the agent nb_actions={nb_actions}; "
            "give the process size=nb_actions"
        )


def explore(
    process: RandomProcess | None, step: int, actions: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """`actions` (one row per sub-env) plus the process's noise at the agent's `step`."""
    if process is None:
        return actions
    process.step = step
    return actions + process.sample(rng, np.arange(len(actions)))
