"""A trained Blob network played on grids of other sizes (`agents.transfer`)."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import blobenv  # noqa: F401  (registers Blob-v0)
from agents import presets
from agents.transfer import evaluate_on_sizes, on_grid, transfer_table


def dqn(network: str = "blob_cnn", env_id: str = "Blob-v0", **env_kwargs):
    config = presets.config("dqn", env_id, network=network, hidden_units=16, num_envs=1)
    env = presets.make_env("dqn", env_id, config, **env_kwargs)
    try:
        agent = presets.build("dqn", env, config, seed=0)
    finally:
        env.close()
    # Non-zero weights everywhere (the output layer starts at zero).
    rng = np.random.default_rng(0)
    agent.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in agent.get_weights()])
    return agent


def image(size: int, player, food, enemy) -> np.ndarray:
    env = gymnasium.make("Blob-v0", size=size)
    obs, _ = env.reset(seed=0, options={"player": player, "food": food, "enemy": enemy})
    env.close()
    return obs


@pytest.mark.parametrize("size", [8, 12, 50])
def test_the_network_on_another_grid_gives_the_same_q_values_for_the_same_neighbourhood(size):
    agent = dqn()
    moved = on_grid(agent, size)
    assert moved.model.input_shape == (None, size, size, 3)
    # The same offsets and the same 3 x 3 cells around the player on both grids.
    small = image(10, (3, 4), (6, 2), (2, 5))
    large = image(size, (4, 5), (7, 3), (3, 6))
    q_small = agent.model.predict(small[None], verbose=0)
    q_large = moved.model.predict(large[None], verbose=0)
    np.testing.assert_allclose(q_large, q_small, rtol=1e-5, atol=1e-5)
    assert agent.model.input_shape == (None, 10, 10, 3)  # the original is left as it was


def test_on_a_larger_grid_far_offsets_read_as_the_farthest_the_network_was_trained_on():
    agent = dqn()
    moved = on_grid(agent, 30)
    # Food 25 cells right of the player on 30 x 30 reads as food 9 cells right on 10 x 10.
    far = image(30, (0, 4), (25, 4), (0, 8))
    near = image(10, (0, 4), (9, 4), (0, 8))
    q_far = moved.model.predict(far[None], verbose=0)
    np.testing.assert_allclose(q_far, agent.model.predict(near[None], verbose=0), rtol=1e-5)


def test_a_network_whose_weights_depend_on_the_size_is_refused():
    with pytest.raises(ValueError, match="weights depend on the grid size: weight .* on 20 x 20"):
        on_grid(dqn("tutorial_cnn"), 20)


def test_an_agent_without_an_image_network_is_refused():
    with pytest.raises(ValueError, match="not a batch of images"):
        on_grid(dqn("mlp", "CartPole-v1"), 12)
    config = presets.config("qlearning", "Blob-v0")
    table_agent = presets.build("qlearning", presets.make_env("qlearning", "Blob-v0", config))
    with pytest.raises(ValueError, match="QLearningAgent has no Keras network"):
        on_grid(table_agent, 12)


def test_evaluation_on_sizes_is_against_each_sizes_optimum():
    rows = evaluate_on_sizes(dqn(), [6, 12], episodes=5)
    assert [row["size"] for row in rows] == [6, 12]
    for row in rows:
        assert row["episodes"] == 5 and "ratio_to_optimum" in row and "success_rate" in row
    assert rows[0]["optimal_mean_return"] != rows[1]["optimal_mean_return"]
    lines = transfer_table(rows).splitlines()
    assert lines[0].startswith("| Grid | Mean return | Optimum |") and len(lines) == 4
    assert lines[2].startswith("| 6 x 6 |") and lines[3].startswith("| 12 x 12 |")
    with pytest.raises(ValueError, match="size must be between"):
        evaluate_on_sizes(dqn(), [1], episodes=5)
