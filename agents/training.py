"""A whole training run, from Python: what `scripts/train_blob.py` runs.

    result = training.train("Blob-v0", agent="dqn", steps=60_000, seed=0, logdir="runs")
    result = training.resume(result.run_dir, steps=80_000)   # the same run, going on
    print(result.evaluation)                                  # mean return, success, ratio

A run makes its env and agent from `agents.presets`, logs to one TensorBoard run dir
`<logdir>/<agent>-<env id>-<time>`, shows a progress bar, validates every `val_every` env steps
on seeds of their own and keeps the best weights (`<run dir>/best`, `validation.json`),
checkpoints the whole training state every `checkpoint_interval` env steps and at the end
(`<run dir>/checkpoints`), saves the agent, evaluates it greedily on seeded episodes (with the
ratio to the exact optimum on Blob games) and writes `<run dir>/results.json`. SIGINT and
SIGTERM stop training cleanly: a checkpoint and the agent so far are saved first.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium

from agents import presets
from agents.atomic import TEMP_PREFIX, write_json
from agents.checkpoint import CheckpointError, find_checkpoint, load_checkpoint
from agents.run_config import RESUMABLE, RunConfig
from agents.scoring import (
    EVAL_SEED_START,
    describe_evaluation,
    evaluate_agent,
    evaluation_seeds,
    validation,
    validation_interval,
)
from agents.serialization import CONFIG_FILENAME, load_agent

#: Inside a run dir: the checkpoints, the best validated agent, its record, the results.
CHECKPOINTS, BEST, VALIDATION, RESULTS = "checkpoints", "best", "validation.json", "results.json"


class SaveError(OSError):
    """A run could not write all it had to (a full disk, say); it saved what it could."""


class FitError(RuntimeError):
    """Training could not go on (collectors that keep failing); the run saved what it had."""


#: How a run trains: `fit(config, agent, env, **budget_and_options)` returns a Keras History,
#: as `agent.fit(env, ...)` does (see `local_fit`; `agents.distributed.ApeX` is another).
Fit = Callable[..., Any]


def local_fit(config: RunConfig, agent: Any, env: Any, **kwargs: Any) -> Any:
    """Trains in this process: `agent.fit(env, **kwargs)`."""
    return agent.fit(env, **kwargs)


class TrainResult(NamedTuple):
    """What a run leaves: its directory, the trained agent and `results.json`'s contents.

    Attributes:
        run_dir: The run's directory (TensorBoard log, checkpoints, saved agent, results).
        agent: The trained agent, with the weights kept (the best validated ones).
        results: Everything written to `<run_dir>/results.json`.
    """

    run_dir: Path
    agent: Any
    results: dict[str, Any]

    @property
    def evaluation(self) -> dict[str, Any] | None:
        """The final greedy evaluation (mean return, success rate, ratio), or None."""
        return self.results["evaluation"]

    @property
    def interrupted(self) -> bool:
        """Whether a signal or Ctrl+C stopped the run before its budget."""
        return self.results["interrupted"]

    @property
    def exit_status(self) -> int:
        """0, or the shell's status for the interruption: 128 + the signal's number (130)."""
        if not self.interrupted:
            return 0
        return 128 + signal.Signals[self.results.get("signal") or "SIGINT"].value


def train(
    env_id: str = "Blob-v0",
    agent: str = "dqn",
    steps: int | None = None,
    seed: int = 0,
    *,
    hyper: Any = None,
    callbacks: Sequence[Any] = (),
    verbose: bool = True,
    fit: Fit = local_fit,
    **settings: Any,
) -> TrainResult:
    """Trains `agent` on `env_id` with the presets' hyperparameters: a whole run.

    Args:
        env_id: A registered Gymnasium id.
        agent: "dqn" or "qlearning".
        steps: Env steps to train (default: the preset's budget).
        seed: Seeds the env, the agent and the network.
        hyper: The agent's hyperparameters (a `presets.DQNConfig` / `QLearningConfig`;
            default: `presets.config(agent, env_id)`).
        callbacks: Extra Keras callbacks for `fit`.
        verbose: Show the progress bar and print the summary.
        fit: How to train (default: in this process; `agents.distributed.train` gives its own).
        **settings: Other `RunConfig` fields: `episodes`, `logdir`, `out`, `eval_episodes`,
            `val_episodes`, `val_every`, `checkpoint_interval`, `save_memory`, `env_kwargs`,
            `workers`.

    Returns:
        The run's directory, agent and results.

    Raises:
        ValueError: If a setting is invalid (found before anything is trained or written).
    """
    hyper = hyper or presets.config(agent, env_id)
    if steps is not None:
        hyper = dataclasses.replace(hyper, steps=steps)
    try:
        config = RunConfig(agent=agent, env_id=env_id, seed=seed, hyper=hyper, **settings)
    except TypeError as error:
        raise ValueError(f"unknown run setting: {error}") from error
    return run(config, callbacks=callbacks, verbose=verbose, fit=fit)


def resume(
    run_dir: str | Path,
    steps: int | None = None,
    *,
    callbacks: Sequence[Any] = (),
    verbose: bool = True,
    fit: Fit = local_fit,
    **changes: Any,
) -> TrainResult:
    """Continues the run in `run_dir` from its newest checkpoint, with its settings and log.

    What a resume guarantees:

    - On the Blob envs (single or vector) and any env that saves its state (see
      `agents.env_driver.env_state`), stopped anywhere (by a signal or `stop_training`, or
      killed after a periodic checkpoint): the run goes on exactly. With `save_memory`, N steps
      against a run stopped at any step and resumed to N give the same weights (bit for bit),
      `step`, `episode`, episode ids and TensorBoard points on the episode axis; the env's
      state (cells, step counts, autoreset flags, time limit, random generator), the episodes
      in progress and the current observations are in the checkpoint, and so is the open
      `train/` window of the TensorBoard log (a stopped `fit` writes no partial window), so the
      `train/` points are the same too. A run killed after a checkpoint writes the points
      after it again, with the same values. Not the same: what is timed
      (`train/steps_per_second`, seconds).
    - On other envs: the counters, weights, optimizer, generators and (with `save_memory`) the
      memory go on as saved, but the env is reseeded (`(seed + step) % EVAL_SEED_START`) and the
      episodes in progress are dropped: training goes on from new episodes, the first of which
      get the dropped ones' ids (never logged), so episode ids stay unique and gapless. The same
      holds for a checkpoint taken inside a batched env step (a user's callback saving in
      `on_step_end`, a Ctrl+C). Without `save_memory` the memory refills before the DQN trains
      again.

    Args:
        run_dir: A run's directory (`TrainResult.run_dir`).
        steps: The new total budget in env steps (default: the run's own).
        callbacks: Extra Keras callbacks for `fit`.
        verbose: Show the progress bar and print the summary.
        fit: How to train (default: in this process; `agents.distributed.resume` gives its own).
        **changes: Other settings a resumed run may change: `episodes` (a new total),
            `eval_episodes`, `checkpoint_interval`, `save_memory`, `workers`.

    Raises:
        ValueError: If `run_dir` has no loadable checkpoint of a run, or a change is not allowed.
    """
    unknown = sorted(set(changes) - set(RESUMABLE))
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)}: a resumed run keeps its settings; only "
            f"{', '.join(RESUMABLE)} may change"
        )
    config = saved_config(run_dir)
    if steps is not None and changes.get("episodes") is not None:
        raise ValueError("give steps or episodes, not both")
    if steps is not None:
        config = dataclasses.replace(
            config, episodes=None, hyper=dataclasses.replace(config.hyper, steps=steps)
        )
    config = dataclasses.replace(config, **changes)
    return run(config, resume_from=Path(run_dir), callbacks=callbacks, verbose=verbose, fit=fit)


def saved_config(run_dir: str | Path) -> RunConfig:
    """The settings of the run in `run_dir`, from its newest checkpoint.

    Raises:
        ValueError: If it has no loadable checkpoint written by a run, or its env id is not
            registered (a `module:` prefix is dropped, not imported).
    """
    try:
        info = find_checkpoint(Path(run_dir) / CHECKPOINTS)
    except (FileNotFoundError, CheckpointError) as error:
        raise ValueError(f"cannot resume {str(run_dir)!r}: {error}") from error
    try:
        config = RunConfig.from_json(info.metadata.get("run_config"))
    except ValueError as error:
        raise ValueError(
            f"cannot resume {str(run_dir)!r}: {info.path} holds no run settings of this version: "
            f"{error}"
        ) from error
    # An id read from a file is never imported: only a registered id (prefix dropped) is used.
    env_id = config.env_id.rpartition(":")[2]
    if env_id not in gymnasium.registry:
        raise ValueError(
            f"cannot resume {str(run_dir)!r}: {info.path} names the env id {config.env_id!r}, "
            "which is not registered; import the module that registers it before resuming"
        )
    return dataclasses.replace(config, env_id=env_id)


def run(
    config: RunConfig,
    resume_from: Path | None = None,
    callbacks: Sequence[Any] = (),
    verbose: bool = True,
    fit: Fit = local_fit,
) -> TrainResult:
    """Runs a training run of `config` (continuing `resume_from`, a run dir, if given).

    Raises:
        ValueError: If the settings are invalid, the output cannot be written, or the
            checkpoint does not load into the agent; all before training. A config with
            `workers` needs the distributed fit (`agents.distributed.train`).
        SaveError: If a checkpoint, the agent or results.json could not be written (a full
            disk); what could be was saved, and results.json lists the errors.
        FitError: If `fit` could not go on; the checkpoint, agent and results were saved.
    """
    start = time.perf_counter()
    config = config.resolved()
    if config.workers and fit is local_fit:
        raise ValueError(
            f"workers={config.workers}: a run with collectors trains through "
            "agents.distributed.train or .resume (pip install -e '.[scale]')"
        )
    out = Path(config.out) if config.out else None
    if out and out.exists() and (not out.is_dir() or not _is_empty_or_agent(out)):
        raise ValueError(f"out {str(out)!r} exists and is not a saved agent's directory")
    env = presets.make_env(config.agent, config.env_id, config.hyper, **config.env_kwargs)
    try:
        agent = presets.build(config.agent, env, config.hyper, seed=config.seed)
        if resume_from is None:
            _check_writable("logdir", Path(config.logdir))
        else:
            _check_writable("run dir", resume_from)
        if out:
            _check_writable("out", out)
        board, resumed = _tensorboard(config, agent, resume_from)
    except BaseException:
        env.close()
        raise
    return _train(config, env, agent, board, resumed, start, callbacks, verbose, fit)


def _tensorboard(config: RunConfig, agent: Any, resume_from: Path | None) -> tuple[Any, Any]:
    """The run's TensorBoard log, and the checkpoint a resumed run's agent was restored from.

    A new run gets a new run dir; a resumed one goes on in its own, its agent restored.
    """
    from callbacks import ModifiedTensorBoard

    if resume_from is None:
        try:
            return ModifiedTensorBoard(name=config.run_name, root_dir=config.logdir), None
        except (TypeError, ValueError, OSError) as error:
            raise ValueError(f"logdir {config.logdir!r}: {error}") from error
    try:
        resumed = load_checkpoint(agent, resume_from / CHECKPOINTS)
    except (FileNotFoundError, ValueError) as error:
        raise ValueError(f"cannot resume {str(resume_from)!r}: {error}") from error
    # The same run dir: this writer's events file continues the axes (agent step, episode).
    board = ModifiedTensorBoard(log_dir=resume_from)
    board.step = agent.episode
    window = resumed.metadata.get("tensorboard")
    if window is not None:
        try:  # the open training window, so the train/ points are the uninterrupted run's
            board.set_state(window)
        except ValueError as error:
            warnings.warn(f"{resumed.path}: {error}; the train/ window starts anew", stacklevel=2)
    return board, resumed


def _train(
    config: RunConfig,
    env: Any,
    agent: Any,
    board: Any,
    resumed: Any,
    start: float,
    extra_callbacks: Sequence[Any],
    verbose: bool,
    fit: Fit,
) -> TrainResult:
    """Trains, checkpoints, saves, evaluates and writes results.json: the rest of a run."""
    from callbacks import PeriodicCheckpoint, StopOnSignal, TrainIntervalLogger

    run_dir = Path(board.log_dir).resolve()
    out = Path(config.out).resolve() if config.out else run_dir / "agent"
    if config.episodes is None:
        budget = {"nb_steps": config.hyper.steps - agent.step}
        interval = validation_interval(config.hyper.steps)
    else:
        budget, interval = {"nb_episodes": config.episodes - agent.episode}, 10_000
    progress = [TrainIntervalLogger(interval=interval)] if verbose else []
    keep_best = _validation(config, run_dir, config.val_every or interval, resumed is not None)
    checkpoints = PeriodicCheckpoint(
        run_dir / CHECKPOINTS,
        config.checkpoint_interval,
        include_memory=config.save_memory,
        metadata=lambda: {"run_config": config.to_json(), "tensorboard": board.get_state()},
    )
    results: dict[str, Any] = {"agent": config.agent, "env_id": config.env_id}
    results.update(env_kwargs=_env_kwargs(config), seed=config.seed, run_dir=str(run_dir))
    if resumed is not None:
        results["resumed_from"] = str(resumed.path)
    errors: list[str] = []
    failure: FitError | None = None
    with StopOnSignal() as stop:
        fit_start = time.perf_counter()
        try:
            if min(budget.values()) > 0:
                # A resumed agent keeps its restored generator and goes on from its loop state:
                # exactly where it holds the env's (see `resume`), else after a reseed.
                seed = config.seed if resumed is None else None
                if resumed is not None and not agent.resumes_exactly:
                    env.reset(seed=(config.seed + agent.step) % EVAL_SEED_START)
                fit_callbacks = [*progress, board, checkpoints, stop, *keep_best, *extra_callbacks]
                history = fit(
                    config, agent, env, callbacks=fit_callbacks, verbose=0, seed=seed,
                    resume=resumed is not None, **budget,
                )  # fmt: skip
                results.update(getattr(history, "results", {}))
            interrupted = agent.interrupted or stop.signum is not None
            results.update(
                interrupted=interrupted, signal=stop.signal_name, env_steps=agent.step,
                episodes=agent.episode, train_seconds=time.perf_counter() - fit_start,
            )  # fmt: skip
            _save(results, errors, checkpoints, keep_best, agent, out)
            if config.eval_episodes and not interrupted and not errors:
                try:
                    seeds = evaluation_seeds(config.eval_episodes)
                    results["evaluation"] = evaluate_agent(
                        agent, config.env_id, seeds, _env_kwargs(config)
                    )
                except KeyboardInterrupt:
                    results["interrupted"] = True
                    results["signal"] = stop.signal_name
            if results["evaluation"]:
                board.step = agent.step  # evaluation scalars on the env-step axis, as train/ ones
                scalars = results["evaluation"].items()
                board.update_stats(**{f"eval/{k}": v for k, v in scalars if isinstance(v, float)})
        except (OSError, FitError) as error:  # from fit: a checkpoint could not be written, ...
            failure = error if isinstance(error, FitError) else None
            results.update(getattr(error, "results", {}))
            errors.append(f"training stopped: {error}")
            results.update(
                interrupted=True, signal=stop.signal_name, env_steps=agent.step,
                episodes=agent.episode, train_seconds=time.perf_counter() - fit_start,
            )  # fmt: skip
            _save(results, errors, checkpoints, keep_best, agent, out)
        finally:
            board.close()
            env.close()
    results["wall_seconds"] = time.perf_counter() - start
    results["config"] = config.to_json()
    results["agent_config"] = {k: v for k, v in agent.get_config().items() if k != "model"}
    if errors:
        results["errors"] = errors
    try:
        write_json(run_dir / RESULTS, results)
    except OSError as error:
        errors.append(f"cannot write {RESULTS}: {error}")
    if failure is not None:
        raise failure
    if errors:
        raise SaveError("; ".join(errors))
    if verbose:
        print(report(results))
    return TrainResult(run_dir, agent, results)


def _save(
    results: dict[str, Any],
    errors: list[str],
    checkpoints: Any,
    keep_best: list[Any],
    agent: Any,
    out: Path,
) -> None:
    """Saves the checkpoint, then the agent with the best weights kept; notes what failed."""
    checkpoints.set_model(agent)
    results.update(checkpoint=None, saved_agent=None, evaluation=None)
    try:
        results["checkpoint"] = str(checkpoints.save().path)
    except OSError as error:
        errors.append(f"cannot save the checkpoint: {error}")
    # After the checkpoint, which keeps the last weights to go on training from.
    for best in keep_best:
        results["validation"] = {"best": best.best, "points": best.points}
        best.set_model(agent)
        best.restore_best()
    try:
        agent.save(str(out))
        results["saved_agent"] = str(out)
    except OSError as error:
        errors.append(f"cannot save the agent: {error}")


def _check_writable(what: str, directory: Path) -> None:
    """Makes `directory` if missing and writes and removes a file in it, before training.

    Raises:
        ValueError: If that fails; the message names `what` and the directory.
    """
    probe = directory / f"{TEMP_PREFIX}probe-{os.getpid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"{what} {str(directory)!r} cannot be written: {error}") from error


def _env_kwargs(config: RunConfig) -> dict[str, Any]:
    """The keyword arguments of the run's evaluation envs (the training env's, full length)."""
    return presets.env_kwargs(config.hyper, config.env_id, **config.env_kwargs)


def _validation(config: RunConfig, run_dir: Path, every: int, resumed: bool) -> list[Any]:
    """The run's keep-best callback (none with val_episodes 0), saving each new best.

    A resumed run goes on from the best its earlier part saved to `<run dir>/best`, or, with a
    warning, without it when `best/` or `validation.json` is missing or damaged.
    """
    if not config.val_episodes:
        return []
    record = run_dir / VALIDATION
    best, best_weights = _earlier_best(run_dir) if resumed else (None, None)

    def save_best(agent: Any, point: dict[str, Any]) -> None:
        agent.save(str(run_dir / BEST))
        write_json(record, {"best": point})

    return [
        validation(
            config.env_id,
            config.val_episodes,
            every,
            _env_kwargs(config),
            best=best,
            best_weights=best_weights,
            on_best=save_best,
        )  # fmt: skip
    ]


def _earlier_best(run_dir: Path) -> tuple[dict[str, Any] | None, list[Any] | None]:
    """The best point and weights an earlier part of the run saved; (None, None) if none.

    Warns, and returns (None, None), when only one of the two is there or either is unreadable.
    """
    record, saved = run_dir / VALIDATION, run_dir / BEST
    if not record.exists() and not saved.exists():
        return None, None  # no validation point was the best yet
    try:
        best = json.loads(record.read_text(encoding="utf-8"))["best"]
        score = best["mean_return"]
        if isinstance(score, bool) or not isinstance(score, (int, float)) or score != score:
            raise ValueError(f"its mean_return is {score!r}, not a number")
        return best, load_agent(saved).get_weights()
    except (OSError, ValueError, KeyError, TypeError) as error:
        warnings.warn(
            f"{run_dir}: the earlier best ({BEST}/, {VALIDATION}) cannot be read ({error}); "
            "going on without the earlier best",
            stacklevel=3,
        )
        return None, None


def _is_empty_or_agent(path: Path) -> bool:
    return not any(path.iterdir()) or (path / CONFIG_FILENAME).is_file()


def report(results: dict[str, Any]) -> str:
    """The lines a run prints at its end."""
    lines = []
    if results["interrupted"]:
        cause = f"by {results['signal']}" if results.get("signal") else "by the user"
        lines.append(
            f"interrupted {cause}: training stopped early; continue it with "
            f"`python scripts/train_blob.py --resume {results['run_dir']}` (from Python: "
            "agents.training.resume(run_dir))"
        )
    lines.append(
        f"trained {results['agent']} on {results['env_id']} for {results['env_steps']} env steps "
        f"({results['episodes']} episodes) in {results['train_seconds']:.1f} s"
    )
    lines.append(f"saved the agent to {results['saved_agent']} (load: agents.load_agent(path))")
    lines.append(f"checkpoint: {results['checkpoint']}")
    best = (results.get("validation") or {}).get("best")
    if best:
        lines.append(
            f"kept the weights of step {best['steps']}, the best on validation ("
            + describe_evaluation(best).removeprefix("greedy evaluation ")
            + ")"
        )
    if results["evaluation"]:
        lines.append(describe_evaluation(results["evaluation"]))
    lines.append(f"results: {Path(results['run_dir']) / RESULTS}")
    lines.append(f"TensorBoard: tensorboard --logdir {Path(results['run_dir']).parent}")
    return "\n".join(lines)
