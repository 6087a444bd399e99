"""The Q-networks and the layers they are built from."""

from __future__ import annotations

import gymnasium
import keras
import numpy as np
import pytest

import blobenv  # noqa: F401  (registers Blob-v0)
from agents import networks
from agents.layers import DuelingQ, PlayerCentredView, PlayerOffsets
from agents.networks import blob_cnn, blob_features, tutorial_cnn


def blob_observation(seed: int, size: int = 10):
    env = gymnasium.make("Blob-v0", size=size)
    obs, info = env.reset(seed=seed)
    return obs, info


@pytest.mark.parametrize("seed", range(5))
def test_player_centred_view_puts_the_player_in_the_middle(seed):
    obs, info = blob_observation(seed)
    view = PlayerCentredView()(obs[None].astype("float32") / 255).numpy()[0]
    assert view.shape == (19, 19, 4)
    (px, py), (fx, fy), (ex, ey) = info["player"], info["food"], info["enemy"]
    assert view[9, 9, 2] == 1.0  # the player, in blue
    assert view[9 + fy - py, 9 + fx - px, 1] == 1.0  # the food, in green
    assert view[9 + ey - py, 9 + ex - px, 0] == 1.0  # the enemy, in red
    # The last channel marks the grid: exactly its 100 cells, shifted with the player.
    inside = view[..., 3]
    assert inside.sum() == 100 and inside[9 - py, 9 - px] == 1.0 and inside[9 - py - 1, 9] == 0.0


def test_local_view_shows_the_walls_around_a_corner_player():
    env = gymnasium.make("Blob-v0")
    obs, _ = env.reset(seed=0, options={"player": (0, 0), "food": (5, 5), "enemy": (1, 1)})
    view = PlayerCentredView(radius=1)(obs[None].astype("float32") / 255).numpy()[0]
    np.testing.assert_array_equal(view[..., 3], [[0, 0, 0], [0, 1, 1], [0, 1, 1]])
    assert view[2, 2, 0] == 1.0  # the enemy, diagonally below-right


@pytest.mark.parametrize("seed", range(5))
def test_player_offsets_are_the_scaled_food_and_enemy_offsets(seed):
    obs, info = blob_observation(seed)
    offsets = PlayerOffsets()(obs[None].astype("float32") / 255).numpy()[0]
    (px, py), (fx, fy), (ex, ey) = info["player"], info["food"], info["enemy"]
    x_offsets, y_offsets = offsets[:3], offsets[3:]
    np.testing.assert_allclose(x_offsets[[0, 1, 2]], [(ex - px) / 9, (fx - px) / 9, 0], atol=1e-6)
    np.testing.assert_allclose(y_offsets[[0, 1, 2]], [(ey - py) / 9, (fy - py) / 9, 0], atol=1e-6)


@pytest.mark.parametrize("size", [5, 10, 20])
def test_player_offsets_in_cells_read_the_same_on_every_grid(size):
    obs, info = blob_observation(3, size)
    offsets = PlayerOffsets(cells=9)(obs[None].astype("float32") / 255).numpy()[0]
    (px, py), (fx, fy) = info["player"], info["food"]
    np.testing.assert_allclose(offsets[[1, 4]], [(fx - px) / 9, (fy - py) / 9], atol=1e-6)


@pytest.mark.parametrize(("limit", "food_dx"), [(None, 25 / 9), (9, 1.0), (18, 2.0)])
def test_player_offsets_beyond_the_limit_read_as_the_limit(limit, food_dx):
    env = gymnasium.make("Blob-v0", size=30)
    obs, _ = env.reset(seed=0, options={"player": (2, 20), "food": (27, 16), "enemy": (6, 20)})
    offsets = PlayerOffsets(cells=9, limit=limit)(obs[None].astype("float32") / 255).numpy()[0]
    # x: the enemy 4 cells right, the food 25; y: the food 4 cells up.
    np.testing.assert_allclose(offsets, [4 / 9, food_dx, 0, 0, -4 / 9, 0], atol=1e-6)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cells": 0}, "cells must be None or an int >= 1"),
        ({"cells": 2.5}, "cells must be None or an int >= 1"),
        ({"cells": "9"}, "cells must be None or an int >= 1"),
        ({"cells": 9, "limit": 0}, "limit must be None or an int >= 1"),
        ({"limit": 9}, "limit needs cells"),
    ],
)
def test_player_offsets_refuse_a_scale_or_limit_that_is_no_positive_int(options, message):
    with pytest.raises(ValueError, match=message):
        PlayerOffsets(**options)


def test_reach_shows_which_moves_end_where_the_enemy_can_step():
    env = gymnasium.make("Blob-v0")
    obs, _ = env.reset(seed=0, options={"player": (3, 3), "food": (8, 8), "enemy": (5, 2)})
    inputs = keras.Input(obs.shape)
    features = keras.Model(inputs, blob_features(inputs, reach=True))(obs[None]).numpy()[0]
    view = features[6:].reshape(3, 3, 7)  # after the 6 offsets: 3 colours, their reach, grid
    enemy_reach = view[..., 3]
    # The enemy two cells right and one up: it can step next to the player's right side only.
    np.testing.assert_array_equal(enemy_reach, [[0, 0, 1], [0, 0, 1], [0, 0, 0]])
    assert view[..., 0].sum() == 0  # the enemy itself is not in the 3 x 3 view


def test_reach_is_an_option_of_blob_cnn_alone():
    with pytest.raises(ValueError, match="reach is an option of the network blob_cnn"):
        networks.build("tutorial_cnn", (10, 10, 3), 9, reach=True)


def test_dueling_layer_rejects_unknown_types():
    with pytest.raises(ValueError, match="dueling_type"):
        DuelingQ("mean")


@pytest.mark.parametrize("build", [blob_cnn, tutorial_cnn])
def test_networks_map_uint8_images_to_q_values_and_reload_from_json(build):
    obs, _ = blob_observation(0)
    model = build(obs.shape, np.int64(9))
    q_values = model(obs[None].astype("float32")).numpy()
    assert q_values.shape == (1, 9)
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(obs[None].astype("float32")).numpy(), q_values, atol=1e-6)


def test_blob_cnn_starts_with_zero_q_values():
    obs, _ = blob_observation(1)
    assert not blob_cnn(obs.shape, 9)(obs[None].astype("float32")).numpy().any()


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="image shape"):
        blob_cnn((10, 10), 9)
    with pytest.raises(ValueError, match="radius"):
        PlayerCentredView(radius=-1)


def test_the_mlp_scales_bounded_entries_to_unit_range_and_leaves_unbounded_ones():
    from agents.networks import mlp

    low, high = np.array([-1.2, -0.07, -np.inf]), np.array([0.6, 0.07, np.inf])
    model = mlp((3,), 2, hidden_units=4, bounds=(low, high))
    scaling = keras.Model(model.input, model.get_layer("bounds_scaling").output)
    obs = np.array([[-1.2, -0.07, 5.0], [0.6, 0.07, -3.0], [-0.3, 0.0, 0.0]], dtype=np.float32)
    expected = [[-1.0, -1.0, 5.0], [1.0, 1.0, -3.0], [0.0, 0.0, 0.0]]
    np.testing.assert_allclose(scaling(obs), expected, atol=1e-5)
    reloaded = keras.models.model_from_json(model.to_json())
    reloaded.set_weights(model.get_weights())
    np.testing.assert_allclose(reloaded(obs), model(obs), atol=1e-6)


def test_a_mountaincar_dqn_with_scaled_inputs_saves_and_loads(tmp_path):
    import agents
    from agents import presets

    env = gymnasium.make("MountainCar-v0")
    agent = presets.build("dqn", env, presets.config("dqn", "MountainCar-v0"), seed=0)
    assert agent.model.get_layer("bounds_scaling") is not None
    agent.save(tmp_path / "agent")
    loaded = agents.load_agent(tmp_path / "agent")
    obs = np.array([[-0.5, 0.01], [0.3, -0.05]], dtype=np.float32)
    np.testing.assert_allclose(loaded.model(obs), agent.model(obs), atol=1e-6)


def test_actor_critic_sees_blob_images_through_the_player_relative_trunk():
    from agents.networks import actor_critic

    env = gymnasium.make("Blob-v0")
    model = actor_critic(env.observation_space, env.action_space, 16)
    layers = {type(layer).__name__ for layer in model.layers}
    assert {"PlayerOffsets", "PlayerCentredView", "Rescaling"} <= layers
    obs, _ = env.reset(seed=0)
    logits, value = model(obs[None])
    assert logits.shape == (1, env.action_space.n) and value.shape == (1, 1)
    # The features are relative to the player: the same scene shifted gives the same outputs.
    a, _ = env.reset(seed=0, options={"player": (2, 2), "food": (4, 3), "enemy": (6, 6)})
    b, _ = env.reset(seed=0, options={"player": (3, 3), "food": (5, 4), "enemy": (7, 7)})
    np.testing.assert_allclose(model(a[None])[0], model(b[None])[0], atol=1e-6)
    flat = actor_critic(env.observation_space, env.action_space, 16, trunk="flat")
    assert "PlayerOffsets" not in {type(layer).__name__ for layer in flat.layers}
    with pytest.raises(ValueError, match="trunk must be one of"):
        actor_critic(env.observation_space, env.action_space, trunk="conv")
    vector = gymnasium.spaces.Box(-1, 1, (4,))
    with pytest.raises(ValueError, match="image shape"):
        actor_critic(vector, env.action_space, trunk="blob")
