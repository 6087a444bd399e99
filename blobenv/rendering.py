"""Rendering the Blob game: a scaled rgb frame, a text grid, and a pygame window.

OpenCV and pygame are imported only inside the functions that need them, so that importing
``blobenv`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import logger
from gymnasium.error import DependencyNotInstalled, ResetNeeded


def check_render_mode(render_mode: object, render_modes: Sequence[str]) -> str | None:
    """Validate a render mode against an env's ``metadata["render_modes"]``.

    Args:
        render_mode: The requested mode, or ``None`` for no rendering.
        render_modes: The modes the env supports.

    Returns:
        ``render_mode``.

    Raises:
        ValueError: ``render_mode`` is neither ``None`` nor one of ``render_modes``.
    """
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(
            f"render_mode must be None or one of {list(render_modes)}, got {render_mode!r}"
        )
    return render_mode


def can_render(render_mode: str | None, started: bool, example: str) -> bool:
    """Whether an env's ``render()`` has anything to do, the same rule for every Blob env.

    Args:
        render_mode: The env's render mode.
        started: Whether ``reset`` has been called.
        example: How to make the env with a render mode, for the warning.

    Returns:
        False (after Gymnasium's warning) when the env has no render mode, else True.

    Raises:
        gymnasium.error.ResetNeeded: The env has a render mode but was not reset yet.
    """
    if render_mode is None:
        logger.warn(
            "render() was called without a render_mode; pass one when creating the env, "
            f"e.g. {example}"
        )
        return False
    if not started:
        raise ResetNeeded("Call reset() before render(): the game has not started")
    return True


def check_cell_px(cell_px: object) -> int:
    """Validate the size of a cell in rendered frames.

    Args:
        cell_px: Pixels per cell side.

    Returns:
        ``cell_px`` as an ``int``.

    Raises:
        TypeError: ``cell_px`` is not an integer.
        ValueError: ``cell_px`` is outside 1 to 100.
    """
    if isinstance(cell_px, bool) or not isinstance(cell_px, (int, np.integer)):
        raise TypeError(f"cell_px must be an int, got {cell_px!r} ({type(cell_px).__name__})")
    if not 1 <= cell_px <= 100:
        raise ValueError(f"cell_px must be an int from 1 to 100, got {cell_px}")
    return int(cell_px)


def rgb_frame(image: np.ndarray, cell_px: int) -> np.ndarray:
    """Scale a grid image up so that each cell is ``cell_px`` pixels square.

    Args:
        image: A ``(size, size, 3)`` uint8 grid image.
        cell_px: Pixels per cell side.

    Returns:
        A ``(size * cell_px, size * cell_px, 3)`` uint8 frame (nearest-neighbour scaling).
    """
    import cv2  # only rendering needs OpenCV

    height, width = image.shape[:2]
    return cv2.resize(image, (width * cell_px, height * cell_px), interpolation=cv2.INTER_NEAREST)


def ansi_text(
    player: tuple[int, int], food: tuple[int, int], enemy: tuple[int, int], size: int
) -> str:
    """Draw one game as text: ``.`` empty, ``F`` food, ``E`` enemy, ``P`` player (on top).

    Args:
        player: The player's ``(x, y)``.
        food: The food's ``(x, y)``.
        enemy: The enemy's ``(x, y)``.
        size: The grid size.

    Returns:
        ``size`` lines of ``size`` characters, row = y, each line ending in a newline.
    """
    rows = [["."] * size for _ in range(size)]
    for (x, y), mark in ((food, "F"), (enemy, "E"), (player, "P")):
        rows[y][x] = mark
    return "".join("".join(row) + "\n" for row in rows)


class HumanWindow:
    """A pygame window that shows rgb frames at a fixed rate.

    It pumps pygame's events on every frame so the window stays responsive. When the user closes
    it, it stays closed and later frames are dropped.
    """

    def __init__(self, width: int, height: int, fps: int) -> None:
        """Open the window.

        Args:
            width: Window width in pixels.
            height: Window height in pixels.
            fps: Frames per second that :meth:`show` keeps to.

        Raises:
            gymnasium.error.DependencyNotInstalled: pygame is not installed.
        """
        try:
            import pygame
        except ImportError as e:
            raise DependencyNotInstalled(
                'pygame is needed for render_mode="human": run `pip install pygame`'
            ) from e
        self._pygame: Any = pygame
        self._fps = fps
        # SDL's GL-accelerated framebuffer loads Mesa's LLVM, which crashes a process that has
        # TensorFlow loaded (an agent being watched); the plain framebuffer is fast enough.
        os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
        pygame.display.init()
        self._screen = pygame.display.set_mode((width, height))
        self._clock = pygame.time.Clock()

    @property
    def is_open(self) -> bool:
        """Whether the window is still open."""
        return self._screen is not None

    def show(self, frame: np.ndarray, caption: str) -> None:
        """Display one frame, then wait for the frame's turn at ``fps``.

        Args:
            frame: A ``(height, width, 3)`` uint8 rgb frame.
            caption: The window title.
        """
        if self._screen is None:
            return
        pygame = self._pygame
        if any(event.type == pygame.QUIT for event in pygame.event.get()):
            self.close()
            return
        # pygame surfaces are indexed (x, y), images (row, column).
        surface = pygame.surfarray.make_surface(frame.swapaxes(0, 1))
        self._screen.blit(surface, (0, 0))
        pygame.display.set_caption(caption)
        pygame.display.flip()
        self._clock.tick(self._fps)

    def close(self) -> None:
        """Close the window; closing twice is harmless."""
        if self._screen is not None:
            self._screen = None
            self._pygame.display.quit()
