"""Each agent benchmark of scripts/bench.py reports its metrics, all positive, with targets."""

from __future__ import annotations

import numpy as np
import pytest

from agents import presets
from agents.benchmarks import distributed, dqn, replay, update_rate
from agents.benchmarks.measure import markdown_table
from agents.benchmarks.suite import sb3_version

BENCHMARKS = {
    "tutorial": dqn.bench_tutorial,
    "default": dqn.bench_default,
    "sampling": replay.bench_sampling,
    "xla": dqn.bench_xla,
    "memory": replay.bench_memory,
    "updates": update_rate.bench_updates,
    "distributed": distributed.bench_distributed,
}


def expected_metrics(name: str) -> set[str]:
    """The metrics that agent benchmark `name` reports."""
    config = presets.config("dqn", "Blob-v0")
    network, num_envs = config.network, config.num_envs
    ratios = {"agent / tutorial loop", "agent / tutorial loop (CPU time)"}
    mlp = [update_rate.mlp_name(*setting) for setting in update_rate.MLP_SETTINGS]
    sb3 = sb3_version() is not None
    peers = {f"{m}, SB3" for m in mlp} | {"ours / SB3", "ours / SB3 (CPU time)"} if sb3 else set()
    others = {f"DQNAgent.fit {network} num_envs={n}" for n in {1, 8} - {num_envs}}
    return {
        "tutorial": {"DQNAgent.fit tutorial_cnn", "tutorial loop tutorial_cnn", *ratios},
        "default": {
            f"DQNAgent.fit {network} num_envs={num_envs} (default)",
            *others,
            f"tutorial loop {network}",
            *ratios,
        },
        "sampling": {
            "SequentialMemory batches of 64/s",
            "PrioritizedMemory batches of 64/s",
            "PrioritizedMemory time / SequentialMemory time",
        },
        "xla": {
            f"{net} {what}"
            for net in ("tutorial_cnn", network)
            for what in (
                "train step, XLA",
                "train step, no XLA",
                "XLA / no XLA",
                "XLA / no XLA (CPU time)",
            )
        },  # fmt: skip
        "memory": {
            "SequentialMemory of 2,000 Blob transitions",
            "peak resident memory of this process",
        },
        "updates": {
            "Blob default, XLA on",
            "Blob default, XLA off",
            "XLA on / off",
            "XLA on / off (CPU time)",
            "Blob default, XLA on, train_freq 32",
            "train_freq 32 / 1",
            "train_freq 32 / 1 (CPU time)",
            *(f"{m}, ours" for m in mlp),
            *peers,
        },  # fmt: skip
        "distributed": {
            "single process: env steps/s = updates/s",
            *(
                f"{n} collector{'s' if n > 1 else ''}{what}"
                for n in distributed.WORKERS
                for what in (
                    ": collection env steps/s",
                    ": learner updates/s",
                    ": learner waiting for data",
                    ": weight lag",
                    " / single process: env steps/s",
                )
            ),
            "one broadcast: weights",
            "one broadcast: ray.put",
            "one broadcast: ray.get in an actor",
            "one collector alone: env steps/s",
        },  # fmt: skip
    }[name]


TARGETS = {
    ("tutorial", "agent / tutorial loop"): ">= 5",
    ("updates", "Blob default, XLA on"): ">= 1,000",
    ("updates", "ours / SB3"): ">= 2",
    **{
        ("updates", f"{update_rate.mlp_name(*setting)}, ours"): "no SB3"
        for setting in ((2, 1), (1, 2))  # the `tiny` fixture's MLP_SETTINGS
        if sb3_version() is None
    },
    ("sampling", "PrioritizedMemory time / SequentialMemory time"): "<= 3",
}


# The default's, update-rate and XLA benchmarks compile the most; `tutorial` runs the same
# machinery in the default run, these with `-m slow`, as does Ape-X's (it starts Ray).
SLOW = ("default", "updates", "xla", "distributed")


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in BENCHMARKS]
)
def test_agent_benchmark_reports_positive_figures_in_a_table(name, tiny):
    rows = BENCHMARKS[name](0.01)
    results = [row._asdict() for row in rows]
    assert {r["benchmark"] for r in results} == {name}
    assert {r["metric"] for r in results} == expected_metrics(name)
    assert all(r["value"] > 0 and np.isfinite(r["value"]) for r in results)
    for r in results:
        assert r["target"] == TARGETS.get((name, r["metric"]), "")
    table = markdown_table(rows)
    assert all(f"| {name} | {r['metric']} | " in table for r in results)
