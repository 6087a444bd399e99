"""The agent base class: one `fit` loop and one `test` loop for every agent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from agents.callback_list import CallbackList
from agents.console import ConsoleReport
from agents.env_driver import EnvDriver


class Agent:
    """Base class of all agents, in the keras-rl style.

    A subclass chooses actions in `forward` and learns in `backward`, both on batches (one row per
    sub-env); this class runs the episodes, keeps the counters and drives the callbacks (see
    `agents.callback_list`). `step` and `episode` count training env steps and finished training
    episodes and carry across `fit` calls.

    Attributes:
        step: Env steps taken in training so far.
        episode: Training episodes finished so far.
        training: True inside `fit`, False inside `test`.
        stop_training: Set it (from a callback) to stop `fit` after the current step.
        interrupted: True when the last run was stopped by KeyboardInterrupt.
        rng: The agent's random generator (exploration, replay sampling); `fit(seed=...)`
            reseeds it.
        env: The env of the run in progress, None outside a run.
    """

    #: File name of the agent's weights inside a saved agent's directory.
    weights_filename = "weights"

    def __init__(self) -> None:
        self.step = 0
        self.episode = 0
        self.training = False
        self.stop_training = False
        self.interrupted = False
        self.compiled = False
        self.policy: Any = None
        self.rng = np.random.default_rng()
        self.env: Any = None
        self.history: Any = None

    @property
    def metrics_names(self) -> list[str]:
        """Names of the metrics `backward` returns."""
        return []

    def episode_metrics(self) -> dict[str, float]:
        """Scalars added to each training episode's logs, e.g. the exploration rate."""
        return dict(self.policy.metrics) if self.policy is not None else {}

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """Chooses one action per row of the observation batch `obs`."""
        raise NotImplementedError

    def backward(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        env_ids: np.ndarray,
    ) -> dict[str, float]:
        """Learns from a batch of transitions; returns the metrics computed ({} if none).

        Row k came from sub-env `env_ids[k]` (invalid rows of a vector env are left out).
        """
        raise NotImplementedError

    def end_episode(self, env_index: int) -> None:
        """Called when a training episode of sub-env `env_index` ends."""

    def check_env(self, driver: EnvDriver) -> None:
        """Raises ValueError if the env's spaces do not fit the agent."""

    def get_config(self) -> dict[str, Any]:
        """Returns the JSON-able arguments that rebuild this agent with `from_config`."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Agent:
        """Rebuilds an agent (without its weights) from `get_config()`'s output."""
        return cls(**config)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Writes the learned parameters to `filepath`."""
        raise NotImplementedError

    def load_weights(self, filepath: str) -> None:
        """Reads the learned parameters written by `save_weights`."""
        raise NotImplementedError

    def get_weights(self) -> list[np.ndarray]:
        """Returns copies of the learned parameters (for callbacks such as EarlyStopping)."""
        raise NotImplementedError

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Sets the learned parameters from `get_weights()`'s output."""
        raise NotImplementedError

    def save(self, path: str) -> None:
        """Saves the whole agent (config and weights) to directory `path`; see `load_agent`."""
        from agents.serialization import save_agent

        save_agent(self, path)

    def save_checkpoint(
        self,
        directory: str,
        include_memory: bool = False,
        keep: int = 3,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """Saves the whole training state (see `agents.checkpoint.save_checkpoint`)."""
        from agents.checkpoint import save_checkpoint

        return save_checkpoint(self, directory, include_memory, keep, metadata)

    def load_checkpoint(self, directory: str) -> Any:
        """Restores the newest valid checkpoint (see `agents.checkpoint.load_checkpoint`)."""
        from agents.checkpoint import load_checkpoint

        return load_checkpoint(self, directory)

    def seed(self, seed: int) -> None:
        """Reseeds the agent's random generator."""
        self.rng = np.random.default_rng(seed)

    def fit(
        self,
        env: Any,
        nb_steps: int | None = None,
        nb_episodes: int | None = None,
        callbacks: Iterable[Any] | None = None,
        verbose: int = 1,
        nb_max_episode_steps: int | None = None,
        log_interval: int = 10_000,
        seed: int | None = None,
    ) -> Any:
        """Trains the agent on `env` for `nb_steps` env steps or `nb_episodes` episodes.

        Args:
            env: A Gymnasium env, or a vector env (all sub-envs act in one batch).
            nb_steps: Budget in env steps (keras-rl's); give this or `nb_episodes`.
            nb_episodes: Budget in finished episodes (the tutorial's).
            callbacks: Keras callbacks (see `agents.callback_list` for the hooks they get).
            verbose: 0 silent, 1 a summary every `log_interval` steps, 2 a line per episode.
            nb_max_episode_steps: Truncates single-env episodes at this length.
            log_interval: Steps between verbose=1 summaries.
            seed: Seeds the env's first reset and the agent's generator, for reproducible runs.

        Returns:
            A `keras.callbacks.History` with one entry per finished episode.

        Raises:
            RuntimeError: If the agent needs `compile()` first.
            ValueError: If the budget or the env is invalid.
        """
        if not self.compiled:
            raise RuntimeError(
                f"{type(self).__name__} is not compiled: call agent.compile(optimizer) before fit()"
            )
        if (nb_steps is None) == (nb_episodes is None):
            raise ValueError(
                f"give exactly one of nb_steps and nb_episodes, got {nb_steps=}, {nb_episodes=}"
            )
        return self._run(
            env, True, nb_steps, nb_episodes, callbacks, verbose, nb_max_episode_steps,
            log_interval, seed, visualize=False,
        )  # fmt: skip

    def test(
        self,
        env: Any,
        nb_episodes: int = 1,
        visualize: bool = False,
        callbacks: Iterable[Any] | None = None,
        nb_max_episode_steps: int | None = None,
        verbose: int = 1,
        seed: int | None = None,
    ) -> Any:
        """Runs `nb_episodes` episodes with the test (greedy) policy, without learning.

        Args:
            env: A Gymnasium env or vector env.
            nb_episodes: Number of episodes to finish.
            visualize: Calls `env.render()` after every step (give the env a render_mode).
            callbacks: Keras callbacks, driven as in `fit` with params["mode"] == "test".
            nb_max_episode_steps: Truncates single-env episodes at this length.
            verbose: 0 silent, 1 or 2 a line per episode.
            seed: Seeds the env's first reset and the agent's generator.

        Returns:
            A `keras.callbacks.History` with one entry per episode.
        """
        if not self.compiled:
            raise RuntimeError(
                f"{type(self).__name__} is not compiled: call agent.compile(optimizer) "
                "before test()"
            )
        if nb_episodes < 1:
            raise ValueError(f"nb_episodes must be >= 1, got {nb_episodes}")
        return self._run(
            env, False, None, nb_episodes, callbacks, 2 if verbose else 0, nb_max_episode_steps,
            10_000, seed, visualize=visualize,
        )  # fmt: skip

    def _run(
        self,
        env: Any,
        training: bool,
        nb_steps: int | None,
        nb_episodes: int | None,
        callbacks: Iterable[Any] | None,
        verbose: int,
        nb_max_episode_steps: int | None,
        log_interval: int,
        seed: int | None,
        visualize: bool,
    ) -> Any:
        import keras

        for name, budget in (("nb_steps", nb_steps), ("nb_episodes", nb_episodes)):
            if budget is not None and (
                isinstance(budget, bool) or int(budget) != budget or budget < 1
            ):
                raise ValueError(f"{name} must be a positive integer, got {budget!r}")
        driver = EnvDriver(env, nb_max_episode_steps)
        self.check_env(driver)
        if visualize and getattr(env, "render_mode", None) is None:
            raise ValueError("visualize=True needs an env made with a render_mode, e.g. 'human'")
        if seed is not None:
            self.seed(seed)
        history = keras.callbacks.History()
        params = {
            "nb_steps": nb_steps, "nb_episodes": nb_episodes, "verbose": verbose,
            "mode": "train" if training else "test", "num_envs": driver.num_envs,
            "log_interval": log_interval,
        }  # fmt: skip
        hooks = CallbackList([*(callbacks or []), history], self, params)
        report = ConsoleReport(verbose, log_interval, nb_steps)
        self.training, self.stop_training, self.interrupted, self.env = training, False, False, env
        if self.policy is not None:
            self.policy.training = training
        try:
            hooks.call("on_train_begin", {})
            self._loop(driver, hooks, report, nb_steps, nb_episodes, seed, visualize)
        except KeyboardInterrupt:
            # keras-rl's behaviour: Ctrl+C ends the run cleanly, callbacks still see the end.
            self.interrupted = True
            report.interrupted()
        finally:
            self.env, self.training = None, False
            if self.policy is not None:
                self.policy.training = False
        hooks.call("on_train_end", {})
        return history

    def _loop(
        self,
        driver: EnvDriver,
        hooks: CallbackList,
        report: ConsoleReport,
        nb_steps: int | None,
        nb_episodes: int | None,
        seed: int | None,
        visualize: bool,
    ) -> None:
        n = driver.num_envs
        driver.reset(seed=seed)
        returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
        names = self.metrics_names if self.training else []
        metric_sums: dict[str, np.ndarray] = {m: np.zeros(n) for m in names}
        metric_counts = np.zeros(n, dtype=np.int64)
        episode_ids = np.full(n, -1)
        next_episode = self.episode if self.training else 0
        run_steps = run_episodes = 0
        step_hooks = hooks.has("on_step_begin") or hooks.has("on_step_end")
        while True:
            for i in np.flatnonzero(episode_ids < 0):
                episode_ids[i], next_episode = next_episode, next_episode + 1
                hooks.call("on_episode_begin", int(episode_ids[i]), {})
            global_step = self.step if self.training else run_steps
            if step_hooks:
                for k in range(n):
                    hooks.call("on_step_begin", global_step + k, {})
            actions = self.forward(driver.obs)
            t = driver.step(actions)
            if visualize:
                driver.env.render()
            valid = t.valid
            nb_valid = int(valid.sum())
            metrics: dict[str, float] = {}
            if self.training and nb_valid:
                metrics = self.backward(
                    t.obs[valid], t.actions[valid], t.rewards[valid], t.next_obs[valid],
                    t.terminated[valid], t.truncated[valid], np.flatnonzero(valid),
                )  # fmt: skip
                self.step += nb_valid
            run_steps += nb_valid
            returns[valid] += t.rewards[valid]
            lengths[valid] += 1
            if metrics:
                metric_counts[valid] += 1
                for name, value in metrics.items():
                    metric_sums[name][valid] += value
            if step_hooks:
                for k, i in enumerate(np.flatnonzero(valid)):
                    logs = {"reward": float(t.rewards[i]), "action": int(t.actions[i]),
                            "episode": int(episode_ids[i]), **metrics}  # fmt: skip
                    hooks.call("on_step_end", global_step + k, logs)
            report.step(run_steps, metrics)
            for i in np.flatnonzero(valid & (t.terminated | t.truncated)):
                logs = {
                    "episode_reward": float(returns[i]),
                    "nb_episode_steps": int(lengths[i]),
                    "nb_steps": self.step if self.training else run_steps,
                }
                for name, sums in metric_sums.items():
                    logs[name] = sums[i] / metric_counts[i] if metric_counts[i] else float("nan")
                if self.training:
                    logs.update(self.episode_metrics())
                    self.end_episode(int(i))
                    self.episode += 1
                hooks.call("on_episode_end", int(episode_ids[i]), logs)
                report.episode(int(episode_ids[i]), logs)
                run_episodes += 1
                returns[i], lengths[i], metric_counts[i], episode_ids[i] = 0.0, 0, 0, -1
                for sums in metric_sums.values():
                    sums[i] = 0.0
                if nb_episodes is not None and run_episodes >= nb_episodes:
                    return
            if self.stop_training or (nb_steps is not None and run_steps >= nb_steps):
                return
