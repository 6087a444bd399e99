"""Compare agents on one env: learning curves over the same training and evaluation seeds.

    python scripts/compare_agents.py                         # Q-learning vs DQN, seeds 0 1 2
    python scripts/compare_agents.py --ablation --steps 30000
    python scripts/compare_agents.py --agents dqn qlearning-tutorial --seeds 0 1 --size 5

Each agent of the list (rows of AGENT_SPECS) trains once per seed, for its own default budget of
train_blob.py (Q-learning's table needs far more env steps than the DQN) or for --steps env steps
each. It is evaluated greedily every --eval-every steps (default: a 20th of its budget) on
--curve-episodes fixed seeds: the learning curve, from which the env steps and training seconds to
reach 90% and 95% of the exact optimum come. As train_blob.py does, it is also validated every
tenth of its budget on --val-episodes seeds of their own, and the best weights there are the ones
evaluated at the end, on --eval-episodes fixed seeds. The random policy and the exact optimum
(static Blob only) are the floor and the ceiling. Writes compare.md (the Markdown table, also
printed), compare.json (every figure) and compare.png (the learning curves) to --out.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from blobenv.registration import MAX_EPISODE_STEPS

if __package__ in (None, ""):  # run as `python scripts/compare_agents.py`: import `scripts` too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts._compare_report import (  # noqa: E402
    THRESHOLDS,
    first_reaching,
    markdown_table,
    plot_curves,
)
from scripts._training import (  # noqa: E402
    EVAL_SEED_START,
    VALIDATION_SEED_START,
    Setup,
    blob_optimum,
    check_episodes,
    check_spaces,
    env_kwargs_for,
    evaluate_agent,
    evaluation_seeds,
    is_blob,
    keep_best,
    make_env,
    prepare,
    resolve_env_id,
    spaces_of,
    validation_interval,
    write_json,
)
from scripts.train_blob import AGENT_CONFIGS  # noqa: E402


@dataclass(frozen=True)
class AgentSpec:
    """A named agent configuration: one row of the comparison.

    Attributes:
        label: The row's name in the table and the plot's legend.
        agent: "dqn" or "qlearning".
        overrides: (field, value) pairs changed from the agent's defaults in
            `scripts.train_blob` (`DQNConfig` / `QLearningConfig`).
    """

    label: str
    agent: str
    overrides: tuple[tuple[str, Any], ...] = ()

    def config(self, steps: int, settings: dict[str, Any] | None = None) -> Any:
        """The agent's config for a budget of `steps` env steps.

        Its defaults, then `settings` (--set) where the agent has such a field, then this row's
        overrides (which win, so that an ablation row keeps what defines it).
        """
        fields = {item.name for item in dataclasses.fields(AGENT_CONFIGS[self.agent])}
        own = {name: value for name, value in (settings or {}).items() if name in fields}
        return AGENT_CONFIGS[self.agent](**{**own, **dict(self.overrides), "steps": steps})


def _dqn(label: str, **changes: Any) -> AgentSpec:
    """A DQN ablation variant: plain DQN (no double, dueling, PER, n-step) plus `changes`."""
    plain = {"double": False, "dueling": False, "prioritized": False, "n_step": 1}
    return AgentSpec(label, "dqn", tuple({**plain, **changes}.items()))


AGENT_SPECS = {
    "qlearning": AgentSpec("Q-learning", "qlearning"),
    "qlearning-tutorial": AgentSpec("Q-learning (tutorial)", "qlearning", (("tutorial", True),)),
    "dqn": AgentSpec("DQN", "dqn"),
    "dqn-plain": _dqn("DQN (plain)"),
    "dqn+double": _dqn("+double", double=True),
    "dqn+dueling": _dqn("+dueling", dueling=True),
    "dqn+per": _dqn("+PER", prioritized=True),
    "dqn+nstep": _dqn("+n-step (3)", n_step=3),
    "dqn-all": _dqn("all", double=True, dueling=True, prioritized=True, n_step=3),
}
DEFAULT_AGENTS = ("qlearning", "dqn")
ABLATION = ("dqn-plain", "dqn+double", "dqn+dueling", "dqn+per", "dqn+nstep", "dqn-all")


@dataclass(frozen=True)
class CompareConfig:
    """The settings of a comparison (see `build_parser` for each one's meaning)."""

    agents: tuple[str, ...] = DEFAULT_AGENTS
    env_id: str = "Blob-v0"
    size: int | None = None
    moving_food: bool | None = None
    moving_enemy: bool | None = None
    steps: int | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    eval_every: int | None = None
    curve_episodes: int = 100
    val_episodes: int = 500
    eval_episodes: int = 500
    out: str | None = None
    settings: tuple[tuple[str, Any], ...] = ()

    def agent_config(self, name: str) -> Any:
        """The config agent `name` trains with: its row's, --set's settings and its budget."""
        return AGENT_SPECS[name].config(self.budget(name), dict(self.settings))

    def budget(self, name: str) -> int:
        """Env steps per run of agent `name`: --steps, else its default in train_blob.py."""
        if self.steps is not None:
            return self.steps
        return AGENT_CONFIGS[AGENT_SPECS[name].agent]().steps

    def interval(self, name: str) -> int:
        """Env steps between curve points of agent `name`: --eval-every, else 1/20 of its budget."""
        if self.eval_every is not None:
            return self.eval_every
        return max(1, self.budget(name) // 20)

    @property
    def blob_options(self) -> dict[str, Any]:
        """The Blob env options given (None: the id's own)."""
        names = ("size", "moving_food", "moving_enemy")
        return {name: getattr(self, name) for name in names}


class RandomAgent:
    """The floor: uniformly random actions (duck-types what `evaluate` needs of an agent).

    Args:
        nb_actions: Number of discrete actions.
        seed: Seeds the action draws.
    """

    def __init__(self, nb_actions: int, seed: int):
        self.nb_actions = nb_actions
        self.rng = np.random.default_rng(seed)
        self.training = False

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """One uniformly random action per observation."""
        return self.rng.integers(0, self.nb_actions, len(obs))


# --- running --------------------------------------------------------------------------------


def train_one(name: str, config: CompareConfig, seed: int) -> dict[str, Any]:
    """Trains agent `name` with `seed`, recording its learning curve; evaluates it at the end.

    Returns:
        The run's figures: `seed`, `env_steps`, `train_seconds`, `curve` (points),
        `validation` (its points; empty without validation), `final` (evaluation of the weights
        kept, on the full seed set) and `reached` (per threshold, the first curve point reaching
        it, or None).

    Raises:
        KeyboardInterrupt: If the user stopped training (Ctrl+C).
    """
    from callbacks import PeriodicEvaluation, TrainIntervalLogger

    spec = AGENT_SPECS[name]
    setup = prepare(spec.agent, config.agent_config(name), config.env_id, config.blob_options, seed)
    curve_seeds = evaluation_seeds(config.curve_episodes)
    budget, interval = config.budget(name), config.interval(name)
    curve = PeriodicEvaluation(lambda agent: _curve_point(agent, setup, curve_seeds), interval)
    # Validation time counts as training time (it is part of a train_blob.py run); the curve's
    # own evaluations do not.
    callbacks = [curve, TrainIntervalLogger(interval=budget)]
    validation = None
    if config.val_episodes:
        validation = keep_best(setup, validation_interval(budget), config.val_episodes)
        callbacks.insert(0, validation)
    try:
        setup.agent.fit(setup.env, nb_steps=budget, callbacks=callbacks, verbose=0, seed=seed)
        if setup.agent.interrupted:
            raise KeyboardInterrupt
        if validation is not None:
            validation.restore_best()
    finally:
        setup.env.close()
    return {
        "seed": seed,
        "env_steps": int(setup.agent.step),
        "train_seconds": curve.train_seconds,
        "curve": curve.points,
        "validation": validation.points if validation is not None else [],
        "final": evaluate_agent(setup.agent, setup, evaluation_seeds(config.eval_episodes)),
        "reached": {str(f): first_reaching(curve.points, f) for f in THRESHOLDS},
    }


def _curve_point(agent: Any, setup: Setup, seeds: Sequence[int]) -> dict[str, Any]:
    summary = evaluate_agent(agent, setup, seeds)
    keys = ("mean_return", "success_rate", "ratio_to_optimum")
    return {key: summary[key] for key in keys if key in summary}


def baselines(config: CompareConfig) -> dict[str, Any]:
    """The random policy (one run per seed) and the exact optimum, on the final seed set."""
    spec = resolve_env_id(config.env_id)
    env_kwargs = env_kwargs_for(spec, config.blob_options)
    env = make_env(spec.id, env_kwargs)
    try:
        nb_actions = int(spaces_of(env)[1].n)
        setup = Setup(spec.id, env_kwargs, is_blob(spec), env, None)
        seeds = evaluation_seeds(config.eval_episodes)
        random_runs = [
            {"seed": seed, "final": evaluate_agent(RandomAgent(nb_actions, seed), setup, seeds)}
            for seed in config.seeds
        ]
        optimum = blob_optimum(env, seeds)
    finally:
        env.close()
    result: dict[str, Any] = {"random": random_runs, "optimum": None}
    if optimum is not None:
        # An episode that never reaches the food returns -1 per step; any success returns more.
        result["optimum"] = {
            "mean_return": float(optimum.mean()),
            "success_rate": float((optimum > -MAX_EPISODE_STEPS).mean()),
            "ratio_to_optimum": 1.0,
        }
    return result


def check_env(config: CompareConfig) -> None:
    """Checks, before any training, that every agent compared can learn the env.

    Raises:
        ValueError: If the env id or options are invalid, or an agent cannot learn the env.
    """
    spec = resolve_env_id(config.env_id)
    for agent in dict.fromkeys(AGENT_SPECS[name].agent for name in config.agents):
        obs_type = getattr(AGENT_CONFIGS[agent](), "obs_type", None)
        env = make_env(spec.id, env_kwargs_for(spec, config.blob_options, obs_type))
        try:
            check_spaces(agent, env)
        finally:
            env.close()


def compare(config: CompareConfig, out_dir: Path, command: str = "") -> dict[str, Any]:
    """Runs the whole comparison, writing compare.json after each run, then the table and plot.

    Args:
        config: The comparison's settings.
        out_dir: An existing directory for compare.json, compare.md and compare.png.
        command: The command line, recorded in compare.json.

    Returns:
        Everything written to compare.json.
    """
    results: dict[str, Any] = {
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": dataclasses.asdict(config),
        "agents": {
            name: {
                "label": AGENT_SPECS[name].label,
                "agent": AGENT_SPECS[name].agent,
                "eval_every": config.interval(name),
                "config": dataclasses.asdict(config.agent_config(name)),
                "runs": [],
            }
            for name in config.agents
        },
    }
    results.update(baselines(config))
    json_path = out_dir / "compare.json"
    write_json(json_path, results)
    # Seeds outermost, so that changes in the machine's load over time hit every agent alike.
    for seed in config.seeds:
        for name in config.agents:
            print(f"--- {AGENT_SPECS[name].label}, seed {seed}", flush=True)
            run = train_one(name, config, seed)
            results["agents"][name]["runs"].append(run)
            print(describe_run(run), flush=True)
            write_json(json_path, results)
    results["table"] = markdown_table(results)
    write_json(json_path, results)
    (out_dir / "compare.md").write_text(results["table"] + "\n")
    plot_curves(results, out_dir / "compare.png")
    return results


def describe_run(run: dict[str, Any]) -> str:
    """One line about a finished run."""
    final = run["final"]
    line = (
        f"{run['env_steps']} env steps in {run['train_seconds']:.1f} s: "
        f"mean return {final['mean_return']:.2f}"
    )
    if "ratio_to_optimum" in final:
        line += f", {100 * final['ratio_to_optimum']:.1f}% of the optimum"
    for fraction, reached in run["reached"].items():
        if reached:
            line += f"; {100 * float(fraction):.0f}% at {reached['steps']} steps"
            line += f" ({reached['seconds']:.1f} s)"
    return line


# --- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The parser of compare_agents.py."""
    names = ", ".join(f"{name} ({spec.label})" for name, spec in AGENT_SPECS.items())
    parser = argparse.ArgumentParser(
        prog="compare_agents.py",
        description="\n\n".join(__doc__.split("\n\n")[:2]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--agents",
        nargs="+",
        choices=list(AGENT_SPECS),
        metavar="NAME",
        help=f"agents to compare, from: {names} (default: {' '.join(DEFAULT_AGENTS)})",
    )
    parser.add_argument(
        "--ablation",
        action="store_true",
        help=f"compare the DQN ablation instead: {' '.join(ABLATION)}",
    )
    parser.add_argument(
        "--env-id",
        default="Blob-v0",
        help="a Gymnasium id every agent compared can learn; Q-learning plays Blob on its "
        "coords, the DQN on its pixels (default: Blob-v0)",
    )
    blob = parser.add_argument_group("Blob options (Blob ids only; default: the id's own)")
    blob.add_argument("--size", type=int, help="cells per side of the grid")
    blob.add_argument("--moving-food", action=argparse.BooleanOptionalAction, help="food moves")
    blob.add_argument("--moving-enemy", action=argparse.BooleanOptionalAction, help="enemy moves")
    parser.add_argument(
        "--steps",
        type=int,
        help="env steps per run, the same for every agent (default: each agent's own default "
        "budget, from train_blob.py)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="training seeds; every agent trains once per seed (default: 0 1 2)",
    )
    parser.add_argument(
        "--eval-every",
        type=int,
        help="env steps between learning-curve points, the same for every agent; the steps to "
        "90%% and 95%% are multiples of it (default: 1/20 of each agent's budget)",
    )
    parser.add_argument(
        "--curve-episodes",
        type=int,
        default=100,
        help=f"episodes per learning-curve point, seeded {EVAL_SEED_START}, ... (default: 100)",
    )
    parser.add_argument(
        "--val-episodes",
        type=int,
        default=500,
        help=f"validation episodes, seeded {VALIDATION_SEED_START}, ..., every tenth of the "
        "budget; the best weights are kept and evaluated, as in train_blob.py; 0: the last "
        "weights (default: 500)",
    )
    parser.add_argument(
        "--eval-episodes",
        type=int,
        default=500,
        help=f"final evaluation episodes, seeded {EVAL_SEED_START}, ... (default: 500)",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="hyperparameters for every agent that has them, as train_blob.py's options without "
        "the dashes, e.g. --set lr=0.0005 warmup=500 (an ablation row keeps its own features)",
    )
    parser.add_argument(
        "--out", help="directory for compare.md, .json and .png (default: runs/compare-<time>)"
    )
    return parser


def parse_settings(items: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    """Parses --set's NAME=VALUE items with the types of the agent configs' fields.

    Raises:
        ValueError: If an item is not NAME=VALUE, no agent has NAME, or VALUE has the wrong type.
    """
    types = {
        item.name: item.metadata["type"]
        for config in AGENT_CONFIGS.values()
        for item in dataclasses.fields(config)
        if item.metadata["help"] is not None and item.name != "steps"
    }
    settings = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.replace("-", "_")
        if not sep or name not in types:
            raise ValueError(
                f"--set takes NAME=VALUE with NAME one of {sorted(types)}, got {item!r}"
            )
        kind = types[name]
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                settings[name] = text.lower() in ("true", "1")
            else:
                settings[name] = kind(text)
        except ValueError as error:
            raise ValueError(f"--set {name}: expected a {kind.__name__}, got {text!r}") from error
    return tuple(settings.items())


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    """Builds the comparison's config from parsed arguments.

    Raises:
        ValueError: If the options contradict each other or a value is out of range.
    """
    if args.ablation and args.agents:
        raise ValueError("give --agents or --ablation, not both")
    agents = ABLATION if args.ablation else tuple(args.agents or DEFAULT_AGENTS)
    if len(set(agents)) != len(agents):
        raise ValueError(f"--agents lists an agent twice: {' '.join(agents)}")
    if len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f"--seeds lists a seed twice: {args.seeds}")
    if not all(0 <= seed < EVAL_SEED_START for seed in args.seeds):
        raise ValueError(f"--seeds must be in [0, {EVAL_SEED_START}), got {args.seeds}")
    for name in ("steps", "eval_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    for name, minimum in (("curve_episodes", 1), ("val_episodes", 0), ("eval_episodes", 1)):
        check_episodes("--" + name.replace("_", "-"), getattr(args, name), minimum)
    return CompareConfig(
        settings=parse_settings(args.set),
        agents=agents,
        env_id=args.env_id,
        size=args.size,
        moving_food=args.moving_food,
        moving_enemy=args.moving_enemy,
        steps=args.steps,
        seeds=tuple(args.seeds),
        eval_every=args.eval_every,
        curve_episodes=args.curve_episodes,
        val_episodes=args.val_episodes,
        eval_episodes=args.eval_episodes,
        out=args.out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Runs compare_agents.py; returns the exit status (130 when interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    out_dir = Path(config.out or f"runs/compare-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {str(out_dir)!r} cannot be created: {error}")
    try:
        check_env(config)
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    command = " ".join([parser.prog, *(sys.argv[1:] if argv is None else argv)])
    try:
        results = compare(config, out_dir, command)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; finished runs are in {out_dir / 'compare.json'}")
        return 130
    print(results["table"])
    print(f"wrote {out_dir / 'compare.md'}, compare.json and compare.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
