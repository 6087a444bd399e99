"""The command line of a training run (`scripts/train_blob.py`): options, checks, one call.

The run's options are the fields of `agents.run_config.RunConfig`, the agent's those of its
preset config (`agents.presets`): each default and help text is written there, once.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from agents import presets, training
from agents.environments import is_blob, resolve_env_id
from agents.options import add_options, given_options, option_fields
from agents.run_config import RESUMABLE, RunConfig

#: Blob's env options (Blob ids only), as (name, kind, help).
BLOB_OPTIONS = (
    ("size", int, "cells per side of the grid"),
    ("moving_food", bool, "food takes a random step after each move"),
    ("moving_enemy", bool, "enemy takes a random step after each move"),
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_parser(description: str = "") -> argparse.ArgumentParser:
    """The parser: run options from `RunConfig`, agent options from the presets' configs."""
    parser = argparse.ArgumentParser(
        prog="train_blob.py",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(parser, {"run": RunConfig()})
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its newest checkpoint, with its settings and its "
        f"TensorBoard log; only {', '.join(map(_flag, RESUMABLE))} may be given (a budget is "
        "the new total)",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --workers: join the Ray cluster at ADDRESS ('auto', 'ray://host:10001'; "
        "its nodes need blobenv installed) instead of starting a local one",
    )
    blob = parser.add_argument_group("Blob options (Blob ids only; default: the id's own)")
    for name, kind, text in BLOB_OPTIONS:
        if kind is bool:
            blob.add_argument(_flag(name), action=argparse.BooleanOptionalAction, help=text)
        else:
            blob.add_argument(_flag(name), type=kind, metavar=name.upper(), help=text)
    group = parser.add_argument_group("agent options (default: the preset of --env-id)")
    add_options(group, {agent: presets.config(agent, "Blob-v0") for agent in presets.CONFIGS})
    return parser


def _given(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run's config from parsed arguments (a new run).

    Raises:
        ValueError: If an option does not apply, or a value is out of range.
    """
    env_kwargs = _given(args, [name for name, _, _ in BLOB_OPTIONS])
    base = RunConfig(**_given(args, [item.name for item in option_fields(RunConfig)]))
    if env_kwargs and not is_blob(resolve_env_id(base.env_id)):
        flags = ", ".join(map(_flag, env_kwargs))
        raise ValueError(f"{flags}: Blob options, but {base.env_id} is not a Blob env")
    if args.agent is None:
        base = dataclasses.replace(base, agent=_default_agent(base.env_id, env_kwargs))
    classes = list(presets.CONFIGS.values())
    agent = base.agent
    hyper = given_options(args, presets.CONFIGS[agent], classes, f"--agent {agent}")
    if base.episodes is not None and "steps" in hyper:
        raise ValueError("give --steps or --episodes, not both")
    hyper_config = presets.config(agent, base.env_id, **hyper)
    return dataclasses.replace(base, env_kwargs=env_kwargs, hyper=hyper_config).resolved()


def _default_agent(env_id: str, env_kwargs: dict[str, Any]) -> str:
    """The first agent that can learn the env (Q-learning on FrozenLake), else the DQN.

    For an unknown id, or spaces no agent takes, the DQN's run then says what is wrong.
    """
    try:
        return presets.agents_for(env_id, **env_kwargs)[0]
    except ValueError:
        return "dqn"


def resume_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings `--resume` changes: those of RESUMABLE given on the command line.

    Raises:
        ValueError: If an option that a resumed run keeps was given.
    """
    fixed = [
        _flag(name) for name, value in vars(args).items()
        if name not in (*RESUMABLE, "resume", "ray_address") and value is not None
    ]  # fmt: skip
    if fixed:
        raise ValueError(
            f"{', '.join(fixed)}: a resumed run keeps its settings; only "
            f"{', '.join(map(_flag, RESUMABLE))} may change"
        )
    return _given(args, RESUMABLE)


def _run(args: argparse.Namespace, config: RunConfig | None) -> training.TrainResult:
    """Runs the new run `config`, or resumes `args.resume`: with collectors if it has workers.

    Raises:
        ValueError: If the options do not fit together, or as `training.run`.
    """
    if config is not None:
        workers = config.workers
    else:
        changes = resume_changes(args)
        workers = changes.get("workers", training.saved_config(args.resume).workers)
    if args.ray_address is not None and not workers:
        raise ValueError("--ray-address: a Ray cluster is only used with --workers N (N >= 1)")
    if not workers:
        return training.run(config) if config else training.resume(args.resume, **changes)
    try:
        from agents import distributed  # the only module that imports ray ([scale] extra)
    except ModuleNotFoundError as error:
        raise ValueError(f"--workers needs Ray ({error}): pip install -e '.[scale]'") from error

    if config is not None:
        return distributed.run(config, address=args.ray_address)
    return distributed.resume(args.resume, address=args.ray_address, **changes)


def main(argv: Sequence[str] | None = None, description: str = "") -> int:
    """Runs train_blob.py; returns the exit status (0, 130 after Ctrl+C, 143 after SIGTERM)."""
    parser = build_parser(description)
    args = parser.parse_args(argv)
    if args.resume is None:
        try:
            config = config_from_args(args)
        except ValueError as error:
            parser.error(str(error))
    try:
        try:
            result = _run(args, None if args.resume is not None else config)
        except (ValueError, OSError, training.FitError) as error:  # OSError: a full disk
            print(f"{parser.prog}: error: {' '.join(str(error).split())}", file=sys.stderr)
            return 1
    except KeyboardInterrupt as interrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 128 + getattr(interrupt, "signum", 2)
    if result.interrupted:
        cause = result.results["signal"] or "KeyboardInterrupt"
        print(f"{parser.prog}: interrupted by {cause}", file=sys.stderr)
    return result.exit_status
