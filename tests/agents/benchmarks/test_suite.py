"""The suite's rows and settings, and its SB3 peer (skipped without the `[compare]` extra)."""

from __future__ import annotations

import inspect

import pytest

from agents.benchmarks import suite
from agents.benchmarks.suite import SUITE, SuiteConfig
from agents.benchmarks.zoo import ZOO_DQN


def test_every_row_names_a_registered_id_and_an_agent_with_a_preset():
    import gymnasium

    from agents import presets

    for name, row in SUITE.items():
        assert name == f"{row.agent}/{row.env_id}"
        gymnasium.spec(row.env_id)
        assert presets.config(row.agent, row.env_id).steps > 0
        assert row.metric in ("mean_return", "ratio_to_optimum")


def test_the_dqn_rows_have_a_peer_and_the_table_rows_do_not():
    assert SUITE["dqn/CartPole-v1"].has_peer and SUITE["dqn/MountainCar-v0"].has_peer
    assert not SUITE["qlearning/FrozenLake-v1"].has_peer


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"rows": ("dqn/Nope-v0",)}, "unknown rows"),
        ({"jobs": 0}, "jobs"),
        ({"curve_points": 0}, "curve_points"),
        ({"eval_episodes": 0}, "eval_episodes"),
        ({"val_episodes": -1}, "val_episodes"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_settings_are_refused_before_any_run(changes, message):
    with pytest.raises(ValueError, match=message):
        SuiteConfig(**changes).check()


def test_without_sb3_or_with_no_sb3_a_row_runs_ours_alone(monkeypatch):
    row = SUITE["dqn/CartPole-v1"]
    monkeypatch.setattr(suite, "sb3_version", lambda: None)
    assert suite.frameworks(row, SuiteConfig()) == ["ours"]
    monkeypatch.setattr(suite, "sb3_version", lambda: "2.9")
    assert suite.frameworks(row, SuiteConfig()) == ["ours", "sb3"]
    assert suite.frameworks(row, SuiteConfig(with_sb3=False)) == ["ours"]


def test_the_zoo_rows_are_keyword_arguments_of_sb3s_dqn():
    sb3 = pytest.importorskip(
        "stable_baselines3", reason="Stable-Baselines3 is the [compare] extra, not installed"
    )
    parameters = inspect.signature(sb3.DQN).parameters
    for hyperparameters in ZOO_DQN.values():
        assert set(hyperparameters) <= set(parameters)
