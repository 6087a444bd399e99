import gymnasium
import numpy as np
import pytest

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


def test_a_vector_env_is_rendered_once_per_batched_step():
    env = CountingEnv()
    agent = FakeAgent()
    agent.env = env
    visualizer = Visualizer()
    visualizer.set_model(agent)
    visualizer.set_params({"num_envs": 4, "mode": "train"})
    visualizer.on_train_begin({})
    for step in range(12):
        visualizer.on_step_end(step, {})
    assert env.renders == 3


def test_an_env_without_render_mode_is_rejected_at_the_start():
    env = gymnasium.make("FrozenLake-v1")
    with pytest.raises(ValueError, match="needs an env made with a render_mode"):
        run(FakeAgent(env=env), [Visualizer()], [2])


def test_an_agent_without_env_is_rejected_at_the_start():
    with pytest.raises(ValueError, match="needs agent.env"):
        run(FakeAgent(env=None), [Visualizer()], [2])
