"""Comparing agents over Blob's grid sizes: the ratio to the optimum and what each agent stores.

The tutorial's argument for a network: a Q-table of Blob's coords has (2N - 1)^4 x 9 entries on an
N x N grid, so it stops fitting somewhere past 20 x 20, while the DQN's network, built relative
to the player, has the same parameters on every grid. `compare_sizes` runs one comparison
(`agents.comparison.compare`) per size, into `size-<N>/` of the output directory, and reports per
agent and size the final ratio to the exact optimum, the training seconds and the bytes of what
the agent learns (the table, or the online network's weights). An agent whose table would exceed
`agents.qlearning.MAX_TABLE_ENTRIES` is not trained on that size; its would-be size is reported.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from agents import presets
from agents.atomic import write_json
from agents.comparison import AGENT_SPECS, CompareConfig, check_env, compare
from agents.comparison_report import markdown, mean_std, write_report
from agents.environments import make_env, resolve_env_id, spaces_of
from agents.options import to_json
from agents.qlearning import MAX_TABLE_ENTRIES, TABLE_ITEMSIZE, table_entries
from agents.scoring import blob_options
from blobenv.rules import check_size


class Footprint(NamedTuple):
    """What an agent learns on one env, in bytes, and whether it is allocated at all."""

    footprint_bytes: int
    kind: str  # "table" or "network"
    fits: bool


def footprint(config: CompareConfig, name: str) -> Footprint:
    """The bytes agent `name` of `config` learns: its table, or its online network's weights.

    A table is sized from the observation space without being allocated.

    Raises:
        ValueError: If the agent has neither a table nor a `model` network.
    """
    spec, hyper = AGENT_SPECS[name], config.agent_config(name)
    env = make_env(resolve_env_id(config.env_id).id, config.agent_env_kwargs(name))
    try:
        if spec.agent == "qlearning":
            observation_space, action_space = spaces_of(env)
            entries = table_entries(observation_space, int(action_space.n))
            return Footprint(entries * TABLE_ITEMSIZE, "table", entries <= MAX_TABLE_ENTRIES)
        agent = presets.build(spec.agent, env, hyper)
    finally:
        env.close()
    model = getattr(agent, "model", None)
    if model is None:
        raise ValueError(f"agent {name!r} has neither a table nor a network `model` to measure")
    return Footprint(sum(weight.numpy().nbytes for weight in model.weights), "network", True)


def check_sizes(config: CompareConfig, sizes: Sequence[int]) -> None:
    """Checks, before any training, that `sizes` are distinct Blob sizes of a Blob env.

    Raises:
        ValueError: If the env is not Blob, the config already fixes a size, or a size is
            invalid or repeated.
    """
    if blob_options(config.env_id, {}) is None:
        raise ValueError(f"--sizes needs a Blob env id, got {config.env_id!r}")
    if "size" in dict(config.env_kwargs):
        raise ValueError("give --size or --sizes, not both")
    if not sizes:
        raise ValueError("--sizes needs at least one size")
    for size in sizes:
        check_size(size)
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"--sizes lists a size twice: {list(sizes)}")


def check_sized_envs(config: CompareConfig, sizes: Sequence[int]) -> None:
    """Checks `sizes`, then on each size that every agent whose table fits can learn the env.

    Raises:
        ValueError: As `check_sizes` and `agents.comparison.check_env` do.
    """
    check_sizes(config, sizes)
    for size in sizes:
        grid = sized(config, size)
        fitting = tuple(name for name in config.agents if footprint(grid, name).fits)
        check_env(dataclasses.replace(grid, agents=fitting))


def sized(config: CompareConfig, size: int) -> CompareConfig:
    """`config` on an N x N grid (the other env options kept)."""
    return dataclasses.replace(config, env_kwargs=(*config.env_kwargs, ("size", int(size))))


def compare_sizes(
    config: CompareConfig, sizes: Sequence[int], out_dir: Path, command: str = ""
) -> dict[str, Any]:
    """Runs one comparison per size; writes sizes.json after each, then sizes.md and sizes.png.

    Args:
        config: The comparison's settings, without a size of its own.
        sizes: Grid sides, in the order to run them.
        out_dir: An existing directory; size N's comparison goes to `size-<N>/`.
        command: The command line, recorded in sizes.json.

    Returns:
        Everything written to sizes.json: per agent its `label` and one point per size
        (`size`, `footprint_bytes`, `kind`, `fits`, and for agents that fit: `ratios` and
        `train_seconds` per seed), the optimum's mean return per size and the table.
    """
    check_sizes(config, sizes)
    results: dict[str, Any] = {
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": to_json(config),
        "sizes": [int(size) for size in sizes],
        "table_limit_bytes": MAX_TABLE_ENTRIES * TABLE_ITEMSIZE,
        "optimum": {},
        "agents": {
            name: {"label": AGENT_SPECS[name].label, "points": []} for name in config.agents
        },
    }
    json_path = out_dir / "sizes.json"
    for size in sizes:
        grid = sized(config, size)
        points = {name: footprint(grid, name) for name in config.agents}
        fitting = tuple(name for name in config.agents if points[name].fits)
        for name in sorted(set(config.agents) - set(fitting)):
            print(f"--- size {size}: {AGENT_SPECS[name].label} does not fit", flush=True)
        runs: dict[str, Any] = {}
        if fitting:
            sub_dir = out_dir / f"size-{size}"
            sub_dir.mkdir(exist_ok=True)
            print(f"=== size {size} x {size}", flush=True)
            sub = compare(dataclasses.replace(grid, agents=fitting), sub_dir, command)
            runs = {name: sub["agents"][name]["runs"] for name in fitting}
            results["optimum"][str(size)] = (sub["optimum"] or {}).get("mean_return")
        for name in config.agents:
            point = {"size": int(size), **points[name]._asdict()}
            if name in runs:
                point["ratios"] = [run["final"].get("ratio_to_optimum") for run in runs[name]]
                point["train_seconds"] = [run["train_seconds"] for run in runs[name]]
            results["agents"][name]["points"].append(point)
        write_json(json_path, results)
    write_report(results, out_dir, "sizes", sizes_table, plot_sizes)
    return results


def _bytes_text(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def sizes_table(results: dict[str, Any]) -> str:
    """The size comparison as a Markdown table: one row per size and agent."""
    header = ["Grid", "Agent", "Ratio to optimum", "Train seconds", "Learns", "Bytes"]
    rows = []
    for index, size in enumerate(results["sizes"]):
        for entry in results["agents"].values():
            if index >= len(entry["points"]):
                continue
            point = entry["points"][index]
            learned = _bytes_text(point["footprint_bytes"])
            if point["fits"]:
                ratios = [ratio for ratio in point["ratios"] if ratio is not None]
                ratio, seconds = mean_std(ratios, 3), mean_std(point["train_seconds"], 1)
            else:
                ratio, seconds = "does not fit", "—"
                learned += f" (limit {_bytes_text(results['table_limit_bytes'])})"
            rows.append(
                [f"{size} x {size}", entry["label"], ratio, seconds, point["kind"], learned]
            )
    return markdown(header, rows)


def plot_sizes(results: dict[str, Any], path: Path) -> None:
    """Saves two panels against the grid side: the ratio to the optimum, and the bytes learned."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    figure, (ratio_axis, bytes_axis) = plt.subplots(1, 2, figsize=(12, 4.5))
    for entry in results["agents"].values():
        points = entry["points"]
        trained = [p for p in points if p["fits"] and any(r is not None for r in p["ratios"])]
        if trained:
            ratios = [np.array([r for r in p["ratios"] if r is not None]) for p in trained]
            ratio_axis.errorbar(
                [p["size"] for p in trained],
                [r.mean() for r in ratios],
                yerr=[r.std() for r in ratios],
                marker="o",
                capsize=3,
                label=entry["label"],
            )
        (line,) = bytes_axis.plot(
            [p["size"] for p in points],
            [p["footprint_bytes"] for p in points],
            marker="o",
            label=f"{entry['label']} ({points[0]['kind'] if points else ''})",
        )
        unfit = [p for p in points if not p["fits"]]
        if unfit:
            bytes_axis.scatter(
                [p["size"] for p in unfit],
                [p["footprint_bytes"] for p in unfit],
                s=120,
                facecolors="none",
                edgecolors=line.get_color(),
                label=f"{entry['label']}: would not fit",
            )
    ratio_axis.axhline(1.0, color="black", linewidth=1, label="exact optimum")
    # As the learning curves: linear within [-1, 1], logarithmic below (a failed run is -50).
    ratio_axis.set_yscale("symlog", linthresh=1.0, linscale=3.0)
    ratio_axis.set_yticks([-100, -10, -1, -0.5, 0, 0.5, 0.9, 1])
    ratio_axis.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ratio_axis.set_ylim(top=1.1)
    ratio_axis.set_ylabel("greedy return / exact optimum (log scale below -1)")
    bytes_axis.axhline(
        results["table_limit_bytes"], color="gray", linestyle="--", label="table limit"
    )
    bytes_axis.set_yscale("log")
    bytes_axis.set_ylabel("bytes learned (table, or the network's weights)")
    for axis in (ratio_axis, bytes_axis):
        axis.set_xlabel("grid side N (N x N cells)")
        axis.set_xticks(results["sizes"])
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    settings = results["settings"]
    figure.suptitle(
        f"{settings['env_id']} by grid size: mean ± std over seeds {list(settings['seeds'])}, "
        f"{settings['eval_episodes']} evaluation episodes"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
