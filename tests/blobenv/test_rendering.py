from __future__ import annotations

import sys

import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

from blobenv import rendering


def test_rgb_frame_scales_each_cell_to_a_square_of_cell_px():
    image = np.zeros((3, 3, 3), dtype=np.uint8)
    image[1, 2] = (0, 175, 255)
    frame = rendering.rgb_frame(image, 4)
    assert frame.shape == (12, 12, 3) and frame.dtype == np.uint8
    assert (frame[4:8, 8:12] == (0, 175, 255)).all()
    frame[4:8, 8:12] = 0
    assert not frame.any()


def test_ansi_text_draws_player_over_enemy_over_food():
    text = rendering.ansi_text((0, 0), (2, 1), (1, 2), 3)
    assert text == "P..\n..F\n.E.\n"
    assert rendering.ansi_text((1, 1), (1, 1), (0, 0), 3) == "E..\n.P.\n...\n"
    assert rendering.ansi_text((0, 0), (1, 1), (1, 1), 3) == "P..\n.E.\n...\n"


def test_check_render_mode_and_cell_px():
    assert rendering.check_render_mode(None, ["ansi"]) is None
    assert rendering.check_render_mode("ansi", ["ansi"]) == "ansi"
    with pytest.raises(ValueError, match=r"None or one of \['human', 'ansi'\], got 'rgb'"):
        rendering.check_render_mode("rgb", ["human", "ansi"])
    assert rendering.check_cell_px(np.int64(7)) == 7
    with pytest.raises(ValueError, match="from 1 to 100, got 0"):
        rendering.check_cell_px(0)
    with pytest.raises(TypeError, match="cell_px must be an int"):
        rendering.check_cell_px(2.5)


def test_human_window_shows_frames_titles_and_closes_twice():
    import pygame

    frame = np.zeros((20, 30, 3), dtype=np.uint8)
    frame[5, 7] = (0, 175, 255)
    window = rendering.HumanWindow(30, 20, fps=1000)
    try:
        window.show(frame, "Blob  step 3  return -3")
        shown = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
        np.testing.assert_array_equal(shown, frame)
        assert pygame.display.get_caption()[0] == "Blob  step 3  return -3"
    finally:
        window.close()
    assert not window.is_open and not pygame.display.get_init()
    window.close()
    window.show(frame, "ignored once closed")


def test_human_window_closes_when_the_user_closes_it():
    import pygame

    window = rendering.HumanWindow(10, 10, fps=1000)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    window.show(np.zeros((10, 10, 3), dtype=np.uint8), "t")
    assert not window.is_open
    window.close()


def test_human_window_without_pygame_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)
    with pytest.raises(DependencyNotInstalled, match="pip install pygame"):
        rendering.HumanWindow(10, 10, fps=10)
