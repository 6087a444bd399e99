"""Ape-X on Ray: learning, faults, signals and resume, on a Ray of 2 CPUs started once here."""

import json
import os
import signal

import keras
import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the [scale] extra (ray) is not installed")

from agents import distributed, training  # noqa: E402
from agents.checkpoint import find_checkpoint  # noqa: E402
from agents.distributed import learner  # noqa: E402
from tests.agents.distributed.faulty_env import ENV_ID as FAULTY  # noqa: E402

QUIET = {"verbose": False, "val_episodes": 0, "eval_episodes": 0}


@pytest.fixture(scope="module", autouse=True)
def ray_cpus():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class AtStep(keras.callbacks.Callback):
    """Calls `action(agent)` once, at the first chunk's end at or past `step` env steps."""

    def __init__(self, step, action):
        super().__init__()
        self.step, self.action, self.done = step, action, False

    def on_env_step_end(self, logs=None):
        if not self.done and self.model.step >= self.step:
            self.done = True
            self.action(self.model)


class AfterRestart(keras.callbacks.Callback):
    """Calls `action(agent)` once, after `apex` saw a collector come back (that takes seconds)."""

    def __init__(self, apex, action):
        super().__init__()
        self.apex, self.action, self.done = apex, action, False

    def on_env_step_end(self, logs=None):
        if not self.done and self.apex.restarts:
            self.done = True
            self.action(self.model)


def stop(agent):
    agent.stop_training = True


def test_a_run_survives_a_killed_collector_and_sigint_then_resumes_and_learns(tmp_path):
    """The default run's one distributed run: learning, a restart, a signal and a resume."""
    apex = distributed.ApeX(2)
    kill = AtStep(1_500, lambda agent: ray.kill(apex.collectors[0], no_restart=False))
    interrupt = AfterRestart(apex, lambda agent: os.kill(os.getpid(), signal.SIGINT))
    first = distributed.train(
        "Blob-5x5-v0", steps=100_000, seed=0, workers=2, apex=apex, logdir=str(tmp_path),
        callbacks=[kill, interrupt], save_memory=True, **QUIET,
    )  # fmt: skip
    figures = first.results["distributed"]
    assert first.interrupted and first.exit_status == 130
    assert figures["restarts"] == 1 and figures["failed_chunks"] == 1
    assert figures["lost_transitions"] == 8 * 16
    stopped_at = first.results["env_steps"]
    checkpoint = find_checkpoint(first.run_dir / "checkpoints")
    assert checkpoint.step == stopped_at and stopped_at < 100_000
    budget = max(10_000, stopped_at + 3_000)
    second = distributed.resume(first.run_dir, steps=budget, eval_episodes=200, verbose=False)
    assert not second.interrupted and second.results["resumed_from"] == str(checkpoint.path)
    assert second.results["env_steps"] >= budget
    # Random play is at about -8 times the optimum; 10,000 steps are half-way to solved.
    assert second.evaluation["ratio_to_optimum"] >= 0.5
    assert second.evaluation["success_rate"] >= 0.9
    # The replay ratio is the agent's: one update per env step (the memory was saved).
    figures = second.results["distributed"]
    steps = second.results["env_steps"] - stopped_at
    assert steps - 2 * 8 * 16 <= figures["updates"] <= steps
    assert figures["workers"] == 2 and figures["restarts"] == 0
    assert all(steps > 0 for steps in figures["env_steps_per_collector"])
    tags = _tensorboard_tags(second.run_dir)
    for tag in ("collect_steps_per_second", "restarts", "weight_lag/collector_1"):
        assert f"distributed/{tag}" in tags


@pytest.mark.slow
@pytest.mark.parametrize(
    ("steps", "ratio", "success"),
    [(10_000, 0.5, 0.9), (40_000, 0.95, 0.99)],
)
def test_two_collectors_learn_blob_5x5(tmp_path, steps, ratio, success):
    result = distributed.train(
        "Blob-5x5-v0", steps=steps, seed=0, workers=2, logdir=str(tmp_path), verbose=False,
        val_episodes=200, val_every=steps // 4, eval_episodes=200,
    )  # fmt: skip
    figures = result.results["distributed"]
    assert result.evaluation["ratio_to_optimum"] >= ratio
    assert result.evaluation["success_rate"] >= success
    assert all(steps > 0 for steps in figures["env_steps_per_collector"])
    assert sum(figures["env_steps_per_collector"]) == result.results["env_steps"]
    # The replay ratio is the agent's: one update per env step after the warm-up.
    warmup = training.presets.config("dqn", "Blob-5x5-v0").warmup
    assert abs(figures["updates"] - (result.results["env_steps"] - warmup)) <= 8 * 16 * 2
    assert figures["restarts"] == figures["lost_transitions"] == 0
    assert figures["epsilons"] == [0.4, pytest.approx(0.4**8)]
    assert all(lag is not None and lag >= 0 for lag in figures["weight_lag_mean"])
    saved = json.loads((result.run_dir / "results.json").read_text())
    assert saved["distributed"]["workers"] == 2
    tags = _tensorboard_tags(result.run_dir)
    for tag in ("collect_steps_per_second", "updates_per_second", "weight_lag/collector_1"):
        assert f"distributed/{tag}" in tags
    assert "episode_reward" in tags


def _tensorboard_tags(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for events in run_dir.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        tags.update(accumulator.Tags()["tensors"] + accumulator.Tags()["scalars"])
    return tags


@pytest.mark.slow
def test_a_killed_collector_is_replaced_and_the_run_finishes(tmp_path):
    apex = distributed.ApeX(2)
    kill = AtStep(1_500, lambda agent: ray.kill(apex.collectors[0], no_restart=False))
    result = distributed.train(
        "Blob-5x5-v0", steps=100_000, seed=1, workers=2, apex=apex, logdir=str(tmp_path),
        callbacks=[kill, AfterRestart(apex, stop)], **QUIET,
    )  # fmt: skip
    figures = result.results["distributed"]
    assert kill.done and not result.interrupted and result.results["checkpoint"]
    # The chunk in flight is lost; the new process delivers chunks again.
    assert figures["failed_chunks"] == 1 and figures["restarts"] == 1
    assert figures["lost_transitions"] == 8 * 16
    assert apex.collectors == []  # stopped with the fit


# Each distributed run costs seconds of collector start-up: the default run has one (above);
# these, each on one path, run with `-m slow`.
@pytest.mark.slow
def test_an_env_that_raises_restarts_its_collector(tmp_path):
    marker = tmp_path / "fail-once"
    marker.touch()
    apex = distributed.ApeX(2)
    with pytest.warns(UserWarning, match="RuntimeError: injected fault"):
        result = distributed.train(
            FAULTY, steps=100_000, seed=0, workers=2, apex=apex, logdir=str(tmp_path),
            callbacks=[AfterRestart(apex, stop)], env_kwargs={"marker": str(marker)}, **QUIET,
        )  # fmt: skip
    figures = result.results["distributed"]
    assert not marker.exists()
    assert figures["failed_chunks"] == 1 and figures["restarts"] == 1
    assert all(steps > 0 for steps in figures["env_steps_per_collector"])
    assert not result.interrupted


@pytest.mark.slow
def test_collectors_failing_past_the_limit_stop_the_run_saved(tmp_path):
    apex = distributed.ApeX(1, max_failures=1)
    with pytest.warns(UserWarning, match="RuntimeError: injected fault"):
        with pytest.raises(distributed.CollectorsFailed, match="failed 2 times"):
            distributed.train(
                FAULTY, steps=50_000, seed=0, workers=1, apex=apex, logdir=str(tmp_path),
                env_kwargs={"always": True, "fail_at": 40}, **QUIET,
            )  # fmt: skip
    (run_dir,) = tmp_path.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] and results["distributed"]["failed_chunks"] == 2
    assert "collectors failed" in results["errors"][0]
    assert find_checkpoint(run_dir / "checkpoints").metadata["run_config"]["workers"] == 1


@pytest.mark.slow
def test_sigint_saves_a_checkpoint_that_resume_continues(tmp_path):
    interrupt = AtStep(1_000, lambda agent: os.kill(os.getpid(), signal.SIGINT))
    first = distributed.train(
        "Blob-5x5-v0", steps=20_000, seed=2, workers=2, callbacks=[interrupt],
        logdir=str(tmp_path), **QUIET,
    )  # fmt: skip
    assert first.interrupted and first.exit_status == 130
    stopped_at = first.results["env_steps"]
    assert 1_000 <= stopped_at < 20_000
    checkpoint = find_checkpoint(first.run_dir / "checkpoints")
    assert checkpoint.step == stopped_at
    second = distributed.resume(first.run_dir, steps=stopped_at + 1_000, verbose=False)
    assert not second.interrupted
    assert second.results["env_steps"] >= stopped_at + 1_000
    assert second.results["resumed_from"] == str(checkpoint.path)
    assert second.results["distributed"]["workers"] == 2
    pairs = zip(second.agent.get_weights(), first.agent.get_weights(), strict=True)
    assert not all(np.array_equal(a, b) for a, b in pairs)  # it trained on


def test_more_collectors_than_free_cpus_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr(learner, "CPU_WAIT_SECONDS", 0.5)
    with pytest.raises(ValueError, match="3 collectors need 3 CPUs of the Ray cluster; it has 2"):
        distributed.train("Blob-5x5-v0", steps=1_000, workers=3, logdir=str(tmp_path), **QUIET)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_workers_must_be_a_positive_int(tmp_path, workers):
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        distributed.train("Blob-5x5-v0", workers=workers, logdir=str(tmp_path))


def test_only_off_policy_agents_with_td_errors_run_distributed(tmp_path):
    message = "distributed training runs the dqn, ddpg, td3 agents, not qlearning"
    with pytest.raises(ValueError, match=message):
        distributed.train("Blob-5x5-v0", agent="qlearning", workers=1, logdir=str(tmp_path))


def test_a_td3_learner_trains_from_a_collector_on_pendulum(tmp_path):
    hyper = training.presets.config(
        "td3", "Pendulum-v1", steps=800, warmup=200, random_steps=200, batch_size=32,
        hidden_layers="32,32", memory_size=2_000,
    )  # fmt: skip
    result = distributed.train(
        "Pendulum-v1", agent="td3", hyper=hyper, workers=1, logdir=str(tmp_path),
        verbose=False, val_episodes=0, eval_episodes=2,
    )  # fmt: skip
    figures = result.results["distributed"]
    steps = result.results["env_steps"]
    assert steps >= 800 and result.evaluation["episodes"] == 2
    # One critic update per env step past the warm-up: the learner's replay ratio.
    assert steps - 200 - 2 * 16 <= figures["updates"] <= steps - 200 + 16
    assert figures["epsilons"] is None  # TD3 explores with its own noise


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["ddpg", "td3"])
def test_two_collectors_learn_pendulum(tmp_path, agent):
    result = distributed.train(
        "Pendulum-v1", agent=agent, seed=0, workers=2, logdir=str(tmp_path), verbose=False,
        val_episodes=20, eval_episodes=50,
    )  # fmt: skip
    assert result.evaluation["mean_return"] >= -200  # the RL Zoo's threshold; random: -1,200
