import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_callbacks.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bench_callbacks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_logging_overhead_benchmark_runs_with_a_tiny_budget(capsys):
    bench = load_script()
    assert bench.main(["--steps", "15", "--repeats", "2", "--warmup", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "agent.fit on Blob-v0, 15 steps x 2 repeats"
    assert "no callbacks:" in lines[1] and "steps/s" in lines[1]
    assert "ModifiedTensorBoard + progress bar:" in lines[2]
    assert lines[3].startswith("  ratio: ") and lines[3].endswith("%")
    assert lines[4].startswith("  time inside the callbacks' hooks: ")


def test_logging_overhead_result_has_one_rate_per_repeat():
    result = load_script().bench_logging_overhead(nb_steps=10, repeats=2, warmup_steps=0)
    assert len(result["plain"]) == len(result["logged"]) == 2
    assert all(rate > 0 for rate in result["plain"] + result["logged"])
    assert result["ratio"] == pytest.approx(result["logged_mean"] / result["plain_mean"])
    assert 0 < result["callback_share"] < 1


def test_logging_overhead_rejects_an_empty_budget():
    with pytest.raises(ValueError, match="nb_steps >= 1"):
        load_script().bench_logging_overhead(nb_steps=0)
