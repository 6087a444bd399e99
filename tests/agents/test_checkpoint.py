"""Checkpoints: exact resume, atomic saves, refusing corrupted files and other networks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gymnasium
import keras
import numpy as np
import pytest

from agents.checkpoint import (
    ARRAYS,
    LATEST,
    MANIFEST,
    CheckpointError,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from agents.dqn import DQNAgent
from agents.memory import PrioritizedMemory, SequentialMemory
from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy
from agents.qlearning import QLearningAgent
from tests.agents.toy_envs import Corridor

GAMMA = 0.9


def make_dqn(
    seed: int = 0, hidden: int = 16, memory=None, optimizer=None, train_freq: int = 1
) -> DQNAgent:
    """A small DQN for the corridor; `seed` sets its initial weights."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(hidden, activation="relu"), keras.layers.Dense(2)]
    )
    agent = DQNAgent(
        model,
        2,
        memory if memory is not None else SequentialMemory(500, gamma=GAMMA),
        policy=LinearAnnealedPolicy(EpsGreedyQPolicy(), value_min=0.1, nb_steps=300),
        gamma=GAMMA,
        nb_steps_warmup=20,
        target_model_update=50,
        batch_size=8,
        train_freq=train_freq,
    )
    agent.compile(optimizer or keras.optimizers.Adam(1e-2))
    return agent


def make_table_agent(seed: int = 0, **kwargs) -> QLearningAgent:
    space = gymnasium.spaces.Discrete(16)
    defaults = {"learning_rate": 0.5, "epsilon": 0.9, "epsilon_decay": 0.95, "seed": seed}
    return QLearningAgent(space, 4, **{**defaults, **kwargs})


def lake() -> gymnasium.Env:
    """FrozenLake without slipping: deterministic, and every episode starts in the same cell."""
    return gymnasium.make("FrozenLake-v1", is_slippery=False)


class StopAtEpisodeEnd(keras.callbacks.Callback):
    """Stops fit at the first episode end at or after `step` (fit restarts episodes anyway)."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_episode_end(self, episode, logs=None):
        if self.model.step >= self.step:
            self.model.stop_training = True


def assert_same_variables(variables, others):
    assert len(variables) == len(others)
    for variable, other in zip(variables, others, strict=True):
        np.testing.assert_array_equal(to_numpy(variable), to_numpy(other))


def to_numpy(value) -> np.ndarray:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def assert_same_memory(memory, other):
    state, other_state = memory.state_dict(), other.state_dict()
    assert state.keys() == other_state.keys()
    for key in state:
        np.testing.assert_array_equal(state[key], other_state[key], err_msg=key)


# --- resuming --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "memory_class",
    [SequentialMemory, lambda limit, gamma: PrioritizedMemory(limit, n_step=3, gamma=gamma)],
    ids=["sequential", "prioritized-3step"],
)
def test_a_loaded_dqn_has_the_saved_counters_epsilon_optimizer_weights_rng_and_memory(
    tmp_path, memory_class
):
    agent = make_dqn(memory=memory_class(500, gamma=GAMMA))
    agent.fit(Corridor(), nb_steps=120, verbose=0, seed=0)
    save_checkpoint(agent, tmp_path, include_memory=True)
    restored = make_dqn(seed=1, memory=memory_class(500, gamma=GAMMA))
    load_checkpoint(restored, tmp_path)

    assert (restored.step, restored.episode) == (agent.step, agent.episode) == (120, agent.episode)
    # The policy's step is the agent's at its last action; fit sets `training` itself.
    assert restored.policy.step == agent.policy.step == 119
    restored.policy.training = agent.policy.training = True
    assert restored.policy.metrics == agent.policy.metrics == {"eps": 1 - 0.9 * 119 / 300}
    assert int(restored.optimizer.iterations) == int(agent.optimizer.iterations) == 100
    assert_same_variables(restored.optimizer.variables, agent.optimizer.variables)
    assert_same_variables(restored.model.variables, agent.model.variables)
    assert_same_variables(restored.target_model.variables, agent.target_model.variables)
    assert_same_memory(restored.memory, agent.memory)
    np.testing.assert_array_equal(restored.rng.random(4), agent.rng.random(4))


def test_without_the_memory_the_checkpoint_is_small_and_the_memory_stays_empty(tmp_path):
    agent = make_dqn()
    agent.fit(Corridor(), nb_steps=60, verbose=0, seed=0)
    info = save_checkpoint(agent, tmp_path)
    assert not info.has_memory
    with np.load(info.path / ARRAYS) as arrays:
        assert not [key for key in arrays.files if key.startswith("memory")]
    restored = make_dqn(seed=1)
    load_checkpoint(restored, tmp_path)
    assert len(restored.memory) == 0 and restored.step == 60
    assert_same_variables(restored.model.variables, agent.model.variables)


@pytest.mark.parametrize("train_freq", [1, 7])
def test_a_dqn_stopped_and_resumed_from_a_checkpoint_matches_an_uninterrupted_run(
    tmp_path, train_freq
):
    # Seeded on CPU, TensorFlow's updates are deterministic here, so the match is exact. The stop
    # falls on an episode end because every fit starts new episodes; in rounds of 7 env steps,
    # inside a round, whose updates the resumed run makes.
    env, states = Corridor(), Corridor().all_observations()
    uninterrupted = make_dqn(train_freq=train_freq)
    uninterrupted.fit(env, nb_steps=160, verbose=0, seed=0)

    stopped = make_dqn(train_freq=train_freq)
    stopped.fit(env, nb_steps=160, verbose=0, seed=0, callbacks=[StopAtEpisodeEnd(80)])
    assert 80 <= stopped.step < 160
    assert train_freq == 1 or stopped.step % train_freq
    save_checkpoint(stopped, tmp_path, include_memory=True)
    # Other initial weights: everything must come from the checkpoint.
    resumed = make_dqn(seed=7, train_freq=train_freq)
    load_checkpoint(resumed, tmp_path)
    resumed.fit(Corridor(), nb_steps=160 - resumed.step, verbose=0)

    assert (resumed.step, resumed.episode) == (uninterrupted.step, uninterrupted.episode)
    greedy = resumed.model(states).numpy().argmax(axis=1)
    np.testing.assert_array_equal(greedy, uninterrupted.model(states).numpy().argmax(axis=1))
    assert_same_variables(resumed.model.variables, uninterrupted.model.variables)
    assert_same_variables(resumed.optimizer.variables, uninterrupted.optimizer.variables)


def test_a_q_table_stopped_and_resumed_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path):
    uninterrupted = make_table_agent()
    uninterrupted.fit(lake(), nb_episodes=60, verbose=0, seed=0)

    stopped = make_table_agent()
    stopped.fit(lake(), nb_episodes=25, verbose=0, seed=0)
    save_checkpoint(stopped, tmp_path)
    resumed = make_table_agent(seed=5)
    load_checkpoint(resumed, tmp_path)
    assert resumed.epsilon == stopped.epsilon == pytest.approx(0.9 * 0.95**25)
    resumed.fit(lake(), nb_episodes=35, verbose=0)

    assert (resumed.step, resumed.episode) == (uninterrupted.step, uninterrupted.episode)
    assert resumed.epsilon == uninterrupted.epsilon
    np.testing.assert_array_equal(resumed.table, uninterrupted.table)


def test_rng_states_of_other_bit_generators_survive_the_json(tmp_path):
    agent = make_table_agent()
    agent.rng = np.random.Generator(np.random.MT19937(3))
    agent.rng.random(5)
    save_checkpoint(agent, tmp_path)
    restored = make_table_agent()
    load_checkpoint(restored, tmp_path)
    assert type(restored.rng.bit_generator) is np.random.MT19937
    np.testing.assert_array_equal(restored.rng.random(8), agent.rng.random(8))


# --- the directory: atomic saves, keeping the last ones, metadata -----------------------------


def test_saves_keep_the_newest_checkpoints_and_point_latest_at_the_last(tmp_path):
    agent = make_table_agent()
    names = []
    for _ in range(5):
        agent.fit(lake(), nb_episodes=2, verbose=0)
        names.append(save_checkpoint(agent, tmp_path, keep=2).path.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LATEST, *names[-2:]])
    assert (tmp_path / LATEST).read_text().strip() == names[-1]
    assert names[-1] == f"ckpt-000005-step-{agent.step}"


def test_metadata_is_stored_with_the_checkpoint_and_found_without_an_agent(tmp_path):
    agent = make_table_agent()
    save_checkpoint(agent, tmp_path, metadata={"run": {"seed": 3, "log_dir": "runs/x"}})
    info = find_checkpoint(tmp_path)
    assert info.metadata == {"run": {"seed": 3, "log_dir": "runs/x"}}
    assert (info.step, info.episode, info.has_memory) == (0, 0, False)
    with pytest.raises(ValueError, match="metadata must be JSON-able"):
        save_checkpoint(agent, tmp_path, metadata={"bad": float("nan")})


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_in_place(tmp_path, monkeypatch):
    agent = make_dqn()
    first = save_checkpoint(agent, tmp_path, include_memory=True)
    agent.fit(Corridor(), nb_steps=30, verbose=0, seed=0)

    def crash():
        raise OSError("disk full")

    monkeypatch.setattr(agent.memory, "state_dict", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(agent, tmp_path, include_memory=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LATEST, first.path.name])
    assert find_checkpoint(tmp_path).step == 0


def test_leftovers_of_a_killed_save_are_ignored_and_then_cleaned_up(tmp_path):
    agent = make_table_agent()
    first = save_checkpoint(agent, tmp_path)
    staging = tmp_path / ".tmp-ckpt-killed"  # what a kill -9 during a save leaves behind
    shutil.copytree(first.path, staging)
    (staging / MANIFEST).unlink()
    assert find_checkpoint(tmp_path).path == first.path
    save_checkpoint(agent, tmp_path)
    assert not staging.exists()


# --- refusing bad checkpoints ----------------------------------------------------------------


def two_checkpoints(tmp_path: Path) -> tuple[QLearningAgent, Path, Path]:
    agent = make_table_agent()
    agent.fit(lake(), nb_episodes=3, verbose=0, seed=0)
    older = save_checkpoint(agent, tmp_path).path
    agent.fit(lake(), nb_episodes=3, verbose=0)
    newer = save_checkpoint(agent, tmp_path).path
    return agent, older, newer


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda ckpt: flip_a_byte(ckpt / ARRAYS), "arrays.npz is corrupted: its sha256"),
        (lambda ckpt: truncate(ckpt / ARRAYS), "arrays.npz is truncated"),
        (lambda ckpt: (ckpt / ARRAYS).unlink(), "arrays.npz is missing"),
        (lambda ckpt: flip_a_byte(ckpt / MANIFEST), "manifest.json is corrupted"),
        (lambda ckpt: truncate(ckpt / MANIFEST), "manifest.json is corrupted"),
        (lambda ckpt: (ckpt / MANIFEST).unlink(), "is incomplete: it has no manifest.json"),
    ],
    ids=["flipped", "truncated", "missing", "manifest-flipped", "manifest-cut", "no-manifest"],
)
def test_a_damaged_checkpoint_is_refused_and_the_previous_one_loaded(tmp_path, damage, message):
    agent, older, newer = two_checkpoints(tmp_path)
    damage(newer)
    restored = make_table_agent(seed=1)
    table_before = restored.table.copy()
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(restored, newer)
    np.testing.assert_array_equal(restored.table, table_before)  # untouched by the failed load

    with pytest.warns(UserWarning, match=f"{message}.*loaded {older.name} instead"):
        info = load_checkpoint(restored, tmp_path)
    assert info.path == older and restored.step == info.step < agent.step


def test_loading_fails_clearly_when_no_checkpoint_verifies(tmp_path):
    _, older, newer = two_checkpoints(tmp_path)
    flip_a_byte(older / ARRAYS)
    truncate(newer / ARRAYS)
    with pytest.raises(CheckpointError, match="no valid checkpoint.*truncated.*corrupted"):
        load_checkpoint(make_table_agent(), tmp_path)
    with pytest.raises(FileNotFoundError, match="no checkpoint directory at"):
        load_checkpoint(make_table_agent(), tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no checkpoint in"):
        find_checkpoint(empty)


def test_a_checkpoint_of_another_format_version_is_refused(tmp_path):
    info = save_checkpoint(make_table_agent(), tmp_path)
    manifest = json.loads((info.path / MANIFEST).read_text())
    manifest["format_version"] = 99
    (info.path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(
        CheckpointError, match="format_version 99; this version of agents reads format_version 2"
    ):
        load_checkpoint(make_table_agent(), info.path)


def test_another_networks_checkpoint_is_refused_naming_both(tmp_path):
    save_checkpoint(make_dqn(hidden=16), tmp_path)
    other = make_dqn(hidden=32)
    weights = other.get_weights()
    message = r"another network: it holds .*130 parameters.*this agent has .*258 parameters"
    with pytest.raises(ValueError, match=message):
        load_checkpoint(other, tmp_path)
    assert_same_variables(other.get_weights(), weights)
    # Same shapes, another layer: an activation changes the function, so it counts.
    keras.utils.set_random_seed(0)
    tanh = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(2)]
    )
    agent = DQNAgent(tanh, 2, SequentialMemory(500, gamma=GAMMA), gamma=GAMMA)
    agent.compile("adam")
    with pytest.raises(ValueError, match="another network"):
        load_checkpoint(agent, tmp_path)


def test_another_optimizer_policy_or_agent_class_is_refused(tmp_path):
    save_checkpoint(make_dqn(), tmp_path)
    with pytest.raises(ValueError, match="Adam optimizer with 10 variables.*SGD has 2"):
        load_checkpoint(make_dqn(optimizer=keras.optimizers.SGD()), tmp_path)
    greedy = make_dqn()
    greedy.policy = EpsGreedyQPolicy(0.1)
    with pytest.raises(ValueError, match="policy LinearAnnealedPolicy, this agent a EpsGreedy"):
        load_checkpoint(greedy, tmp_path)
    with pytest.raises(ValueError, match="holds a DQNAgent, not a QLearningAgent"):
        load_checkpoint(make_table_agent(), tmp_path)


def test_another_tables_checkpoint_is_refused(tmp_path):
    save_checkpoint(make_table_agent(), tmp_path)
    other = QLearningAgent(gymnasium.spaces.Discrete(9), 4)
    with pytest.raises(ValueError, match=r"shape \[16, 4\].*this agent's table has shape \[9, 4\]"):
        load_checkpoint(other, tmp_path)


def test_a_memory_of_other_settings_is_refused_before_anything_changes(tmp_path):
    agent = make_dqn()
    agent.fit(Corridor(), nb_steps=30, verbose=0, seed=0)
    save_checkpoint(agent, tmp_path, include_memory=True)
    other = make_dqn(seed=1, memory=SequentialMemory(200, gamma=GAMMA))
    weights = other.get_weights()
    with pytest.raises(ValueError, match="replay memory that does not fit.*limit"):
        load_checkpoint(other, tmp_path)
    assert other.step == 0 and len(other.memory) == 0
    assert_same_variables(other.get_weights(), weights)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot checkpoint a Corridor"):
        save_checkpoint(Corridor(), tmp_path)
    with pytest.raises(ValueError, match="keep must be an int >= 1"):
        save_checkpoint(make_table_agent(), tmp_path, keep=0)
    with pytest.raises(ValueError, match="a QLearningAgent has no memory"):
        save_checkpoint(make_table_agent(), tmp_path, include_memory=True)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    uncompiled = DQNAgent(model, 2, SequentialMemory(10, gamma=GAMMA), gamma=GAMMA)
    with pytest.raises(RuntimeError, match="compile the DQNAgent first"):
        save_checkpoint(uncompiled, tmp_path)


def test_agent_methods_delegate_to_the_checkpoint_functions(tmp_path):
    env = gymnasium.make("FrozenLake-v1", is_slippery=False)
    agent = QLearningAgent(env.observation_space, 4, seed=0)
    agent.fit(env, nb_steps=50, verbose=0, seed=0)
    info = agent.save_checkpoint(str(tmp_path / "ckpt"))
    other = QLearningAgent(env.observation_space, 4, seed=1)
    loaded = other.load_checkpoint(str(tmp_path / "ckpt"))
    assert loaded.step == info.step == agent.step == other.step
    np.testing.assert_array_equal(other.table, agent.table)
