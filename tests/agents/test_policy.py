from __future__ import annotations

import json

import numpy as np
import pytest

from agents.policy import (
    BoltzmannQPolicy,
    EpsGreedyQPolicy,
    GreedyQPolicy,
    LinearAnnealedPolicy,
    policy_from_config,
)

Q = np.array([[1.0, 3.0, 2.0, 3.0]])  # actions 1 and 3 tie for the best


def frequencies(actions: np.ndarray, nb_actions: int) -> np.ndarray:
    return np.bincount(actions, minlength=nb_actions) / len(actions)


def test_greedy_takes_the_first_best_action_per_row():
    q_values = np.array([[1.0, 3.0, 2.0, 3.0], [5.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 9.0]])
    actions = GreedyQPolicy().select_action(q_values, np.random.default_rng(0))
    assert actions.tolist() == [1, 0, 3]
    assert actions.dtype == np.int64


def test_eps_greedy_explores_uniformly_with_probability_eps():
    q_values = np.repeat(Q, 100_000, axis=0)
    actions = EpsGreedyQPolicy(eps=0.3).select_action(q_values, np.random.default_rng(0))
    assert actions.dtype == np.int64 and actions.shape == (100_000,)
    # Greedy is action 1 (first of the tied best); every action also gets eps / 4.
    expected = np.array([0.075, 0.7 + 0.075, 0.075, 0.075])
    np.testing.assert_allclose(frequencies(actions, 4), expected, atol=0.005)


@pytest.mark.parametrize(("eps", "expected"), [(0.0, [0, 1, 0, 0]), (1.0, [0.25] * 4)])
def test_eps_greedy_extremes_are_greedy_and_uniform(eps, expected):
    q_values = np.repeat(Q, 40_000, axis=0)
    actions = EpsGreedyQPolicy(eps=eps).select_action(q_values, np.random.default_rng(1))
    np.testing.assert_allclose(frequencies(actions, 4), expected, atol=0.01)


def test_boltzmann_probabilities_are_the_softmax_of_q_over_tau():
    q_values = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 10.0]])
    policy = BoltzmannQPolicy(tau=2.0)
    softmax = np.exp(q_values / 2.0) / np.exp(q_values / 2.0).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(policy.probabilities(q_values), softmax, rtol=1e-12)


def test_boltzmann_samples_follow_its_probabilities():
    q_values = np.repeat(np.array([[1.0, 2.0, 3.0, 0.5]]), 100_000, axis=0)
    policy = BoltzmannQPolicy(tau=1.5)
    actions = policy.select_action(q_values, np.random.default_rng(2))
    np.testing.assert_allclose(
        frequencies(actions, 4), policy.probabilities(q_values[:1])[0], atol=0.005
    )


def test_boltzmann_handles_huge_q_values_and_clips_like_keras_rl():
    policy = BoltzmannQPolicy(tau=1.0, clip=(-500.0, 500.0))
    probabilities = policy.probabilities(np.array([[1e6, 2e6, 0.0]]))
    # Both large values clip to 500 and tie; the third is e**-500 relative to them.
    np.testing.assert_allclose(probabilities, [[0.5, 0.5, 0.0]], atol=1e-200)
    actions = policy.select_action(np.array([[1e6, 2e6, 0.0]] * 1000), np.random.default_rng(3))
    assert set(actions.tolist()) == {0, 1}


def test_linear_annealing_values_at_start_middle_end_and_in_test_mode():
    policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), "eps", 1.0, 0.1, 0.05, nb_steps=10_000)
    for step, eps in [(0, 1.0), (5_000, 0.55), (10_000, 0.1), (50_000, 0.1)]:
        policy.step = step
        assert policy.metrics == {"eps": pytest.approx(eps)}
        policy.select_action(Q, np.random.default_rng(0))
        assert policy.inner_policy.eps == pytest.approx(eps)
    policy.training = False
    assert policy.metrics == {"eps": 0.05}
    policy.select_action(Q, np.random.default_rng(0))
    assert policy.inner_policy.eps == 0.05


def test_annealed_eps_drives_the_exploration_rate():
    q_values = np.repeat(Q, 40_000, axis=0)
    policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), value_max=1.0, value_min=0.0, nb_steps=10)
    policy.step = 5  # eps 0.5: greedy action 1 gets 0.5 + 0.5 / 4
    actions = policy.select_action(q_values, np.random.default_rng(4))
    assert frequencies(actions, 4)[1] == pytest.approx(0.625, abs=0.01)


def test_annealing_boltzmann_temperature():
    policy = LinearAnnealedPolicy(BoltzmannQPolicy(), "tau", 10.0, 1.0, 0.5, nb_steps=100)
    policy.step = 50
    policy.select_action(Q, np.random.default_rng(0))
    assert policy.inner_policy.tau == pytest.approx(5.5)
    assert policy.metrics == {"tau": pytest.approx(5.5)}


@pytest.mark.parametrize(
    "policy",
    [
        GreedyQPolicy(),
        EpsGreedyQPolicy(eps=0.2),
        BoltzmannQPolicy(tau=0.7, clip=(-50.0, 60.0)),
        LinearAnnealedPolicy(EpsGreedyQPolicy(), "eps", 0.9, 0.2, 0.01, 500),
        LinearAnnealedPolicy(BoltzmannQPolicy(tau=3.0), "tau", 5.0, 0.5, 0.1, 20),
    ],
)
def test_config_round_trips_through_json(policy):
    config = json.loads(json.dumps(policy.get_config()))
    rebuilt = policy_from_config(config)
    assert type(rebuilt) is type(policy)
    assert rebuilt.get_config() == policy.get_config()


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_eps_outside_the_unit_interval_raises(eps):
    with pytest.raises(ValueError, match=r"eps must be a number in \[0, 1\]"):
        EpsGreedyQPolicy(eps=eps)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("inf")])
def test_non_positive_tau_raises(tau):
    with pytest.raises(ValueError, match="tau must be a finite number > 0"):
        BoltzmannQPolicy(tau=tau)


def test_bad_clip_raises():
    with pytest.raises(ValueError, match="low < high"):
        BoltzmannQPolicy(clip=(5.0, -5.0))


def test_linear_annealed_policy_validates_its_arguments():
    with pytest.raises(ValueError, match=r"no numeric setting 'tau'.*\['eps'\]"):
        LinearAnnealedPolicy(EpsGreedyQPolicy(), attr="tau")
    with pytest.raises(ValueError, match="no numeric setting 'clip'"):
        LinearAnnealedPolicy(BoltzmannQPolicy(), attr="clip")
    with pytest.raises(ValueError, match="nb_steps must be >= 1"):
        LinearAnnealedPolicy(EpsGreedyQPolicy(), nb_steps=0)
    with pytest.raises(ValueError, match=r"eps must be a number in \[0, 1\], got 1.5"):
        LinearAnnealedPolicy(EpsGreedyQPolicy(), value_test=1.5)
    with pytest.raises(TypeError, match="must be a Policy"):
        LinearAnnealedPolicy("eps-greedy")


@pytest.mark.parametrize(
    "q_values", [np.zeros(4), np.zeros((2, 0)), np.array([[1.0, np.nan]]), np.zeros((1, 2, 3))]
)
@pytest.mark.parametrize("policy", [GreedyQPolicy(), EpsGreedyQPolicy(), BoltzmannQPolicy()])
def test_malformed_q_values_raise(policy, q_values):
    with pytest.raises(ValueError, match="q_values must"):
        policy.select_action(q_values, np.random.default_rng(0))


def test_policy_from_config_rejects_unknown_classes():
    with pytest.raises(ValueError, match="class_name in"):
        policy_from_config({"class_name": "MaxBoltzmannQPolicy", "config": {}})
