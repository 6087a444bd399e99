"""agents.cli, the command line of scripts/train_blob.py: options, usage errors, exit status."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import keras
import pytest

import agents
from agents import cli, presets, training
from agents.checkpoint import find_checkpoint
from agents.presets import DQNConfig, QLearningConfig
from agents.run_config import RunConfig
from agents.scoring import EVAL_SEED_START
from tests.callbacks.event_files import event_files
from tests.gym_ids import TAXI


def parse(*argv: str) -> RunConfig:
    return cli.config_from_args(cli.build_parser().parse_args(list(argv)))


def results_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def with_callbacks(monkeypatch, *extra) -> None:
    """Makes the runs `cli.main` starts train with the callbacks `extra` too."""
    real_run = training.run
    monkeypatch.setattr(
        training, "run", lambda config, **kw: real_run(config, callbacks=list(extra), **kw)
    )


def test_without_options_each_agent_gets_its_preset():
    assert parse().hyper == presets.config("dqn", "Blob-v0") == DQNConfig()
    assert parse("--agent", "qlearning").hyper == presets.config("qlearning", "Blob-v0")
    assert parse().env_id == "Blob-v0" and parse().eval_episodes == 500


def test_other_env_ids_get_their_own_preset():
    assert parse("--env-id", "CartPole-v1").hyper == presets.config("dqn", "CartPole-v1")
    assert parse("--env-id", "CartPole-v1").hyper.gamma == 0.99


@pytest.mark.parametrize(
    ("env_id", "agent"),
    [
        ("CartPole-v1", "dqn"), ("MountainCar-v0", "dqn"), ("Acrobot-v1", "dqn"),
        ("FrozenLake-v1", "qlearning"), (TAXI, "qlearning"),
        ("CliffWalking-v1", "qlearning"),  # no time limit of its own: episodes are capped
    ],
)  # fmt: skip
def test_every_classic_id_trains_with_its_own_agent_and_no_other_option(env_id, agent, tmp_path):
    budget = ["--steps", "120", "--val-every", "120", "--val-episodes", "2", "--eval-episodes", "3"]
    assert cli.main(["--env-id", env_id, *budget, "--logdir", str(tmp_path)]) == 0
    (run_dir,) = tmp_path.iterdir()
    results = results_of(run_dir)
    assert results["agent"] == agent and results["env_steps"] >= 120
    assert results["evaluation"]["episodes"] == 3
    assert parse("--env-id", env_id).hyper == presets.config(agent, env_id)


@pytest.mark.parametrize(
    ("agent", "env_id", "options"),
    [
        (None, "Pendulum-v1", ["--warmup", "50", "--random-steps", "50"]),  # ddpg, the first
        # TD3's, NAF's and PPO's Blob and Pendulum runs are the longest; DDPG's row, test_ddpg,
        # test_naf, test_ppo and PPO's CartPole row cover their resume: these run with `-m slow`.
        pytest.param(
            "td3", "Pendulum-v1", ["--warmup", "50", "--random-steps", "50", "--noise", "ou"],
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "naf", "Pendulum-v1", ["--warmup", "50", "--covariance", "diag"],
            marks=pytest.mark.slow,
        ),
        ("sarsa", "CartPole-v1", ["--eps-steps", "100"]),
        ("cem", "CartPole-v1", ["--batch-size", "4", "--memory-size", "4", "--elite-frac", "0.5"]),
        ("ppo", "CartPole-v1", ["--n-steps", "8", "--n-epochs", "2"]),
        pytest.param(
            "ppo", "Pendulum-v1", ["--n-steps", "8", "--normalize-obs", "--normalize-reward"],
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "ppo", "Blob-v0", ["--n-steps", "8", "--n-epochs", "2", "--num-envs", "2"],
            marks=pytest.mark.slow,
        ),
    ],
)  # fmt: skip
def test_each_keras_rl_agent_trains_checkpoints_and_resumes_from_the_command_line(
    agent, env_id, options, tmp_path
):
    budget = ["--steps", "200", "--val-episodes", "2", "--eval-episodes", "2"]
    chosen = [] if agent is None else ["--agent", agent]
    argv = [*chosen, "--env-id", env_id, *budget, *options, "--checkpoint-interval", "100"]
    assert cli.main([*argv, "--logdir", str(tmp_path)]) == 0
    (run_dir,) = tmp_path.iterdir()
    results = results_of(run_dir)
    assert results["agent"] == (agent or "ddpg") and results["env_steps"] >= 200
    assert cli.main(["--resume", str(run_dir), "--steps", "300"]) == 0
    resumed = results_of(run_dir)
    assert resumed["env_steps"] >= 300 and resumed["evaluation"]["episodes"] == 2
    loaded = agents.load_agent(run_dir / "agent")
    assert type(loaded).__name__ == f"{(agent or 'ddpg').upper()}Agent"


def test_an_option_of_some_agents_names_them_all_in_its_help():
    text = " ".join(cli.build_parser().format_help().split())
    assert "[ddpg, td3, naf only] exploration noise" in text
    assert "[dqn, naf, sarsa, cem, ppo only]" in text


def test_options_override_the_chosen_agents_defaults():
    config = parse("--lr", "0.5", "--no-double", "--dueling", "--steps", "7", "--n-step", "3")
    assert config.hyper == DQNConfig(lr=0.5, double=False, dueling=True, steps=7, n_step=3)
    assert parse("--agent", "qlearning", "--eps-decay", "0.9").hyper.eps_decay == 0.9
    assert parse("--size", "5").env_kwargs == {"size": 5}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agent", "qlearning", "--network", "mlp"], "--network does not apply to --agent"),
        (["--steps", "10", "--episodes", "3"], "give --steps or --episodes, not both"),
        (["--seed", str(EVAL_SEED_START)], "evaluation seeds start there"),
        (["--num-envs", "0"], "num_envs must be an integer >= 1"),
        (["--val-episodes", "-1"], "val_episodes must be an int in [0, 1000000]"),
        (["--eval-episodes", "1000001"], "eval_episodes must be an int in [0, 1000000]"),
        (["--val-every", "0"], "val_every must be an int >= 1"),
        (["--env-id", "CartPole-v1", "--size", "5"], "--size: Blob options, but CartPole-v1"),
        (["--agent", "qlearning", "--save-memory"], "the qlearning agent has no replay memory"),
        (["--workers", "-1"], "workers must be an int >= 0"),
        (["--agent", "qlearning", "--workers", "2"], "runs the dqn, ddpg, td3 agents, not"),
    ],
)
def test_contradicting_or_out_of_range_options_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agent", "dqn", "--env-id", "MountainCarContinuous-v0"], "needs a Discrete one"),
        (["--agent", "dqn", "--env-id", "FrozenLake-v1"], "the DQN needs Box (array) observations"),
        (["--agent", "qlearning", "--env-id", "CartPole-v1"], "Q-learning needs Discrete"),
        (["--env-id", "Blackjack-v1"], "the observation space is Tuple(Discrete(32)"),
        (["--env-id", "CartPole-v1", "--network", "blob_cnn"], "use the network mlp"),
        (["--env-id", "NoSuchGame-v3"], "unknown env id 'NoSuchGame-v3'"),
        (["--ray-address", "auto"], "a Ray cluster is only used with --workers N"),
    ],
)
def test_envs_the_agent_cannot_learn_exit_with_a_message(argv, message, tmp_path, capsys):
    assert cli.main([*argv, "--logdir", str(tmp_path / "logs")]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()  # refused before any run dir was made


def test_unwritable_logdir_and_existing_out_exit_with_a_message(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    base = ["--agent", "qlearning", "--size", "5", "--steps", "10"]
    assert cli.main([*base, "--logdir", str(blocker)]) == 1
    assert "logdir" in capsys.readouterr().err
    assert cli.main([*base, "--logdir", str(tmp_path), "--out", str(blocker)]) == 1
    assert "is not a saved agent's directory" in capsys.readouterr().err


def test_ctrl_c_saves_the_agent_closes_the_log_and_exits_130(tmp_path, monkeypatch, capsys):
    class InterruptAt(keras.callbacks.Callback):
        def on_step_end(self, step, logs=None):
            if step == 99:
                raise KeyboardInterrupt

    with_callbacks(monkeypatch, InterruptAt())
    argv = ["--agent", "qlearning", "--size", "5", "--steps", "1000", "--num-envs", "1"]
    argv += ["--logdir", str(tmp_path), "--val-episodes", "5"]
    assert cli.main(argv) == 130
    assert "interrupted" in capsys.readouterr().out
    (run_dir,) = tmp_path.iterdir()
    results = results_of(run_dir)
    assert results["interrupted"] is True and results["env_steps"] == 100
    assert results["evaluation"] is None
    assert len(event_files(run_dir)) == 1
    assert agents.load_agent(run_dir / "agent").nb_actions == 9


class SignalAt(keras.callbacks.Callback):
    """Sends `signums` to this process, one after the other, at the agent's step `step`."""

    def __init__(self, step: int, *signums: int):
        super().__init__()
        self.step, self.signums = step, signums

    def on_step_end(self, step, logs=None):
        if self.model.step == self.step:
            for signum in self.signums:
                os.kill(os.getpid(), signum)


@pytest.mark.parametrize(
    ("signums", "status"),
    [((signal.SIGTERM,), 143), ((signal.SIGINT, signal.SIGINT), 130)],
    ids=["sigterm", "second-sigint"],
)
def test_a_signal_stops_training_with_a_checkpoint(tmp_path, monkeypatch, capsys, signums, status):
    with_callbacks(monkeypatch, SignalAt(100, *signums))
    handler = signal.getsignal(signal.SIGTERM)
    argv = ["--agent", "qlearning", "--size", "5", "--steps", "5000", "--num-envs", "1"]
    assert cli.main([*argv, "--logdir", str(tmp_path)]) == status
    assert signal.getsignal(signal.SIGTERM) is handler  # the handlers are put back
    assert f"interrupted by {signal.Signals(signums[0]).name}" in capsys.readouterr().err
    (run_dir,) = tmp_path.iterdir()
    results = results_of(run_dir)
    # One signal stops fit after the step it came in; a second one at once (here the same).
    assert results["interrupted"] is True and results["env_steps"] == 100
    assert results["evaluation"] is None
    assert find_checkpoint(run_dir / "checkpoints").step == 100
    assert len(event_files(run_dir)) == 1


def test_resume_refuses_other_settings_and_runs_without_checkpoints(tmp_path, capsys):
    assert cli.main(["--resume", str(tmp_path), "--lr", "0.5", "--seed", "3"]) == 1
    assert "--seed, --lr: a resumed run keeps its settings" in capsys.readouterr().err
    assert cli.main(["--resume", str(tmp_path / "nothing")]) == 1
    assert "no checkpoint directory at" in capsys.readouterr().err


def test_a_resumed_table_goes_on_from_its_checkpoint(tmp_path):
    first = training.train(
        "Blob-v0", "qlearning", 300, hyper=presets.config("qlearning", "Blob-v0", num_envs=1),
        env_kwargs={"size": 5}, logdir=str(tmp_path), eval_episodes=0, val_episodes=5,
        verbose=False,
    ).results  # fmt: skip
    run_dir = Path(first["run_dir"])
    saved = find_checkpoint(run_dir / "checkpoints")
    assert (saved.step, saved.episode) == (300, first["episodes"])

    assert cli.main(["--resume", str(run_dir), "--steps", "700"]) == 0
    second = results_of(run_dir)
    assert second["env_steps"] == 700 and second["episodes"] > first["episodes"]
    assert second["config"]["hyper"]["steps"] == 700
    assert len(event_files(run_dir)) == 2
    final = find_checkpoint(run_dir / "checkpoints")
    assert final.step == 700 and final.metadata["run_config"]["hyper"]["steps"] == 700
    # Validation goes on from the first part's best: it is only replaced by a better one.
    best, best_again = first["validation"]["best"], second["validation"]["best"]
    assert best_again["mean_return"] >= best["mean_return"]
    assert best_again == best or best_again["steps"] > 300
    assert [point["steps"] for point in second["validation"]["points"]][:2] == [300, 350]


def test_qlearning_config_defaults_come_from_its_preset():
    assert parse("--agent", "qlearning").hyper == QLearningConfig(obs_type="coords")
