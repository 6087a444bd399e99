"""The report of a comparison: the Markdown table and the plot of the learning curves.

Both read the results `agents.comparison.compare` writes to compare.json.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.atomic import write_json, write_text

#: Fractions of the optimum whose first crossing the table reports.
THRESHOLDS = (0.9, 0.95)


def write_report(
    results: dict[str, Any],
    out_dir: Path,
    stem: str,
    table: Callable[[dict[str, Any]], str],
    plot: Callable[[dict[str, Any], Path], None],
) -> None:
    """Adds `table(results)` to `results` as "table"; writes `<stem>`.json, .md and .png."""
    results["table"] = table(results)
    write_json(out_dir / f"{stem}.json", results)
    write_text(out_dir / f"{stem}.md", results["table"] + "\n")
    plot(results, out_dir / f"{stem}.png")


def markdown(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table: the header, its rule, then one line per row (cells as text)."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def first_reaching(
    points: Sequence[dict[str, Any]], threshold: float, key: str = "ratio_to_optimum"
) -> dict[str, Any] | None:
    """The steps and seconds of the first point whose figure `key` is >= `threshold`.

    Returns:
        `{"steps": ..., "seconds": ...}`, or None if no point reaches it (or has no such figure).
    """
    for point in points:
        if point.get(key, -math.inf) >= threshold:
            return {"steps": point["steps"], "seconds": point["seconds"]}
    return None


def mean_std(values: Sequence[float], digits: int, scale: float = 1.0, unit: str = "") -> str:
    """`mean ± std` (population std over seeds) of `values` times `scale`; "—" if empty."""
    if not values:
        return "—"
    array = np.asarray(values, dtype=float) * scale
    if len(array) == 1:
        return f"{array[0]:.{digits}f}{unit}"
    return f"{array.mean():.{digits}f} ± {array.std():.{digits}f}{unit}"


def _reached_cell(runs: list[dict[str, Any]], fraction: float, key: str, digits: int) -> str:
    hits = [run["reached"][str(fraction)] for run in runs]
    values = [hit[key] for hit in hits if hit is not None]
    if not values:
        return "not reached" if runs else "—"
    cell = mean_std(values, digits)
    return cell if len(values) == len(runs) else f"{cell} ({len(values)}/{len(runs)} seeds)"


def markdown_table(results: dict[str, Any]) -> str:
    """The comparison as a Markdown table: one row per agent, the floors first, optimum last."""
    header = ["Agent", "Final return", "Ratio to optimum", "Success"]
    for fraction in THRESHOLDS:
        percent = f"{100 * fraction:.0f}%"
        header += [f"Steps to {percent}", f"Seconds to {percent}"]
    header.append("Train seconds")
    rows = []

    def figures(label: str, finals: list[dict], runs: list[dict]) -> list[str]:
        row = [label, mean_std([f["mean_return"] for f in finals], 2)]
        ratios = [f["ratio_to_optimum"] for f in finals if "ratio_to_optimum" in f]
        row.append(mean_std(ratios, 3))
        successes = [f["success_rate"] for f in finals if "success_rate" in f]
        row.append(mean_std(successes, 1, 100, "%"))
        for fraction in THRESHOLDS:
            row.append(_reached_cell(runs, fraction, "steps", 0))
            row.append(_reached_cell(runs, fraction, "seconds", 1))
        row.append(mean_std([run["train_seconds"] for run in runs], 1))
        return row

    rows.append(figures("Random policy", [run["final"] for run in results["random"]], []))
    if results.get("heuristic"):
        rows.append(figures("Cautious heuristic", [results["heuristic"]], []))
    for entry in results["agents"].values():
        runs = entry["runs"]
        rows.append(figures(entry["label"], [run["final"] for run in runs], runs))
    if results["optimum"]:
        rows.append(figures("Optimum (exact)", [results["optimum"]], []))
    return markdown(header, rows)


def plot_curves(results: dict[str, Any], path: Path) -> None:
    """Saves the learning curves (mean ± std over seeds) against env steps and seconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    has_optimum = "ratio_to_optimum" in (results["optimum"] or {})
    key = "ratio_to_optimum" if has_optimum else "mean_return"
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    random_level = float(np.mean([run["final"][key] for run in results["random"]]))
    for entry in results["agents"].values():
        curves = [run["curve"] for run in entry["runs"]]
        if not curves:
            continue
        length = min(len(curve) for curve in curves)
        values = np.array([[p[key] for p in curve[:length]] for curve in curves])
        steps = np.array([p["steps"] for p in curves[0][:length]])
        seconds = np.array([[p["seconds"] for p in curve[:length]] for curve in curves]).mean(0)
        mean, std = values.mean(axis=0), values.std(axis=0)
        for axis, x in zip(axes, (steps, seconds), strict=True):
            (line,) = axis.plot(x, mean, label=entry["label"])
            axis.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    for axis in axes:
        if has_optimum:
            axis.axhline(1.0, color="black", linewidth=1, label="exact optimum")
            for fraction in THRESHOLDS:
                axis.axhline(fraction, color="gray", linewidth=0.6, linestyle=":")
        axis.axhline(random_level, color="gray", linestyle="--", label="random policy")
        if results.get("heuristic"):
            level = results["heuristic"][key]
            axis.axhline(level, color="gray", linestyle="-.", label="cautious heuristic")
        axis.grid(alpha=0.3)
    if has_optimum:
        # Ratios run from about -10 (random play) to 1: linear within [-1, 1], where the
        # thresholds are, and logarithmic below, so both ends stay readable.
        axes[0].set_yscale("symlog", linthresh=1.0, linscale=3.0)
        axes[0].set_yticks([-10, -5, -2, -1, -0.5, 0, 0.5, 0.9, 1])
        axes[0].yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axes[0].set_ylim(top=1.1)
    budgets = [entry["config"]["steps"] for entry in results["agents"].values()]
    axes[0].set_xlabel("env steps")
    if max(budgets) >= 10 * min(budgets):  # e.g. Q-learning's 6M steps beside the DQN's 60k
        linear_up_to = min(entry["eval_every"] for entry in results["agents"].values())
        axes[0].set_xscale("symlog", linthresh=linear_up_to)
        axes[0].set_xlim(left=0)
        axes[0].set_xlabel(f"env steps (log scale above {linear_up_to:,})")
    axes[1].set_xlabel("training seconds (evaluation excluded)")
    axes[0].set_ylabel(
        "greedy return / exact optimum (log scale below -1)"
        if has_optimum
        else "greedy mean return"
    )
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small")
    settings = results["settings"]
    options = [f"{name}={settings.get(name)}" for name in ("size", "moving_food", "moving_enemy")]
    options = [option for option in options if not option.endswith("=None")]
    env = settings["env_id"] + (f" ({', '.join(options)})" if options else "")
    figure.suptitle(
        f"{env}: mean ± std over seeds {list(settings['seeds'])}, "
        f"{settings['curve_episodes']} evaluation episodes per point"
    )
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)
