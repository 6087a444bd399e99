"""Shared fixtures: running or loading a script, and one tiny trained agent per session."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]

#: A DQN run small enough to finish in seconds: 5 x 5 Blob, updates from step 20.
TINY_DQN = ["--steps", "60", "--warmup", "20", "--batch-size", "8", "--memory-size", "100"]
TINY_DQN += ["--hidden-units", "16", "--size", "5", "--eval-episodes", "6", "--num-envs", "1"]
TINY_DQN += ["--val-episodes", "6"]


def run_script(name: str, *args: str, cwd: Path, timeout: float = 240):
    """Runs scripts/<name> with `args` in `cwd` (headless pygame, quiet TensorFlow)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def load_script(name: str) -> ModuleType:
    """Imports scripts/<name>.py as a module, for its `main` (scripts are files, not a package)."""
    spec = importlib.util.spec_from_file_location(f"script_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished `train_blob.py` run of the tiny DQN: (completed process, its run dir)."""
    cwd = tmp_path_factory.mktemp("train")
    done = run_script("train_blob.py", *TINY_DQN, "--logdir", "logs", cwd=cwd)
    assert done.returncode == 0, done.stderr
    (run_dir,) = (cwd / "logs").iterdir()
    return done, run_dir
