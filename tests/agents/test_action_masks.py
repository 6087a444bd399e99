"""Action masks: both conventions, single and vector envs, the DQN and PPO, bad masks."""

import gymnasium
import keras
import numpy as np
import pytest

from agents.action_masks import checked_masks, info_masks
from agents.dqn import DQNAgent
from agents.env_driver import EnvDriver
from agents.memory import PrioritizedMemory, SequentialMemory
from agents.networks import actor_critic, mlp
from agents.policy import BoltzmannQPolicy, EpsGreedyQPolicy, GreedyQPolicy
from agents.ppo import PPOAgent
from agents.sarsa import SARSAAgent
from tests.agents.toy_envs import MaskedCorridor, MethodMaskedCorridor

CONVENTIONS = [MaskedCorridor, MethodMaskedCorridor]
GAMMA = 0.9


def dqn(memory=None, seed=0) -> DQNAgent:
    keras.utils.set_random_seed(seed)
    agent = DQNAgent(
        mlp((6,), 4, 32), 4, memory or SequentialMemory(5000, gamma=GAMMA),
        policy=EpsGreedyQPolicy(0.3), gamma=GAMMA, nb_steps_warmup=100,
        target_model_update=100, batch_size=32,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(3e-3))
    agent.seed(seed)
    return agent


def ppo(seed=0) -> PPOAgent:
    keras.utils.set_random_seed(seed)
    env = MaskedCorridor()
    model = actor_critic(env.observation_space, env.action_space, 32)
    agent = PPOAgent(model, env.action_space, n_steps=64, batch_size=64, n_epochs=4, gamma=GAMMA)
    agent.compile(keras.optimizers.Adam(3e-3))
    agent.seed(seed)
    return agent


def sub_envs(env) -> list:
    if isinstance(env, gymnasium.vector.VectorEnv):
        return [sub_env.unwrapped for sub_env in env.envs]
    return [env.unwrapped]


@pytest.mark.parametrize(
    ("make_agent", "vector", "env_class"),
    [
        pytest.param(dqn, False, MaskedCorridor, marks=pytest.mark.slow),  # the vector row stays
        (dqn, True, MethodMaskedCorridor),
        pytest.param(ppo, False, MethodMaskedCorridor, marks=pytest.mark.slow),  # vector stays
        (ppo, True, MaskedCorridor),
    ],
    ids=["dqn-single-info", "dqn-vector-method", "ppo-single-method", "ppo-vector-info"],
)
def test_agents_solve_a_masked_env_without_an_illegal_action(make_agent, vector, env_class):
    # Each agent on a single and a vector env, each in one convention: between them both
    # conventions on both kinds of env (the driver's reading of each is tested below).
    env = gymnasium.vector.SyncVectorEnv([env_class] * 4) if vector else env_class()
    agent = make_agent()
    agent.fit(env, nb_steps=2000, verbose=0, seed=0)
    test_env = env_class()
    history = agent.test(test_env, nb_episodes=3, verbose=0)
    assert history.history["episode_reward"] == [1.0] * 3  # right, right, jump, right
    assert history.history["nb_episode_steps"] == [4] * 3
    assert [e.illegal_actions for e in sub_envs(env) + [test_env]] == [0] * (len(sub_envs(env)) + 1)


def test_without_masks_the_same_dqn_takes_the_illegal_grab():
    # The env, unmasked (no info, no method), pays 5 for grab: masks are what keeps it out.
    class Unmasked(MaskedCorridor):
        info_masks = False

    env = Unmasked()
    agent = dqn()
    agent.fit(env, nb_steps=1500, verbose=0, seed=0)
    assert env.illegal_actions > 0
    assert agent.test(env, nb_episodes=1, verbose=0).history["episode_reward"] == [5.0]


def test_the_dqn_bootstraps_from_the_best_legal_next_action():
    # In cell 2 only jump is legal: the target of (cell 1, right) must use Q(2, jump), however
    # high the masked Q-values of cell 2 are.
    def td_error(*masks):
        agent = dqn()
        kernel, _ = agent.model.layers[-1].get_weights()
        agent.model.layers[-1].set_weights([np.zeros_like(kernel), np.array([0, 50, 1, 100.0])])
        agent.update_target_model()
        cells = np.eye(6, dtype=np.float32)
        args = (cells[[1]][None], np.array([[1]]), np.zeros((1, 1), np.float32), cells[[2]][None],
                np.full((1, 1), GAMMA, np.float32), np.ones((1, 1), np.float32))  # fmt: skip
        return agent._train_steps(*args, *(masks or [None]), 1)[2].numpy()[0, 0]

    np.testing.assert_allclose(td_error(np.array([[[0, 0, 1, 0]]], bool)), GAMMA * 1 - 50, 1e-5)
    np.testing.assert_allclose(td_error(), GAMMA * 100 - 50, 1e-5)


@pytest.mark.parametrize("n_step", [1, 3])
def test_the_memory_keeps_the_next_states_masks_through_n_step_windows(n_step):
    memory = PrioritizedMemory(100, n_step=n_step, gamma=GAMMA)
    env = gymnasium.vector.SyncVectorEnv([MaskedCorridor] * 2)
    driver = EnvDriver(env, read_masks=True)
    driver.reset(seed=0)
    for _ in range(12):
        memory.append(driver.step(np.full(2, 1 if driver.masks[0, 1] else 2)).valid_rows())
    sample = memory.sample(8, np.random.default_rng(0))
    cells = sample.next_obs.argmax(axis=1)
    expected = np.array([MaskedCorridor().legal_in(cell) for cell in cells])
    terminal = sample.discounts == 0
    np.testing.assert_array_equal(sample.next_masks[~terminal], expected[~terminal])
    restored = PrioritizedMemory(100, n_step=n_step, gamma=GAMMA)
    restored.load_state_dict(memory.state_dict())
    np.testing.assert_array_equal(
        restored.sample(8, np.random.default_rng(0)).next_masks, sample.next_masks
    )


def test_policies_never_choose_a_masked_action():
    rng = np.random.default_rng(0)
    q = np.tile([[5.0, 1.0, 0.0, 9.0]], (500, 1))
    masks = np.tile([[False, True, True, False]], (500, 1))
    masks[::2, 2] = False
    assert set(GreedyQPolicy().select_action(q, rng, masks)) == {1}
    explored = EpsGreedyQPolicy(1.0).select_action(q, rng, masks)
    assert set(explored[::2]) == {1} and set(explored[1::2]) == {1, 2}
    sampled = BoltzmannQPolicy(10.0).select_action(q, rng, masks)
    assert set(sampled[::2]) == {1} and set(sampled[1::2]) == {1, 2}
    with pytest.raises(ValueError, match="legal action in every row"):
        GreedyQPolicy().select_action(q[:1], rng, np.zeros((1, 4), dtype=bool))


def test_bad_masks_get_clear_errors():
    acting = np.ones(2, dtype=bool)
    with pytest.raises(ValueError, match=r"\(2, 4\) bools"):
        checked_masks(np.ones((2, 3)), 2, 4, acting)
    with pytest.raises(ValueError, match=r"\(2, 4\) bools"):
        checked_masks(np.full((2, 4), 0.5), 2, 4, acting)
    with pytest.raises(ValueError, match="sub-env 1 allows no action"):
        checked_masks(np.array([[1, 0, 0, 0], [0, 0, 0, 0]]), 2, 4, acting)
    # A row that is not acted in (a NEXT_STEP vector env's final state) may allow none.
    checked_masks(np.array([[1, 0, 0, 0], [0, 0, 0, 0]]), 2, 4, np.array([True, False]))
    # Sub-envs of a vector env whose info lacks the key allow every action.
    told = info_masks({"action_mask": np.zeros((2, 2), bool), "_action_mask": [True, False]},
                      True, 2)  # fmt: skip
    np.testing.assert_array_equal(told, [[False, False], [True, True]])


def test_an_agent_choosing_a_masked_action_is_stopped_with_the_legal_ones():
    agent = dqn()
    agent.forward = lambda obs, masks: np.array([3])  # a buggy subclass
    with pytest.raises(
        ValueError, match=r"action 3 of sub-env 0 is masked out; legal there: \[1\]"
    ):
        agent.fit(MaskedCorridor(), nb_steps=10, verbose=0)


def test_agents_without_mask_support_ignore_masks():
    # Taxi's info masks are advice: an agent without `uses_action_masks` acts as it likes.
    keras.utils.set_random_seed(0)
    agent = SARSAAgent(mlp((6,), 4, 8), 4, policy=EpsGreedyQPolicy(1.0))
    agent.compile("adam")
    env = MaskedCorridor()
    agent.fit(env, nb_steps=200, verbose=0, seed=0)
    assert env.illegal_actions > 0


@pytest.mark.parametrize("mode", ["NEXT_STEP", "SAME_STEP"])
@pytest.mark.parametrize("env_class", CONVENTIONS, ids=["info", "method"])
def test_a_vector_envs_final_masks_and_reset_masks_are_told_apart(mode, env_class):
    autoreset = getattr(gymnasium.vector.AutoresetMode, mode)
    env = gymnasium.vector.SyncVectorEnv([env_class] * 2, autoreset_mode=autoreset)
    driver = EnvDriver(env, read_masks=True)
    driver.reset(seed=0)
    for action in (1, 1, 2):
        driver.step(np.full(2, action))
    batch = driver.step(np.full(2, 1))  # into the goal, cell 5: terminated
    assert batch.terminated.all()
    final = MaskedCorridor().legal_in(5)
    if mode == "SAME_STEP" and env_class is MethodMaskedCorridor:
        final = np.ones(4, dtype=bool)  # the method only knows the reset state: all legal
    np.testing.assert_array_equal(batch.next_masks, [final, final])
    if mode == "SAME_STEP":
        np.testing.assert_array_equal(driver.masks, [MaskedCorridor().legal_in(0)] * 2)


def test_a_final_state_that_allows_no_action_does_not_stop_a_vector_run():
    # A NEXT_STEP vector env's row that only resets is acted in with the final state's mask,
    # which may allow nothing (a game over): the agent must not be given it.
    class NothingAtTheGoal(MaskedCorridor):
        def legal_in(self, cell: int) -> np.ndarray:
            return np.zeros(4, bool) if cell == self.LENGTH - 1 else super().legal_in(cell)

    env = gymnasium.vector.SyncVectorEnv([NothingAtTheGoal] * 2)
    agent = dqn()
    agent.fit(env, nb_steps=300, verbose=0, seed=0)
    assert agent.episode > 0
