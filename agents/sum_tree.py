"""An array-backed sum tree: O(log n) priority updates and proportional sampling, batched."""

from __future__ import annotations

import numpy as np

# Levels from the root down to this one (at most 2**10 nodes) are resolved for a whole batch by one
# searchsorted over that level's running sums: a fixed cost per batch that is cheaper in NumPy than
# ten vectorised descent steps. The levels below are descended one at a time.
_SEARCH_LEVEL = 10


class SumTree:
    """A binary tree whose leaves hold non-negative priorities and whose nodes hold subtree sums.

    The tree lives in one float64 array: the root is node 1, node i has children 2i and 2i + 1,
    and the `capacity` leaves start at the first power of two >= capacity (the padding leaves
    stay 0). Parents are always recomputed from their children, never adjusted by a delta, so
    no rounding error builds up over millions of updates.

    Args:
        capacity: Number of leaves, at least 1.

    Raises:
        ValueError: If `capacity` < 1.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"SumTree capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.depth = max(1, (self.capacity - 1).bit_length())
        self._first_leaf = 1 << self.depth
        self._tree = np.zeros(2 * self._first_leaf, dtype=np.float64)
        search_level = min(self.depth, _SEARCH_LEVEL)
        self._search_first = 1 << search_level
        # Running sums of the search level with a leading 0, reused across calls.
        self._search_sums = np.zeros(self._search_first + 1, dtype=np.float64)
        self._levels_below_search = self.depth - search_level

    @property
    def total(self) -> float:
        """The sum of all priorities."""
        return float(self._tree[1])

    @property
    def leaves(self) -> np.ndarray:
        """A copy of the `capacity` leaf priorities."""
        return self._tree[self._first_leaf : self._first_leaf + self.capacity].copy()

    def update(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Sets the priorities of some leaves and the sums above them.

        Args:
            indices: Leaf indices in [0, capacity), any shape; for a repeated index the last
                priority given wins.
            priorities: Finite priorities >= 0, the same shape as `indices`.

        Raises:
            ValueError: If an index is out of range, the shapes differ, or a priority is negative,
                NaN or infinite.
        """
        indices = np.asarray(indices, dtype=np.int64).ravel()
        priorities = np.asarray(priorities, dtype=np.float64).ravel()
        if indices.shape != priorities.shape:
            raise ValueError(
                f"got {indices.size} indices but {priorities.size} priorities; expected one each"
            )
        if indices.size == 0:
            return
        if indices.min() < 0 or indices.max() >= self.capacity:
            raise ValueError(
                f"leaf indices must be in [0, {self.capacity}), got "
                f"{indices[(indices < 0) | (indices >= self.capacity)][:5].tolist()}"
            )
        bad = ~(np.isfinite(priorities) & (priorities >= 0))
        if bad.any():
            raise ValueError(
                f"priorities must be finite and >= 0, got {priorities[bad][:5].tolist()}"
            )
        # NumPy leaves the winner of repeated fancy-index writes unspecified; keep the last.
        _, last_first = np.unique(indices[::-1], return_index=True)
        keep = indices.size - 1 - last_first
        nodes = indices[keep] + self._first_leaf
        self._tree[nodes] = priorities[keep]
        for _ in range(self.depth):
            nodes >>= 1
            # Repeated parents are written the same value, so duplicates are harmless here.
            self._tree[nodes] = self._tree[2 * nodes] + self._tree[2 * nodes + 1]

    def load_leaves(self, leaves: np.ndarray) -> None:
        """Replaces every leaf priority at once and rebuilds all sums (O(capacity)).

        Args:
            leaves: Finite priorities >= 0 of shape (capacity,).

        Raises:
            ValueError: If the shape is wrong or a priority is negative, NaN or infinite.
        """
        leaves = np.asarray(leaves, dtype=np.float64)
        if leaves.shape != (self.capacity,):
            raise ValueError(f"expected leaves of shape ({self.capacity},), got {leaves.shape}")
        if not np.all(np.isfinite(leaves) & (leaves >= 0)):
            raise ValueError("leaf priorities must be finite and >= 0")
        self._tree[:] = 0.0
        self._tree[self._first_leaf : self._first_leaf + self.capacity] = leaves
        for level in range(self.depth - 1, -1, -1):
            first = 1 << level
            children = self._tree[2 * first : 4 * first]
            self._tree[first : 2 * first] = children[0::2] + children[1::2]

    def find(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Finds, for each value v, the leaf i whose cumulative range holds v.

        Leaf i is found for v in [sum(p[:i]), sum(p[:i + 1])), so a uniform v in [0, total)
        picks leaf i with probability p[i] / total. Leaves of priority 0 are never returned.

        Args:
            values: 1-D float array, each in [0, total); values outside are clamped to the ends.

        Returns:
            The leaf indices (int64) and their priorities (float64), both shaped like `values`.

        Raises:
            ValueError: If the tree's total is 0 (nothing to sample).
        """
        if not self._tree[1] > 0:
            raise ValueError("cannot sample from a SumTree whose priorities are all 0")
        values = np.array(values, dtype=np.float64)
        sums = self._search_sums
        np.cumsum(self._tree[self._search_first : 2 * self._search_first], out=sums[1:])
        # Node j holds [sums[j], sums[j + 1]); counting the ends <= v (side="right") finds it
        # and skips zero-sum nodes, whose range is empty.
        nodes = np.searchsorted(sums[1:], values, side="right")
        np.minimum(nodes, self._search_first - 1, out=nodes)
        values -= sums[nodes]
        nodes += self._search_first
        for _ in range(self._levels_below_search):
            nodes += nodes
            left_sums = self._tree[nodes]
            go_right = values >= left_sums
            values -= left_sums * go_right
            nodes += go_right
        indices = nodes - self._first_leaf
        priorities = self._tree[nodes]
        if not priorities.all():
            indices, priorities = self._nearest_positive(indices, priorities)
        return indices, priorities

    def _nearest_positive(
        self, indices: np.ndarray, priorities: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Moves leaves of priority 0 to the nearest positive leaf before them (else after).

        Only rounding at the very top of [0, total) lands on such a leaf (the descent steps
        right into an empty subtree), so this rare path may scan every leaf.
        """
        positive = np.flatnonzero(self.leaves > 0)
        zero = priorities == 0
        before = np.searchsorted(positive, indices[zero]) - 1
        indices = indices.copy()
        indices[zero] = positive[np.maximum(before, 0)]
        return indices, self._tree[indices + self._first_leaf]
