from __future__ import annotations

import numpy as np
import pytest

from agents.sum_tree import SumTree


def reference_find(leaves: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Brute force: the leaf whose cumulative range [sum(p[:i]), sum(p[:i+1])) holds each value."""
    return np.searchsorted(np.cumsum(leaves), values, side="right")


@pytest.mark.parametrize("capacity", [1, 2, 7, 1024, 5000])
def test_total_equals_sum_of_priorities_after_many_updates_and_wraparound(capacity):
    rng = np.random.default_rng(0)
    tree = SumTree(capacity)
    expected = np.zeros(capacity)
    position = 0
    for _ in range(300):
        # Ring-style writes that wrap around the capacity several times, plus random rewrites.
        ring = (position + np.arange(17)) % capacity
        position = (position + 17) % capacity
        indices = np.concatenate([ring, rng.integers(0, capacity, 9)])
        priorities = rng.exponential(size=indices.size)
        tree.update(indices, priorities)
        for index, priority in zip(indices, priorities, strict=True):
            expected[index] = priority
    np.testing.assert_array_equal(tree.leaves, expected)
    assert tree.total == pytest.approx(expected.sum(), rel=1e-12)


@pytest.mark.parametrize("capacity", [1, 3, 8, 1000, 5000])
def test_find_matches_brute_force_cumulative_search(capacity):
    rng = np.random.default_rng(1)
    tree = SumTree(capacity)
    leaves = rng.exponential(size=capacity)
    leaves[rng.random(capacity) < 0.2] = 0.0  # zero leaves inside must be skipped
    leaves[0] = 1.0
    tree.update(np.arange(capacity), leaves)
    values = np.sort(rng.random(2000)) * tree.total
    indices, priorities = tree.find(values)
    np.testing.assert_array_equal(indices, reference_find(leaves, values))
    np.testing.assert_array_equal(priorities, leaves[indices])
    assert np.all(priorities > 0)


def test_find_never_returns_an_unset_leaf_at_or_beyond_the_total():
    tree = SumTree(3000)
    tree.update(np.arange(1500), np.full(1500, 0.1))
    edge_values = np.array([0.0, tree.total, np.nextafter(tree.total, 0), tree.total * 2])
    indices, priorities = tree.find(edge_values)
    assert indices.tolist() == [0, 1499, 1499, 1499]
    assert np.all(priorities == 0.1)


def test_repeated_index_keeps_the_last_priority():
    tree = SumTree(4)
    tree.update([2, 2, 2], [5.0, 1.0, 3.0])
    assert tree.leaves.tolist() == [0.0, 0.0, 3.0, 0.0]
    assert tree.total == 3.0


def test_load_leaves_rebuilds_a_tree_identical_to_incremental_updates():
    rng = np.random.default_rng(2)
    incremental = SumTree(3000)
    for _ in range(100):
        incremental.update(rng.integers(0, 3000, 64), rng.random(64))
    rebuilt = SumTree(3000)
    rebuilt.load_leaves(incremental.leaves)
    values = rng.random(500) * incremental.total
    assert rebuilt.total == incremental.total
    np.testing.assert_array_equal(rebuilt.find(values)[0], incremental.find(values)[0])


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_update_rejects_negative_nan_and_infinite_priorities(bad):
    tree = SumTree(4)
    with pytest.raises(ValueError, match="finite and >= 0"):
        tree.update([0, 1], [1.0, bad])


def test_update_rejects_out_of_range_indices_and_mismatched_shapes():
    tree = SumTree(4)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        tree.update([4], [1.0])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        tree.update([-1], [1.0])
    with pytest.raises(ValueError, match="2 indices but 1 priorities"):
        tree.update([0, 1], [1.0])


def test_load_leaves_rejects_wrong_shape_and_bad_priorities():
    tree = SumTree(4)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        tree.load_leaves(np.ones(5))
    with pytest.raises(ValueError, match="finite and >= 0"):
        tree.load_leaves(np.array([1.0, -1.0, 0.0, 0.0]))


def test_invalid_capacity_and_sampling_an_empty_tree_raise():
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        SumTree(0)
    with pytest.raises(ValueError, match="all 0"):
        SumTree(4).find(np.array([0.0]))
