from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.memory import Batch, PrioritizedMemory, SequentialMemory, memory_from_config
from agents.schedules import LinearSchedule
from agents.transitions import TransitionBatch


def o(value: int) -> np.ndarray:
    """A tiny uint8 observation that names its state."""
    return np.array([value], dtype=np.uint8)


def append_one(memory: SequentialMemory, *transition) -> None:
    """Appends one transition (obs, action, reward, next_obs, terminated, truncated)."""
    memory.append(TransitionBatch.single(*transition))


def stored(memory: SequentialMemory) -> dict[str, list]:
    """The stored rows in ring order, read through the public state_dict."""
    state = memory.state_dict()
    return {
        "obs": state["obs"][:, 0].tolist(),
        "rewards": state["rewards"].tolist(),
        "next_obs": state["next_obs"][:, 0].tolist(),
        "discounts": state["discounts"].tolist(),
    }


def fill(memory: SequentialMemory, count: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for t in range(count):
        append_one(memory, o(t % 200), t % 4, float(rng.normal()), o(t % 200 + 1), False, False)


# --- n-step returns -------------------------------------------------------------------------


@pytest.mark.parametrize("memory_class", [SequentialMemory, PrioritizedMemory])
def test_n_step_targets_match_a_hand_computed_trajectory(memory_class):
    memory = memory_class(100, n_step=3, gamma=0.5)
    # Episode A: 4 steps, terminated.
    for t, reward in enumerate([1, 2, 4, 8]):
        append_one(memory, o(t), t, reward, o(t + 1), t == 3, False)
    # Episode B: 2 steps (shorter than n), truncated: its window must not reach into A.
    append_one(memory, o(10), 0, 16, o(11), False, False)
    append_one(memory, o(11), 0, 32, o(12), False, True)
    # Episode C: one step both terminated and truncated: termination wins (no bootstrap).
    append_one(memory, o(20), 0, 64, o(21), True, True)
    # Episode D: 4 steps, still running when flushed.
    for t in range(4):
        append_one(memory, o(30 + t), 0, 1, o(31 + t), False, False)
    memory.flush()
    expected = [
        # (obs, n-step reward, next_obs, discount)
        (0, 1 + 0.5 * 2 + 0.25 * 4, 3, 0.125),
        (1, 2 + 0.5 * 4 + 0.25 * 8, 4, 0.0),
        (2, 4 + 0.5 * 8, 4, 0.0),
        (3, 8, 4, 0.0),
        (10, 16 + 0.5 * 32, 12, 0.25),
        (11, 32, 12, 0.5),
        (20, 64, 21, 0.0),
        (30, 1.75, 33, 0.125),
        (31, 1.75, 34, 0.125),
        (32, 1.5, 34, 0.25),
        (33, 1.0, 34, 0.5),
    ]
    rows = stored(memory)
    assert rows["obs"] == [e[0] for e in expected]
    assert rows["rewards"] == [e[1] for e in expected]
    assert rows["next_obs"] == [e[2] for e in expected]
    assert rows["discounts"] == [e[3] for e in expected]


def test_one_step_discounts_are_gamma_zero_at_termination_and_gamma_at_truncation():
    memory = SequentialMemory(10, gamma=0.9)
    append_one(memory, o(0), 0, 1.0, o(1), False, False)
    append_one(memory, o(1), 0, 1.0, o(2), True, False)
    append_one(memory, o(5), 0, 1.0, o(6), False, True)
    assert stored(memory)["discounts"] == pytest.approx([0.9, 0.0, 0.9])


def test_vector_env_streams_are_never_mixed_and_rows_may_be_left_out():
    memory = SequentialMemory(100, n_step=3, gamma=0.5)
    no = np.zeros(2, dtype=bool)

    def step(obs, rewards, terminated=no, truncated=no, env_ids=None):
        obs = np.array(obs)
        memory.append(
            TransitionBatch(
                obs[:, None].astype(np.uint8),
                np.zeros(len(obs), dtype=np.int64),
                np.array(rewards, dtype=np.float64),
                (obs[:, None] + 1).astype(np.uint8),
                np.asarray(terminated),
                np.asarray(truncated),
                env_ids,
            )
        )

    step([0, 100], [1, 10])
    step([1, 101], [1, 10], terminated=[False, True])
    step([2, 110], [1, 10])  # env 1 was reset to state 110
    step([3, 111], [1, 10])
    step([112], [10], terminated=[False], truncated=[False], env_ids=[1])  # env 0 left out
    step([4], [1], terminated=[False], truncated=[True], env_ids=[0])
    rows = stored(memory)
    assert rows["obs"] == [100, 101, 0, 1, 110, 2, 3, 4]
    assert rows["rewards"] == [15.0, 10.0, 1.75, 1.75, 17.5, 1.75, 1.5, 1.0]
    assert rows["next_obs"] == [102, 102, 3, 4, 113, 5, 5, 5]
    assert rows["discounts"] == [0.0, 0.0, 0.125, 0.125, 0.125, 0.125, 0.25, 0.5]


def test_a_stream_restarted_without_an_episode_end_is_stored_as_truncated_first():
    memory = SequentialMemory(100, n_step=3, gamma=0.5)
    append_one(memory, o(0), 0, 1.0, o(1), False, False)
    append_one(memory, o(1), 0, 2.0, o(2), False, False)
    assert len(memory) == 0
    append_one(memory, o(50), 0, 4.0, o(51), False, False)  # not o(2): the env was reset unseen
    rows = stored(memory)
    assert rows["obs"] == [0, 1]
    assert rows["rewards"] == [2.0, 2.0]
    assert rows["next_obs"] == [2, 2]
    assert rows["discounts"] == [0.25, 0.5]


# --- ring and sampling ----------------------------------------------------------------------


def test_ring_keeps_the_last_limit_transitions():
    memory = SequentialMemory(3)
    fill(memory, 5)
    assert len(memory) == 3 and memory.limit == 3
    assert sorted(stored(memory)["obs"]) == [2, 3, 4]


def test_sample_returns_a_batch_of_the_documented_dtypes():
    memory = SequentialMemory(50)
    fill(memory, 20)
    batch = memory.sample(8, np.random.default_rng(0))
    assert isinstance(batch, Batch)
    assert batch.obs.dtype == np.uint8 and batch.obs.shape == (8, 1)
    assert batch.actions.dtype == np.int64
    assert batch.rewards.dtype == batch.discounts.dtype == batch.weights.dtype == np.float32
    assert batch.indices.dtype == np.int64 and np.all(batch.indices < 20)
    np.testing.assert_array_equal(batch.weights, np.ones(8))
    np.testing.assert_array_equal(batch.next_obs, batch.obs + 1)


@pytest.mark.parametrize("memory_class", [SequentialMemory, PrioritizedMemory])
def test_sample_batches_draws_what_that_many_samples_would(memory_class):
    memory = memory_class(50)
    fill(memory, 50)
    if memory_class is PrioritizedMemory:
        memory.update_priorities(np.arange(50), np.random.default_rng(1).normal(size=50))
    rng = np.random.default_rng(7)
    one_by_one = [memory.sample(16, rng) for _ in range(3)]
    stacked = memory.sample_batches(16, 3, np.random.default_rng(7))
    for field, array in zip(Batch._fields, stacked, strict=True):
        if array is None:
            continue
        assert array.shape[:2] == (3, 16), field
        expected = np.stack([getattr(batch, field) for batch in one_by_one])
        np.testing.assert_array_equal(array, expected, err_msg=field)
    with pytest.raises(ValueError, match="count must be >= 1"):
        memory.sample_batches(16, 0)


def test_a_50000_transition_blob_memory_stays_uint8_and_about_30_mb():
    memory = SequentialMemory(50_000)
    frame = np.random.default_rng(0).integers(0, 256, (10, 10, 3), dtype=np.uint8)
    append_one(memory, frame, 3, -1.0, frame, False, False)
    assert memory.nbytes < 32_000_000  # 2 x 50,000 x 300 bytes of pixels + small fields
    batch = memory.sample(1)
    assert batch.obs.dtype == np.uint8
    np.testing.assert_array_equal(batch.obs[0], frame)


def chi_square(counts: np.ndarray, probabilities: np.ndarray) -> float:
    expected = counts.sum() * probabilities
    return float(((counts - expected) ** 2 / expected).sum())


def test_prioritized_sampling_frequencies_match_priorities_to_the_alpha():
    size, alpha = 32, 0.6
    memory = PrioritizedMemory(size, alpha=alpha)
    fill(memory, size)
    td_errors = np.linspace(-10.0, 10.0, size) + 0.05
    memory.update_priorities(np.arange(size), td_errors)
    rng = np.random.default_rng(0)
    counts = np.zeros(size)
    for _ in range(2000):
        np.add.at(counts, memory.sample(size, rng).indices, 1)
    priorities = (np.abs(td_errors) + memory.eps) ** alpha
    # 99.9% quantile of chi-square with 31 degrees of freedom.
    assert chi_square(counts, priorities / priorities.sum()) < 61.1
    assert chi_square(counts, np.full(size, 1 / size)) > 1000  # the check has power


def test_importance_weights_match_a_hand_computed_case():
    memory = PrioritizedMemory(4, alpha=1.0, beta=0.5, eps=1e-6)
    fill(memory, 4)
    # Priorities (|td| + eps)**1 = 1, 2, 4, 8, so (N * P(i))**-0.5 is proportional to p_i**-0.5.
    memory.update_priorities(np.arange(4), np.array([1.0, 2.0, 4.0, 8.0]) - 1e-6)
    hand = {0: 1.0, 1: 2**-0.5, 2: 0.5, 3: 8**-0.5}
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(50):
        batch = memory.sample(4, rng)
        expected = np.array([hand[i] for i in batch.indices.tolist()])
        np.testing.assert_allclose(batch.weights, expected / expected.max(), rtol=1e-5)
        seen.update(batch.indices.tolist())
    assert seen == {0, 1, 2, 3}


def test_beta_follows_its_schedule_over_memory_step():
    memory = PrioritizedMemory(4, alpha=1.0, beta=LinearSchedule(0.4, 1.0, 100), eps=1e-6)
    fill(memory, 4)
    memory.update_priorities(np.arange(4), [1.0, 1.0, 1.0, 16.0])
    for step, beta in [(0, 0.4), (50, 0.7), (100, 1.0), (1_000, 1.0)]:
        memory.step = step
        assert memory.current_beta() == pytest.approx(beta)
        batch = memory.sample(4, np.random.default_rng(0))
        priorities = np.where(batch.indices == 3, 16.0, 1.0) + 1e-6
        np.testing.assert_allclose(batch.weights, (priorities.min() / priorities) ** beta)


def test_new_transitions_enter_at_the_largest_priority_seen():
    memory = PrioritizedMemory(10, alpha=0.5)
    fill(memory, 3)
    assert memory.state_dict()["priorities"].tolist() == [1.0, 1.0, 1.0]
    memory.update_priorities(np.array([0, 1]), np.array([-99.0, 0.0]))
    fill(memory, 1)
    top = (99.0 + memory.eps) ** 0.5
    np.testing.assert_allclose(memory.state_dict()["priorities"], [top, 1e-3, 1.0, top])


# --- checkpoints and configs ----------------------------------------------------------------


def run_episodes(memory: SequentialMemory, seed: int, steps: int) -> None:
    """Two env streams with random episode ends, to leave n-step windows pending."""
    rng = np.random.default_rng(seed)
    states = rng.integers(0, 50, 2)
    for _ in range(steps):
        next_states = rng.integers(0, 50, 2)
        ended = rng.random(2) < 0.2
        memory.append(
            TransitionBatch(
                states[:, None].astype(np.uint8),
                rng.integers(0, 4, 2),
                rng.normal(size=2),
                next_states[:, None].astype(np.uint8),
                ended & (rng.random(2) < 0.5),
                ended,
            )
        )
        states = np.where(ended, rng.integers(100, 150, 2), next_states)
        if isinstance(memory, PrioritizedMemory) and len(memory) >= 8:
            batch = memory.sample(8, rng)
            memory.update_priorities(batch.indices, rng.normal(size=8) * 3)


@pytest.mark.parametrize("memory_class", [SequentialMemory, PrioritizedMemory])
def test_state_dict_round_trip_through_npz_gives_identical_future_samples(memory_class, tmp_path):
    original = memory_class(40, n_step=3, gamma=0.9)
    run_episodes(original, seed=1, steps=57)  # wraps the ring, leaves windows pending
    original.step = 1234
    np.savez(tmp_path / "memory.npz", **original.state_dict())
    with np.load(tmp_path / "memory.npz") as saved:  # allow_pickle=False: arrays only
        restored = memory_from_config(json.loads(json.dumps(original.get_config())))
        restored.load_state_dict(dict(saved))
    assert len(restored) == len(original)
    for memory in (original, restored):
        run_episodes(memory, seed=2, steps=30)  # pending windows complete identically
    for a, b in zip(
        original.sample(16, np.random.default_rng(7)),
        restored.sample(16, np.random.default_rng(7)),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_load_state_dict_rejects_a_state_from_other_settings():
    memory = PrioritizedMemory(10, n_step=2)
    fill(memory, 5)
    with pytest.raises(ValueError, match="n_step"):
        PrioritizedMemory(10, n_step=3).load_state_dict(memory.state_dict())
    with pytest.raises(ValueError, match="limit"):
        PrioritizedMemory(11, n_step=2).load_state_dict(memory.state_dict())
    with pytest.raises(ValueError, match="alpha"):
        PrioritizedMemory(10, alpha=0.5, n_step=2).load_state_dict(memory.state_dict())
    sequential = SequentialMemory(10, n_step=2)
    with pytest.raises(ValueError, match=r"lacks \['alpha', 'eps', 'priorities'"):
        PrioritizedMemory(10, n_step=2).load_state_dict(sequential.state_dict())


def test_an_empty_memory_round_trips():
    memory = SequentialMemory(10)
    restored = SequentialMemory(10)
    restored.load_state_dict(memory.state_dict())
    assert len(restored) == 0 and restored.nbytes == 0


@pytest.mark.parametrize(
    "memory",
    [
        SequentialMemory(7, n_step=2, gamma=0.9),
        PrioritizedMemory(7, alpha=0.3, beta=0.5, eps=0.01, n_step=4, gamma=0.95),
        PrioritizedMemory(7, beta=LinearSchedule(0.2, 0.9, 500)),
    ],
)
def test_config_round_trips_through_json(memory):
    config = json.loads(json.dumps(memory.get_config()))
    rebuilt = memory_from_config(config)
    assert type(rebuilt) is type(memory)
    assert rebuilt.get_config() == memory.get_config()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit must be >= 1, got 0"),
        ({"limit": 10, "n_step": 0}, "n_step must be >= 1, got 0"),
        ({"limit": 10, "gamma": 1.5}, r"gamma must be in \[0, 1\], got 1.5"),
        ({"limit": 10, "gamma": -0.1}, r"gamma must be in \[0, 1\]"),
        ({"limit": 10, "alpha": 1.2}, r"alpha must be in \[0, 1\], got 1.2"),
        ({"limit": 10, "beta": -0.5}, r"beta must be in \[0, 1\], got -0.5"),
        ({"limit": 10, "beta": LinearSchedule(0.4, 2.0, 10)}, r"beta's end must be in \[0, 1\]"),
        ({"limit": 10, "eps": 0.0}, "eps must be a finite number > 0"),
    ],
)
def test_invalid_arguments_raise_clear_errors(kwargs, message):
    memory_class = PrioritizedMemory if {"alpha", "beta", "eps"} & set(kwargs) else SequentialMemory
    with pytest.raises(ValueError, match=message):
        memory_class(**kwargs)
    if memory_class is SequentialMemory:
        with pytest.raises(ValueError, match=message):
            PrioritizedMemory(**kwargs)


def test_non_integer_limit_raises_type_error():
    with pytest.raises(TypeError, match="limit must be an int"):
        SequentialMemory(10.5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_update_priorities_rejects_non_finite_td_errors(bad):
    memory = PrioritizedMemory(10)
    fill(memory, 4)
    with pytest.raises(ValueError, match="td_errors must be finite"):
        memory.update_priorities(np.array([0, 1]), np.array([0.5, bad]))


def test_update_priorities_rejects_bad_indices():
    memory = PrioritizedMemory(10)
    fill(memory, 4)
    with pytest.raises(ValueError, match=r"indices must be in \[0, 4\)"):
        memory.update_priorities(np.array([4]), np.array([1.0]))
    with pytest.raises(ValueError, match="shape"):
        memory.update_priorities(np.array([0, 1]), np.array([1.0]))


@pytest.mark.parametrize("memory_class", [SequentialMemory, PrioritizedMemory])
def test_sampling_an_empty_memory_or_more_than_stored_raises(memory_class):
    memory = memory_class(10)
    with pytest.raises(ValueError, match="empty memory"):
        memory.sample(1)
    fill(memory, 3)
    with pytest.raises(ValueError, match="batch_size 4 exceeds the 3 stored"):
        memory.sample(4)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        memory.sample(0)


def test_transitions_unlike_the_first_raise():
    memory = SequentialMemory(10)
    append_one(
        memory, np.zeros((10, 10, 3), np.uint8), 0, 0.0, np.zeros((10, 10, 3), np.uint8), 0, 0
    )
    with pytest.raises(
        ValueError, match=r"obs has shape \(1, 5, 5, 3\), expected \(1, 10, 10, 3\)"
    ):
        append_one(
            memory, np.zeros((5, 5, 3), np.uint8), 0, 0.0, np.zeros((5, 5, 3), np.uint8), 0, 0
        )
    with pytest.raises(TypeError, match="dtype float64, expected uint8"):
        append_one(memory, np.zeros((10, 10, 3)), 0, 0.0, np.zeros((10, 10, 3)), False, False)
    frame = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(TypeError, match="actions have dtype float64 .* the memory stores int64"):
        append_one(memory, frame, 1.5, 0.0, frame, False, False)
    with pytest.raises(ValueError, match="rewards must be finite"):
        append_one(memory, frame, 1, np.nan, frame, False, False)
    with pytest.raises(ValueError, match="env_ids must be distinct"):
        memory.append(TransitionBatch(
            np.stack([frame, frame]), [0, 1], [0.0, 0.0], np.stack([frame, frame]),
            [False, False], [False, False], env_ids=[1, 1],
        ))  # fmt: skip
    assert len(memory) == 1


def test_a_batch_size_mismatch_names_the_shapes_given_and_expected():
    memory = SequentialMemory(10)
    no = np.zeros(4, dtype=bool)
    with pytest.raises(ValueError, match=r"next_obs has shape \(3, 5\), expected \(4, 5\)"):
        memory.append(
            TransitionBatch(
                np.zeros((4, 5)), np.zeros(4, np.int64), np.zeros(4), np.zeros((3, 5)), no, no
            )
        )
    with pytest.raises(ValueError, match=r"terminated has shape \(3,\), expected \(4,\)"):
        memory.append(
            TransitionBatch(
                np.zeros((4, 5)), np.zeros(4, np.int64), np.zeros(4), np.zeros((4, 5)), no[:3], no
            )
        )


def test_memory_from_config_rejects_unknown_classes():
    with pytest.raises(ValueError, match="class_name in"):
        memory_from_config({"class_name": "ReplayBuffer", "config": {}})


# --- n-step windows against a brute-force reference ------------------------------------------


def reference_n_step(episodes, n_step, gamma):
    """Each episode: a list of (obs, action, reward, next_obs) and whether it terminated."""
    rows = []
    for transitions, terminated in episodes:
        for t, (obs, action, _, _) in enumerate(transitions):
            window = transitions[t : t + n_step]
            reward = sum(gamma**i * float(r) for i, (_, _, r, _) in enumerate(window))
            reached_end = t + len(window) == len(transitions)
            discount = 0.0 if terminated and reached_end else gamma ** len(window)
            rows.append((obs, action, np.float32(reward), window[-1][3], np.float32(discount)))
    return sorted(rows)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(
    n_step=st.integers(1, 4),
    gamma=st.sampled_from([0.5, 0.9]),
    num_envs=st.integers(1, 3),
    steps=st.lists(
        st.tuples(st.integers(0, 63), st.integers(0, 511), st.integers(0, 7)), max_size=40
    ),
)
def test_n_step_windows_match_a_per_episode_reference(n_step, gamma, num_envs, steps):
    memory = SequentialMemory(1_000, n_step=n_step, gamma=gamma)
    ids = iter(range(1, 10**6))
    state = [next(ids) for _ in range(num_envs)]
    episodes = [[] for _ in range(num_envs)]
    finished = []
    for active_bits, ended_bits, terminated_bits in steps:
        # Env e is in this batch with probability 3/4, ends with 1/8, and then terminates with 1/2.
        env_ids = [e for e in range(num_envs) if active_bits >> 2 * e & 3]
        if not env_ids:
            continue
        obs, next_obs, rewards, ends, terms = [], [], [], [], []
        for e in env_ids:
            following, reward = next(ids), float(next(ids) % 7 - 3)
            ended = not ended_bits >> 3 * e & 7
            terminated = bool(terminated_bits >> e & 1)
            episodes[e].append((state[e], e, np.float32(reward), following))
            obs.append(state[e]), next_obs.append(following), rewards.append(reward)
            ends.append(ended), terms.append(ended and terminated)
            state[e] = following
            if ended:
                finished.append((episodes[e], terminated))
                episodes[e], state[e] = [], next(ids)
        memory.append(
            TransitionBatch(
                np.array(obs)[:, None],
                np.array(env_ids),
                np.array(rewards),
                np.array(next_obs)[:, None],
                np.array(terms),
                np.array(ends) & ~np.array(terms),
                np.array(env_ids),
            )
        )
    memory.flush()
    finished += [(episode, False) for episode in episodes if episode]
    expected = reference_n_step(finished, n_step, gamma)
    if not expected:
        assert len(memory) == 0
        return
    state = memory.state_dict()
    actual = sorted(
        zip(
            state["obs"][:, 0].tolist(),
            state["actions"].tolist(),
            state["rewards"].tolist(),
            state["next_obs"][:, 0].tolist(),
            state["discounts"].tolist(),
            strict=True,
        )
    )
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got[:2] == want[:2] and got[3] == want[3]
        assert got[2] == pytest.approx(want[2], rel=1e-6) and got[4] == pytest.approx(want[4])


@pytest.mark.parametrize("n_step", [1, 3])
def test_box_actions_are_stored_as_float_rows_and_survive_a_state_round_trip(n_step):
    memory = SequentialMemory(100, n_step=n_step, gamma=0.9)
    obs = np.array([[10.0 * k, 0.0] for k in range(4)], dtype=np.float32)
    actions = np.array([[0.5, -1.0], [1.5, 2.0], [-0.25, 0.0], [3.0, 1.0]])
    for step in range(6):
        memory.append(TransitionBatch(
            obs + step, actions * step, np.ones(4), obs + step + 1, [step == 5] * 4, [False] * 4,
        ))  # fmt: skip
    batch = memory.sample(8, np.random.default_rng(0))
    assert batch.actions.dtype == np.float32 and batch.actions.shape == (8, 2)
    # Each sampled action is the one taken in its obs: sub-env k at step s took actions[k] * s.
    steps = batch.obs[:, 1]
    envs = ((batch.obs[:, 0] - steps) / 10).astype(int)
    np.testing.assert_allclose(batch.actions, actions[envs] * steps[:, None])
    copy = SequentialMemory(100, n_step=n_step, gamma=0.9)
    copy.load_state_dict(memory.state_dict())
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    np.testing.assert_array_equal(memory.sample(8, rng_a).actions, copy.sample(8, rng_b).actions)
    with pytest.raises(TypeError, match=r"shape \(3,\) per row; the memory stores float32 of "):
        memory.append(TransitionBatch(obs, np.zeros((4, 3)), np.ones(4), obs, [0] * 4, [0] * 4))
    with pytest.raises(ValueError, match="actions must be finite"):
        memory.append(
            TransitionBatch(obs, np.full((4, 2), np.nan), np.ones(4), obs, [0] * 4, [0] * 4)
        )


def rows(count: int, start: int = 0, discount: float = 0.99):
    """`count` completed transitions as `extend` takes them (a collector's n-step rows)."""
    values = np.arange(start, start + count)
    obs = values[:, None].astype(np.uint8)
    return (obs, values % 4, values.astype(np.float32), obs + 1,
            np.full(count, discount, np.float32), None)  # fmt: skip


def test_extend_stores_completed_rows_as_they_are():
    memory = SequentialMemory(5, n_step=3, gamma=0.9)
    memory.extend(rows(3))
    memory.extend(rows(4, start=3))  # the ring keeps the last 5
    assert len(memory) == 5
    assert sorted(stored(memory)["obs"]) == [2, 3, 4, 5, 6]
    assert stored(memory)["discounts"] == pytest.approx([0.99] * 5)
    memory.extend(rows(0))
    assert len(memory) == 5


def test_extend_gives_prioritized_rows_their_td_errors_as_priorities():
    memory = PrioritizedMemory(8, alpha=1.0, eps=1e-6)
    memory.extend(rows(4), td_errors=np.array([0.0, 1.0, -3.0, 0.0]))
    state = memory.state_dict()
    np.testing.assert_allclose(state["priorities"], [1e-6, 1 + 1e-6, 3 + 1e-6, 1e-6])
    draws = memory.sample_batches(4, 200, np.random.default_rng(0)).indices
    counts = np.bincount(draws.ravel(), minlength=4)
    assert counts[2] > 2 * counts[1] > 0 and counts[0] == counts[3] == 0
    memory.extend(rows(2, start=4))  # without errors: the largest priority so far
    np.testing.assert_allclose(memory.state_dict()["priorities"][4:], [3 + 1e-6] * 2)


def test_extend_refuses_rows_that_do_not_fit():
    memory = PrioritizedMemory(8)
    memory.extend(rows(2))
    obs, actions, rewards, next_obs, discounts, masks = rows(2)
    with pytest.raises(ValueError, match="obs has shape"):
        memory.extend((obs[:, :0], actions, rewards, next_obs, discounts, masks))
    with pytest.raises(ValueError, match="rewards must be finite"):
        memory.extend((obs, actions, np.array([0.0, np.nan]), next_obs, discounts, masks))
    with pytest.raises(ValueError, match=r"discounts must be 2 numbers in \[0, 1\]"):
        memory.extend((obs, actions, rewards, next_obs, np.array([0.5, 1.5]), masks))
    with pytest.raises(ValueError, match="td_errors must be finite"):
        memory.extend(rows(2), td_errors=np.array([np.inf, 0.0]))
    with pytest.raises(ValueError, match=r"got 2 rows but td_errors of shape \(3,\)"):
        memory.extend(rows(2), td_errors=np.zeros(3))
    assert len(memory) == 2  # nothing of a refused call was stored
