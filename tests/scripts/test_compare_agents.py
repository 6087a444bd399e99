from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from callbacks import PeriodicEvaluation
from scripts import compare_agents
from scripts._compare_report import first_reaching, markdown_table, plot_curves
from scripts._training import evaluate_agent, evaluation_seeds, prepare
from scripts.compare_agents import ABLATION, AGENT_SPECS, CompareConfig
from scripts.train_blob import DQNConfig, QLearningConfig
from tests.scripts.conftest import run_script

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
    table = (out / "compare.md").read_text()
    rows = [line.split(" | ")[0].strip("| ") for line in table.splitlines()[2:]]
    assert rows == ["Random policy", "Q-learning", "DQN", "Optimum (exact)"]
    assert table.strip() in done.stdout
    png = out / "compare.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(png) as image:
        assert image.size[0] > 600 and image.size[1] > 300


def test_ablation_rows_change_one_dqn_feature_at_a_time():
    assert parse("--ablation").agents == ABLATION
    configs = {name: AGENT_SPECS[name].config(100) for name in ABLATION}
    plain = configs["dqn-plain"]
    assert (plain.double, plain.dueling, plain.prioritized, plain.n_step) == (False,) * 3 + (1,)
    assert configs["dqn+double"] == DQNConfig(**{**vars_of(plain), "double": True})
    assert configs["dqn+per"] == DQNConfig(**{**vars_of(plain), "prioritized": True})
    assert configs["dqn+nstep"].n_step == 3
    every = configs["dqn-all"]
    assert (every.double, every.dueling, every.prioritized, every.n_step) == (True,) * 3 + (3,)
    assert all(config.steps == 100 for config in configs.values())


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


def vars_of(config) -> dict:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def test_each_agent_trains_its_own_default_budget_unless_steps_are_given():
    config = parse()
    assert config.budget("dqn") == config.agent_config("dqn").steps == DQNConfig().steps
    assert config.budget("qlearning") == QLearningConfig().steps
    assert config.interval("qlearning") == QLearningConfig().steps // 20
    given = parse("--steps", "1000")
    assert given.budget("dqn") == given.budget("qlearning") == 1000
    assert given.interval("dqn") == 50
    assert parse("--eval-every", "7").interval("qlearning") == 7


def test_plot_puts_budgets_ten_times_apart_on_a_log_axis_of_steps(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    def curve(budget):
        points = [
            {"steps": s, "seconds": s / budget, "ratio_to_optimum": s / budget}
            for s in (0, budget // 2, budget)
        ]
        return {"curve": points}

    results = {
        "settings": {"env_id": "Blob-v0", "seeds": [0], "curve_episodes": 3},
        "random": [{"final": {"ratio_to_optimum": -9.0}}],
        "optimum": {"ratio_to_optimum": 1.0},
        "agents": {
            name: {
                "label": name,
                "config": {"steps": budget},
                "eval_every": budget // 2,
                "runs": [curve(budget)],
            }
            for name, budget in (("qlearning", 6000), ("dqn", 100))
        },
    }
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    plot_curves(results, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG_SIGNATURE
    steps_axis, seconds_axis = figures[0].axes
    assert steps_axis.get_xscale() == "symlog" and seconds_axis.get_xscale() == "linear"
    assert steps_axis.get_xlim()[0] == 0
    results["agents"]["qlearning"]["config"]["steps"] = 900
    plot_curves(results, tmp_path / "curves.png")
    assert figures[1].axes[0].get_xscale() == "linear"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ablation", "--agents", "dqn"], "give --agents or --ablation, not both"),
        (["--seeds", "1", "1"], "--seeds lists a seed twice"),
        (["--steps", "0"], "--steps must be >= 1"),
        (["--curve-episodes", "0"], "--curve-episodes must be in [1, 1000000], got 0"),
        (["--val-episodes", "-1"], "--val-episodes must be in [0, 1000000], got -1"),
        (["--eval-episodes", "1000001"], "--eval-episodes must be in [1, 1000000]"),
    ],
)
def test_contradicting_options_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare_agents.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_env_the_dqn_cannot_learn_is_refused_before_training(tmp_path, capsys):
    argv = ["--env-id", "FrozenLake-v1", "--out", str(tmp_path / "out")]
    assert compare_agents.main(argv) == 1
    assert "the DQN needs Box (array) observations" in capsys.readouterr().err
    assert not (tmp_path / "out" / "compare.json").exists()


def test_learning_curve_points_fall_on_the_interval_and_leave_training_unchanged():
    config = QLearningConfig(steps=250, num_envs=1)
    curves, tables = [], []
    seeds = evaluation_seeds(5)
    for record in (True, False):
        setup = prepare("qlearning", config, "Blob-v0", {"size": 5}, seed=3)
        curve = PeriodicEvaluation(lambda agent, s=setup: evaluate_agent(agent, s, seeds), 100)
        setup.agent.fit(
            setup.env, nb_steps=250, callbacks=[curve] if record else [], verbose=0, seed=3
        )
        curves.append(curve)
        tables.append(setup.agent.table)
    points = curves[0].points
    assert [point["steps"] for point in points] == [0, 100, 200, 250]
    assert all("ratio_to_optimum" in point for point in points)
    seconds = [point["seconds"] for point in points]
    assert seconds == sorted(seconds) and curves[0].train_seconds >= seconds[-1]
    np.testing.assert_array_equal(tables[0], tables[1])


def test_first_reaching_gives_the_first_point_at_or_above_the_fraction():
    points = [
        {"steps": 0, "seconds": 0.0, "ratio_to_optimum": -5.0},
        {"steps": 10, "seconds": 1.0, "ratio_to_optimum": 0.92},
        {"steps": 20, "seconds": 2.0, "ratio_to_optimum": 0.96},
    ]
    assert first_reaching(points, 0.9) == {"steps": 10, "seconds": 1.0}
    assert first_reaching(points, 0.95) == {"steps": 20, "seconds": 2.0}
    assert first_reaching(points, 0.99) is None
    assert first_reaching([{"steps": 0, "seconds": 0.0, "mean_return": 3.0}], 0.5) is None


def test_table_gives_mean_and_std_over_seeds_and_counts_seeds_that_never_reached():
    def run(ratio, reached):
        final = {"mean_return": 20 * ratio, "ratio_to_optimum": ratio, "success_rate": 1.0}
        hit = {"steps": reached, "seconds": reached / 10} if reached else None
        return {"final": final, "reached": {"0.9": hit, "0.95": None}, "train_seconds": 5.0}

    results = {
        "random": [{"final": {"mean_return": -100.0, "ratio_to_optimum": -5.0}}],
        "agents": {"dqn": {"label": "DQN", "runs": [run(0.9, 100), run(1.0, 300), run(0.5, 0)]}},
        "optimum": {"mean_return": 20.0, "success_rate": 1.0, "ratio_to_optimum": 1.0},
    }
    lines = markdown_table(results).splitlines()
    assert lines[0].startswith("| Agent | Final return | Ratio to optimum | Success | Steps to 90%")
    cells = [cell.strip() for cell in lines[3].strip("|").split("|")]
    assert cells[:4] == ["DQN", "16.00 ± 4.32", "0.800 ± 0.216", "100.0 ± 0.0%"]
    assert cells[4:8] == ["200 ± 100 (2/3 seeds)", "20.0 ± 10.0 (2/3 seeds)", "not reached"] + [
        "not reached"
    ]
    assert lines[2].startswith("| Random policy | -100.00 | -5.000 |")
    assert lines[4].startswith("| Optimum (exact) | 20.00 | 1.000 | 100.0% |")
