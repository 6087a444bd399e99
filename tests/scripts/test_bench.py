"""scripts/bench.py: its table of benchmarks, --only, the printed table and the JSON file."""

from __future__ import annotations

import json

import pytest

from tests.scripts.conftest import load_script, run_script

NAMES = ["env", "vector", "tutorial", "default", "sampling", "xla", "updates", "distributed"]
NAMES += ["memory"]


def test_bench_runs_the_chosen_benchmarks_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "results" / "bench.json"
    run = run_script(
        "bench.py", "--only", "env,vector", "--seconds", "0.2", "--out", str(out),
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "| env | Blob / FrozenLake |" in run.stdout
    assert "| vector | vector / single |" in run.stdout
    payload = json.loads(out.read_text())
    rows = {(r["benchmark"], r["metric"]): r for r in payload["results"]}
    assert rows[("env", "Blob / FrozenLake")]["target"] == ">= 0.5"
    assert rows[("vector", "vector / single")]["value"] > 1
    assert all(r["value"] > 0 for r in payload["results"])
    assert payload["only"] == ["env", "vector"] and payload["seconds"] == 0.2
    assert list(tmp_path.joinpath("results").iterdir()) == [out]  # no temporary file left


def test_benchmarks_run_in_order_with_memory_last():
    assert list(load_script("bench").BENCHMARKS) == NAMES  # memory's peak covers the others


def test_only_rejects_unknown_benchmarks(capsys):
    bench = load_script("bench")
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "env,gpu"])
    assert f"--only takes names from {NAMES}, got ['env', 'gpu']" in capsys.readouterr().err
