"""scripts/bench_suite.py as a user runs it: a tiny suite, its files, its errors."""

from __future__ import annotations

import json

import pytest

from tests.scripts.conftest import run_script

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = ["--seeds", "0", "--curve-points", "2", "--curve-episodes", "3", "--eval-episodes", "4"]
TINY += ["--val-episodes", "2", "--out", "out"]


def test_ours_alone_writes_the_table_json_and_plot(tmp_path):
    rows = ["--rows", "dqn/CartPole-v1", "qlearning/FrozenLake-v1", "--steps", "300"]
    done = run_script("bench_suite.py", *rows, *TINY, "--no-sb3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "bench_suite.json").read_text())
    assert list(results["rows"]) == ["dqn/CartPole-v1", "qlearning/FrozenLake-v1"]
    for entry in results["rows"].values():
        assert list(entry["runs"]) == ["ours"]
        (run,) = entry["runs"]["ours"]
        assert run["seed"] == 0 and run["env_steps"] >= 300
        assert [point["steps"] for point in run["curve"]][0] == 0
        assert run["final"]["episodes"] == 4 and run["final"]["seeds"] == [1_000_000, 1_000_003]
        assert run["gradient_steps"] >= 0 and run["train_seconds"] > 0
    # The table-based agent updates once per env step.
    assert results["rows"]["qlearning/FrozenLake-v1"]["runs"]["ours"][0]["gradient_steps"] >= 300
    table = (tmp_path / "out" / "bench_suite.md").read_text()
    assert table.strip() in done.stdout
    assert [line.split(" | ")[1] for line in table.splitlines()[2:]] == ["blobenv", "blobenv"]
    assert (tmp_path / "out" / "bench_suite.png").read_bytes()[:8] == PNG_SIGNATURE


def test_sb3_runs_beside_ours_on_the_same_evaluation_episodes(tmp_path):
    pytest.importorskip(
        "stable_baselines3", reason="Stable-Baselines3 is the [compare] extra, not installed"
    )
    argv = ["--rows", "dqn/CartPole-v1", "--steps", "1300", *TINY]
    done = run_script("bench_suite.py", *argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "out" / "bench_suite.json").read_text())["rows"]
    runs = rows["dqn/CartPole-v1"]["runs"]
    ours, sb3 = runs["ours"][0], runs["sb3"][0]
    assert ours["final"]["seeds"] == sb3["final"]["seeds"]
    # SB3 collects in rollouts of train_freq (256) steps, 128 gradient steps after each.
    assert sb3["env_steps"] == 1536 and sb3["gradient_steps"] in (256, 384)
    assert ours["gradient_steps"] > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--rows", "dqn/Nope-v0"], "invalid choice"),
        (["--jobs", "0"], "jobs must be an int >= 1"),
        (["--steps", "0"], "steps must be >= 1"),
    ],
)
def test_bad_options_get_a_one_line_error_and_status_2(tmp_path, argv, message):
    done = run_script("bench_suite.py", *argv, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "results").exists()
