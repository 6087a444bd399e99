"""A fixture that shrinks what the benchmarks build, so that each runs in seconds."""

from __future__ import annotations

import dataclasses

import pytest

from agents import presets
from agents.benchmarks import dqn, replay, update_rate


def small_tutorial_cnn(obs_shape, nb_actions):
    """tutorial_cnn's layers with 8 filters instead of 256, so that XLA compiles it quickly."""
    import keras

    inputs = keras.Input(shape=tuple(obs_shape))
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    for _ in range(2):
        x = keras.layers.Conv2D(8, 3, activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.Dense(8)(keras.layers.Flatten()(x))
    return keras.Model(inputs, keras.layers.Dense(nb_actions)(x), name="tutorial_cnn")


@pytest.fixture
def tiny(monkeypatch):
    """Shrinks what the agent benchmarks build, so that all of them run in seconds."""
    import agents.networks

    monkeypatch.setattr(agents.networks, "tutorial_cnn", small_tutorial_cnn)
    monkeypatch.setattr(dqn, "ROUNDS", 2)
    monkeypatch.setattr(replay, "SAMPLING_MEMORY_SIZE", 3_000)
    monkeypatch.setattr(replay, "SIZED_MEMORY", 2_000)
    small = dataclasses.replace(
        presets.config("dqn", "Blob-v0"), warmup=64, memory_size=1_000, hidden_units=16
    )
    monkeypatch.setattr(dqn, "default_config", lambda: small)
    monkeypatch.setattr(update_rate, "blob_config", lambda: small)
    monkeypatch.setattr(update_rate, "ROUNDS", 2)
    monkeypatch.setattr(update_rate, "WARMUP", 64)
    monkeypatch.setattr(update_rate, "MLP_SETTINGS", ((2, 1), (1, 2)))
