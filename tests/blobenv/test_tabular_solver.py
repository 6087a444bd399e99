"""The tabular solver: exact finite-horizon optima of envs with a transition table P."""

from __future__ import annotations

import itertools

import gymnasium
import numpy as np
import pytest

from blobenv import tabular_solver
from blobenv.tabular_solver import (
    has_transition_table,
    optimal_returns,
    optimal_values,
    solve,
    transition_table,
)
from tests.gym_ids import TAXI

#: A stochastic table: two outcomes with one next state, terminal outcomes, an absorbing state 3.
STOCHASTIC = {
    0: {0: [(0.5, 1, 1.0, False), (0.5, 2, -1.0, False)], 1: [(0.5, 0, 0.2, False)] * 2},
    1: {0: [(0.7, 3, 5.0, True), (0.3, 0, -2.0, False)], 1: [(1.0, 2, 0.5, False)]},
    2: {
        0: [(0.9, 2, -0.1, False), (0.1, 3, 3.0, True)],
        1: [(0.4, 1, 0.0, False), (0.6, 3, -4.0, True)],
    },
    3: {0: [(1.0, 3, 0.0, True)], 1: [(1.0, 3, 0.0, True)]},
}
#: A deterministic one, where the best action sequence is the best policy.
DETERMINISTIC = {
    0: {0: [(1.0, 1, -1.0, False)], 1: [(1.0, 2, 0.5, False)]},
    1: {0: [(1.0, 3, 4.0, True)], 1: [(1.0, 0, 2.0, False)]},
    2: {0: [(1.0, 2, 0.3, False)], 1: [(1.0, 1, -2.0, False)]},
    3: {0: [(1.0, 3, 0.0, True)], 1: [(1.0, 3, 0.0, True)]},
}


class TableEnv(gymnasium.Env):
    """An env that steps by its table `P`, as Gymnasium's toy-text envs do; starts in state 0."""

    def __init__(self, table: dict = STOCHASTIC):
        self.P = table
        self.observation_space = gymnasium.spaces.Discrete(len(table))
        self.action_space = gymnasium.spaces.Discrete(len(table[0]))
        self.s = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.s = 0
        return self.s, {}

    def step(self, action: int):
        outcomes = self.P[self.s][int(action)]
        index = self.np_random.choice(len(outcomes), p=[outcome[0] for outcome in outcomes])
        _, self.s, reward, terminated = outcomes[index]
        return self.s, reward, terminated, False, {}


def expectimax(table: dict, state: int, steps_left: int) -> float:
    """The best expected return by searching the whole decision tree of the dict, no arrays."""
    if steps_left == 0:
        return 0.0
    return max(
        sum(
            prob * (reward + (0.0 if done else expectimax(table, nxt, steps_left - 1)))
            for prob, nxt, reward, done in outcomes
        )
        for outcomes in table[state].values()
    )


def best_action_sequence(table: dict, state: int, steps: int) -> float:
    """The best return of any fixed sequence of `steps` actions in a deterministic table."""
    best = -np.inf
    for actions in itertools.product(range(len(table[0])), repeat=steps):
        total, current = 0.0, state
        for action in actions:
            (_, current, reward, done), *_ = table[current][action]
            total += reward
            if done:
                break
        best = max(best, total)
    return best


@pytest.mark.parametrize("horizon", range(7))
def test_values_match_a_search_of_the_whole_decision_tree(horizon):
    values = solve(transition_table(TableEnv()), horizon)
    expected = [expectimax(STOCHASTIC, state, horizon) for state in range(4)]
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("horizon", range(1, 8))
def test_deterministic_values_match_the_best_action_sequence(horizon):
    values = solve(transition_table(TableEnv(DETERMINISTIC)), horizon)
    expected = [best_action_sequence(DETERMINISTIC, state, horizon) for state in range(4)]
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_deterministic_frozen_lake_is_always_solved():
    assert optimal_returns("FrozenLake-v1", [0, 1], is_slippery=False).tolist() == [1.0, 1.0]
    assert optimal_returns("FrozenLake-v1", [0], 5, is_slippery=False)[0] == 0.0  # 6 moves needed
    assert optimal_values("FrozenLake-v1", desc=["SF", "HG"], is_slippery=False)[0] == 1.0


def test_cliff_walking_is_thirteen_steps_and_converges_at_once(monkeypatch):
    backups = []
    q_values = tabular_solver.TransitionTable.q_values

    def counted(table, values):
        backups.append(1)
        return q_values(table, values)

    monkeypatch.setattr(tabular_solver.TransitionTable, "q_values", counted)
    table = transition_table(gymnasium.make("CliffWalking-v1"))
    assert solve(table, 10_000)[36] == -13.0
    assert len(backups) < 100  # a fixed point after the longest shortest path, not 10,000
    assert solve(table, 5)[36] == -5.0  # the goal is out of reach: walk, don't fall
    assert optimal_returns("CliffWalking-v1", [0, 1], 10_000).tolist() == [-13.0, -13.0]


def test_slippery_frozen_lake_matches_its_greedy_policy_played_by_the_env():
    horizon = 100
    table = transition_table(gymnasium.make("FrozenLake-v1"))
    value = optimal_returns("FrozenLake-v1", [0], horizon)[0]
    assert value == pytest.approx(0.74419, abs=1e-5)
    assert solve(table, 10**6)[0] == pytest.approx(14 / 17)  # the known no-time-limit optimum
    # The optimal policy depends on the steps left: act greedily on the values one step shorter.
    policy = [table.q_values(solve(table, h)).argmax(axis=1) for h in range(horizon)]
    env = gymnasium.make("FrozenLake-v1")  # its own 100-step limit
    successes = []
    for seed in range(2_000):
        state, _ = env.reset(seed=seed)
        for step in range(horizon):
            state, reward, terminated, truncated, _ = env.step(
                int(policy[horizon - 1 - step][state])
            )
            if terminated or truncated:
                break
        successes.append(reward)
    assert np.mean(successes) == pytest.approx(value, abs=0.04)  # 4 standard errors


def test_taxi_gives_each_seed_the_value_of_its_own_start_state():
    seeds = list(range(1_000_000, 1_000_100))
    values = optimal_values(TAXI)  # its max_episode_steps: 200
    env = gymnasium.make(TAXI)
    starts = [env.reset(seed=seed)[0] for seed in seeds]
    returns = optimal_returns(TAXI, seeds)
    np.testing.assert_array_equal(returns, values[starts])
    assert len(set(starts)) > 50 and len(set(returns.tolist())) > 3
    assert returns.mean() == 8.0  # deterministic: 20 for the drop-off, -1 per other step
    rainy = optimal_returns(TAXI, seeds, is_rainy=True).mean()
    # Taxi-v4 changed the rainy game's slips; both make the optimum lower.
    assert rainy == pytest.approx(4.0685, abs=1e-4) if TAXI == "Taxi-v4" else rainy < 8.0


def test_horizons_come_from_the_id():
    eight_by_eight = optimal_values("FrozenLake8x8-v1")[0]  # its 200 steps
    assert eight_by_eight == pytest.approx(0.91322, abs=1e-5)
    assert optimal_values("FrozenLake-v1", 200, map_name="8x8")[0] == eight_by_eight
    in_100_steps = optimal_values("FrozenLake-v1", map_name="8x8")[0]  # FrozenLake-v1's 100
    assert in_100_steps == pytest.approx(0.64072, abs=1e-5)
    with pytest.raises(ValueError, match="CliffWalking-v1 has no max_episode_steps"):
        optimal_values("CliffWalking-v1")


def test_solved_values_are_kept_and_read_only():
    first = optimal_values("FrozenLake-v1", 50, map_name="8x8", is_slippery=False)
    assert optimal_values("FrozenLake-v1", 50, is_slippery=False, map_name="8x8") is first
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 2.0


def test_envs_without_a_usable_table_are_refused():
    assert not has_transition_table("CartPole-v1")
    with pytest.raises(ValueError, match="CartPoleEnv has no transition table"):
        optimal_values("CartPole-v1", 10)
    assert not has_transition_table(TAXI, fickle_passenger=True)
    with pytest.raises(ValueError, match="fickle passenger"):
        optimal_values(TAXI, fickle_passenger=True)
    assert not has_transition_table("FrozenLake-v1", map_name=None)  # a new random map per make
    with pytest.raises(ValueError, match="changes from one make to the next"):
        optimal_values("FrozenLake-v1", map_name=None)
    assert has_transition_table(TAXI, is_rainy=True)


def test_a_table_too_large_is_refused_with_its_size():
    with pytest.raises(
        ValueError, match=r"4 states x 2 actions = 8 state-actions, more than the 7"
    ):
        transition_table(TableEnv(), max_state_actions=7)
    assert transition_table(TableEnv(), max_state_actions=8).n_states == 4


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {0: {0: [(0.5, 0, 0.0, False)], 1: [(1.0, 0, 0.0, False)]}},
            r"P\[0\]\[0\] probabilities sum to 0.5",
        ),
        (
            {0: {0: [(1.0, 1, 0.0, False)], 1: [(1.0, 0, 0.0, False)]}},
            "leads to states other than 0..0",
        ),
        ({0: {0: [(1.0, 0, 0.0)], 1: [(1.0, 0, 0.0, False)]}}, r"P\[0\]\[0\] is malformed"),
        ({0: {0: [(1.0, 0, 0.0, False)]}}, r"P\[0\] must have the actions 0..1"),
        ({1: {0: [(1.0, 1, 0.0, False)], 1: [(1.0, 1, 0.0, False)]}}, "the states 0..0 as keys"),
    ],
)
def test_a_malformed_table_is_refused(table, message):
    env = TableEnv(STOCHASTIC)
    env.P = table
    with pytest.raises(ValueError, match=message):
        transition_table(env)
