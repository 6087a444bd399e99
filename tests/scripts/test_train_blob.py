from __future__ import annotations

import json
from pathlib import Path

import gymnasium
import keras
import numpy as np
import pytest

import agents
from agents.checkpoint import load_checkpoint
from blobenv.solver import optimal_returns
from scripts import train_blob
from scripts._training import (
    EVAL_SEED_START,
    VALIDATION_SEED_START,
    evaluation_seeds,
    prepare,
    validation_seeds,
)
from scripts.train_blob import DQNConfig, QLearningConfig, RunConfig, start_run, train
from tests.scripts.conftest import run_script


def parse(*argv: str) -> RunConfig:
    return train_blob.config_from_args(train_blob.build_parser().parse_args(list(argv)))


def qlearning_config(tmp_path: Path, **changes) -> RunConfig:
    hyper = QLearningConfig(steps=changes.pop("steps", 300), num_envs=1)
    options = {"agent": "qlearning", "size": 5, "logdir": str(tmp_path / "logs"), "hyper": hyper}
    return RunConfig(**{"eval_episodes": 10, "val_episodes": 5, **options, **changes})


def events_files(run_dir: Path) -> list[Path]:
    return sorted(run_dir.rglob("events.out.tfevents.*"))


# --- options --------------------------------------------------------------------------------


def test_without_options_each_agent_gets_its_config_defaults():
    assert parse().hyper == DQNConfig()
    assert parse("--agent", "qlearning").hyper == QLearningConfig()
    assert parse().env_id == "Blob-v0" and parse().eval_episodes == 500


def test_options_override_the_chosen_agents_defaults():
    config = parse("--lr", "0.5", "--no-double", "--dueling", "--steps", "7", "--n-step", "3")
    assert config.hyper == DQNConfig(lr=0.5, double=False, dueling=True, steps=7, n_step=3)
    assert parse("--agent", "qlearning", "--eps-decay", "0.9").hyper.eps_decay == 0.9


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agent", "qlearning", "--network", "mlp"], "--network does not apply to --agent"),
        (["--steps", "10", "--episodes", "3"], "give --steps or --episodes, not both"),
        (["--seed", str(EVAL_SEED_START)], "evaluation seeds start there"),
        (["--num-envs", "0"], "--num-envs must be >= 1"),
        (["--val-episodes", "-1"], "--val-episodes must be in [0, 1000000]"),
        (["--eval-episodes", "1000001"], "--eval-episodes must be in [0, 1000000]"),
        (["--val-every", "0"], "--val-every must be >= 1"),
    ],
)
def test_contradicting_or_out_of_range_options_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_blob.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_evaluation_seeds_lie_above_every_training_seed_and_validation_seeds_above_them():
    assert evaluation_seeds(3) == [EVAL_SEED_START, EVAL_SEED_START + 1, EVAL_SEED_START + 2]
    assert validation_seeds(2) == [VALIDATION_SEED_START, VALIDATION_SEED_START + 1]
    assert evaluation_seeds(VALIDATION_SEED_START - EVAL_SEED_START)[-1] < VALIDATION_SEED_START


# --- a real run, as a subprocess ------------------------------------------------------------


def test_run_saves_a_loadable_agent_one_events_file_and_the_results(tiny_run):
    done, run_dir = tiny_run
    assert run_dir.name.startswith("dqn-Blob-v0-")
    assert len(events_files(run_dir)) == 1
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] is False and results["env_steps"] == 60
    assert results["config"]["hyper"]["hidden_units"] == 16
    evaluation = results["evaluation"]
    optimum = optimal_returns(evaluation_seeds(6), 5).mean()
    assert evaluation["episodes"] == 6 and evaluation["optimal_mean_return"] == pytest.approx(
        optimum
    )
    assert evaluation["ratio_to_optimum"] == pytest.approx(evaluation["mean_return"] / optimum)
    assert 0 <= evaluation["success_rate"] <= 1
    assert "% of the optimum" in done.stdout and "success rate" in done.stdout

    agent = agents.load_agent(results["saved_agent"])
    env = gymnasium.make("Blob-v0", size=5)
    history = agent.test(env, nb_episodes=1, verbose=0, seed=1)
    assert len(history.history["episode_reward"]) == 1
    obs, _ = env.reset(seed=2)
    assert 0 <= int(agent.forward(obs[None])[0]) < 9


def test_unknown_env_id_exits_with_a_message_and_no_traceback(tmp_path):
    done = run_script("train_blob.py", "--env-id", "NoSuchGame-v3", cwd=tmp_path)
    assert done.returncode == 1
    assert "unknown --env-id 'NoSuchGame-v3'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


# --- in-process runs ------------------------------------------------------------------------


def test_qlearning_run_on_blob_coords_reports_the_ratio_and_saves_the_table(tmp_path):
    config = qlearning_config(tmp_path, steps=500, val_episodes=0)  # the last table, not the best
    results = train(start_run(config), verbose=False)
    assert results["env_kwargs"] == {"size": 5, "obs_type": "coords"}
    assert results["env_steps"] == 500 and "ratio_to_optimum" in results["evaluation"]
    assert results["agent_config"]["learning_rate"] > 0
    run_dir = Path(results["run_dir"])
    assert len(events_files(run_dir)) == 1
    assert json.loads((run_dir / "results.json").read_text()) == results
    loaded = agents.load_agent(results["saved_agent"])
    assert type(loaded).__name__ == "QLearningAgent"
    assert np.abs(loaded.table).sum() > 0  # it learned something and saved it


def test_the_best_validated_weights_are_saved_evaluated_and_recorded(tmp_path):
    config = qlearning_config(tmp_path, steps=2000, val_every=400, val_episodes=20)
    results = train(start_run(config), verbose=False)
    run_dir = Path(results["run_dir"])
    points, best = results["validation"]["points"], results["validation"]["best"]
    assert [point["steps"] for point in points] == [0, 400, 800, 1200, 1600, 2000]
    assert best == max(points, key=lambda point: point["mean_return"])
    assert best["seeds"] == [VALIDATION_SEED_START, VALIDATION_SEED_START + 19]
    assert json.loads((run_dir / "validation.json").read_text()) == {"best": best}
    saved, kept = agents.load_agent(results["saved_agent"]), agents.load_agent(run_dir / "best")
    np.testing.assert_array_equal(saved.table, kept.table)
    load_checkpoint(saved, run_dir / "checkpoints")  # the last weights, to go on training from
    assert (best["steps"] == 2000) == np.array_equal(saved.table, kept.table)


def test_val_episodes_0_keeps_the_last_weights(tmp_path):
    results = train(start_run(qlearning_config(tmp_path, val_episodes=0)), verbose=False)
    assert "validation" not in results
    assert not (Path(results["run_dir"]) / "best").exists()


def test_an_episode_budget_trains_that_many_episodes(tmp_path):
    results = train(start_run(qlearning_config(tmp_path, episodes=3)), verbose=False)
    assert results["episodes"] == 3 and results["config"]["episodes"] == 3


def test_qlearning_trains_on_a_vector_env_and_a_non_blob_env(tmp_path):
    vector = qlearning_config(tmp_path, hyper=QLearningConfig(steps=200, num_envs=4))
    assert train(start_run(vector), verbose=False)["env_steps"] >= 200
    lake = qlearning_config(tmp_path, env_id="FrozenLake-v1", size=None)
    evaluation = train(start_run(lake), verbose=False)["evaluation"]
    assert "ratio_to_optimum" not in evaluation and "success_rate" not in evaluation


def test_ctrl_c_saves_the_agent_closes_the_log_and_exits_130(tmp_path, monkeypatch, capsys):
    class InterruptAt(keras.callbacks.Callback):
        def on_step_end(self, step, logs=None):
            if step == 99:
                raise KeyboardInterrupt

    real_train = train_blob.train
    monkeypatch.setattr(train_blob, "train", lambda run: real_train(run, callbacks=[InterruptAt()]))
    argv = ["--agent", "qlearning", "--size", "5", "--steps", "1000", "--num-envs", "1"]
    argv += ["--logdir", str(tmp_path), "--val-episodes", "5"]
    assert train_blob.main(argv) == 130
    assert "interrupted" in capsys.readouterr().out
    (run_dir,) = tmp_path.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] is True and results["env_steps"] == 100
    assert results["evaluation"] is None
    assert len(events_files(run_dir)) == 1
    assert agents.load_agent(run_dir / "agent").nb_actions == 9


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env-id", "MountainCarContinuous-v0"], "needs a Discrete one"),
        (["--env-id", "FrozenLake-v1"], "the DQN needs Box (array) observations"),
        (["--env-id", "CartPole-v1", "--size", "5"], "--size: Blob options, but CartPole-v1"),
        (["--env-id", "CartPole-v1"], "use --network mlp"),
    ],
)
def test_envs_the_agent_cannot_learn_exit_with_a_message(argv, message, tmp_path, capsys):
    assert train_blob.main([*argv, "--logdir", str(tmp_path / "logs")]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()  # refused before any run dir was made


def test_unwritable_logdir_and_existing_out_exit_with_a_message(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    base = ["--agent", "qlearning", "--size", "5", "--steps", "10"]
    assert train_blob.main([*base, "--logdir", str(blocker)]) == 1
    assert "--logdir" in capsys.readouterr().err
    assert train_blob.main([*base, "--logdir", str(tmp_path), "--out", str(blocker)]) == 1
    assert "is not a saved agent's directory" in capsys.readouterr().err


def test_dqn_builder_follows_the_config():
    config = DQNConfig(network="mlp", hidden_units=8, prioritized=True, n_step=3, dueling=True)
    setup = prepare("dqn", config, "CartPole-v1", {}, seed=0)
    agent = setup.agent
    setup.env.close()
    assert type(agent.memory).__name__ == "PrioritizedMemory" and agent.memory.n_step == 3
    assert agent.enable_dueling_network and agent.enable_double_dqn
    assert agent.reward_scale == config.reward_scale and agent.batch_size == config.batch_size
    assert agent.policy.metrics == {"eps": config.eps_start}
