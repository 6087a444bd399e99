"""A window for watching or playing Blob: frames with a text bar under them, and the play loop.

`Screen` composes each frame with its text bar (for a window, a recording, or both); `play` runs
episodes with a policy or with a person at the keyboard (the env's `get_keys_to_action` keys).
pygame is imported when a `Screen` is made, so that importing `blobenv` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np

if TYPE_CHECKING:
    from blobenv.recorder import Recorder

HUD_HEIGHT = 56
MIN_WIDTH = 360  # room for the text bar, which also makes every frame of a recording distinct
END_PAUSE_SECONDS = 1.0  # how long the window shows an episode's last frame
GRID_COLOUR = (48, 48, 48)
HUMAN_KEYS = "w/a/s/d, q/e/z/c, space stays, Esc quits"


class Screen:
    """Draws frames with a text bar under them, to a pygame window and/or a recording.

    Args:
        cells: Cells per side of the grid.
        cell_px: Pixels per cell side in the env's frames.
        window: Open a window (else frames are only composed, for the recording).
        fps: Frames per second in the window (None: as fast as possible).
        title: The window's caption.

    Raises:
        ValueError: If pygame is missing or the window cannot be opened.
    """

    def __init__(self, cells: int, cell_px: int, window: bool, fps: float | None, title: str):
        try:
            import pygame
        except ImportError as error:
            raise ValueError("the Blob viewer needs pygame: pip install pygame") from error
        self._pygame = pygame
        pygame.font.init()
        grid_px = cells * cell_px
        self.size = (max(grid_px, MIN_WIDTH), grid_px + HUD_HEIGHT)
        self._grid_x = (self.size[0] - grid_px) // 2
        # Faint lines between cells, so that distances can be read (too busy on tiny cells).
        self._lines = [i * cell_px for i in range(1, cells)] if cell_px >= 8 else []
        self._font = pygame.font.Font(None, 22)
        self._canvas = pygame.Surface(self.size)
        self._window = None
        self._clock = pygame.time.Clock()
        self.fps = fps
        self.held: list[int] = []
        self.pressed: list[list[int]] = []
        self._quit = False
        if window:
            # The window only shows blitted surfaces: no OpenGL. Accelerated framebuffers make SDL
            # load OpenGL, and Mesa's brings LLVM, which clashes with TensorFlow's (a DQN agent
            # and an X11 window then crash with a segmentation fault).
            os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
            try:
                pygame.display.init()
                self._window = pygame.display.set_mode(self.size)
            except pygame.error as error:
                raise ValueError(
                    f"cannot open a window ({error}); without a display, draw with window=False "
                    "(watch_blob.py: --no-window with --record and --episodes)"
                ) from error
            pygame.display.set_caption(title)

    def draw(self, frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
        """Composes `frame` and the text `lines` under it; shows them; returns the rgb image."""
        pygame = self._pygame
        self._canvas.fill((32, 32, 32))
        self._canvas.blit(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), (self._grid_x, 0))
        x0, side = self._grid_x, frame.shape[0]
        for offset in self._lines:
            pygame.draw.line(self._canvas, GRID_COLOUR, (x0 + offset, 0), (x0 + offset, side - 1))
            pygame.draw.line(self._canvas, GRID_COLOUR, (x0, offset), (x0 + side - 1, offset))
        for i, line in enumerate(lines):
            text = self._font.render(line, True, (230, 230, 230))
            self._canvas.blit(text, (8, frame.shape[0] + 8 + 22 * i))
        if self._window is not None:
            self._window.blit(self._canvas, (0, 0))
            pygame.display.flip()
        return pygame.surfarray.array3d(self._canvas).swapaxes(0, 1).copy()

    def poll(self) -> bool:
        """Handles window events; False once the user has quit (Esc or closing the window).

        Each key press appends the keys held at that moment (the new one last) to `pressed`.
        """
        if self._window is None:
            return True
        pygame = self._pygame
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self._quit = True
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
                self._quit = True
            elif event.type == pygame.KEYDOWN:
                self.held = [*(k for k in self.held if k != event.key), event.key]
                self.pressed.append(list(self.held))
            elif event.type == pygame.KEYUP:
                self.held = [k for k in self.held if k != event.key]
        return not self._quit

    def wait(self) -> None:
        """Keeps to `fps` in the window."""
        if self._window is not None and self.fps:
            self._clock.tick(self.fps)

    def pause(self, seconds: float) -> bool:
        """Holds the window's picture for `seconds`; False if the user quits meanwhile."""
        if self._window is None:
            return True
        waited = 0
        while waited < seconds * 1000:
            if not self.poll():
                return False
            waited += self._clock.tick(30)
        self.pressed.clear()  # keys pressed during the pause don't move in the next episode
        return True

    def close(self) -> None:
        """Closes the window; closing twice is harmless."""
        if self._window is not None:
            self._window = None
            self._pygame.display.quit()


def human_action(held: Sequence[int], keys_to_action: dict[tuple[str, ...], int]) -> int | None:
    """The action for the keys held at a key press (pygame key codes, the new one last), or None.

    The keys held together are looked up in the env's `get_keys_to_action` table; if that
    combination means nothing, the last key pressed alone is.

    Args:
        held: The key codes held, in the order they were pressed.
        keys_to_action: The env's table of key combinations to actions.

    Returns:
        The action, or None if the keys mean none.
    """
    codes = {tuple(sorted(ord(k) for k in keys)): action for keys, action in keys_to_action.items()}
    for combination in (tuple(sorted(held)), tuple(held[-1:])):
        if combination in codes:
            return codes[combination]
    return None


def play(
    env: gymnasium.Env,
    screen: Screen,
    policy: Callable[[np.ndarray], int] | None,
    episodes: int,
    seed: int | None = None,
    recorder: Recorder | None = None,
    who: str = "agent",
) -> list[dict[str, Any]]:
    """Plays episodes, drawing (and recording) every frame, until done or the user quits.

    Args:
        env: A Blob env with render_mode "rgb_array".
        screen: Where frames go.
        policy: Maps an observation to an action; None lets a person play with the keyboard.
        episodes: Episodes to play; 0 plays until the user quits.
        seed: Episode i starts from reset(seed=seed + i); None: random starts.
        recorder: Also records every frame drawn.
        who: Who plays ("agent" or "you"), for the text bar.

    Returns:
        One dict per finished episode: `return`, `steps` and `success`.
    """
    keys = env.unwrapped.get_keys_to_action()
    finished: list[dict[str, Any]] = []
    start = f"{who} to move: {HUMAN_KEYS}" if policy is None else f"{who} playing greedily"
    last = ""
    while not episodes or len(finished) < episodes:
        episode_seed = None if seed is None else seed + len(finished)
        obs, info = env.reset(seed=episode_seed)
        total, steps, done = 0.0, 0, False
        count = f"{len(finished) + 1}" + (f"/{episodes}" if episodes else "")
        while True:
            lines = [f"Episode {count}   Step {steps}   Return {total:g}", last or start]
            frame = screen.draw(env.render(), lines)
            if recorder is not None:
                recorder.add(frame)
            if done:
                break
            action = None
            while action is None:
                running = screen.poll()
                if policy is not None and running:
                    action = policy(obs)
                elif policy is None and screen.pressed:  # keys pressed before a quit count
                    action = human_action(screen.pressed.pop(0), keys)
                elif not running:
                    return finished
                screen.wait()
            obs, reward, terminated, truncated, info = env.step(action)
            total, steps = total + reward, steps + 1
            done = terminated or truncated
        outcome = "reached the food" if info["is_success"] else "failed"
        finished.append({"return": total, "steps": steps, "success": bool(info["is_success"])})
        last = f"{who}: last episode {outcome}, return {total:g} in {steps} steps"
        if not screen.pause(END_PAUSE_SECONDS):
            break
    return finished
