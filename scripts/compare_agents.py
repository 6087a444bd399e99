"""Compare agents on one env: learning curves over the same training and evaluation seeds.

    python scripts/compare_agents.py                         # Q-learning vs DQN, seeds 0 1 2
    python scripts/compare_agents.py --ablation --steps 30000
    python scripts/compare_agents.py --agents dqn qlearning-tutorial --seeds 0 1 --size 5
    python scripts/compare_agents.py --sizes 5 10 20 50 --seeds 0

Each agent of the list (rows of `agents.comparison.AGENT_SPECS`) trains once per seed, for its
preset's budget (Q-learning's table needs far more env steps than the DQN) or for --steps env steps
each. It is evaluated greedily every --eval-every steps (default: a 20th of its budget) on
--curve-episodes fixed seeds: the learning curve, from which the env steps and training seconds to
reach 90% and 95% of the exact optimum come. As train_blob.py does, it is also validated every
tenth of its budget on --val-episodes seeds of their own, and the best weights there are the ones
evaluated at the end, on --eval-episodes fixed seeds. The random policy (and on Blob games a
cautious heuristic: the closest move to the food that the enemy cannot reach) and the exact
optimum (Blob's, static or moving, or a table's) are the floors and the ceiling. Writes
compare.md (the Markdown table, also printed), compare.json (every figure) and compare.png (the
learning curves) to --out. With --sizes, one such comparison per grid size goes to
--out/size-<N>/, and sizes.md, sizes.json and sizes.png put the sizes side by side: each agent's
ratio to the optimum and the bytes it learns (the Q-table, or the network's weights); a table
that would not fit in memory is not trained, and its size is shown.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from agents.comparison import (
    ABLATION,
    AGENT_SPECS,
    DEFAULT_AGENTS,
    CompareConfig,
    check_env,
    compare,
    default_agents,
    parse_settings,
)
from agents.scoring import EVAL_SEED_START, VALIDATION_SEED_START, check_episodes
from agents.size_comparison import check_sized_envs, check_sizes, compare_sizes

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
        help=f"agents to compare, from: {names} (default: those of {' '.join(DEFAULT_AGENTS)} "
        "that can learn --env-id)",
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
    blob.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        metavar="N",
        help="compare on each of these grid sides instead of one (sizes.md, .json, .png)",
    )
    blob.add_argument("--moving-food", action=argparse.BooleanOptionalAction, help="food moves")
    blob.add_argument("--moving-enemy", action=argparse.BooleanOptionalAction, help="enemy moves")
    parser.add_argument(
        "--steps",
        type=int,
        help="env steps per run, the same for every agent (default: each agent's own default "
        "budget, from agents.presets)",
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


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    """Builds the comparison's config from parsed arguments.

    Raises:
        ValueError: If the options contradict each other or a value is out of range.
    """
    if args.ablation and args.agents:
        raise ValueError("give --agents or --ablation, not both")
    env_kwargs = {
        name: getattr(args, name)
        for name in ("size", "moving_food", "moving_enemy")
        if getattr(args, name) is not None
    }
    agents = ABLATION if args.ablation else tuple(args.agents or ())
    agents = agents or default_agents(args.env_id, env_kwargs)
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
        env_kwargs=tuple(env_kwargs.items()),
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
        if args.sizes is not None:
            check_sizes(config, args.sizes)
    except ValueError as error:
        parser.error(str(error))
    out_dir = Path(config.out or f"runs/compare-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {str(out_dir)!r} cannot be created: {error}")
    report = "sizes" if args.sizes else "compare"
    try:
        if args.sizes:
            check_sized_envs(config, args.sizes)
        else:
            check_env(config)
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    command = " ".join([parser.prog, *(sys.argv[1:] if argv is None else argv)])
    try:
        if args.sizes:
            results = compare_sizes(config, args.sizes, out_dir, command)
        else:
            results = compare(config, out_dir, command)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; finished runs are in {out_dir / (report + '.json')}")
        return 130
    print(results["table"])
    print(f"wrote {out_dir / (report + '.md')}, {report}.json and {report}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
