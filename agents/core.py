"""The agent base class: one `fit` loop and one `test` loop for every agent."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from agents import action_masks, agent_state, fit_state, registry
from agents.callback_list import CallbackList
from agents.console import ConsoleReport
from agents.env_driver import DEFAULT_MAX_EPISODE_STEPS, EnvDriver
from agents.transitions import TransitionBatch


class Agent:
    """Base class of all agents, in the keras-rl style.

    A subclass chooses actions in `forward` and learns in `backward`, both on batches (one row per
    sub-env; `backward` gets an `agents.transitions.TransitionBatch`); this class runs the
    episodes, keeps the counters and drives the callbacks (see `agents.callback_list`). `step`
    and `episode` count training env steps and finished training episodes and carry across `fit`
    calls.

    Attributes:
        step: Env steps taken in training so far.
        episode: Training episodes finished so far.
        training: True inside `fit`, False inside `test`.
        stop_training: Set it (from a callback) to stop `fit` after the current step.
        policy: The policy acting in `fit` (None for agents without policy objects).
        test_policy: The policy acting in `test` (None: `policy`); see `acting_policy`.
        interrupted: True when the last run was stopped by KeyboardInterrupt.
        rng: The agent's random generator (exploration, replay sampling); `fit(seed=...)`
            reseeds it.
        env: The env of the run in progress, None outside a run.
    """

    #: Attributes that are this class's persistent state (see `get_state`); each class lists
    #: only its own, its bases' are gathered too.
    state_attributes: ClassVar[tuple[str, ...]] = ()
    #: The attributes holding policies, whose schedules and settings are state.
    policy_attributes: ClassVar[tuple[str, ...]] = ("policy", "test_policy")
    #: Whether `forward` takes the env's action masks (`forward(obs, masks)`); the loop then
    #: passes them when the env gives them (see `agents.action_masks`) and refuses a masked
    #: action. Agents without it ignore masks (Taxi's info masks are advice, not rules).
    uses_action_masks: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Registers every agent class, so that `load_agent` finds it (see `agents.registry`)."""
        super().__init_subclass__(**kwargs)
        registry.register(cls)

    def __init__(self) -> None:
        self.step = 0
        self.episode = 0
        self.training = False
        self.stop_training = False
        self.interrupted = False
        self.compiled = False
        self.policy: Any = None
        self.test_policy: Any = None
        self.rng = np.random.default_rng()
        self.env: Any = None
        self.history: Any = None
        # The training loop in progress (its driver and book), and the loop state a finished
        # fit or a restored checkpoint left for `fit(..., resume=True)`.
        self._fit_loop: tuple[EnvDriver, fit_state.EpisodeBook] | None = None
        self._fit_state: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None

    @property
    def metrics_names(self) -> list[str]:
        """Names of the metrics `backward` returns."""
        return []

    def episode_metrics(self) -> dict[str, float]:
        """Scalars added to each training episode's logs, e.g. the exploration rate."""
        return dict(self.policy.metrics) if self.policy is not None else {}

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """Chooses one action per row of the observation batch `obs`.

        An agent with `uses_action_masks` takes `forward(obs, masks)` too: `masks` (batch, n)
        bools, True for the legal actions of each row, when the env gives them.
        """
        raise NotImplementedError

    def acting_policy(self) -> Any:
        """The policy that chooses the actions now, its `step` and `training` set to the agent's.

        `policy` while training, else `test_policy` (`policy` if there is none). Setting the
        mode on every call keeps annealing to training: a LinearAnnealedPolicy given as
        `test_policy` (or as both) acts with its `value_test` in `test` and in evaluations.
        """
        policy = self.policy if self.training or self.test_policy is None else self.test_policy
        policy.step, policy.training = self.step, self.training
        return policy

    def backward(self, batch: TransitionBatch) -> dict[str, float]:
        """Learns from the transitions of one batched env step.

        Args:
            batch: The valid rows of the step, row k from sub-env `batch.env_ids[k]` (a vector
                env's autoreset rows are left out).

        Returns:
            The metrics computed ({} if none), e.g. {"loss": ..., "mean_q": ...}.
        """
        raise NotImplementedError

    def end_episode(self, env_index: int) -> None:
        """Called when a training episode of sub-env `env_index` ends."""

    def start_episodes(self) -> None:
        """Called when `fit` resets the env: the episodes in progress are gone.

        An agent that keeps state per episode in progress (SARSA's next actions, CEM's
        returns) drops it here; not called when `fit(..., resume=True)` goes on exactly.
        """

    def require_compiled(self, why: str = "its state includes the optimizer's variables") -> None:
        """Raises RuntimeError, saying `why`, unless the agent is compiled."""
        if not self.compiled:
            raise RuntimeError(f"compile the {type(self).__name__} first: {why}")

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

    def get_state(
        self, include_memory: bool = False
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Returns the agent's persistent state, which `set_state` restores exactly.

        This class covers what every agent has: `step`, `episode`, the generator's state, the
        policies' schedule positions and settings (see `policy_attributes`), the attributes
        listed in `state_attributes` (arrays among the arrays, the rest among the values),
        the fit loop's state ("fit_loop", see `agents.fit_state`; once the agent has trained)
        and, with `include_memory`, the replay memory `self.memory`. A subclass with other state
        extends this: `values, arrays = super().get_state(include_memory)`, then it adds its own
        keys (not its bases' keys).

        Args:
            include_memory: Also include the replay memory.

        Returns:
            `(values, arrays)`: a JSON-able dict, and a dict of NumPy arrays (which may share
            memory with the agent).

        Raises:
            ValueError: If `include_memory` is True and the agent has no memory.
        """
        memory = getattr(self, "memory", None)
        if include_memory and memory is None:
            raise ValueError(f"include_memory=True, but a {type(self).__name__} has no memory")
        values, arrays = agent_state.attribute_state(self)
        values.update(
            step=int(self.step),
            episode=int(self.episode),
            rng=agent_state.rng_state(self.rng),
            policies={
                name: agent_state.policy_state(getattr(self, name, None))
                for name in self.policy_attributes
            },
        )
        loop = fit_state.export(*self._fit_loop) if self._fit_loop else self._fit_state
        if loop is not None:
            values[fit_state.KEY] = loop[0]
            arrays.update(loop[1])
        if include_memory:
            values["memory"] = memory.get_config()
            arrays.update(agent_state.memory_arrays(memory))
        return values, arrays

    def set_state(self, values: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restores a state from `get_state`; checks all of it before the agent changes.

        A state without a memory leaves the agent's memory as it is; one without a fit loop
        state leaves none for `fit(..., resume=True)`. A subclass that extends
        `get_state` extends this the same way: it checks its own part, calls
        `super().set_state(values, arrays)` (which checks the rest, then applies the bases'
        part), then applies its own part, which can no longer fail.

        Args:
            values: The state's JSON-able values.
            arrays: The state's arrays.

        Raises:
            ValueError: If a part is missing or does not fit this agent; the message names it
                and what was expected.
        """
        agent_state.require(values, ("step", "episode", "rng", "policies"), "every agent")
        step, episode = (agent_state.checked_count(values, key) for key in ("step", "episode"))
        rng = agent_state.checked_rng(values["rng"])
        policies = values["policies"]
        if not isinstance(policies, dict):
            raise ValueError(f"the state's policies must be a dict, got {policies!r}")
        for name in self.policy_attributes:
            agent_state.check_policy(getattr(self, name, None), policies.get(name), name)
        attributes = agent_state.checked_attributes(self, values, arrays)
        loop = values.get(fit_state.KEY)
        fit_state.check(loop, arrays, self.metrics_names)
        loop_arrays = {k: v.copy() for k, v in arrays.items() if k.startswith(fit_state.PREFIX)}
        memory_state = None
        if "memory" in values:
            memory = getattr(self, "memory", None)
            memory_state = agent_state.checked_memory(memory, values["memory"], arrays)
        self.step, self.episode, self.rng = step, episode, rng
        self._fit_state = None if loop is None else (loop, loop_arrays)
        for name in self.policy_attributes:
            agent_state.restore_policy(getattr(self, name, None), policies.get(name))
        for name, value in attributes.items():
            setattr(self, name, value)
        if memory_state is not None:
            self.memory.load_state_dict(memory_state)

    def save(self, path: str) -> None:
        """Saves the whole agent (config and weights) to directory `path`; see `load_agent`."""
        from agents.saving import save_agent

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
        resume: bool = False,
    ) -> Any:
        """Trains the agent on `env` for `nb_steps` env steps or `nb_episodes` episodes.

        Args:
            env: A Gymnasium env, or a vector env (all sub-envs act in one batch).
            nb_steps: Budget in env steps (keras-rl's); give this or `nb_episodes`.
            nb_episodes: Budget in finished episodes (the tutorial's). Every episode that ends
                in the batched env step reaching it is ended and counted too, so a vector env
                may finish a few more.
            callbacks: Keras callbacks (see `agents.callback_list` for the hooks they get).
            verbose: 0 silent, 1 a summary every `log_interval` steps, 2 a line per episode.
            nb_max_episode_steps: Truncates episodes at this length (a vector env's through a
                partial reset; see `agents.env_driver.EnvDriver`).
            log_interval: Steps between verbose=1 summaries.
            seed: Seeds the env's first reset and the agent's generator, for reproducible runs.
            resume: Go on from the fit loop state the agent holds (its last `fit`'s, or a
                loaded checkpoint's) instead of resetting the env: see `resumes_exactly`.

        Returns:
            A `keras.callbacks.History` with one entry per finished episode.

        Raises:
            RuntimeError: If the agent needs `compile()` first.
            ValueError: If the budget or the env is invalid, or the held loop state is of
                another env.
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
            log_interval, seed, visualize=False, resume=resume,
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

        Every episode ends: it is cut (truncated) at `nb_max_episode_steps` steps if given, and
        otherwise, when the env has no time limit of its own (the `TimeLimit` that
        `gymnasium.make` adds for the id's `max_episode_steps`, or `make_vec(...,
        max_episode_steps=N)`), at `agents.env_driver.DEFAULT_MAX_EPISODE_STEPS` (10,000). A
        vector env is cut through Gymnasium's partial reset (`reset_mask`, which its sync and
        async vector envs have); one that has neither is refused.

        Args:
            env: A Gymnasium env or vector env.
            nb_episodes: Number of episodes to finish (at least: with a vector env, every
                episode ending in the last batched step is reported).
            visualize: Calls `env.render()` after every step (give the env a render_mode).
            callbacks: Keras callbacks, driven as in `fit` with params["mode"] == "test".
            nb_max_episode_steps: Truncates episodes at this length (before the env's own
                limit, if that is longer).
            verbose: 0 silent, 1 or 2 a line per episode.
            seed: Seeds the env's first reset and the agent's generator.

        Returns:
            A `keras.callbacks.History` with one entry per episode: keras-rl's
            `episode_reward`, `nb_episode_steps` and `nb_steps`, and `episode_cut`, True when
            the episode was truncated by a time limit (the env's or the cap) rather than
            terminated: `sum(history.history["episode_cut"])` counts the episodes cut.

        Raises:
            RuntimeError: If the agent needs `compile()` first.
            ValueError: If `nb_episodes` < 1, or a vector env without a time limit of its own
                cannot be cut (see above).
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
        resume: bool = False,
    ) -> Any:
        import keras

        for name, budget in (("nb_steps", nb_steps), ("nb_episodes", nb_episodes)):
            if budget is not None and (
                isinstance(budget, bool)
                or not isinstance(budget, numbers.Real)
                or not math.isfinite(budget)
                or int(budget) != budget
                or budget < 1
            ):
                raise ValueError(f"{name} must be a positive integer, got {budget!r}")
        default_limit = None if training else DEFAULT_MAX_EPISODE_STEPS
        driver = EnvDriver(env, nb_max_episode_steps, default_limit, self.uses_action_masks)
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
        # A run inside a run (a callback testing during fit) hands the outer one back as it was.
        outer = self.training, self.env
        self.training, self.stop_training, self.interrupted, self.env = training, False, False, env
        try:
            hooks.call("on_train_begin", {})
            self._loop(driver, hooks, report, nb_steps, nb_episodes, seed, visualize, resume)
        except KeyboardInterrupt:
            # keras-rl's behaviour: Ctrl+C ends the run cleanly, callbacks still see the end.
            self.interrupted = True
            report.interrupted()
        finally:
            self.training, self.env = outer
            if training and self._fit_loop is not None:
                # Kept for a later checkpoint and `fit(..., resume=True)`, without the env.
                self._fit_state, self._fit_loop = fit_state.export(*self._fit_loop), None
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
        resume: bool,
    ) -> None:
        book = self._start_book(driver, seed, resume)
        run_steps = run_episodes = 0
        step_hooks = hooks.has("on_step_begin") or hooks.has("on_step_end")
        action_hooks = hooks.has("on_action_begin") or hooks.has("on_action_end")
        while True:
            book.in_step = True
            episode_ids = book.episode_ids
            for i in np.flatnonzero(episode_ids < 0):
                hooks.call("on_episode_begin", book.begin(i), {})
            global_step = self.step if self.training else run_steps
            if step_hooks:
                # The rows this step makes transitions: they, and only they, get on_step_end.
                for k in range(int(driver.next_valid.sum())):
                    hooks.call("on_step_begin", global_step + k, {})
            actions = self.act(driver)
            if action_hooks:
                hooks.call("on_action_begin", actions, {})
            batch = driver.step(actions).valid_rows()
            if action_hooks:
                hooks.call("on_action_end", actions, {})
            if visualize:
                driver.env.render()
            rows = batch.env_ids
            metrics: dict[str, float] = {}
            if self.training and len(batch):
                metrics = self.backward(batch)
                self.step += len(batch)
            run_steps += len(batch)
            book.returns[rows] += batch.rewards
            book.lengths[rows] += 1
            if metrics:
                book.metric_counts[rows] += 1
                for name, value in metrics.items():
                    book.metric_sums[name][rows] += value
            if step_hooks:
                step_rows = zip(rows, batch.rewards, batch.actions, strict=True)
                for k, (i, reward, action) in enumerate(step_rows):
                    logs = {"reward": float(reward), "action": _loggable(action),
                            "episode": int(episode_ids[i]), **metrics}  # fmt: skip
                    hooks.call("on_step_end", global_step + k, logs)
            report.step(run_steps, metrics)
            # Every episode that ended in this step is ended, also past an episode budget.
            cuts = batch.truncated & ~batch.terminated
            for i, cut in zip(rows[batch.done], cuts[batch.done], strict=True):
                logs = {
                    "episode_reward": float(book.returns[i]),
                    "nb_episode_steps": int(book.lengths[i]),
                    "nb_steps": self.step if self.training else run_steps,
                }
                if not self.training:
                    logs["episode_cut"] = bool(cut)
                counts = book.metric_counts
                for name, sums in book.metric_sums.items():
                    logs[name] = sums[i] / counts[i] if counts[i] else float("nan")
                if self.training:
                    logs.update(self.episode_metrics())
                    self.end_episode(int(i))
                    self.episode += 1
                hooks.call("on_episode_end", int(episode_ids[i]), logs)
                report.episode(int(episode_ids[i]), logs)
                run_episodes += 1
                book.end(i)
            book.in_step = False
            hooks.call("on_env_step_end", {})
            if (
                self.stop_training
                or (nb_steps is not None and run_steps >= nb_steps)
                or (nb_episodes is not None and run_episodes >= nb_episodes)
            ):
                return

    def act(self, driver: EnvDriver) -> np.ndarray:
        """`forward` on the driver's observations, with and within its action masks if any.

        Raises:
            ValueError: If an action is not legal under the env's masks.
        """
        masks, acting = driver.masks, driver.next_valid
        if masks is None:
            return self.forward(driver.obs)
        # A row that only resets (a final state's, which may allow nothing) allows all.
        masks = np.where(acting[:, None], masks, True)
        actions = self.forward(driver.obs, masks)
        action_masks.require_legal(actions, masks, acting, int(driver.action_space.start))
        return actions

    def _start_book(
        self, driver: EnvDriver, seed: int | None, resume: bool
    ) -> fit_state.EpisodeBook:
        """Restores the held loop state (`resume`) or resets the env; returns the loop's book.

        After a reset, training episode ids go on from the held state's (see
        `agents.fit_state.fresh_book`), else from `episode`.
        """
        names = self.metrics_names if self.training else []
        held = self._fit_state if self.training else None
        book = None
        if resume and held is not None:
            book = fit_state.restore(*held, driver, names)
        if book is None:
            driver.reset(seed=seed)
            if self.training:
                self.start_episodes()
            if held is not None:
                book = fit_state.fresh_book(*held, driver.num_envs, names)
            else:
                first = self.episode if self.training else 0
                book = fit_state.EpisodeBook(driver.num_envs, names, first)
        if self.training:
            self._fit_loop = driver, book
        return book

    @property
    def resumes_exactly(self) -> bool:
        """Whether `fit(..., resume=True)` goes on exactly where the held loop state was.

        True when the agent holds a loop state with the env's state: its last `fit` (or the
        checkpoint it loaded) ended between two batched env steps (not by an exception such as
        Ctrl+C inside one) on an env that saves its state (see `agents.env_driver.env_state`:
        the Blob envs do). Then the env, the episodes in progress (their returns, lengths,
        metric sums and ids) and the current observations go on as if the run had not stopped.

        When False, `fit(..., resume=True)` resets the env (with `fit`'s seed) and starts new
        episodes; the episodes in progress are dropped and the next episodes get their ids
        (never logged), so the ids of finished episodes stay unique and gapless; the counters,
        weights, generator and memory go on as saved.
        """
        return self._fit_state is not None and self._fit_state[0]["driver"] is not None


def _loggable(action: np.ndarray) -> int | np.ndarray:
    """A step's action for the logs: an int for a Discrete space, a copy of a Box action."""
    return int(action) if action.ndim == 0 else action.copy()
