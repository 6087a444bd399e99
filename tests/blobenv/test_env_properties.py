"""Property-based tests: random sequences of valid and invalid calls keep the envs' invariants.

Hypothesis drives `gymnasium.make("Blob-v0", ...)` and `BlobVectorEnv` with resets (seeded, from
given cells, mid-episode, with bad options or seeds), valid and invalid actions and repeated
closes. After every call the observation is in the space and shows the positions in `info`, the
player moved by its action's delta clamped to the grid, food and enemy stayed (or took one king
step when they move), the reward and the episode end follow from the positions, seeded starts
repeat, and every invalid call raised a clear error and left the env as it was.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from blobenv import BlobVectorEnv

# The rules as the README states them, written out here independently of blobenv.rules.
DELTAS = [(1, 1), (-1, -1), (-1, 1), (1, -1), (1, 0), (-1, 0), (0, 1), (0, -1), (0, 0)]
FOOD, ENEMY, PLAYER = (0, 255, 0), (255, 0, 0), (0, 175, 255)
MAX_STEPS = 12
SETTINGS = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
INVALID_ACTIONS = st.sampled_from([-1, 9, 100, 2.5, 4.0, "4", None, [1], np.array([1, 2])])


def clamp(cell: tuple[int, int], delta: tuple[int, int], size: int) -> tuple[int, int]:
    return tuple(int(np.clip(c + d, 0, size - 1)) for c, d in zip(cell, delta, strict=True))


def king_distance(a, b) -> int:
    return max(abs(int(a[0]) - int(b[0])), abs(int(a[1]) - int(b[1])))


def expected_outcome(player, food, enemy) -> tuple[float, bool]:
    if tuple(player) == tuple(enemy):
        return -300.0, True
    if tuple(player) == tuple(food):
        return 25.0, True
    return -1.0, False


def expected_observation(obs_type: str, player, food, enemy, size: int) -> np.ndarray:
    if obs_type == "coords":
        offsets = np.subtract(player, food).tolist() + np.subtract(player, enemy).tolist()
        return np.array(offsets) + size - 1
    image = np.zeros((size, size, 3), dtype=np.uint8)
    for (x, y), colour in ((food, FOOD), (enemy, ENEMY), (player, PLAYER)):
        image[y, x] = colour
    return image


def valid_start(cells) -> bool:
    return len(set(cells)) == 3


class BlobEnvCalls(RuleBasedStateMachine):
    """`gymnasium.make("Blob-v0", ...)` under random calls, checked against the rules."""

    @initialize(
        size=st.sampled_from([3, 4, 5, 10]),
        obs_type=st.sampled_from(["rgb", "coords"]),
        moving_food=st.booleans(),
        moving_enemy=st.booleans(),
        seed=st.integers(0, 2**16),
    )
    def make(self, size, obs_type, moving_food, moving_enemy, seed):
        self.size, self.obs_type = size, obs_type
        self.moving = {"food": moving_food, "enemy": moving_enemy}
        # Without Gymnasium's PassiveEnvChecker: see the test of it below.
        self.env = gymnasium.make(
            "Blob-v0", size=size, obs_type=obs_type, moving_food=moving_food,
            moving_enemy=moving_enemy, max_episode_steps=MAX_STEPS, disable_env_checker=True,
        )  # fmt: skip
        # Unseeded resets draw from here: a replayed example must behave the same.
        self.env.unwrapped.np_random = np.random.default_rng(seed)
        self.obs = self.info = self.kept = None
        self.ended = True  # no episode in progress: step needs a reset first
        self.started = False
        self.elapsed = 0
        self.seeded_starts: dict[int, tuple] = {}

    def positions(self) -> tuple:
        return tuple(tuple(self.info[key]) for key in ("player", "food", "enemy"))

    def observe(self, obs, info) -> None:
        if self.obs is not None:
            self.kept = (self.obs, self.obs.copy())
        self.obs, self.info = obs, info
        assert self.env.observation_space.contains(obs)
        np.testing.assert_array_equal(
            obs, expected_observation(self.obs_type, *self.positions(), self.size)
        )
        player, food, _ = self.positions()
        assert info["distance"] == king_distance(player, food)

    @rule(seed=st.none() | st.integers(0, 5))
    def reset(self, seed):
        obs, info = self.env.reset(seed=seed)
        self.observe(obs, info)
        assert valid_start(self.positions()) and not info["is_success"]
        if seed is not None:
            assert self.seeded_starts.setdefault(seed, self.positions()) == self.positions()
        self.ended, self.started, self.elapsed = False, True, 0

    @rule(data=st.data())
    def reset_from_cells(self, data):
        # Cells from one outside the grid on each side: mostly valid starts, some invalid.
        cell = st.tuples(st.integers(-1, self.size), st.integers(-1, self.size))
        player, food, enemy = cells = (data.draw(cell), data.draw(cell), data.draw(cell))
        on_grid = all(0 <= c < self.size for cell in cells for c in cell)
        options = {"player": player, "food": food, "enemy": enemy}
        if not (on_grid and valid_start(cells)):
            self.reset_fails(options)
            return
        obs, info = self.env.reset(options=options)
        self.observe(obs, info)
        assert self.positions() == cells
        self.ended, self.started, self.elapsed = False, True, 0

    @rule(options=st.sampled_from([{"player": (0, 0)}, {"hero": (0, 0)}, {"player": "a"}]))
    def reset_with_bad_options(self, options):
        self.reset_fails(options)

    def reset_fails(self, options) -> None:
        try:
            self.env.reset(options=options)
        except ValueError as error:
            assert "must" in str(error)
        else:
            raise AssertionError(f"reset(options={options}) did not fail")
        self.ended = True  # the wrappers restarted their counters: a new reset is needed

    @rule(seed=st.sampled_from([-1, "seed", 1.5]))
    def reset_with_a_bad_seed(self, seed):
        try:
            self.env.reset(seed=seed)
        except (ValueError, TypeError, gymnasium.error.Error) as error:
            assert str(error)
        else:
            raise AssertionError(f"reset(seed={seed!r}) did not fail")
        self.ended = True

    @precondition(lambda self: not self.ended)
    @rule(
        actions=st.lists(
            st.integers(0, 8) | st.integers(0, 8).map(np.int64), min_size=1, max_size=5
        )
    )
    def steps(self, actions):
        for action in actions:
            if not self.ended:
                self.step(action)

    @rule(seed=st.integers(0, 2**16), length=st.integers(1, 3 * MAX_STEPS))
    def random_walk(self, seed, length):
        # Many steps cheaply (hypothesis draws two numbers, not one per action), resetting
        # whenever an episode ends.
        for action in np.random.default_rng(seed).integers(0, 9, length):
            if self.ended:
                self.reset(None)
            else:
                self.step(action)

    def step(self, action) -> None:
        before = self.positions()
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.observe(obs, info)
        player, food, enemy = self.positions()
        assert player == clamp(before[0], DELTAS[int(action)], self.size)
        for name, was, now in (("food", before[1], food), ("enemy", before[2], enemy)):
            if self.moving[name]:
                assert king_distance(was, now) <= 1
            else:
                assert now == was
        assert (reward, terminated) == expected_outcome(player, food, enemy)
        assert info["is_success"] == (reward == 25.0)
        self.elapsed += 1
        assert truncated == (self.elapsed >= MAX_STEPS)
        self.ended = terminated or truncated

    @precondition(lambda self: self.started)
    @rule(action=INVALID_ACTIONS)
    def step_with_an_invalid_action(self, action):
        before = self.positions()
        try:
            self.env.step(action)
        except ValueError as error:
            assert "invalid" in str(error) and "Discrete(9)" in str(error)
        else:
            raise AssertionError(f"step({action!r}) did not fail")
        assert self.env.unwrapped._cells() == before  # the game did not move

    @precondition(lambda self: not self.started)
    @rule()
    def step_before_reset(self):
        try:
            self.env.step(0)
        except ResetNeeded as error:
            assert "reset" in str(error)
        else:
            raise AssertionError("step before reset did not fail")

    @rule()
    def close(self):
        # Closing only releases the window: closing again is harmless, the env stays usable.
        self.env.close()
        self.env.close()

    @invariant()
    def earlier_observations_are_never_changed_by_later_calls(self):
        if self.kept is not None:
            np.testing.assert_array_equal(*self.kept)


class BlobVectorEnvCalls(RuleBasedStateMachine):
    """`BlobVectorEnv` under random calls: the same rules per sub-env, and next-step autoreset."""

    @initialize(
        num_envs=st.integers(1, 4),
        size=st.sampled_from([3, 5]),
        obs_type=st.sampled_from(["rgb", "coords"]),
        moving=st.booleans(),
        seed=st.integers(0, 2**16),
    )
    def make(self, num_envs, size, obs_type, moving, seed):
        self.n, self.size, self.obs_type, self.moving = num_envs, size, obs_type, moving
        self.env = BlobVectorEnv(
            num_envs, size=size, obs_type=obs_type, moving_food=moving, moving_enemy=moving,
            max_episode_steps=MAX_STEPS,
        )  # fmt: skip
        self.env.np_random = np.random.default_rng(seed)
        self.infos = None
        self.ended = np.zeros(num_envs, dtype=bool)
        self.elapsed = np.zeros(num_envs, dtype=int)

    def check(self, observations, infos) -> None:
        self.infos = infos
        assert self.env.observation_space.contains(observations)
        for i in range(self.n):
            cells = [tuple(infos[key][i].tolist()) for key in ("player", "food", "enemy")]
            expected = expected_observation(self.obs_type, *cells, self.size)
            np.testing.assert_array_equal(observations[i], expected)
            assert infos["distance"][i] == king_distance(cells[0], cells[1])

    @rule(seed=st.none() | st.integers(0, 5) | st.lists(st.none() | st.integers(0, 5)))
    def reset(self, seed):
        if isinstance(seed, list) and len(seed) != self.n:
            try:
                self.env.reset(seed=seed)
            except ValueError as error:
                assert f"{self.n} seeds" in str(error)
            else:
                raise AssertionError(f"reset(seed={seed}) with {self.n} envs did not fail")
            return
        self.check(*self.env.reset(seed=seed))
        for i in range(self.n):
            assert valid_start([tuple(self.infos[k][i]) for k in ("player", "food", "enemy")])
        self.ended[:], self.elapsed[:] = False, 0

    @precondition(lambda self: self.infos is not None)
    @rule(data=st.data())
    def steps(self, data):
        actions = st.lists(st.integers(0, 8), min_size=self.n, max_size=self.n).map(np.array)
        for batch in data.draw(st.lists(actions, min_size=1, max_size=5)):
            self.step(batch)

    @precondition(lambda self: self.infos is not None)
    @rule(seed=st.integers(0, 2**16), length=st.integers(1, 3 * MAX_STEPS))
    def random_walk(self, seed, length):
        for batch in np.random.default_rng(seed).integers(0, 9, (length, self.n)):
            self.step(batch)

    def step(self, actions: np.ndarray) -> None:
        before = {key: self.infos[key].copy() for key in ("player", "food", "enemy")}
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        self.check(observations, infos)
        for i in range(self.n):
            cells = [tuple(infos[key][i].tolist()) for key in ("player", "food", "enemy")]
            if self.ended[i]:  # restarted: a new start, its action ignored
                assert valid_start(cells) and rewards[i] == 0
                assert not terminations[i] and not truncations[i]
                self.elapsed[i] = 0
                continue
            was = [tuple(before[key][i].tolist()) for key in ("player", "food", "enemy")]
            assert cells[0] == clamp(was[0], DELTAS[actions[i]], self.size)
            for old, new in zip(was[1:], cells[1:], strict=True):
                assert king_distance(old, new) <= (1 if self.moving else 0)
            assert (rewards[i], terminations[i]) == expected_outcome(*cells)
            assert infos["is_success"][i] == (rewards[i] == 25.0)
            self.elapsed[i] += 1
            assert truncations[i] == (self.elapsed[i] >= MAX_STEPS)
        self.ended = terminations | truncations

    @precondition(lambda self: self.infos is not None)
    @rule(kind=st.sampled_from(["too many", "too high", "negative", "floats", "nested"]))
    def step_with_invalid_actions(self, kind):
        n = self.n
        actions = {
            "too many": np.zeros(n + 1, dtype=int), "too high": np.full(n, 9),
            "negative": np.full(n, -1), "floats": np.zeros(n), "nested": [[0]] * n,
        }[kind]  # fmt: skip
        before = [self.env.unwrapped._player.copy(), self.env.unwrapped._food.copy()]
        try:
            self.env.step(actions)
        except ValueError as error:
            assert "invalid" in str(error) and f"expected {n} ints" in str(error)
        else:
            raise AssertionError(f"step({actions!r}) did not fail")
        np.testing.assert_array_equal(self.env.unwrapped._player, before[0])
        np.testing.assert_array_equal(self.env.unwrapped._food, before[1])

    @precondition(lambda self: self.infos is None)
    @rule()
    def step_before_reset(self):
        try:
            self.env.step(np.zeros(self.n, dtype=int))
        except ResetNeeded as error:
            assert "reset" in str(error)
        else:
            raise AssertionError("step before reset did not fail")

    @rule()
    def close(self):
        self.env.close()
        self.env.close()


@pytest.mark.xfail(
    tuple(int(part) for part in gymnasium.__version__.split(".")[:2]) >= (1, 4),
    strict=True,
    raises=TypeError,
    reason="Gymnasium 1.4's PassiveEnvChecker keeps no reset data when the first reset raises, "
    "then fails in its data-reuse check on the first step (not Blob's code)",
)
def test_a_failed_first_reset_leaves_the_checked_env_usable():
    env = gymnasium.make("Blob-v0")
    with pytest.raises(gymnasium.error.Error):
        env.reset(seed=-1)
    env.reset(seed=0)
    env.step(0)


TestBlobEnvCalls = BlobEnvCalls.TestCase
TestBlobEnvCalls.settings = SETTINGS
TestBlobVectorEnvCalls = BlobVectorEnvCalls.TestCase
TestBlobVectorEnvCalls.settings = SETTINGS
