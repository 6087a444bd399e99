"""Agents declare their state; saving, loading and checkpoints work for any agent class."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import gymnasium
import keras
import numpy as np
import pytest

from agents import registry
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.core import Agent
from agents.dqn import DQNAgent
from agents.memory import SequentialMemory
from agents.qlearning import QLearningAgent
from agents.serialization import load_agent, save_agent
from tests.agents.test_serialization import reseal
from tests.agents.toy_envs import Corridor


class CountingAgent(Agent):
    """An agent only this test file defines: its state is declared, nothing else is needed."""

    state_attributes = ("sums", "visits", "label")

    def __init__(self, nb_actions: int = 2):
        super().__init__()
        self.nb_actions = nb_actions
        self.sums = np.zeros(nb_actions)
        self.visits = 0
        self.label: str | None = None
        self.compiled = True

    def get_config(self) -> dict[str, Any]:
        return {"nb_actions": self.nb_actions}

    def get_weights(self) -> list[np.ndarray]:
        return [self.sums.copy()]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.sums = np.array(weights[0], dtype=float)


class BonusQLearningAgent(QLearningAgent):
    """A user's Q-learning variant with one more state attribute."""

    state_attributes = ("bonus_episodes",)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.bonus_episodes = 0

    def end_episode(self, env_index: int) -> None:
        super().end_episode(env_index)
        self.bonus_episodes += 1


class TrackingDQN(DQNAgent):
    """A user's DQN that extends get_state/set_state with state of its own."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.visit_counts = np.zeros(2, dtype=np.int64)

    def get_state(self, include_memory: bool = False):
        values, arrays = super().get_state(include_memory)
        arrays["visit_counts"] = self.visit_counts
        return values, arrays

    def set_state(self, values, arrays):
        counts = arrays.get("visit_counts")
        if counts is None or counts.shape != self.visit_counts.shape:
            raise ValueError(f"the state's visit_counts must have shape {self.visit_counts.shape}")
        super().set_state(values, arrays)
        self.visit_counts = counts.copy()


def lake() -> gymnasium.Env:
    return gymnasium.make("FrozenLake-v1", is_slippery=False)


def make_tracking_dqn(seed: int = 0) -> TrackingDQN:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8), keras.layers.Dense(2)])
    agent = TrackingDQN(model, 2, SequentialMemory(200, gamma=0.9), gamma=0.9, nb_steps_warmup=10)
    agent.compile(keras.optimizers.Adam(1e-2))
    return agent


def used_counting_agent() -> CountingAgent:
    agent = CountingAgent()
    agent.sums[:] = [3.5, -1.0]
    agent.visits, agent.label, agent.step, agent.episode = 7, "warm", 40, 3
    agent.rng.random(3)
    return agent


def test_every_agent_class_is_registered_under_its_module_and_name():
    key = "tests.agents.test_agent_state.CountingAgent"
    assert registry.class_key(CountingAgent) == key
    assert registry.registered_class(key) is CountingAgent
    assert registry.is_registered(TrackingDQN) and not registry.is_registered(Corridor)


def test_the_built_in_table_names_each_class_by_its_module():
    for key, module in registry.BUILT_IN_AGENTS.items():
        importlib.import_module(module)
        cls = registry.registered_class(key)
        assert cls is not None and cls.__module__ == module, key


def test_an_agent_defined_only_in_a_test_checkpoints_and_loads(tmp_path):
    agent = used_counting_agent()
    save_checkpoint(agent, tmp_path / "ckpt")
    restored = CountingAgent()
    info = load_checkpoint(restored, tmp_path / "ckpt")
    assert (info.step, info.episode) == (restored.step, restored.episode) == (40, 3)
    assert (restored.visits, restored.label) == (7, "warm")
    np.testing.assert_array_equal(restored.sums, agent.sums)
    np.testing.assert_array_equal(restored.rng.random(4), agent.rng.random(4))

    save_agent(agent, tmp_path / "saved")
    loaded = load_agent(tmp_path / "saved")
    assert type(loaded) is CountingAgent and loaded.get_config() == agent.get_config()
    np.testing.assert_array_equal(loaded.sums, agent.sums)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda values, arrays: arrays.pop("sums"), "no array 'sums'.*shape \\[2\\]"),
        (
            lambda values, arrays: arrays.update(sums=np.zeros(3)),
            r"holds sums of shape \[3\] \(float64\); this agent's sums has shape \[2\]",
        ),
        (lambda values, arrays: values.pop("visits"), "no value 'visits'"),
        (lambda values, arrays: values.update(visits="many"), "visits is 'many'.*of type int"),
        (lambda values, arrays: values.pop("rng"), "no 'rng', which every agent saves"),
        (lambda values, arrays: values.update(step=-1), "step must be an int >= 0"),
        (lambda values, arrays: values["rng"].update(bit_generator="Evil"), "bit generator"),
        (
            lambda values, arrays: values["policies"].update(policy={}),
            r"has a policy invalid \({}\), this agent a None",
        ),
    ],
    ids=["no-array", "misshapen", "no-value", "wrong-kind", "no-rng", "bad-step", "rng", "policy"],
)
def test_set_state_names_what_does_not_fit_and_changes_nothing(change, message):
    values, arrays = used_counting_agent().get_state()
    values, arrays = json.loads(json.dumps(values)), dict(arrays)
    change(values, arrays)
    agent = CountingAgent()
    before = agent.get_state()
    with pytest.raises(ValueError, match=message):
        agent.set_state(values, arrays)
    assert json.dumps(agent.get_state()[0]) == json.dumps(before[0])
    np.testing.assert_array_equal(agent.sums, before[1]["sums"])


def test_a_user_subclass_of_the_q_learning_agent_saves_loads_and_resumes(tmp_path):
    uninterrupted = BonusQLearningAgent(lake().observation_space, 4, epsilon=0.9, seed=0)
    uninterrupted.fit(lake(), nb_episodes=30, verbose=0, seed=0)
    stopped = BonusQLearningAgent(lake().observation_space, 4, epsilon=0.9, seed=0)
    stopped.fit(lake(), nb_episodes=12, verbose=0, seed=0)
    stopped.save_checkpoint(str(tmp_path / "ckpt"))
    resumed = BonusQLearningAgent(lake().observation_space, 4, epsilon=0.9, seed=4)
    resumed.load_checkpoint(str(tmp_path / "ckpt"))
    assert resumed.bonus_episodes == 12
    resumed.fit(lake(), nb_episodes=18, verbose=0)
    assert resumed.bonus_episodes == uninterrupted.bonus_episodes == 30
    np.testing.assert_array_equal(resumed.table, uninterrupted.table)

    resumed.save(str(tmp_path / "saved"))
    loaded = load_agent(tmp_path / "saved")
    assert type(loaded) is BonusQLearningAgent
    np.testing.assert_array_equal(loaded.table, resumed.table)


def test_a_user_subclass_of_the_dqn_saves_loads_and_resumes(tmp_path):
    agent = make_tracking_dqn()
    agent.fit(Corridor(), nb_steps=40, verbose=0, seed=0)
    agent.visit_counts[:] = [5, 9]
    save_checkpoint(agent, tmp_path / "ckpt", include_memory=True)
    restored = make_tracking_dqn(seed=3)
    load_checkpoint(restored, tmp_path / "ckpt")
    np.testing.assert_array_equal(restored.visit_counts, [5, 9])
    assert restored.step == 40 and len(restored.memory) == len(agent.memory)
    for mine, theirs in zip(restored.model.variables, agent.model.variables, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    restored.fit(Corridor(), nb_steps=10, verbose=0)
    assert restored.step == 50

    save_agent(agent, tmp_path / "saved")
    loaded = load_agent(tmp_path / "saved")
    assert type(loaded) is TrackingDQN and loaded.compiled
    obs = Corridor().all_observations()
    np.testing.assert_array_equal(loaded.model(obs).numpy(), agent.model(obs).numpy())
    np.testing.assert_array_equal(loaded.target_model(obs).numpy(), agent.model(obs).numpy())


def test_a_checkpoint_of_a_subclass_is_refused_by_its_base_class(tmp_path):
    save_checkpoint(make_tracking_dqn(), tmp_path)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8), keras.layers.Dense(2)])
    plain = DQNAgent(model, 2, SequentialMemory(200, gamma=0.9), gamma=0.9)
    plain.compile("adam")
    with pytest.raises(ValueError, match="holds a TrackingDQN, not a DQNAgent"):
        load_checkpoint(plain, tmp_path)


def test_a_class_not_defined_in_this_process_is_refused_without_importing_anything(
    tmp_path, monkeypatch
):
    marker = tmp_path / "imported"
    (tmp_path / "planted_agents.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    save_agent(CountingAgent(), tmp_path / "saved")
    document = json.loads((tmp_path / "saved" / "agent.json").read_text())
    document["class"] = "planted_agents.PlantedAgent"
    (tmp_path / "saved" / "agent.json").write_text(json.dumps(document))
    reseal(tmp_path / "saved")
    with pytest.raises(ValueError, match="import the module that defines PlantedAgent before"):
        load_agent(tmp_path / "saved")
    assert not marker.exists() and "planted_agents" not in sys.modules
