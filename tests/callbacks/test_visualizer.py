import gymnasium
import numpy as np
import pytest

from agents.core import Agent
from callbacks import Visualizer
from tests.callbacks.fake_agent import FakeAgent, run


class CountingEnv:
    """Records render calls; returns an RGB frame like render_mode="rgb_array"."""

    render_mode = "rgb_array"

    def __init__(self):
        self.renders = 0

    def render(self):
        self.renders += 1
        return np.full((2, 2, 3), self.renders, dtype=np.uint8)


def test_the_env_is_rendered_after_every_step():
    env = CountingEnv()
    visualizer = Visualizer()
    run(FakeAgent(env=env), [visualizer], [3, 4])
    assert env.renders == 7
    assert visualizer.last_frame[0, 0, 0] == 7


def test_ansi_frames_are_printed(capsys):
    env = gymnasium.make("FrozenLake-v1", render_mode="ansi")
    env.reset(seed=0)
    run(FakeAgent(env=env), [Visualizer()], [2])
    out = capsys.readouterr().out
    assert out.count("FHFH\nFFFH\nHFFG") == 2


def test_an_env_without_render_mode_is_rejected_at_the_start():
    env = gymnasium.make("FrozenLake-v1")
    with pytest.raises(ValueError, match="needs an env made with a render_mode"):
        run(FakeAgent(env=env), [Visualizer()], [2])


def test_an_agent_without_env_is_rejected_at_the_start():
    with pytest.raises(ValueError, match="needs agent.env"):
        run(FakeAgent(env=None), [Visualizer()], [2])


class RenderedCorridor(gymnasium.Env):
    """A corridor of `length` cells walked to the right; renders a frame like "rgb_array"."""

    metadata = {"render_modes": ["rgb_array"]}
    render_mode = "rgb_array"
    observation_space = gymnasium.spaces.Box(0, 1, (1,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self, length: int):
        self.length, self.position = length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.position += 1
        done = self.position == self.length
        return np.zeros(1, np.float32), float(done), done, False, {}

    def render(self):
        return np.zeros((2, 2, 3), dtype=np.uint8)


class CountingVectorEnv(gymnasium.vector.SyncVectorEnv):
    """Counts batched steps and renders."""

    def __init__(self, env_fns):
        super().__init__(env_fns)
        self.steps = self.renders = 0

    def step(self, actions):
        self.steps += 1
        return super().step(actions)

    def render(self):
        self.renders += 1
        return super().render()


class AlwaysRight(Agent):
    """Moves right; learns nothing."""

    def __init__(self):
        super().__init__()
        self.compiled = True

    def forward(self, obs):
        return np.ones(len(obs), dtype=np.int64)

    def backward(self, batch):
        return {}


def test_a_vector_env_is_rendered_once_per_batched_env_step_across_autoresets():
    env = CountingVectorEnv([lambda: RenderedCorridor(2), lambda: RenderedCorridor(3)])
    AlwaysRight().fit(env, nb_episodes=5, callbacks=[Visualizer()], verbose=0)
    assert env.steps == 8
    assert env.renders == env.steps
