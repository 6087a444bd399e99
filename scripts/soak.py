"""Soak test: a long training run that records resident memory and log size as it goes.

    python scripts/soak.py                         # the default DQN run, 150,000 steps (~5-10 min)
    python scripts/soak.py --steps 1000000 --sample-every 20000

Every option other than the three below goes to train_blob.py (`--steps`, `--memory-size`,
`--agent`, `--logdir`, ...). The soak's defaults are train_blob.py's own run (150,000 steps, a
replay memory of 50,000, checkpoints every 10,000 steps) with `--save-memory` and without the
final evaluation. At the first episode end after every `--sample-every` env steps it records the
process's resident memory (from /proc/self/statm) and the sizes of the run's events file and run
directory, then prints a table and writes it, with a summary, to `<run dir>/soak.json`. The
figure to watch is `rss_growth_after_full_percent`, the growth of resident memory from the first
sample with the replay memory full to the last: the exit status is 1 when it exceeds
`--max-growth` (default 5%).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents import cli, training
from agents.atomic import write_json
from agents.run_config import RunConfig
from callbacks.resources import ResourceSampler

#: train_blob.py options the soak sets unless given: 150,000 steps (2.5x the default run's budget,
#: 3x the replay memory's capacity), no evaluation at the end, and, for the DQN, checkpoints with
#: the replay memory (the heaviest saves).
DEFAULT_STEPS = ("--steps", "150000")
DEFAULTS = ("--eval-episodes", "0")
DQN_DEFAULTS = ("--save-memory",)


def summarize(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures of a soak: memory growth once the replay memory is full, log growth.

    The baseline is the first sample with the replay memory full (the first sample after the
    start for an agent without one); growth is from there to the last sample, and the slope is a
    least-squares line through the samples from there on.
    """
    full = [s for s in samples if s["replay_size"] is None or s["replay_size"] == s["replay_limit"]]
    if samples[0]["replay_size"] is None:
        full = full[1:]
    summary: dict[str, Any] = {"steps": samples[-1]["step"], "episodes": samples[-1]["episode"]}
    summary["seconds"] = samples[-1]["seconds"]
    summary["rss_start_mib"] = samples[0]["rss_mib"]
    summary["rss_final_mib"] = samples[-1]["rss_mib"]
    span = samples[-1]["step"] - samples[0]["step"]
    summary["events_bytes_per_1000_steps"] = (
        round(1000 * (samples[-1]["events_bytes"] - samples[0]["events_bytes"]) / span, 1)
        if span
        else None
    )
    if len(full) < 2:
        summary["rss_growth_after_full_percent"] = None  # the memory never filled: no figure
        return summary
    base, last = full[0], full[-1]
    steps = np.array([s["step"] for s in full], dtype=float)
    rss = np.array([s["rss_mib"] for s in full])
    summary.update(
        memory_full_at_step=base["step"],
        rss_at_full_mib=base["rss_mib"],
        rss_max_after_full_mib=float(rss.max()),
        rss_growth_after_full_percent=round(100 * (last["rss_mib"] / base["rss_mib"] - 1), 2),
        rss_slope_mib_per_100k_steps=round(float(np.polyfit(steps, rss, 1)[0]) * 1e5, 2),
    )
    return summary


def format_table(samples: Sequence[dict[str, Any]]) -> str:
    """The samples as an aligned text table."""
    header = ("step", "episodes", "seconds", "RSS MiB", "events KiB", "run dir KiB", "replay")
    rows = [header]
    for s in samples:
        replay = "-" if s["replay_size"] is None else f"{s['replay_size']}/{s['replay_limit']}"
        rows.append((
            str(s["step"]), str(s["episode"]), f"{s['seconds']:.0f}", f"{s['rss_mib']:.1f}",
            f"{s['events_bytes'] / 1024:.1f}", f"{s['run_dir_bytes'] / 1024:.1f}", replay,
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def build_parser() -> argparse.ArgumentParser:
    """The soak's own options; the rest are train_blob.py's."""
    parser = argparse.ArgumentParser(
        prog="soak.py",
        description=__doc__.split("\n\n")[2],
        epilog="Any other option is train_blob.py's (see train_blob.py --help).",
    )
    parser.add_argument(
        "--sample-every", type=int, default=5_000, help="env steps between samples (default 5000)"
    )
    parser.add_argument(
        "--max-growth",
        type=float,
        default=5.0,
        help="exit with status 1 if resident memory grows more than this many percent once the "
        "replay memory is full (default 5)",
    )
    parser.add_argument("--json", help="where to write the samples (default <run dir>/soak.json)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the soak; returns 0, or 1 if memory grew more than `--max-growth` percent."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.sample_every < 1:
        parser.error(f"--sample-every must be >= 1, got {args.sample_every}")
    train_parser = cli.build_parser()
    given, _ = train_parser.parse_known_args(rest)
    defaults = list(DEFAULTS)
    # A budget in episodes replaces the default one in steps (train_blob.py refuses both).
    defaults += DEFAULT_STEPS if given.episodes is None else ()
    defaults += DQN_DEFAULTS if (given.agent or RunConfig().agent) == "dqn" else ()
    train_args = train_parser.parse_args([*defaults, *rest])
    try:
        config = cli.config_from_args(train_args)
    except ValueError as error:
        train_parser.error(str(error))
    sampler = ResourceSampler(args.sample_every, Path(config.logdir), config.run_name)
    try:
        result = training.run(config, callbacks=[sampler])
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    summary = summarize(sampler.samples)
    path = Path(args.json) if args.json else result.run_dir / "soak.json"
    write_json(path, {"argv": [*defaults, *rest], "summary": summary, "samples": sampler.samples})
    print(format_table(sampler.samples))
    for key, value in summary.items():
        print(f"{key}: {value}")
    print(f"written to {path}")
    growth = summary["rss_growth_after_full_percent"]
    if growth is not None and growth > args.max_growth:
        print(f"resident memory grew {growth}% after the replay memory filled", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
