"""The Ape-X collector, run in this process (no Ray needed to call it)."""

import numpy as np
import pytest

pytest.importorskip("ray", reason="the [scale] extra (ray) is not installed")

from agents import presets  # noqa: E402
from agents.distributed import Collector, apex_epsilon  # noqa: E402
from agents.run_config import RunConfig  # noqa: E402


def test_apex_epsilons_follow_horgan_et_al():
    assert apex_epsilon(0, 1) == 0.4
    assert [apex_epsilon(i, 3) for i in range(3)] == pytest.approx([0.4, 0.4**4.5, 0.4**8])
    eight = [apex_epsilon(i, 8) for i in range(8)]
    assert eight == sorted(eight, reverse=True)
    for index, count in [(-1, 2), (2, 2)]:
        with pytest.raises(ValueError, match=r"collector index must be in \[0, 2\)"):
            apex_epsilon(index, count)


@pytest.fixture(scope="module")
def collector():
    config = RunConfig(env_id="Blob-5x5-v0", seed=3).resolved()
    made = Collector(config.to_json(), index=1, count=2)
    yield made
    made.close()


def test_a_chunk_holds_n_step_transitions_with_their_td_errors(collector):
    weights = collector.agent.get_weights()
    chunk = collector.collect(weights, version=0, steps=30, incarnation=(0, 0))
    obs, actions, rewards, next_obs, discounts, masks = chunk.rows
    num_envs = collector.driver.num_envs
    assert chunk.version == 0 and collector.epsilon == pytest.approx(0.4**8)
    assert 0 < chunk.env_steps <= 30 * num_envs
    assert obs.shape[1:] == (5, 5, 3) and obs.dtype == np.uint8 and masks is None
    assert len(obs) == len(actions) == len(rewards) == len(next_obs) == len(discounts)
    # Every transition taken is stored once its n-step window closes: none is lost.
    n_step = collector.agent.memory.n_step
    assert chunk.env_steps - num_envs * (n_step - 1) <= len(obs) <= chunk.env_steps
    assert np.all((discounts >= 0) & (discounts <= 1))
    clip = collector.agent.reward_clip
    assert np.all(np.abs(rewards) <= clip * n_step)
    # The TD errors are the agent's own under these weights.
    expected = collector.agent.td_errors(chunk.rows)
    np.testing.assert_allclose(chunk.td_errors, expected, rtol=1e-5, atol=1e-5)
    lengths = [length for _, length in chunk.episodes]
    assert all(1 <= length <= 200 for length in lengths)


def test_a_collectors_epsilon_anneals_from_the_agents_first_to_its_own(collector):
    eps_steps = collector.config.hyper.eps_steps
    for step, expected in [(0, 1.0), (eps_steps // 2, (1.0 + 0.4**8) / 2), (eps_steps, 0.4**8)]:
        collector.agent.step = step
        assert collector.agent.acting_policy().value == pytest.approx(expected)
    collector.agent.step = 10 * eps_steps
    assert collector.agent.acting_policy().value == pytest.approx(0.4**8)


def test_weights_are_set_only_for_a_new_version(collector):
    weights = [np.zeros_like(w) for w in collector.agent.get_weights()]
    collector.collect(weights, version=5, steps=1, incarnation=(0, 0))
    assert all(not w.any() for w in collector.agent.get_weights())
    ones = [np.ones_like(w) for w in weights]
    collector.collect(ones, version=5, steps=1, incarnation=(0, 0))
    assert all(not w.any() for w in collector.agent.get_weights())
    collector.collect(ones, version=6, steps=1, incarnation=(0, 0))
    assert all(w.all() for w in collector.agent.get_weights())


def test_a_new_incarnation_starts_new_episodes_with_a_new_seed(collector):
    weights = collector.agent.get_weights()
    collector.collect(weights, version=7, steps=1, incarnation=(0, 1))
    first = collector.driver.obs.copy()
    collector.collect(weights, version=7, steps=1, incarnation=(0, 2))
    second = collector.driver.obs.copy()
    collector.collect(weights, version=7, steps=1, incarnation=(0, 1))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(collector.driver.obs, first)


def test_only_an_agent_with_td_errors_collects():
    config = RunConfig(env_id="Blob-5x5-v0", agent="qlearning").resolved()
    with pytest.raises(ValueError, match="needs an agent that gives TD errors"):
        Collector(config.to_json(), 0, 1)


def test_collectors_use_the_run_preset(collector):
    hyper = presets.config("dqn", "Blob-5x5-v0")
    assert collector.driver.num_envs == hyper.num_envs
    assert collector.agent.memory.n_step == hyper.n_step


@pytest.mark.parametrize("agent", [pytest.param("ddpg", marks=pytest.mark.slow), "td3"])
def test_a_ddpg_collector_explores_with_its_noise_and_gives_critic_td_errors(agent):
    config = RunConfig(env_id="Pendulum-v1", agent=agent, seed=1).resolved()
    collector = Collector(config.to_json(), 0, 2)
    try:
        assert collector.agent.policy is None and collector.agent.random_process is not None
        weights = collector.agent.get_weights()
        warmup = config.hyper.random_steps
        chunk = collector.collect(weights, 0, 20, (0, 0), step=warmup)
        obs, actions, rewards, next_obs, discounts, _ = chunk.rows
        assert actions.dtype == np.float32 and actions.shape == (len(obs), 1)
        assert np.all(np.abs(actions) <= 2.0)  # Pendulum's bounds
        assert chunk.env_steps == 20 * collector.driver.num_envs
        expected = collector.agent.td_errors(chunk.rows)
        np.testing.assert_allclose(chunk.td_errors, expected, rtol=1e-5, atol=1e-5)
        assert collector.agent.step == warmup  # the learner's step, for the noise schedule
    finally:
        collector.close()
