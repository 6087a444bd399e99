"""Train a DQN or tabular Q-learning agent on Blob (or any Discrete-action Gymnasium env).

    python scripts/train_blob.py                       # the default DQN on Blob-v0
    python scripts/train_blob.py --agent qlearning     # tabular Q-learning on Blob's coords
    python scripts/train_blob.py --env-id CartPole-v1 --network mlp --steps 50000

A run shows a progress bar, logs to TensorBoard in a new run dir `<logdir>/<agent>-<env>-<time>`
(one events file), saves the agent (`agents.load_agent(path)` loads it back, ready to `test()`),
evaluates it greedily on `--eval-episodes` seeded episodes, prints the mean return, the success
rate and the ratio to the exact optimum (Blob only), and writes them to `results.json` in the run
dir. While it trains, the agent is validated every `--val-every` env steps on `--val-episodes`
episodes of other seeds, and the weights that did best there are the ones saved and evaluated (a
greedy policy can get worse as it trains on); `<run dir>/best` holds them. Every
`--checkpoint-interval` env steps and at the end it checkpoints the whole training state to
`<run dir>/checkpoints` (`agents.checkpoint`); `--resume RUN_DIR` continues that run from its newest
checkpoint, counters, epsilon and TensorBoard axes going on. Ctrl+C (SIGINT) or SIGTERM stops
training cleanly: a checkpoint and the agent so far are saved, the log closed, and the exit status
is 130 or 143 (a second signal stops at once).

The default hyperparameters of each agent are the fields of `DQNConfig` and `QLearningConfig`
below, and nowhere else: every field is also a command-line option.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

if __package__ in (None, ""):  # run as `python scripts/train_blob.py`: import `scripts` too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts._training import (  # noqa: E402
    EVAL_SEED_START,
    NETWORKS,
    VALIDATION_SEED_START,
    Setup,
    check_episodes,
    describe_evaluation,
    evaluate_agent,
    evaluation_seeds,
    keep_best,
    prepare,
    validation_interval,
    write_json,
)


def _option(
    default: Any, help: str | None, kind: type | None = None, choices: Sequence[str] = ()
) -> Any:
    """A config field that is also a command-line option (`help=None`: not an option)."""
    metadata = {"help": help, "type": kind or type(default), "choices": tuple(choices)}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class DQNConfig:
    """Hyperparameters of `--agent dqn`; each field is the option `--<field-name>`."""

    steps: int = _option(60_000, "env steps to train")
    network: str = _option(
        "blob_cnn",
        "Q-network: blob_cnn (player-centred view + dense head), tutorial_cnn (the tutorial's "
        "Conv2D(256) x 2), or mlp (for flat vector observations such as CartPole's)",
        choices=NETWORKS,
    )
    hidden_units: int = _option(128, "width of the hidden layers of blob_cnn and mlp")
    double: bool = _option(True, "double DQN: choose the bootstrap action with the online net")
    dueling: bool = _option(True, "dueling head (value + advantages)")
    lr: float = _option(1e-3, "Adam's learning rate")
    gamma: float = _option(0.95, "discount factor")
    batch_size: int = _option(64, "transitions per update")
    memory_size: int = _option(50_000, "replay memory capacity in transitions")
    warmup: int = _option(1_000, "env steps before the first update")
    target_update: float = _option(
        0.01, "target network: hard copy every this many env steps (>= 1), or soft tau (< 1)"
    )
    train_interval: float = _option(1, "env steps per update (below 1: several updates a step)")
    eps_start: float = _option(1.0, "exploration rate at the start")
    eps_end: float = _option(0.05, "exploration rate at the end of the schedule")
    eps_steps: int = _option(5_000, "env steps over which epsilon anneals linearly")
    reward_scale: float = _option(0.1, "rewards are multiplied by this before learning")
    reward_clip: float = _option(
        30.0,
        "rewards are clipped to [-this, this] as they are stored (Blob's -300 enemy to -30, "
        "still the worst outcome; inf: no clipping)",
    )
    delta_clip: float = _option(
        1.0, "Huber loss threshold, in scaled reward units (inf: the squared error)"
    )
    n_step: int = _option(1, "n-step returns: rewards summed per transition")
    prioritized: bool = _option(True, "prioritized experience replay (PrioritizedMemory)")
    num_envs: int = _option(8, "sub-envs acting in one batch (a vector env when > 1)")
    train_episode_steps: int = _option(
        30,
        "training episodes are truncated (so they bootstrap) after this many steps, for more "
        "start states per env step; 0 keeps the env's own limit (evaluation always does)",
    )


@dataclass(frozen=True)
class QLearningConfig:
    """Hyperparameters of `--agent qlearning`; None means QLearningAgent's own default."""

    steps: int = _option(6_000_000, "env steps to train")
    tutorial: bool = _option(False, "the tutorial's settings (QLearningAgent.tutorial)")
    lr: float | None = _option(None, "step size of the table update", float)
    gamma: float | None = _option(None, "discount factor", float)
    eps_start: float | None = _option(None, "exploration rate at the start", float)
    eps_end: float | None = _option(None, "floor of the exploration rate", float)
    eps_decay: float | None = _option(
        None, "epsilon is multiplied by this after each episode", float
    )
    initial_q: float | None = _option(None, "initial value of every table entry", float)
    num_envs: int = _option(64, "sub-envs acting in one batch (a vector env when > 1)")
    #: Blob's observation for the table: the tutorial's (player - food, player - enemy) offsets.
    obs_type: str = _option("coords", None)


AGENT_CONFIGS: dict[str, type] = {"dqn": DQNConfig, "qlearning": QLearningConfig}


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; `hyper` holds the chosen agent's hyperparameters."""

    agent: str = "dqn"
    env_id: str = "Blob-v0"
    episodes: int | None = None
    size: int | None = None
    moving_food: bool | None = None
    moving_enemy: bool | None = None
    seed: int = 0
    logdir: str = "runs"
    out: str | None = None
    eval_episodes: int = 500
    val_episodes: int = 500
    val_every: int | None = None
    checkpoint_interval: int = 10_000
    save_memory: bool = False
    hyper: DQNConfig | QLearningConfig = field(default_factory=DQNConfig)


#: The checkpoints' directory inside a run dir.
CHECKPOINTS = "checkpoints"
#: The best validated agent's directory inside a run dir, and the record of its validation.
BEST = "best"
VALIDATION = "validation.json"
#: Options `--resume` accepts: the budget (a new total), evaluation and checkpointing.
RESUME_OPTIONS = ("steps", "episodes", "eval_episodes", "checkpoint_interval", "save_memory")


# --- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The parser of train_blob.py; agent options come from the config dataclasses' fields."""
    parser = argparse.ArgumentParser(
        prog="train_blob.py",
        description="\n\n".join(__doc__.split("\n\n")[:2]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--agent", choices=sorted(AGENT_CONFIGS), default="dqn", help="the agent (default: dqn)"
    )
    parser.add_argument(
        "--env-id",
        default="Blob-v0",
        help="any registered Gymnasium id with a Discrete action space, e.g. Blob-v0, "
        "BlobMoving-v0, Blob-5x5-v0, CartPole-v1, FrozenLake-v1 (default: Blob-v0)",
    )
    parser.add_argument(
        "--episodes", type=int, help="train for this many episodes instead of --steps"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the env, the agent and the network (default: 0)"
    )
    parser.add_argument(
        "--logdir",
        default="runs",
        help="parent of the run's directory <agent>-<env id>-<time> (default: runs)",
    )
    parser.add_argument("--out", help="directory of the saved agent (default: <run dir>/agent)")
    parser.add_argument(
        "--eval-episodes",
        type=int,
        default=500,
        help=f"greedy evaluation episodes after training, seeded {EVAL_SEED_START}, "
        f"{EVAL_SEED_START + 1}, ...; 0 skips the evaluation (default: 500)",
    )
    parser.add_argument(
        "--val-episodes",
        type=int,
        default=500,
        help=f"greedy validation episodes every --val-every steps, seeded {VALIDATION_SEED_START}"
        ", ...; the best weights are kept; 0: no validation, the last weights (default: 500)",
    )
    parser.add_argument(
        "--val-every",
        type=int,
        metavar="STEPS",
        help="env steps between validations (default: a tenth of --steps; 10000 with --episodes)",
    )
    saving = parser.add_argument_group("checkpoints and resuming")
    saving.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its newest checkpoint, with its settings and its "
        "TensorBoard log; only "
        + ", ".join("--" + name.replace("_", "-") for name in RESUME_OPTIONS)
        + " may be given (a budget is the new total)",
    )
    saving.add_argument(
        "--checkpoint-interval",
        type=int,
        default=10_000,
        metavar="STEPS",
        help="env steps between checkpoints; 0: only at the end (default: 10000)",
    )
    saving.add_argument(
        "--save-memory",
        action=argparse.BooleanOptionalAction,
        help="[dqn only] include the replay memory in checkpoints, for an exact resume "
        "(default: no)",
    )
    blob = parser.add_argument_group("Blob options (Blob ids only; default: the id's own)")
    blob.add_argument("--size", type=int, help="cells per side of the grid")
    blob.add_argument("--moving-food", action=argparse.BooleanOptionalAction, help="food moves")
    blob.add_argument("--moving-enemy", action=argparse.BooleanOptionalAction, help="enemy moves")
    add_agent_options(parser.add_argument_group("agent options (defaults differ per agent)"))
    return parser


def add_agent_options(group: Any) -> None:
    """Adds an option `--<name>` (default None) per field of the agent configs to `group`."""
    options: dict[str, list[tuple[str, dataclasses.Field]]] = {}
    for agent, config in AGENT_CONFIGS.items():
        for item in dataclasses.fields(config):
            if item.metadata["help"] is not None:
                options.setdefault(item.name, []).append((agent, item))
    for name, items in options.items():
        helps = dict.fromkeys(item.metadata["help"] for _, item in items)
        if len(helps) == 1:
            text = next(iter(helps))
        else:
            text = "; ".join(f"{agent}: {item.metadata['help']}" for agent, item in items)
        if len(items) < len(AGENT_CONFIGS):
            text = f"[{items[0][0]} only] {text}"
        defaults = ", ".join(
            f"{agent} {'its own' if item.default is None else item.default}"
            for agent, item in items
        )
        metadata = items[0][1].metadata
        kwargs: dict[str, Any] = {"help": f"{text} (default: {defaults})"}
        if metadata["type"] is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs.update(type=metadata["type"], metavar=name.upper())
        if metadata["choices"]:
            kwargs.update(choices=metadata["choices"], metavar=None)
        group.add_argument("--" + name.replace("_", "-"), default=None, **kwargs)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Builds the run's config from parsed arguments.

    Raises:
        ValueError: If an option does not apply to the chosen agent or a value is out of range.
    """
    config_class = AGENT_CONFIGS[args.agent]
    own = {item.name for item in dataclasses.fields(config_class)}
    overrides = {}
    for name in {item.name for cls in AGENT_CONFIGS.values() for item in dataclasses.fields(cls)}:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in own:
            raise ValueError(f"--{name.replace('_', '-')} does not apply to --agent {args.agent}")
        overrides[name] = value
    if args.episodes is not None and "steps" in overrides:
        raise ValueError("give --steps or --episodes, not both")
    for name in ("steps", "num_envs"):
        if overrides.get(name, 1) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {overrides[name]}")
    if args.episodes is not None and args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}")
    _check_saving_options(args, args.agent)
    if not 0 <= args.seed < EVAL_SEED_START:
        raise ValueError(
            f"--seed must be in [0, {EVAL_SEED_START}) (evaluation seeds start there), "
            f"got {args.seed}"
        )
    return RunConfig(
        agent=args.agent,
        env_id=args.env_id,
        episodes=args.episodes,
        size=args.size,
        moving_food=args.moving_food,
        moving_enemy=args.moving_enemy,
        seed=args.seed,
        logdir=args.logdir,
        out=args.out,
        eval_episodes=args.eval_episodes,
        val_episodes=args.val_episodes,
        val_every=args.val_every,
        checkpoint_interval=args.checkpoint_interval,
        save_memory=bool(args.save_memory),
        hyper=config_class(**overrides),
    )


def _check_saving_options(args: argparse.Namespace, agent: str) -> None:
    for name in ("eval_episodes", "val_episodes"):
        check_episodes("--" + name.replace("_", "-"), getattr(args, name))
    if args.val_every is not None and args.val_every < 1:
        raise ValueError(f"--val-every must be >= 1, got {args.val_every}")
    if args.checkpoint_interval < 0:
        raise ValueError(f"--checkpoint-interval must be >= 0, got {args.checkpoint_interval}")
    if args.save_memory and agent != "dqn":
        raise ValueError(f"--save-memory: --agent {agent} has no replay memory")


def resume_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RunConfig:
    """The settings of the run `--resume` names, with the options a resumed run may change.

    The settings come from the run's newest checkpoint; the budget, evaluation and checkpoint
    options given now replace its own.

    Raises:
        ValueError: If an option that cannot change is given, or RUN_DIR has no loadable
            checkpoint written by train_blob.py.
    """
    from agents.checkpoint import CheckpointError, find_checkpoint

    fixed = [
        "--" + name.replace("_", "-")
        for name, value in vars(args).items()
        if name not in (*RESUME_OPTIONS, "resume") and value != parser.get_default(name)
    ]
    if fixed:
        raise ValueError(
            f"{', '.join(fixed)}: a resumed run keeps its settings; only "
            f"{', '.join('--' + name.replace('_', '-') for name in RESUME_OPTIONS)} may change"
        )
    try:
        info = find_checkpoint(Path(args.resume) / CHECKPOINTS)
    except (FileNotFoundError, CheckpointError) as error:
        raise ValueError(f"--resume {args.resume!r}: {error}") from error
    saved = info.metadata.get("run_config")
    if not isinstance(saved, dict) or saved.get("agent") not in AGENT_CONFIGS:
        raise ValueError(f"--resume {args.resume!r}: {info.path} was not written by train_blob.py")
    try:
        config = RunConfig(**{**saved, "hyper": AGENT_CONFIGS[saved["agent"]](**saved["hyper"])})
    except TypeError as error:
        raise ValueError(
            f"--resume {args.resume!r}: {info.path} holds settings of another version of "
            f"train_blob.py: {error}"
        ) from error
    _check_saving_options(args, config.agent)
    changes: dict[str, Any] = {}
    if args.save_memory is not None:
        changes["save_memory"] = args.save_memory
    if args.checkpoint_interval != parser.get_default("checkpoint_interval"):
        changes["checkpoint_interval"] = args.checkpoint_interval
    if args.eval_episodes != parser.get_default("eval_episodes"):
        changes["eval_episodes"] = args.eval_episodes
    if args.steps is not None and args.episodes is not None:
        raise ValueError("give --steps or --episodes, not both")
    for name in ("steps", "episodes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name} must be >= 1, got {value}")
    if args.steps is not None:
        changes.update(episodes=None, hyper=dataclasses.replace(config.hyper, steps=args.steps))
    if args.episodes is not None:
        changes["episodes"] = args.episodes
    return dataclasses.replace(config, **changes)


def run_name(config: RunConfig) -> str:
    """The run's name, the prefix of its directory: `<agent>-<env id>` in file-name characters."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{config.agent}-{config.env_id}")


def agent_summary(agent: Any) -> dict[str, Any]:
    """The agent's config for results.json, without the (long) Keras model JSON."""
    return {key: value for key, value in agent.get_config().items() if key != "model"}


# --- the run --------------------------------------------------------------------------------


class Run(NamedTuple):
    """A run ready to train: its settings, env, agent, TensorBoard log and resumed checkpoint.

    `resumed_from` is the `CheckpointInfo` a resumed run started from, None for a new run.
    """

    config: RunConfig
    setup: Setup
    board: Any
    start: float
    resumed_from: Any = None


def _is_empty_or_agent(path: Path) -> bool:
    from agents.serialization import CONFIG_FILENAME

    return not any(path.iterdir()) or (path / CONFIG_FILENAME).is_file()


def start_run(config: RunConfig, resume: str | Path | None = None) -> Run:
    """Makes the env and the agent, then the run's directory and TensorBoard log.

    Args:
        config: The run's settings.
        resume: A run dir to continue: the agent is loaded from its newest checkpoint and the
            TensorBoard log goes on in it.

    Raises:
        ValueError: If the settings are invalid, the log dir cannot be written, or the
            checkpoint does not load into the agent.
    """
    start = time.perf_counter()
    out = Path(config.out) if config.out else None
    if out and out.exists() and (not out.is_dir() or not _is_empty_or_agent(out)):
        # Checked now: agent.save refuses to replace it, but only after training.
        raise ValueError(f"--out {str(out)!r} exists and is not a saved agent's directory")
    blob_options = {"size": config.size, "moving_food": config.moving_food}
    blob_options["moving_enemy"] = config.moving_enemy
    setup = prepare(config.agent, config.hyper, config.env_id, blob_options, config.seed)
    from callbacks import ModifiedTensorBoard  # imports TensorFlow: only once the env is fine

    if resume is not None:
        from agents.checkpoint import load_checkpoint

        try:
            resumed_from = load_checkpoint(setup.agent, Path(resume) / CHECKPOINTS)
        except (FileNotFoundError, ValueError) as error:
            setup.env.close()
            raise ValueError(f"--resume {str(resume)!r}: {error}") from error
        # The same run dir: this writer's events file continues the axes (agent step, episode).
        board = ModifiedTensorBoard(log_dir=resume)
        board.step = setup.agent.episode
        return Run(config, setup, board, start, resumed_from)
    try:
        board = ModifiedTensorBoard(name=run_name(config), root_dir=config.logdir)
    except (TypeError, ValueError) as error:
        setup.env.close()
        raise ValueError(f"--logdir {config.logdir!r}: {error}") from error
    return Run(config, setup, board, start)


def train(run: Run, callbacks: Sequence[Any] = (), verbose: bool = True) -> dict[str, Any]:
    """Trains, checkpoints, saves, evaluates and writes results.json: the rest of a run.

    SIGINT and SIGTERM stop training cleanly while this runs (see `StopOnSignal`).

    Args:
        run: From `start_run`.
        callbacks: Extra Keras callbacks for `fit`.
        verbose: Show the progress bar and print the summary.

    Returns:
        The results written to `<run dir>/results.json` (`interrupted` True after Ctrl+C or a
        signal, `signal` its name).
    """
    from callbacks import TrainIntervalLogger
    from scripts._checkpointing import PeriodicCheckpoint, StopOnSignal

    config, setup, board = run.config, run.setup, run.board
    agent, hyper = setup.agent, config.hyper
    run_dir = Path(board.log_dir).resolve()
    out = Path(config.out).resolve() if config.out else run_dir / "agent"
    if config.episodes is None:
        budget = {"nb_steps": hyper.steps - agent.step}
        interval = validation_interval(hyper.steps)
    else:
        budget, interval = {"nb_episodes": config.episodes - agent.episode}, 10_000
    progress = [TrainIntervalLogger(interval=interval)] if verbose else []
    validation = _validation(run, run_dir, config.val_every or interval)
    validating = [] if validation is None else [validation]
    checkpoints = PeriodicCheckpoint(
        run_dir / CHECKPOINTS,
        config.checkpoint_interval,
        include_memory=config.save_memory,
        metadata={"run_config": dataclasses.asdict(config)},
    )
    results: dict[str, Any] = {"agent": config.agent, "env_id": setup.env_id}
    results.update(env_kwargs=setup.env_kwargs, seed=config.seed, run_dir=str(run_dir))
    if run.resumed_from is not None:
        results["resumed_from"] = str(run.resumed_from.path)
    with StopOnSignal() as stop:
        try:
            fit_start = time.perf_counter()
            if min(budget.values()) > 0:
                # A resumed agent keeps its restored generator; the env gets a seed of its own.
                seed = config.seed if run.resumed_from is None else None
                if seed is None:
                    setup.env.reset(seed=(config.seed + agent.step) % EVAL_SEED_START)
                agent.fit(
                    setup.env, callbacks=[*progress, board, checkpoints, stop, *validating,
                    *callbacks], verbose=0, seed=seed, **budget,
                )  # fmt: skip
            interrupted = agent.interrupted or stop.signum is not None
            results.update(
                interrupted=interrupted,
                signal=stop.signal_name,
                env_steps=agent.step,
                episodes=agent.episode,
                train_seconds=time.perf_counter() - fit_start,
            )
            checkpoints.set_model(agent)
            results["checkpoint"] = str(checkpoints.save().path)
            # After the checkpoint, which keeps the last weights to go on training from.
            if validation is not None:
                results["validation"] = {"best": validation.best, "points": validation.points}
                validation.set_model(agent)
                validation.restore_best()
            agent.save(str(out))
            results["saved_agent"] = str(out)
            results["evaluation"] = None
            if config.eval_episodes and not interrupted:
                try:
                    seeds = evaluation_seeds(config.eval_episodes)
                    results["evaluation"] = evaluate_agent(agent, setup, seeds)
                except KeyboardInterrupt:
                    results["interrupted"] = True
                    results["signal"] = stop.signal_name
            if results["evaluation"]:
                board.step = agent.step  # evaluation scalars on the env-step axis, as train/ ones
                scalars = results["evaluation"].items()
                board.update_stats(**{f"eval/{k}": v for k, v in scalars if isinstance(v, float)})
        finally:
            board.close()
            setup.env.close()
    results["wall_seconds"] = time.perf_counter() - run.start
    results["config"] = dataclasses.asdict(config)
    results["agent_config"] = agent_summary(agent)
    write_json(run_dir / "results.json", results)
    if verbose:
        print(report(results))
    return results


def _validation(run: Run, run_dir: Path, every: int) -> Any:
    """The run's keep-best callback (None with --val-episodes 0), saving each new best.

    A resumed run goes on from the best its earlier part saved to `<run dir>/best`.
    """
    if not run.config.val_episodes:
        return None
    from agents.serialization import load_agent

    best = best_weights = None
    record = run_dir / VALIDATION
    if run.resumed_from is not None and record.is_file():
        best = json.loads(record.read_text())["best"]
        best_weights = load_agent(run_dir / BEST).get_weights()

    def save_best(agent: Any, point: dict[str, Any]) -> None:
        agent.save(str(run_dir / BEST))
        write_json(record, {"best": point})

    return keep_best(
        run.setup, every, run.config.val_episodes, best=best, best_weights=best_weights,
        on_best=save_best,
    )  # fmt: skip


def exit_status(results: dict[str, Any]) -> int:
    """0, or the shell's status for the interruption: 128 + the signal's number (130 Ctrl+C)."""
    if not results["interrupted"]:
        return 0
    return 128 + signal.Signals[results.get("signal") or "SIGINT"].value


def report(results: dict[str, Any]) -> str:
    """The lines train_blob.py prints at the end of a run."""
    lines = []
    if results["interrupted"]:
        cause = f"by {results['signal']}" if results.get("signal") else "by the user"
        lines.append(
            f"interrupted {cause}: training stopped early; continue it with "
            f"`python scripts/train_blob.py --resume {results['run_dir']}`"
        )
    lines.append(
        f"trained {results['agent']} on {results['env_id']} for {results['env_steps']} env steps "
        f"({results['episodes']} episodes) in {results['train_seconds']:.1f} s"
    )
    lines.append(f"saved the agent to {results['saved_agent']} (load: agents.load_agent(path))")
    lines.append(f"checkpoint: {results['checkpoint']}")
    if results.get("validation"):
        best = results["validation"]["best"]
        lines.append(
            f"kept the weights of step {best['steps']}, the best on validation ("
            + describe_evaluation(best).removeprefix("greedy evaluation ")
            + ")"
        )
    if results["evaluation"]:
        lines.append(describe_evaluation(results["evaluation"]))
    lines.append(f"results: {Path(results['run_dir']) / 'results.json'}")
    lines.append(f"TensorBoard: tensorboard --logdir {Path(results['run_dir']).parent}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs train_blob.py; returns the exit status (0, 130 after Ctrl+C, 143 after SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume is None:
        try:
            config = config_from_args(args)
        except ValueError as error:
            parser.error(str(error))
    try:
        try:
            if args.resume is not None:
                config = resume_config(args, parser)
            run = start_run(config, resume=args.resume)
        except ValueError as error:
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
            return 1
        results = train(run)
    except KeyboardInterrupt as interrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 128 + getattr(interrupt, "signum", signal.SIGINT)
    if results["interrupted"]:
        print(
            f"{parser.prog}: interrupted by {results['signal'] or 'KeyboardInterrupt'}",
            file=sys.stderr,
        )
    return exit_status(results)


if __name__ == "__main__":
    sys.exit(main())
