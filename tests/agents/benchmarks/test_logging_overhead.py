"""The logging-overhead benchmark: rates with and without the callbacks, and their share."""

from __future__ import annotations

import pytest

from agents.benchmarks.logging_overhead import bench_logging_overhead


def test_logging_overhead_result_has_one_rate_per_repeat():
    result = bench_logging_overhead(nb_steps=10, repeats=2, warmup_steps=0)
    assert len(result["plain"]) == len(result["logged"]) == 2
    assert all(rate > 0 for rate in result["plain"] + result["logged"])
    assert result["ratio"] == pytest.approx(result["logged_mean"] / result["plain_mean"])
    assert 0 < result["callback_share"] < 1


def test_logging_overhead_rejects_an_empty_budget():
    with pytest.raises(ValueError, match="nb_steps >= 1"):
        bench_logging_overhead(nb_steps=0)
