from __future__ import annotations

import json

import cv2
import gymnasium
import imageio.v3 as iio
import pygame
import pytest

import agents
from agents.evaluation import evaluate
from agents.qlearning import QLearningAgent
from blobenv import viewer
from blobenv.viewer import Screen, play
from tests.scripts.conftest import load_script, run_script

watch_blob = load_script("watch_blob")


def saved_agent(tiny_run) -> str:
    _, run_dir = tiny_run
    return json.loads((run_dir / "results.json").read_text())["saved_agent"]


def greedy_lengths(path, seeds, **env_kwargs) -> list[int]:
    return evaluate(agents.load_agent(path), "Blob-v0", seeds, **env_kwargs).lengths.tolist()


@pytest.fixture(scope="module")
def qlearning_agent(tmp_path_factory) -> str:
    """A Q-learning agent trained briefly on 4 x 4 Blob, saved: its directory."""
    env = gymnasium.make("Blob-v0", size=4, obs_type="coords")
    agent = QLearningAgent(env.observation_space, 9, seed=0)
    agent.fit(env, nb_steps=300, verbose=0, seed=0)
    path = tmp_path_factory.mktemp("watch") / "q"
    agent.save(path)
    return str(path)


def test_gif_recording_holds_one_frame_per_step_plus_each_first_frame(qlearning_agent, tmp_path):
    argv = [qlearning_agent, "--episodes", "2", "--seed", "3", "--record", "out.gif"]
    done = run_script("watch_blob.py", *argv, "--no-window", "--cell-px", "6", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lengths = greedy_lengths(qlearning_agent, [3, 4], size=4, obs_type="coords")
    frames = iio.imread(tmp_path / "out.gif", index=None)
    height, width = 4 * 6 + viewer.HUD_HEIGHT, viewer.MIN_WIDTH
    assert frames.shape == (sum(lengths) + 2, height, width, 3)
    assert "episode 2: return" in done.stdout and f"in {lengths[1]} steps" in done.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["out.gif"]  # no temporary file left


def test_mp4_recording_of_a_dqn_agent(tiny_run, tmp_path):
    path = saved_agent(tiny_run)
    argv = [path, "--episodes", "1", "--seed", "7", "--no-window", "--cell-px", "8"]
    assert watch_blob.main([*argv, "--record", str(tmp_path / "dqn.mp4")]) == 0
    video = cv2.VideoCapture(str(tmp_path / "dqn.mp4"))
    frames = 0
    while video.read()[0]:
        frames += 1
    video.release()
    (length,) = greedy_lengths(path, [7], size=5)
    assert frames == length + 1


def test_window_shows_frames_until_escape_or_close(tiny_run):
    agent = agents.load_agent(saved_agent(tiny_run))
    env = gymnasium.make("Blob-v0", size=5, render_mode="rgb_array", cell_px=4)
    for quit_event in (
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE),
        pygame.event.Event(pygame.QUIT),
    ):
        screen = Screen(5, 4, window=True, fps=None, title="test")
        pygame.event.post(quit_event)
        assert play(env, screen, watch_blob.agent_policy(agent), episodes=0, seed=0) == []
        screen.close()
    env.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing-dir", "--no-window", "--record", "x.gif", "--episodes", "1"], "cannot load"),
        (["AGENT", "--size", "7", "--no-window", "--record", "x.gif", "--episodes", "1"],
         "the agent does not fit this env"),
    ],
)  # fmt: skip
def test_missing_or_mismatched_agent_exits_with_a_message(argv, message, tiny_run, capsys):
    argv = [saved_agent(tiny_run) if arg == "AGENT" else arg for arg in argv]
    assert watch_blob.main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give a saved agent's PATH, or --human"),
        (["--human", "--no-window"], "--no-window needs --record and --episodes >= 1"),
        (["some/agent", "--no-window"], "--no-window needs --record and --episodes >= 1"),
        (["some/agent", "--human"], "give a saved agent's PATH, or --human"),
        (["some/agent", "--record", "x.avi"], "--record must end in .gif or .mp4"),
    ],
)
def test_contradicting_options_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        watch_blob.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
