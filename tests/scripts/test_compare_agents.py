"""scripts/compare_agents.py as a user runs it: the options, their errors, a whole tiny run."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from agents.comparison import ABLATION, CompareConfig
from tests.scripts.conftest import load_script, run_script

compare_agents = load_script("compare_agents")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def parse(*argv: str) -> CompareConfig:
    parser = compare_agents.build_parser()
    return compare_agents.config_from_args(parser.parse_args(list(argv)))


def test_comparison_writes_table_json_and_plot_with_floor_and_ceiling(tmp_path):
    argv = ["--steps", "40", "--seeds", "0", "1", "--eval-every", "20", "--size", "5"]
    argv += ["--curve-episodes", "3", "--eval-episodes", "4", "--val-episodes", "2"]
    argv += ["--out", "out"]
    argv += ["--set", "warmup=20", "batch_size=8", "memory_size=100", "hidden_units=16"]
    argv += ["num_envs=1"]
    done = run_script("compare_agents.py", *argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    results = json.loads((out / "compare.json").read_text())
    assert list(results["agents"]) == ["qlearning", "dqn"]
    for entry in results["agents"].values():
        assert [run["seed"] for run in entry["runs"]] == [0, 1]
        for run in entry["runs"]:
            assert run["env_steps"] == 40 and run["train_seconds"] > 0
            assert [point["steps"] for point in run["curve"]] == [0, 20, 40]
            # Validation keeps train_blob.py's interval (a tenth of the budget), not the curve's.
            assert [point["steps"] for point in run["validation"]] == list(range(0, 41, 4))
            assert run["final"]["episodes"] == 4 and "ratio_to_optimum" in run["final"]
            assert set(run["reached"]) == {"0.9", "0.95"}
    assert results["agents"]["dqn"]["config"]["warmup"] == 20  # --set reached the DQN
    assert [run["seed"] for run in results["random"]] == [0, 1]
    assert results["optimum"]["ratio_to_optimum"] == 1.0
    # On the static game the heuristic plays these 4 starts as well as the optimum does.
    assert results["heuristic"]["ratio_to_optimum"] == pytest.approx(1.0)
    table = (out / "compare.md").read_text()
    rows = [line.split(" | ")[0].strip("| ") for line in table.splitlines()[2:]]
    assert rows == ["Random policy", "Cautious heuristic", "Q-learning", "DQN", "Optimum (exact)"]
    assert table.strip() in done.stdout
    png = out / "compare.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(png) as image:
        assert image.size[0] > 600 and image.size[1] > 300


def test_ablation_lists_the_ablation_rows():
    assert parse("--ablation").agents == ABLATION


def test_set_changes_every_agent_that_has_the_field_but_not_what_defines_a_row():
    config = parse("--ablation", "--set", "lr=0.01", "double=true", "eps-decay=0.5")
    assert config.agent_config("dqn-plain").lr == 0.01
    assert config.agent_config("dqn-plain").double is False  # the row's own setting wins
    assert parse("--set", "double=false").agent_config("dqn").double is False
    both = parse("--set", "lr=0.01", "eps_decay=0.5")
    assert both.agent_config("qlearning").lr == 0.01
    assert both.agent_config("qlearning").eps_decay == 0.5


@pytest.mark.parametrize(
    ("item", "message"),
    [("nosuch=1", "--set takes NAME=VALUE"), ("lr", "--set takes NAME=VALUE"),
     ("double=maybe", "--set double: expected a bool"), ("warmup=1.5", "expected a int")],
)  # fmt: skip
def test_bad_set_items_exit_with_a_usage_error(item, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare_agents.main(["--set", item])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ablation", "--agents", "dqn"], "give --agents or --ablation, not both"),
        (["--seeds", "1", "1"], "--seeds lists a seed twice"),
        (["--steps", "0"], "--steps must be >= 1"),
        (["--curve-episodes", "0"], "--curve-episodes must be an int in [1, 1000000], got 0"),
        (["--val-episodes", "-1"], "--val-episodes must be an int in [0, 1000000], got -1"),
        (["--eval-episodes", "1000001"], "--eval-episodes must be an int in [1, 1000000]"),
    ],
)
def test_contradicting_options_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare_agents.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_env_the_dqn_cannot_learn_is_refused_before_training(tmp_path, capsys):
    argv = ["--agents", "dqn", "--env-id", "FrozenLake-v1", "--out", str(tmp_path / "out")]
    assert compare_agents.main(argv) == 1
    assert "the DQN needs Box (array) observations" in capsys.readouterr().err
    assert not (tmp_path / "out" / "compare.json").exists()


def test_sizes_compare_each_grid_and_report_a_table_that_does_not_fit(tmp_path):
    argv = ["--agents", "qlearning", "--sizes", "5", "50", "--steps", "40", "--seeds", "0"]
    argv += ["--eval-every", "20", "--curve-episodes", "3", "--eval-episodes", "4"]
    argv += ["--val-episodes", "0", "--out", "out"]
    done = run_script("compare_agents.py", *argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    results = json.loads((out / "sizes.json").read_text())
    small, large = results["agents"]["qlearning"]["points"]
    assert small["size"] == 5 and small["fits"] and len(small["ratios"]) == 1
    assert small["footprint_bytes"] == 9**4 * 9 * 8
    assert large["size"] == 50 and not large["fits"] and "ratios" not in large
    assert large["footprint_bytes"] == 99**4 * 9 * 8 > results["table_limit_bytes"]
    assert (out / "size-5" / "compare.json").exists() and not (out / "size-50").exists()
    table = (out / "sizes.md").read_text()
    assert "| 50 x 50 | Q-learning | does not fit | — | table | 6.9 GB (limit 1.1 GB) |" in table
    assert table.strip() in done.stdout
    assert (out / "sizes.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "5", "--size", "6"], "give --size or --sizes, not both"),
        (["--sizes", "5", "--env-id", "CartPole-v1"], "--sizes needs a Blob env id"),
        (["--sizes", "6", "6"], "--sizes lists a size twice"),
    ],
)
def test_bad_sizes_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare_agents.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
