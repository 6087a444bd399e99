"""The fit loop's state: saved with the agent between env steps, and `fit(..., resume=True)`."""

from __future__ import annotations

import gymnasium
import keras
import numpy as np
import pytest

import blobenv  # noqa: F401  (registers Blob-v0)
from agents.core import Agent
from agents.env_driver import EnvDriver, env_state, set_env_state
from tests.agents.toy_envs import Corridor

KWARGS = {"size": 5, "moving_food": True, "moving_enemy": True}


class RandomMover(Agent):
    """Acts from its own generator and records every transition it learns from."""

    def __init__(self):
        super().__init__()
        self.compiled = True
        self.seen: list[tuple] = []

    @property
    def metrics_names(self):
        return ["loss"]

    def forward(self, obs):
        return self.rng.integers(0, 9, size=len(obs))

    def backward(self, batch):
        self.seen.append((batch.env_ids.tolist(), batch.actions.tolist(), batch.rewards.tolist()))
        return {"loss": float(self.step % 7)}


class Episodes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends: list[tuple] = []

    def on_episode_end(self, episode, logs=None):
        self.ends.append((episode, logs["episode_reward"], logs["nb_episode_steps"], logs["loss"]))


def make(num_envs: int):
    if num_envs == 1:
        return gymnasium.make("Blob-v0", max_episode_steps=9, **KWARGS)
    return gymnasium.make_vec("Blob-v0", num_envs=num_envs, max_episode_steps=9, **KWARGS)


def run(agent: Agent, env, steps: int, resume: bool = False) -> list[tuple]:
    episodes = Episodes()
    agent.fit(env, nb_steps=steps, callbacks=[episodes], verbose=0, seed=None if resume else 5,
              resume=resume)  # fmt: skip
    return episodes.ends


@pytest.mark.parametrize("num_envs", [1, 3])
def test_a_fit_resumed_in_a_new_agent_and_env_goes_on_exactly(num_envs: int) -> None:
    whole = RandomMover()
    ends = run(whole, make(num_envs), 120)
    first = RandomMover()
    ends_first = run(first, make(num_envs), 47)
    values, arrays = first.get_state()
    assert values["fit_loop"]["driver"] is not None
    second = RandomMover()
    second.set_state(values, arrays)
    assert second.resumes_exactly
    ends_second = run(second, make(num_envs), 120 - first.step, resume=True)
    assert ends_first + ends_second == ends
    assert first.seen + second.seen == whole.seen
    assert (second.step, second.episode) == (whole.step, whole.episode)


def test_resume_without_a_held_state_starts_afresh_and_refuses_another_shape() -> None:
    agent = RandomMover()
    assert not agent.resumes_exactly
    run(agent, make(3), 20, resume=True)  # nothing held: a reset, ids from agent.episode
    with pytest.raises(ValueError, match="3 sub-envs; this env has 2"):
        run(agent, make(2), 20, resume=True)


def test_a_state_taken_inside_an_env_step_holds_only_the_next_episode_id() -> None:
    agent = RandomMover()
    states = []

    class Grab(keras.callbacks.Callback):
        def on_step_end(self, step, logs=None):
            states.append(self.model.get_state()[0]["fit_loop"])

        def on_env_step_end(self, logs=None):
            states.append(self.model.get_state()[0]["fit_loop"])

    agent.fit(make(2), nb_steps=6, callbacks=[Grab()], verbose=0, seed=1)
    inside, between = states[0], states[2]
    assert inside["driver"] is None and inside["next_episode"] == 2
    assert between["driver"] is not None


def test_the_env_state_goes_through_gymnasiums_wrappers_and_refuses_unknown_ones() -> None:
    env = make(1)
    env.reset(seed=2)
    for _ in range(4):
        env.step(8)
    saved = env_state(env)
    assert [layer["class"] for layer in saved] == [
        "TimeLimit", "OrderEnforcing", "PassiveEnvChecker", "BlobEnv",
    ]  # fmt: skip
    copy = make(1)
    set_env_state(copy, saved)
    for _ in range(5):
        ours, theirs = env.step(8), copy.step(8)
        np.testing.assert_array_equal(ours[0], theirs[0])
        assert ours[1:4] == theirs[1:4]
    assert ours[3]  # the time limit's count came along: both truncate at step 9
    assert env_state(gymnasium.wrappers.RecordEpisodeStatistics(make(1))) is None
    assert env_state(Corridor()) is None
    with pytest.raises(ValueError, match="layer 0"):
        set_env_state(make(1).unwrapped, saved)


def test_a_driver_state_of_another_observation_shape_is_refused_before_anything_changes() -> None:
    driver = EnvDriver(make(1))
    driver.reset(seed=0)
    values, arrays = driver.get_state()
    other = EnvDriver(gymnasium.make("Blob-v0", size=6))
    with pytest.raises(ValueError, match="observations have shape"):
        other.set_state(values, arrays)
    assert other.obs is None


def test_episode_ids_stay_unique_and_gapless_across_fits_that_reset_the_env() -> None:
    """Ids are handed out as episodes begin; those a reset drops are handed out again first."""
    agent, env = RandomMover(), make(4)
    ids = [end[0] for end in run(agent, env, 30)]
    dropped = set(agent.get_state()[1]["fit_loop.episode_ids"].tolist()) - {-1}
    assert dropped
    ids += [end[0] for end in run(agent, env, 30)]
    in_flight = set(agent.get_state()[1]["fit_loop.episode_ids"].tolist()) - {-1}
    assert len(ids) == len(set(ids)) == agent.episode
    assert set(ids) | in_flight == set(range(len(ids) + len(in_flight)))
    assert dropped <= set(ids) | in_flight


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda v, a: a.update({"fit_loop.extra": np.zeros(2)}), "unknown arrays"),
        (lambda v, a: a.update({"fit_loop.returns": np.zeros(3)}), "returns"),
        (lambda v, a: a.update({"fit_loop.lengths": a["fit_loop.lengths"] * 1.0}), "lengths"),
        (lambda v, a: v["fit_loop"].update(next_episode=0), "episode ids"),
        (lambda v, a: v["fit_loop"].update(next_episode=-1), "next_episode"),
        (lambda v, a: v.pop("fit_loop"), "next_episode, free_ids and driver"),
        (lambda v, a: v["fit_loop"].update(free_ids=[0, 0]), "free_ids"),
    ],
)
def test_a_damaged_fit_loop_state_is_refused_before_the_agent_changes(damage, message) -> None:
    trained = RandomMover()
    run(trained, make(2), 15)
    values, arrays = trained.get_state()
    arrays = dict(arrays)
    damage(values, arrays)
    agent = RandomMover()
    with pytest.raises(ValueError, match=message):
        agent.set_state(values, arrays)
    assert agent.step == 0 and not agent.resumes_exactly
