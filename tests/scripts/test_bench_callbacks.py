"""scripts/bench_callbacks.py prints the logging overhead's figures."""

from __future__ import annotations

from tests.scripts.conftest import load_script


def test_logging_overhead_benchmark_runs_with_a_tiny_budget(capsys):
    bench = load_script("bench_callbacks")
    assert bench.main(["--steps", "15", "--repeats", "2", "--warmup", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "agent.fit on Blob-v0, 15 steps x 2 repeats"
    assert "no callbacks:" in lines[1] and "steps/s" in lines[1]
    assert "ModifiedTensorBoard + progress bar:" in lines[2]
    assert lines[3].startswith("  ratio: ") and lines[3].endswith("%")
    assert lines[4].startswith("  time inside the callbacks' hooks: ")
