"""Result rows, rates measured in alternating rounds, and the Markdown table of results.

Rates compared in one row are measured in alternating short rounds and compared by their
medians, so whatever load the machine has (other processes, caches, frequency) hits both alike.
Single-threaded work is timed by this process's CPU time (`interleaved_rates`); work that
TensorFlow spreads over threads by the wall clock, with the CPU-time ratio beside it
(`interleaved_work_rates`, `comparison`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

#: Rounds of `interleaved_rates`.
ROUNDS = 10
#: The time budget of a measurement that the benchmarks' step counts are sized for, in seconds.
DEFAULT_SECONDS = 4.0


class Result(NamedTuple):
    """One row of the results table."""

    benchmark: str
    metric: str
    value: float
    unit: str
    target: str = ""


class Rates(NamedTuple):
    """A side's rate in each round, per wall-clock second and per CPU second of this process."""

    wall: np.ndarray
    cpu: np.ndarray


def interleaved_rates(
    measures: dict[str, Callable[[float], float]], seconds: float, rounds: int = ROUNDS
) -> dict[str, float]:
    """Runs several rate measurements in alternating rounds and returns each one's median.

    Args:
        measures: Name to a function that measures a rate over a given number of seconds.
        seconds: Total time for each measurement, split over the rounds.
        rounds: How many rounds to alternate.

    Returns:
        Name to the median rate.
    """
    rates: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            rates[name].append(measure(seconds / rounds))
    return {name: float(np.median(values)) for name, values in rates.items()}


def interleaved_work_rates(sides: dict[str, Callable[[], int]], rounds: int) -> dict[str, Rates]:
    """Runs each side's round of work in turn, `rounds` times, timing both clocks.

    Args:
        sides: Name to a function that does one round of work and returns how many units it did.
        rounds: How many rounds to alternate.

    Returns:
        Name to its units per wall second and per CPU second in each round.
    """
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, work in sides.items():
            wall, cpu = time.perf_counter(), time.process_time()
            done = work()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            samples[name].append((done / wall, done / max(cpu, 1e-9)))
    return {name: Rates(*np.array(s).T) for name, s in samples.items()}


def comparison(
    benchmark: str,
    rates: dict[str, Rates],
    unit: str,
    ratio: tuple[str, str],
    label: str,
    target: str = "",
) -> list[Result]:
    """Rows for each side's median wall-clock rate and the ratio of two sides by either clock.

    A ratio is the median of the rounds' ratios: a round's two sides ran back to back, so under
    much the same load from other processes.

    Args:
        benchmark: The benchmark's name.
        rates: Side name to its rates, from `interleaved_work_rates`.
        unit: The rates' unit.
        ratio: (numerator, denominator) side names.
        label: The ratio's name.
        target: What the wall-clock ratio should reach.

    Returns:
        One row per side, then the ratio by wall clock and by CPU time.
    """
    sides = [
        Result(benchmark, name, float(np.median(rate.wall)), unit) for name, rate in rates.items()
    ]
    return sides + ratio_rows(benchmark, rates, ratio, label, target)


def ratio_rows(
    benchmark: str, rates: dict[str, Rates], ratio: tuple[str, str], label: str, target: str = ""
) -> list[Result]:
    """The ratio of two sides' rates by wall clock and by CPU time (see `comparison`)."""
    top, bottom = (rates[name] for name in ratio)
    return [
        Result(benchmark, label, float(np.median(top.wall / bottom.wall)), "x", target),
        Result(benchmark, f"{label} (CPU time)", float(np.median(top.cpu / bottom.cpu)), "x"),
    ]


def markdown_table(results: Sequence[Result]) -> str:
    """Formats results as a Markdown table.

    Args:
        results: The rows.

    Returns:
        The table, one line per row plus the header.
    """
    lines = ["| benchmark | metric | value | unit | target |", "|---|---|---|---|---|"]
    for r in results:
        value = f"{r.value:,.0f}" if r.value >= 1000 else f"{r.value:.2f}"
        lines.append(f"| {r.benchmark} | {r.metric} | {value} | {r.unit} | {r.target} |")
    return "\n".join(lines)
