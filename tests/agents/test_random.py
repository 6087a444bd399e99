from __future__ import annotations

import json
import math

import numpy as np
import pytest

from agents.random import (
    GaussianWhiteNoiseProcess,
    OrnsteinUhlenbeckProcess,
    RandomProcess,
    process_from_config,
)
from tests.fresh_interpreter import modules_loaded_by


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize(
    "process",
    [GaussianWhiteNoiseProcess(size=3), OrnsteinUhlenbeckProcess(theta=0.15, size=3)],
    ids=["gaussian", "ou"],
)
def test_samples_are_float32_rows_one_per_given_sub_env(process):
    assert isinstance(process, RandomProcess)
    assert process.sample(rng()).shape == (1, 3)
    assert process.sample(rng(), np.array([0, 4, 2])).shape == (3, 3)
    assert process.sample(rng(), np.array([], dtype=np.int64)).shape == (0, 3)
    assert process.sample(rng(), [1]).dtype == np.float32


@pytest.mark.parametrize("cls", [GaussianWhiteNoiseProcess, OrnsteinUhlenbeckProcess])
def test_samples_are_reproducible_with_a_seeded_generator(cls):
    kwargs = {"theta": 0.15} if cls is OrnsteinUhlenbeckProcess else {}
    runs = []
    for _ in range(2):
        process, generator = cls(size=2, **kwargs), rng(7)
        runs.append([process.sample(generator, np.arange(3)) for _ in range(5)])
    np.testing.assert_array_equal(runs[0], runs[1])


def test_gaussian_mean_and_std_follow_mu_and_sigma():
    process = GaussianWhiteNoiseProcess(mu=[1.0, -2.0], sigma=0.5, size=2)
    samples = process.sample(rng(), np.arange(100_000))
    np.testing.assert_allclose(samples.mean(axis=0), [1.0, -2.0], atol=0.01)
    np.testing.assert_allclose(samples.std(axis=0), [0.5, 0.5], rtol=0.02)


def test_ou_stationary_std_is_sigma_over_sqrt_two_theta():
    theta, sigma, dt = 1.0, 0.3, 1e-2
    process = OrnsteinUhlenbeckProcess(theta, mu=0.5, sigma=sigma, dt=dt, x0=0.5)
    generator, env_ids = rng(1), np.arange(500)
    for _ in range(300):  # burn-in of 3 relaxation times (1 / (theta dt) = 100 steps)
        process.sample(generator, env_ids)
    samples = np.concatenate([process.sample(generator, env_ids) for _ in range(1_000)])
    assert samples.mean() == pytest.approx(0.5, abs=0.02)
    assert samples.std() == pytest.approx(sigma / math.sqrt(2 * theta), rel=0.05)


def test_ou_reverts_to_mu_from_x0():
    quiet = OrnsteinUhlenbeckProcess(theta=2.0, mu=1.0, sigma=0.0, dt=0.01, x0=5.0)
    path = [quiet.sample(rng())[0, 0] for _ in range(50)]
    expected = 1.0 + 4.0 * (1 - 2.0 * 0.01) ** np.arange(1, 51)
    np.testing.assert_allclose(path, expected, rtol=1e-6)
    noisy = OrnsteinUhlenbeckProcess(theta=2.0, mu=1.0, sigma=0.5, dt=0.01, x0=5.0)
    generator = rng(2)
    for _ in range(49):
        noisy.sample(generator, np.arange(4_000))
    assert noisy.sample(generator, np.arange(4_000)).mean() == pytest.approx(expected[-1], abs=0.02)


def test_sigma_anneals_with_the_step_the_agent_sets_not_with_sample_calls():
    process = OrnsteinUhlenbeckProcess(0.15, sigma=1.0, sigma_min=0.2, n_steps_annealing=100)
    for _ in range(10):
        process.sample(rng())
    assert process.current_sigma == 1.0
    for step, sigma in [(0, 1.0), (50, 0.6), (100, 0.2), (1_000, 0.2)]:
        process.step = step
        assert process.current_sigma == pytest.approx(sigma)
    constant = GaussianWhiteNoiseProcess(sigma=0.7)
    constant.step = 10**6
    assert constant.current_sigma == 0.7


def test_annealed_gaussian_samples_have_the_current_sigma():
    process = GaussianWhiteNoiseProcess(sigma=1.0, sigma_min=0.1, n_steps_annealing=10)
    process.step = 10
    assert process.sample(rng(), np.arange(50_000)).std() == pytest.approx(0.1, rel=0.02)


def test_ou_sub_envs_are_independent():
    process = OrnsteinUhlenbeckProcess(theta=0.15, x0=[1.0, 2.0], size=2)
    generator = rng(3)
    process.sample(generator, np.arange(3))
    before = process.get_state()["x_prev"]
    process.sample(generator, np.array([2]))
    after = process.get_state()["x_prev"]
    np.testing.assert_array_equal(after[:2], before[:2])
    assert (after[2] != before[2]).all()
    process.reset_states(1)
    reset = process.get_state()["x_prev"]
    np.testing.assert_array_equal(reset[0], after[0])
    np.testing.assert_array_equal(reset[1], [1.0, 2.0])
    process.reset_states()
    np.testing.assert_array_equal(process.get_state()["x_prev"], [[1.0, 2.0]] * 3)


def test_ou_grows_its_state_lazily_from_x0():
    process = OrnsteinUhlenbeckProcess(theta=0.15, x0=3.0)
    process.reset_states(5)  # a sub-env not seen yet: nothing to reset
    process.sample(rng(), np.array([4]))
    x_prev = process.get_state()["x_prev"]
    assert x_prev.shape == (5, 1)
    np.testing.assert_array_equal(x_prev[:4], 3.0)


def test_config_round_trips_through_json_and_arrays_become_lists():
    process = OrnsteinUhlenbeckProcess(
        0.15, mu=np.array([0.0, 1.0]), sigma=0.3, x0=[0.5, 0.5], size=2, sigma_min=0.1
    )
    config = json.loads(json.dumps(process.get_config()))
    assert config == {
        "class_name": "OrnsteinUhlenbeckProcess",
        "config": {
            "mu": [0.0, 1.0], "sigma": 0.3, "sigma_min": 0.1, "n_steps_annealing": 1000,
            "size": 2, "theta": 0.15, "dt": 0.01, "x0": [0.5, 0.5],
        },
    }  # fmt: skip
    rebuilt = process_from_config(config)
    assert rebuilt.get_config() == config
    np.testing.assert_array_equal(rebuilt.sample(rng(), [0, 1]), process.sample(rng(), [0, 1]))
    gaussian = GaussianWhiteNoiseProcess(mu=np.float32(0.5), sigma=2)
    assert process_from_config(gaussian.get_config()).get_config()["config"] == {
        "mu": 0.5, "sigma": 2.0, "sigma_min": None, "n_steps_annealing": 1000, "size": 1,
    }  # fmt: skip


@pytest.mark.parametrize("config", [{"class_name": "PinkNoise", "config": {}}, "OU", None])
def test_process_from_config_rejects_other_configs(config):
    with pytest.raises(ValueError, match="class_name in"):
        process_from_config(config)


def test_state_round_trip_continues_exactly():
    process = OrnsteinUhlenbeckProcess(0.15, sigma=0.3, size=2)
    generator = rng(4)
    for _ in range(20):
        process.sample(generator, np.arange(3))
    state, rng_state = process.get_state(), generator.bit_generator.state
    expected = [process.sample(generator, np.arange(3)) for _ in range(5)]
    restored = process_from_config(json.loads(json.dumps(process.get_config())))
    restored.set_state(state)
    generator.bit_generator.state = rng_state
    np.testing.assert_array_equal(
        [restored.sample(generator, np.arange(3)) for _ in range(5)], expected
    )
    gaussian = GaussianWhiteNoiseProcess()
    assert gaussian.get_state() == {}
    gaussian.set_state({})


def test_get_state_returns_a_copy():
    process = OrnsteinUhlenbeckProcess(0.15)
    process.sample(rng())
    process.get_state()["x_prev"][:] = 99.0
    assert process.get_state()["x_prev"][0, 0] != 99.0


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x_prev": np.zeros((2, 3))}, r"shape \(n, 2\), got float64 of shape \(2, 3\)"),
        ({"x_prev": np.zeros(2)}, r"shape \(n, 2\)"),
        ({"x_prev": np.zeros((2, 2), dtype=np.int64)}, "must be a float array"),
        ({"x_prev": np.array([[0.0, np.nan]])}, "'x_prev' must be finite"),
        ({}, r"has arrays \['x_prev'\], got \[\]"),
        ({"x_prev": np.zeros((1, 2)), "extra": np.zeros((1, 2))}, "got \\['extra', 'x_prev'\\]"),
    ],
)
def test_bad_states_are_refused_before_anything_changes(arrays, message):
    process = OrnsteinUhlenbeckProcess(0.15, size=2)
    process.sample(rng(), np.arange(3))
    before = process.get_state()["x_prev"]
    with pytest.raises(ValueError, match=message):
        process.set_state(arrays)
    np.testing.assert_array_equal(process.get_state()["x_prev"], before)


def test_gaussian_refuses_state_arrays():
    with pytest.raises(ValueError, match=r"GaussianWhiteNoiseProcess's state has arrays \[\]"):
        GaussianWhiteNoiseProcess().check_state({"x_prev": np.zeros((1, 1))})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mu": [0.0, 1.0], "size": 3}, r"mu must be .* broadcastable to the size \(3,\)"),
        ({"x0": np.zeros((1, 2)), "size": 2}, r"x0 must be .* size \(2,\), got shape \(1, 2\)"),
        ({"mu": "0"}, "mu must be a number or an array of numbers"),
        ({"mu": True}, "mu must be a number or an array of numbers"),
        ({"x0": [0.0, np.inf], "size": 2}, "x0 must be finite"),
        ({"sigma": -0.1}, r"sigma must be a number in \[0, inf\)"),
        ({"sigma": float("nan")}, "sigma must be a number"),
        ({"sigma": True}, "sigma must be a number"),
        ({"sigma": 0.2, "sigma_min": 0.3}, r"sigma_min must be a number in \[0, 0.2\]"),
        ({"theta": -1.0}, "theta must be a number in"),
        ({"theta": "0.15"}, "theta must be a number in"),
        ({"dt": 0.0}, r"dt must be a number in \(0, inf\)"),
        ({"size": 0}, "size must be an integer >= 1"),
        ({"size": 2.0}, "size must be an integer >= 1"),
        ({"n_steps_annealing": 0}, "n_steps_annealing must be an integer >= 1"),
        ({"n_steps_annealing": True}, "n_steps_annealing must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OrnsteinUhlenbeckProcess(**{"theta": 0.15, **kwargs})


@pytest.mark.parametrize(
    ("env_ids", "message"),
    [
        (np.array([[0, 1]]), "1-D array of integers >= 0"),
        (np.array([0.0, 1.0]), "1-D array of integers >= 0"),
        (np.array([-1]), "1-D array of integers >= 0"),
        (np.array([1, 1]), "must be distinct"),
    ],
)
def test_bad_env_ids_are_refused(env_ids, message):
    with pytest.raises(ValueError, match=message):
        OrnsteinUhlenbeckProcess(0.15).sample(rng(), env_ids)


def test_bad_generator_and_env_id_are_refused():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        GaussianWhiteNoiseProcess().sample(np.random.RandomState(0))
    with pytest.raises(ValueError, match="env_id must be an integer >= 0"):
        OrnsteinUhlenbeckProcess(0.15).reset_states(-1)


def test_module_needs_no_tensorflow_and_leaves_the_stdlib_random_alone():
    code = (
        "import agents.random\nimport random\nassert random.__name__ == 'random' and random.shuffle"
    )
    assert modules_loaded_by(code, ("tensorflow", "keras")) == []
