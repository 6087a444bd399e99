"""soak.py: resident memory and log size sampled during a train_blob.py run, and the summary."""

from __future__ import annotations

import json

import pytest

from callbacks.resources import resident_bytes
from tests.scripts.conftest import load_script

soak = load_script("soak")


def sample(step: int, rss: float, replay: int | None, limit: int | None = 100, events: int = 0):
    return {
        "step": step, "episode": step // 10, "seconds": step / 100, "rss_mib": rss,
        "rss_source": "statm", "events_bytes": events, "run_dir_bytes": events,
        "replay_size": replay, "replay_limit": None if replay is None else limit,
    }  # fmt: skip


def test_growth_is_measured_from_the_first_sample_with_the_replay_memory_full():
    samples = [
        sample(0, 500.0, 0),
        sample(100, 600.0, 80),  # still filling: not the baseline
        sample(200, 640.0, 100, events=2000),
        sample(300, 650.0, 100, events=3000),
        sample(400, 656.0, 100, events=4000),
    ]
    summary = soak.summarize(samples)
    assert summary["memory_full_at_step"] == 200 and summary["rss_at_full_mib"] == 640.0
    assert summary["rss_growth_after_full_percent"] == pytest.approx(2.5)
    assert summary["rss_max_after_full_mib"] == 656.0
    assert summary["rss_slope_mib_per_100k_steps"] == pytest.approx(8000.0)
    assert summary["events_bytes_per_1000_steps"] == pytest.approx(10_000.0)


def test_without_a_replay_memory_the_baseline_is_the_first_sample_after_the_start():
    summary = soak.summarize(
        [sample(0, 100.0, None), sample(50, 110.0, None), sample(99, 121.0, None)]
    )
    assert summary["memory_full_at_step"] == 50
    assert summary["rss_growth_after_full_percent"] == pytest.approx(10.0)


def test_a_memory_that_never_filled_gives_no_growth_figure():
    summary = soak.summarize([sample(0, 100.0, 0), sample(50, 110.0, 40)])
    assert summary["rss_growth_after_full_percent"] is None


def test_resident_memory_is_read_from_proc():
    rss, source = resident_bytes()
    assert source == "statm" and 10 * 2**20 < rss < 64 * 2**30


# The soak's sampling and table are tested above in the default run; its whole run is slow.
@pytest.mark.slow
def test_a_short_soak_writes_its_samples_and_prints_the_table(tmp_path, capsys):
    out = tmp_path / "soak.json"
    argv = ["--sample-every", "100", "--json", str(out), "--max-growth", "1000"]
    argv += ["--steps", "400", "--memory-size", "100", "--warmup", "20", "--batch-size", "8"]
    argv += ["--hidden-units", "16", "--size", "5", "--num-envs", "1", "--logdir", str(tmp_path)]
    assert soak.main(argv) == 0
    printed = capsys.readouterr().out
    assert "RSS MiB" in printed and "rss_growth_after_full_percent" in printed
    report = json.loads(out.read_text())
    steps = [s["step"] for s in report["samples"]]
    assert steps[0] == 0 and steps[-1] == 400 and steps == sorted(steps) and len(steps) >= 4
    assert report["samples"][-1]["replay_size"] == 100 and report["samples"][-1]["events_bytes"] > 0
    assert report["summary"]["rss_growth_after_full_percent"] is not None
    assert "--save-memory" in report["argv"]
