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
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from blobenv.recorder import FORMATS, Recorder
from blobenv.viewer import HUMAN_KEYS, Screen, play

WINDOW_GRID_PX = 480  # the grid's side in pixels, unless --cell-px says otherwise


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
    if args.record and Path(args.record).suffix.lower() not in FORMATS:
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
    # Before pygame starts: SDL would otherwise turn SIGTERM into a quit, exit status 0.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        finished = watch(args)
    except ValueError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:  # the recording so far is closed and kept
        return 128 + (interrupt.args[0] if interrupt.args else signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
    for i, episode in enumerate(finished):
        outcome = "success" if episode["success"] else "failure"
        print(
            f"episode {i + 1}: return {episode['return']:g} in {episode['steps']} steps, {outcome}"
        )
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM's handler: a KeyboardInterrupt carrying the signal's number."""
    raise KeyboardInterrupt(signum)


if __name__ == "__main__":
    sys.exit(main())
