from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from gymnasium import spaces

from agents import manifest
from agents.qlearning import QLearningAgent
from agents.saving import FORMAT_VERSION, SAVED_FILES
from agents.serialization import load_agent, save_agent

SPACE = spaces.MultiDiscrete([3, 4], start=[1, 0])


def trained_agent(seed: int = 0) -> QLearningAgent:
    """An agent whose table is random, so every state has its own greedy action."""
    agent = QLearningAgent(SPACE, 5, epsilon=0.3, initial_q=(-1.0, 1.0), seed=seed)
    agent.epsilon = 0.123  # changed by training: state, not config
    return agent


def reseal(path) -> None:
    """Rewrites a saved agent's manifest for its files as they are now (a crafted save)."""
    files = {name: manifest.file_entry(path / name) for name in SAVED_FILES}
    manifest.write(path, {"format_version": FORMAT_VERSION, "files": files})


def all_states() -> np.ndarray:
    return np.array([[x, y] for x in range(1, 4) for y in range(4)])


def test_round_trip_gives_identical_greedy_actions_and_config(tmp_path):
    agent = trained_agent()
    path = tmp_path / "agent"
    agent.save(str(path))
    assert sorted(os.listdir(path)) == ["agent.json", "manifest.json", "weights.npz"]
    document = json.loads((path / "agent.json").read_text())
    assert document["format_version"] == 3
    assert document["class"] == "agents.qlearning.QLearningAgent"
    loaded = load_agent(path)
    assert isinstance(loaded, QLearningAgent) and loaded.compiled
    assert loaded.get_config() == agent.get_config() and loaded.epsilon == 0.3
    agent.training = loaded.training = False
    np.testing.assert_array_equal(loaded.forward(all_states()), agent.forward(all_states()))
    np.testing.assert_array_equal(loaded.table, agent.table)


def test_saving_again_replaces_the_old_save_and_leaves_no_temporary_directory(tmp_path):
    path = tmp_path / "agent"
    save_agent(trained_agent(0), path)
    second = trained_agent(1)
    save_agent(second, path)
    np.testing.assert_array_equal(load_agent(path).table, second.table)
    assert os.listdir(tmp_path) == ["agent"]


def test_a_failed_save_keeps_the_old_save(tmp_path, monkeypatch):
    path = tmp_path / "agent"
    first = trained_agent(0)
    save_agent(first, path)

    def broken_write_npz(file, arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    second = trained_agent(1)
    monkeypatch.setattr("agents.saving.write_npz", broken_write_npz)
    with pytest.raises(OSError, match="disk full"):
        save_agent(second, path)
    np.testing.assert_array_equal(load_agent(path).table, first.table)
    assert os.listdir(tmp_path) == ["agent"]


def test_refuses_to_replace_a_directory_that_is_not_a_saved_agent(tmp_path):
    (tmp_path / "precious.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not a saved agent"):
        save_agent(trained_agent(), tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep"


def test_creates_missing_parent_directories(tmp_path):
    save_agent(trained_agent(), tmp_path / "runs" / "a" / "agent")
    assert isinstance(load_agent(tmp_path / "runs" / "a" / "agent"), QLearningAgent)


def test_refuses_what_is_not_an_agent(tmp_path):
    with pytest.raises(TypeError, match="cannot save a MultiDiscrete: it is not an agent"):
        save_agent(SPACE, tmp_path / "agent")


def test_loading_a_q_learning_agent_does_not_import_tensorflow(tmp_path):
    save_agent(trained_agent(), tmp_path / "agent")
    code = (
        "import sys\nfrom agents.serialization import load_agent\n"
        f"load_agent({str(tmp_path / 'agent')!r})\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "agent"
    save_agent(trained_agent(), path)
    return path


def rewrite(path, **changes):
    document = json.loads((path / "agent.json").read_text())
    document.update(changes)
    (path / "agent.json").write_text(json.dumps(document))
    reseal(path)


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved agent directory"):
        load_agent(tmp_path / "nowhere")


def test_missing_config_file(saved):
    os.remove(saved / "agent.json")
    with pytest.raises(FileNotFoundError, match="has no agent.json"):
        load_agent(saved)


def test_missing_weights_file(saved):
    os.remove(saved / "weights.npz")
    with pytest.raises(FileNotFoundError, match="no weights file weights.npz"):
        load_agent(saved)


def test_corrupt_json(saved):
    (saved / "agent.json").write_text('{"format_version": 1, "cla')
    reseal(saved)
    with pytest.raises(ValueError, match="not valid JSON"):
        load_agent(saved)


def test_json_without_the_expected_keys(saved):
    (saved / "agent.json").write_text("[1, 2]")
    reseal(saved)
    with pytest.raises(ValueError, match="format_version, class and config"):
        load_agent(saved)


def test_unsupported_format_version(saved):
    rewrite(saved, format_version=1)
    with pytest.raises(ValueError, match="format_version 1.*reads format_version 3"):
        load_agent(saved)


def test_unknown_class(saved):
    rewrite(saved, **{"class": "PPOAgent"})
    with pytest.raises(ValueError, match="unknown agent class 'PPOAgent'"):
        load_agent(saved)


def test_config_that_does_not_build_the_agent(saved):
    document = json.loads((saved / "agent.json").read_text())
    rewrite(saved, config={**document["config"], "learning_rate": 7.0})
    with pytest.raises(ValueError, match="does not build a QLearningAgent.*learning_rate"):
        load_agent(saved)


def test_weights_that_do_not_match_the_config(saved, tmp_path):
    save_agent(QLearningAgent(spaces.Discrete(4), 5), tmp_path / "other")
    os.replace(tmp_path / "other" / "weights.npz", saved / "weights.npz")
    reseal(saved)
    with pytest.raises(ValueError, match=r"shape \(4, 5\).*shape \(12, 5\)"):
        load_agent(saved)


def test_dqn_round_trip_gives_identical_greedy_actions(tmp_path):
    import keras

    from agents.dqn import DQNAgent
    from agents.memory import SequentialMemory

    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
    )
    agent = DQNAgent(model=model, nb_actions=3, memory=SequentialMemory(limit=100), reward_clip=30)
    agent.compile(keras.optimizers.Adam(1e-3))
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    save_agent(agent, tmp_path / "dqn")
    assert sorted(os.listdir(tmp_path / "dqn")) == ["agent.json", "manifest.json", "weights.npz"]
    loaded = load_agent(tmp_path / "dqn")
    assert isinstance(loaded, DQNAgent) and loaded.compiled and loaded.reward_clip == 30
    assert loaded.get_config() == agent.get_config()
    agent.training = loaded.training = False
    np.testing.assert_array_equal(loaded.forward(obs), agent.forward(obs))
    for loaded_weights, weights in zip(loaded.get_weights(), agent.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded_weights, weights)
