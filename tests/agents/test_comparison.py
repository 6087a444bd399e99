"""agents.comparison: the rows compared, budgets, learning curves, the table and the plot."""

from __future__ import annotations

import numpy as np
import pytest

from agents import presets
from agents.comparison import ABLATION, AGENT_SPECS, CompareConfig
from agents.comparison_report import first_reaching, markdown_table, plot_curves
from agents.presets import DQNConfig, QLearningConfig
from agents.scoring import evaluate_agent, evaluation_seeds
from callbacks import PeriodicEvaluation
from tests.gym_ids import TAXI

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_ablation_rows_change_one_dqn_feature_at_a_time():
    configs = {name: AGENT_SPECS[name].config("Blob-v0", 100) for name in ABLATION}
    plain = configs["dqn-plain"]
    assert (plain.double, plain.dueling, plain.prioritized, plain.n_step) == (False,) * 3 + (1,)
    assert configs["dqn+double"] == DQNConfig(**{**vars_of(plain), "double": True})
    assert configs["dqn+per"] == DQNConfig(**{**vars_of(plain), "prioritized": True})
    assert configs["dqn+nstep"].n_step == 3
    every = configs["dqn-all"]
    assert (every.double, every.dueling, every.prioritized, every.n_step) == (True,) * 3 + (3,)
    assert all(config.steps == 100 for config in configs.values())


def vars_of(config) -> dict:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def test_each_agent_trains_its_presets_budget_unless_steps_are_given():
    config = CompareConfig()
    assert config.budget("dqn") == config.agent_config("dqn").steps == DQNConfig().steps
    assert config.budget("qlearning") == QLearningConfig().steps
    assert config.interval("qlearning") == QLearningConfig().steps // 20
    given = CompareConfig(steps=1000)
    assert given.budget("dqn") == given.budget("qlearning") == 1000
    assert given.interval("dqn") == 50
    assert CompareConfig(eval_every=7).interval("qlearning") == 7
    cartpole = CompareConfig(env_id="CartPole-v1", agents=("dqn",))
    assert cartpole.budget("dqn") == presets.config("dqn", "CartPole-v1").steps


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


def test_learning_curve_points_fall_on_the_interval_and_leave_training_unchanged():
    config = presets.config("qlearning", "Blob-v0", steps=250, num_envs=1)
    env_kwargs = presets.env_kwargs(config, "Blob-v0", size=5)
    curves, tables = [], []
    seeds = evaluation_seeds(5)
    for record in (True, False):
        env = presets.make_env("qlearning", "Blob-v0", config, size=5)
        agent = presets.build("qlearning", env, config, seed=3)
        curve = PeriodicEvaluation(
            lambda agent: evaluate_agent(agent, "Blob-v0", seeds, env_kwargs), 100
        )
        agent.fit(env, nb_steps=250, callbacks=[curve] if record else [], verbose=0, seed=3)
        env.close()
        curves.append(curve)
        tables.append(agent.table)
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


def test_the_default_agents_are_those_that_can_learn_the_env():
    from agents.comparison import default_agents

    assert default_agents("Blob-v0") == ("qlearning", "dqn")
    assert default_agents("CartPole-v1") == ("dqn",)
    assert default_agents("FrozenLake-v1") == default_agents(TAXI) == ("qlearning",)
    assert default_agents("Pendulum-v1") == ("ddpg", "td3", "naf")
    with pytest.raises(ValueError, match="no agent can learn Blackjack-v1"):
        default_agents("Blackjack-v1")


def test_a_tabular_env_has_its_exact_optimum_as_the_ceiling():
    from agents.comparison import baselines

    lake = baselines(CompareConfig(env_id="FrozenLake-v1", seeds=(0,), eval_episodes=20))
    assert lake["optimum"] == {
        "mean_return": pytest.approx(0.74419, abs=1e-5),
        "ratio_to_optimum": 1.0,
    }
    cliff = baselines(CompareConfig(env_id="CliffWalking-v1", seeds=(0,), eval_episodes=2))
    assert cliff["optimum"] == {"mean_return": -13.0}  # negative: no ratio, the gap is reported


def test_the_heuristic_floor_keeps_out_of_a_moving_enemys_reach_only_where_it_moves():
    from agents.comparison import HeuristicAgent
    from blobenv.observation import rgb_observations

    cells = [np.array([xy], dtype=np.int32) for xy in ((2, 2), (6, 6), (4, 4))]
    image = rgb_observations(*cells, 8)  # the enemy beside (3, 3), on the way to the food
    assert HeuristicAgent(8, moving_enemy=False).forward(image).tolist() == [0]  # to (3, 3)
    assert HeuristicAgent(8, moving_enemy=True).forward(image).tolist() == [4]  # to (3, 2)
