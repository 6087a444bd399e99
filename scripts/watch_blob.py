"""Watch a saved agent play Blob in a pygame window, play it yourself, or record it.

    python scripts/watch_blob.py runs/dqn-Blob-v0-<time>/agent
    python scripts/watch_blob.py runs/dqn-Blob-v0-<time>/agent --record blob.gif
    python scripts/watch_blob.py PATH --episodes 3 --record blob.mp4 --no-window
    python scripts/watch_blob.py --human

The agent (DQN or Q-learning, from `agent.save` / train_blob.py) plays greedily, episode after
episode; the step, the return and the episode count are shown under the grid. With --human you
play: w/a/s/d move up/left/down/right, q/e/z/c (or two keys, as w+d) move diagonally, space
stays; each key press is one step. Esc or closing the window quits. --record writes the frames
shown (one per step, plus each episode's first) to a .gif or .mp4.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

import blobenv  # noqa: F401  (registers Blob-v0)

HUD_HEIGHT = 56
MIN_WIDTH = 360  # room for the text bar, which also makes every frame of a recording distinct
END_PAUSE_SECONDS = 1.0  # how long the window shows an episode's last frame
WINDOW_GRID_PX = 480  # the grid's side in pixels, unless --cell-px says otherwise
GRID_COLOUR = (48, 48, 48)
RECORD_FORMATS = (".gif", ".mp4")
HUMAN_KEYS = "w/a/s/d, q/e/z/c, space stays, Esc quits"


# --- the agent and its env ------------------------------------------------------------------


def load(path: str) -> Any:
    """Loads a saved agent.

    Raises:
        ValueError: If there is no saved agent at `path` or it cannot be loaded.
    """
    import agents

    try:
        return agents.load_agent(path)
    except (FileNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"cannot load an agent from {path!r}: {error}") from error


def blob_options_of(agent: Any) -> dict[str, Any]:
    """The Blob `size` and `obs_type` the agent was trained on, read from its input shape.

    Raises:
        ValueError: If the agent's observations are not Blob's (rgb images or coords).
    """
    from agents.qlearning import QLearningAgent

    if isinstance(agent, QLearningAgent):
        space = agent.observation_space
        nvec = np.asarray(getattr(space, "nvec", [0])).reshape(-1)
        if len(nvec) == 4 and (nvec == nvec[0]).all() and nvec[0] % 2 == 1:
            return {"size": int(nvec[0] + 1) // 2, "obs_type": "coords"}
        raise ValueError(f"the Q-learning agent's observations are {space}, not Blob's coords")
    shape = tuple(agent.model.input_shape[1:])
    if len(shape) == 3 and shape[0] == shape[1] and shape[2] == 3:
        return {"size": int(shape[0]), "obs_type": "rgb"}
    raise ValueError(f"the agent takes observations of shape {shape}, not Blob's rgb images")


def make_env(options: dict[str, Any], agent: Any = None) -> gymnasium.Env:
    """A Blob env rendering rgb frames, checked against the agent's spaces when one is given.

    Raises:
        ValueError: If the options are invalid or the agent cannot act in this env.
    """
    from agents.env_driver import EnvDriver

    try:
        env = gymnasium.make("Blob-v0", render_mode="rgb_array", **options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"cannot make Blob-v0 with {options}: {error}") from error
    if agent is not None:
        try:
            agent.check_env(EnvDriver(env))
        except ValueError as error:
            env.close()
            raise ValueError(f"the agent does not fit this env: {error}") from error
    return env


def agent_policy(agent: Any) -> Callable[[np.ndarray], int]:
    """The agent's greedy action for one observation."""
    agent.training = False
    return lambda obs: int(agent.forward(np.asarray(obs)[None])[0])


def human_action(held: Sequence[int], keys_to_action: dict[tuple[str, ...], int]) -> int | None:
    """The action for the keys held at a key press (pygame key codes, the new one last), or None.

    The keys held together are looked up in the env's `get_keys_to_action` table; if that
    combination means nothing, the last key pressed alone is.
    """
    codes = {tuple(sorted(ord(k) for k in keys)): action for keys, action in keys_to_action.items()}
    for combination in (tuple(sorted(held)), tuple(held[-1:])):
        if combination in codes:
            return codes[combination]
    return None


# --- the window and the recording -----------------------------------------------------------


class Screen:
    """Draws frames with a text bar under them, to a pygame window and/or a recording.

    Args:
        cells: Cells per side of the grid.
        cell_px: Pixels per cell side in the env's frames.
        window: Open a window (else frames are only composed, for the recording).
        fps: Frames per second in the window (None: as fast as possible).
        title: The window's caption.
    """

    def __init__(self, cells: int, cell_px: int, window: bool, fps: float | None, title: str):
        try:
            import pygame
        except ImportError as error:
            raise ValueError("watch_blob.py needs pygame: pip install pygame") from error
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
                    f"cannot open a window ({error}); without a display, use --no-window with "
                    "--record and --episodes"
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


class Recorder:
    """Writes frames to a .gif (imageio) or .mp4 (OpenCV) file, atomically on `close`.

    Args:
        path: The file to write; its extension chooses the format.
        fps: Frames per second of the recording.

    Raises:
        ValueError: If the extension is neither .gif nor .mp4, or the directory is missing.
    """

    def __init__(self, path: str | os.PathLike, fps: float):
        self.path = Path(path)
        self.format = self.path.suffix.lower()
        if self.format not in RECORD_FORMATS:
            raise ValueError(f"--record must end in .gif or .mp4, got {str(self.path)!r}")
        if not self.path.parent.is_dir():
            raise ValueError(f"--record: no directory {str(self.path.parent)!r}")
        handle, self._temp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}-", suffix=self.format
        )
        os.close(handle)
        self.fps = fps
        self.frames = 0
        self._writer: Any = None

    def add(self, frame: np.ndarray) -> None:
        """Appends one rgb frame (all frames must have the first one's size)."""
        if self._writer is None:
            self._writer = self._open(frame.shape[1], frame.shape[0])
        if self.format == ".gif":
            self._writer.append_data(frame)
        else:
            self._writer.write(np.ascontiguousarray(frame[..., ::-1]))  # OpenCV wants BGR
        self.frames += 1

    def close(self) -> None:
        """Finishes the file and moves it into place (nothing is written without frames)."""
        if self._writer is not None:
            if self.format == ".gif":
                self._writer.close()
            else:
                self._writer.release()
            self._writer = None
            os.replace(self._temp, self.path)
        elif os.path.exists(self._temp):
            os.remove(self._temp)

    def _open(self, width: int, height: int) -> Any:
        if self.format == ".gif":
            import imageio

            return imageio.v2.get_writer(self._temp, mode="I", duration=1000 / self.fps, loop=0)
        import cv2

        return cv2.VideoWriter(
            self._temp, cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height)
        )


# --- the loop -------------------------------------------------------------------------------


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


# --- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The parser of watch_blob.py."""
    parser = argparse.ArgumentParser(
        prog="watch_blob.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", help="a saved agent's directory (not with --human)")
    parser.add_argument(
        "--human", action="store_true", help="play yourself with the keyboard instead of an agent"
    )
    parser.add_argument(
        "--episodes", type=int, default=0, help="episodes to play; 0 plays until you quit (default)"
    )
    parser.add_argument(
        "--fps",
        type=float,
        default=10.0,
        help="moves per second in the window and the recording (default: 10)",
    )
    parser.add_argument(
        "--seed", type=int, help="episode i starts from reset(seed=SEED + i) (default: random)"
    )
    parser.add_argument("--record", help="also write the frames to this .gif or .mp4 file")
    parser.add_argument(
        "--no-window", action="store_true", help="open no window (with --record and --episodes)"
    )
    parser.add_argument("--size", type=int, help="Blob grid size (default: the agent's, else 10)")
    parser.add_argument("--moving-food", action="store_true", help="the food moves (BlobMoving)")
    parser.add_argument("--moving-enemy", action="store_true", help="the enemy moves (BlobMoving)")
    parser.add_argument(
        "--cell-px",
        type=int,
        help=f"pixels per cell (default: about {WINDOW_GRID_PX} pixels for the whole grid)",
    )
    return parser


def check_args(args: argparse.Namespace) -> None:
    """Raises ValueError for options that contradict each other or are out of range."""
    if args.human == (args.path is not None):
        raise ValueError("give a saved agent's PATH, or --human to play yourself (not both)")
    if args.no_window and (args.human or not args.record or args.episodes < 1):
        raise ValueError("--no-window needs --record and --episodes >= 1, and no --human")
    if args.episodes < 0:
        raise ValueError(f"--episodes must be >= 0, got {args.episodes}")
    if not args.fps > 0:
        raise ValueError(f"--fps must be > 0, got {args.fps}")
    if args.record and Path(args.record).suffix.lower() not in RECORD_FORMATS:
        raise ValueError(f"--record must end in .gif or .mp4, got {args.record!r}")


def watch(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Runs watch_blob.py with parsed arguments; returns the finished episodes.

    Raises:
        ValueError: If the agent cannot be loaded or does not fit the env, or an option is bad.
    """
    agent = None if args.human else load(args.path)
    options = blob_options_of(agent) if agent is not None else {"size": 10}
    if args.size is not None:
        options["size"] = args.size
    grid = options["size"]
    cell_px = args.cell_px or max(1, min(100, WINDOW_GRID_PX // max(grid, 1)))
    options.update(moving_food=args.moving_food, moving_enemy=args.moving_enemy, cell_px=cell_px)
    env = make_env(options, agent)
    recorder = screen = None
    try:
        recorder = Recorder(args.record, args.fps) if args.record else None
        title = f"Blob: you play ({HUMAN_KEYS})" if args.human else f"Blob: {args.path}"
        fps = None if args.no_window else args.fps
        screen = Screen(grid, cell_px, not args.no_window, fps, title)
        policy = None if agent is None else agent_policy(agent)
        who = "you" if agent is None else "agent"
        return play(env, screen, policy, args.episodes, args.seed, recorder, who)
    finally:
        if screen is not None:
            screen.close()
        if recorder is not None:
            recorder.close()
        env.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Runs watch_blob.py; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_args(args)
    except ValueError as error:
        parser.error(str(error))
    try:
        finished = watch(args)
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    for i, episode in enumerate(finished):
        outcome = "success" if episode["success"] else "failure"
        print(
            f"episode {i + 1}: return {episode['return']:g} in {episode['steps']} steps, {outcome}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
