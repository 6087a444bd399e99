"""The Blob viewer: a person plays with the env's keys; the viewer needs pygame only when used."""

from __future__ import annotations

import gymnasium
import pygame

import blobenv  # noqa: F401  (registers Blob-v0)
from blobenv.viewer import Screen, human_action, play
from tests.fresh_interpreter import modules_loaded_by

KEYS = gymnasium.make("Blob-v0").unwrapped.get_keys_to_action()


class ActionLog(gymnasium.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.actions = []

    def step(self, action):
        self.actions.append(action)
        return self.env.step(action)


def test_a_person_plays_with_the_envs_keys():
    env = ActionLog(gymnasium.make("Blob-v0", render_mode="rgb_array", cell_px=4))
    screen = Screen(10, 4, window=True, fps=None, title="test")
    for key in (pygame.K_d, pygame.K_x, pygame.K_s):  # right, a key that means nothing, down
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key))
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key))
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert play(env, screen, None, episodes=1, seed=5) == []
    screen.close()
    assert env.actions == [KEYS[("d",)], KEYS[("s",)]]


def test_human_keys_follow_the_envs_mapping():
    assert human_action([ord("w")], KEYS) == 7
    assert human_action([ord("w"), ord("d")], KEYS) == 3  # held together: the diagonal
    assert human_action([ord("x"), ord("d")], KEYS) == 4  # unknown combination: the last key
    assert human_action([ord(" ")], KEYS) == 8
    assert human_action([ord("x")], KEYS) is None


def test_importing_the_viewer_and_recorder_loads_no_pygame_opencv_or_imageio():
    code = "import blobenv.viewer, blobenv.recorder"
    assert modules_loaded_by(code, ("pygame", "cv2", "imageio")) == []
