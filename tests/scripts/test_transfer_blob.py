"""scripts/transfer_blob.py as a user runs it: a saved agent played on other grid sizes."""

from __future__ import annotations

import json

import pytest

from tests.scripts.conftest import load_script, run_script

transfer_blob = load_script("transfer_blob")


def test_a_saved_agent_plays_each_size_against_its_optimum(tiny_run, tmp_path):
    _, run_dir = tiny_run
    argv = [str(run_dir / "agent"), "--sizes", "5", "9", "--episodes", "4", "--out", "out"]
    done = run_script("transfer_blob.py", *argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "transfer.json").read_text())
    assert [row["size"] for row in results["rows"]] == [5, 9]
    for row in results["rows"]:
        assert row["episodes"] == 4 and "ratio_to_optimum" in row
    table = (tmp_path / "out" / "transfer.md").read_text().strip()
    assert table in done.stdout and "| 9 x 9 |" in table


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["agent", "--sizes", "1"], "size must be between"),
        (["agent", "--sizes", "8", "8"], "--sizes lists a size twice"),
        (["agent", "--episodes", "0"], "--episodes must be an int in [1, 1000000], got 0"),
    ],
)
def test_bad_options_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        transfer_blob.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_a_missing_agent_or_a_non_blob_env_is_one_line_and_status_1(tmp_path, capsys):
    assert transfer_blob.main([str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("transfer_blob.py: error: no saved agent directory at")
    assert len(err.strip().splitlines()) == 1
    assert transfer_blob.main([str(tmp_path), "--env-id", "CartPole-v1"]) == 1
    assert "--env-id must be a Blob id, got 'CartPole-v1'" in capsys.readouterr().err
