"""The report of a suite run: its Markdown table and the plot of its learning curves.

Both read the results `agents.benchmarks.suite.run_suite` returns (bench_suite.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agents.comparison_report import markdown, mean_std

_NAMES = {"ours": "blobenv", "sb3": "SB3 + RL Zoo"}


def _median(values: list[float], digits: int) -> str:
    return f"{np.median(values):,.{digits}f}" if values else "—"


def markdown_table(results: dict[str, Any]) -> str:
    """One line per (row, framework): final return, seeds solved, steps and seconds to solve."""
    header = [
        "Agent / env", "Framework", "Final greedy return", "Threshold", "Seeds solved",
        "Env steps to threshold (median)", "Seconds to threshold (median)",
        "Gradient steps / s", "Train seconds",
    ]  # fmt: skip
    rows = []
    for name, entry in results["rows"].items():
        row = entry["row"]
        metric = "ratio" if row["metric"] == "ratio_to_optimum" else "return"
        for framework, runs in entry["runs"].items():
            finals = [run["final"]["mean_return"] for run in runs]
            reached = [run["reached"] for run in runs if run["reached"]]
            rates = [run["gradient_steps"] / run["train_seconds"] for run in runs]
            rows.append([
                name, _NAMES[framework], mean_std(finals, 2), f"{metric} >= {row['threshold']:g}",
                f"{len(reached)}/{len(runs)}", _median([r["steps"] for r in reached], 0),
                _median([r["seconds"] for r in reached], 1), mean_std(rates, 0),
                mean_std([run["train_seconds"] for run in runs], 1),
            ])  # fmt: skip
    return markdown(header, rows)


def plot_curves(results: dict[str, Any], path: Path) -> None:
    """Saves one panel per row: each framework's greedy curve (mean ± std over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = list(results["rows"].items())
    figure, axes = plt.subplots(1, len(entries), figsize=(4.5 * len(entries), 4), squeeze=False)
    for axis, (name, entry) in zip(axes[0], entries, strict=True):
        row = entry["row"]
        for framework, runs in entry["runs"].items():
            curves = [run["curve"] for run in runs]
            if not curves:
                continue
            length = min(len(curve) for curve in curves)
            values = np.array([[p[row["metric"]] for p in c[:length]] for c in curves])
            steps = np.array([p["steps"] for p in curves[0][:length]])
            mean, std = values.mean(axis=0), values.std(axis=0)
            (line,) = axis.plot(steps, mean, label=_NAMES[framework])
            axis.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        axis.axhline(row["threshold"], color="gray", linestyle=":", label="threshold")
        axis.set_title(name, fontsize="medium")
        axis.set_xlabel("env steps")
        axis.set_ylabel("greedy " + row["metric"].replace("_", " "))
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    seeds = results["settings"]["seeds"]
    figure.suptitle(f"greedy evaluation, mean ± std over seeds {seeds}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
