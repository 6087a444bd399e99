from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from agents.memory import PrioritizedMemory, SequentialMemory
from scripts import bench, bench_agents
from scripts.train_blob import DQNConfig


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
    monkeypatch.setattr(bench_agents, "ROUNDS", 2)
    monkeypatch.setattr(bench_agents, "SAMPLING_MEMORY_SIZE", 3_000)
    monkeypatch.setattr(bench_agents, "SIZED_MEMORY", 2_000)
    small = dataclasses.replace(DQNConfig(), warmup=64, memory_size=1_000, hidden_units=16)
    monkeypatch.setattr(bench_agents, "DQNConfig", lambda: small)


def test_agent_benchmarks_are_registered_in_bench_in_order():
    assert list(bench_agents.BENCHMARKS) == list(bench.AGENT_BENCHMARKS)
    assert list(bench.BENCHMARKS)[-len(bench.AGENT_BENCHMARKS) :] == list(bench.AGENT_BENCHMARKS)
    assert list(bench.BENCHMARKS)[-1] == "memory"  # its peak covers the others


def expected_metrics(name: str) -> set[str]:
    """The metrics that agent benchmark `name` reports."""
    network, num_envs = DQNConfig().network, DQNConfig().num_envs
    ratios = {"agent / tutorial loop", "agent / tutorial loop (CPU time)"}
    others = {f"DQNAgent.fit {network} num_envs={n}" for n in {1, 8} - {num_envs}}
    return {
        "tutorial": {"DQNAgent.fit tutorial_cnn", "tutorial loop tutorial_cnn", *ratios},
        "default": {
            f"DQNAgent.fit {network} num_envs={num_envs} (default)",
            *others,
            f"tutorial loop {network}",
            *ratios,
        },
        "sampling": {
            "SequentialMemory batches of 64/s",
            "PrioritizedMemory batches of 64/s",
            "PrioritizedMemory time / SequentialMemory time",
        },
        "xla": {
            f"{net} {what}"
            for net in ("tutorial_cnn", network)
            for what in (
                "train step, XLA",
                "train step, no XLA",
                "XLA / no XLA",
                "XLA / no XLA (CPU time)",
            )
        },  # fmt: skip
        "memory": {
            "SequentialMemory of 2,000 Blob transitions",
            "peak resident memory of this process",
        },
    }[name]


TARGETS = {
    ("tutorial", "agent / tutorial loop"): ">= 5",
    ("sampling", "PrioritizedMemory time / SequentialMemory time"): "<= 3",
}


@pytest.mark.parametrize("name", bench.AGENT_BENCHMARKS)
def test_agent_benchmark_prints_and_writes_positive_figures(name, tiny, tmp_path, capsys):
    out = tmp_path / "bench.json"
    bench.main(["--only", name, "--seconds", "0.01", "--out", str(out)])
    results = json.loads(out.read_text())["results"]
    assert {r["benchmark"] for r in results} == {name}
    assert {r["metric"] for r in results} == expected_metrics(name)
    assert all(r["value"] > 0 and np.isfinite(r["value"]) for r in results)
    for r in results:
        assert r["target"] == TARGETS.get((name, r["metric"]), "")
    table = capsys.readouterr().out
    assert all(f"| {name} | {r['metric']} | " in table for r in results)


def test_memory_benchmark_measures_the_replay_memorys_bytes(tiny):
    rows = {r.metric: r.value for r in bench_agents.bench_memory(0.01)}
    # 2,000 transitions of two 10x10x3 uint8 images, an int64 action, two float32s: 616 B each.
    assert rows["SequentialMemory of 2,000 Blob transitions"] == 2_000 * 616 / 2**20
    assert rows["peak resident memory of this process"] > 50  # Python, NumPy and Gymnasium


def test_tutorial_loop_learns_every_step_with_predict_and_fit(monkeypatch):
    import keras

    from agents.networks import blob_cnn

    keras.utils.set_random_seed(0)
    loop = bench_agents._tutorial_loop(blob_cnn((10, 10, 3), 9, hidden_units=8), seed=0)
    calls = {"predict": 0, "fit": 0}
    for name in calls:
        method = getattr(loop.model, name)

        def counted(*args, _method=method, _name=name, **kwargs):
            calls[_name] += 1
            return _method(*args, **kwargs)

        monkeypatch.setattr(loop.model, name, counted)
    before = [w.copy() for w in loop.model.get_weights()]
    assert loop.run(3) == 3
    assert calls == {"predict": 6, "fit": 3}  # per step: act, current states; and one fit
    assert len(loop.replay_memory) == bench_agents.MINIBATCH_SIZE + 5
    assert any(
        not np.array_equal(b, a) for b, a in zip(before, loop.model.get_weights(), strict=True)
    )


def test_blob_transitions_leave_out_the_vector_envs_reset_steps():
    obs, actions, rewards, next_obs, terminated, truncated = bench_agents.blob_transitions(5_000)
    assert obs.shape == next_obs.shape == (5_000, 10, 10, 3) and obs.dtype == np.uint8
    assert len(actions) == len(rewards) == len(terminated) == len(truncated) == 5_000
    # Every step of Blob costs -1 unless it ends the episode: a reset step would give 0.
    assert set(np.unique(rewards[~(terminated | truncated)])) == {-1.0}


@pytest.mark.parametrize("memory_class", [SequentialMemory, PrioritizedMemory])
def test_filled_memory_holds_every_transition(memory_class):
    transitions = bench_agents.blob_transitions(2_500)
    memory = bench_agents.filled(memory_class(3_000), transitions)
    assert len(memory) == 2_500
    batch = memory.sample(64, np.random.default_rng(0))
    assert batch.obs.dtype == np.uint8 and batch.obs.shape == (64, 10, 10, 3)
