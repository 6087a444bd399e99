"""The suite's rows and settings, and its SB3 peer (skipped without the `[compare]` extra)."""

from __future__ import annotations

import inspect

import pytest

from agents.benchmarks import suite
from agents.benchmarks.suite import SUITE, SuiteConfig
from agents.benchmarks.zoo import ZOO


def test_every_row_names_a_registered_id_and_an_agent_with_a_preset():
    import gymnasium

    from agents import presets

    for name, row in SUITE.items():
        assert name == f"{row.agent}/{row.env_id}"
        gymnasium.spec(row.env_id)
        assert presets.config(row.agent, row.env_id).steps > 0
        assert row.metric in ("mean_return", "ratio_to_optimum")


def test_the_rows_sb3_has_the_algorithm_of_have_a_peer_and_the_others_do_not():
    peers = {"dqn/CartPole-v1", "dqn/MountainCar-v0", "ddpg/Pendulum-v1", "td3/Pendulum-v1"}
    peers |= {"ppo/CartPole-v1", "ppo/Pendulum-v1"}
    assert {name for name, row in SUITE.items() if row.has_peer} == peers


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


def test_the_zoo_rows_are_keyword_arguments_of_their_sb3_algorithm():
    sb3 = pytest.importorskip(
        "stable_baselines3", reason="Stable-Baselines3 is the [compare] extra, not installed"
    )
    for algorithm, rows in ZOO.values():
        parameters = set(inspect.signature(getattr(sb3, algorithm)).parameters)
        for hyperparameters in rows.values():
            # noise_std becomes SB3's action_noise, n_envs its vector env (sb3_baseline).
            assert set(hyperparameters) - {"noise_std", "n_envs"} <= parameters
