from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_runs_the_chosen_benchmarks_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "results" / "bench.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--only",
            "env,vector",
            "--seconds",
            "0.2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "| env | Blob / FrozenLake |" in run.stdout
    assert "| vector | vector / single |" in run.stdout
    payload = json.loads(out.read_text())
    rows = {(r["benchmark"], r["metric"]): r for r in payload["results"]}
    assert rows[("env", "Blob / FrozenLake")]["target"] == ">= 0.5"
    assert rows[("vector", "vector / single")]["value"] > 1
    assert all(r["value"] > 0 for r in payload["results"])
    assert payload["only"] == ["env", "vector"] and payload["seconds"] == 0.2
    assert list(tmp_path.joinpath("results").iterdir()) == [out]  # no temporary file left


def test_only_rejects_unknown_benchmarks(capsys):
    bench = load_bench()
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "env,gpu"])
    names = ["env", "vector", "tutorial", "default", "sampling", "xla", "memory"]
    assert f"--only takes names from {names}, got ['env', 'gpu']" in capsys.readouterr().err


def test_markdown_table_formats_rates_and_ratios():
    bench = load_bench()
    table = bench.markdown_table(
        [
            bench.Result("env", "rate", 12345.6, "steps/s"),
            bench.Result("env", "r", 0.5, "x", ">= 0.5"),
        ]
    )
    assert table.splitlines()[2:] == [
        "| env | rate | 12,346 | steps/s |  |",
        "| env | r | 0.50 | x | >= 0.5 |",
    ]
