"""Play a trained Blob DQN on grids of other sizes, without retraining, against the optimum.

    python scripts/train_blob.py --out runs/blob10                  # trains on 10 x 10
    python scripts/transfer_blob.py runs/blob10 --sizes 8 10 12 20 50

The saved agent's network is rebuilt for each N x N image with the same weights
(`agents.transfer.on_grid`: Blob's default network sees the food and the enemy in cells from the
player, so none of its weights depends on the size) and evaluated greedily on --episodes fixed
seeds. Prints a Markdown table (mean return, the exact optimum's, the ratio, the success rate, the
episodes cut by the time limit) and writes it, with every figure, to transfer.md and
transfer.json in --out.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from agents.atomic import write_json, write_text
from agents.scoring import check_episodes
from blobenv.rules import check_size


def build_parser() -> argparse.ArgumentParser:
    """The parser of transfer_blob.py."""
    parser = argparse.ArgumentParser(
        prog="transfer_blob.py",
        description="\n\n".join(__doc__.split("\n\n")[:2]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("agent", help="a saved agent's directory (train_blob.py's --out)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[8, 10, 12, 20, 50],
        metavar="N",
        help="grid sides to play (default: 8 10 12 20 50)",
    )
    parser.add_argument(
        "--episodes", type=int, default=500, help="evaluation episodes per size (default: 500)"
    )
    parser.add_argument(
        "--env-id", default="Blob-v0", help="the Blob id to play, other options its own"
    )
    parser.add_argument(
        "--out", help="directory for transfer.json and .md (default: runs/transfer-<time>)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs transfer_blob.py; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        for size in args.sizes:
            check_size(size)
        check_episodes("--episodes", args.episodes, 1)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    if len(set(args.sizes)) != len(args.sizes):
        parser.error(f"--sizes lists a size twice: {args.sizes}")
    from agents import load_agent
    from agents.environments import is_blob, resolve_env_id
    from agents.transfer import evaluate_on_sizes, transfer_table

    try:
        if not is_blob(resolve_env_id(args.env_id)):
            raise ValueError(f"--env-id must be a Blob id, got {args.env_id!r}")
        agent = load_agent(args.agent)
        rows = evaluate_on_sizes(agent, args.sizes, args.episodes, args.env_id)
    except (FileNotFoundError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    out_dir = Path(args.out or f"runs/transfer-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {str(out_dir)!r} cannot be created: {error}")
    command = " ".join([parser.prog, *(sys.argv[1:] if argv is None else argv)])
    markdown = transfer_table(rows)
    write_json(
        out_dir / "transfer.json",
        {"command": command, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows},
    )
    write_text(out_dir / "transfer.md", markdown + "\n")
    print(markdown)
    print(f"wrote {out_dir / 'transfer.json'} and transfer.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
