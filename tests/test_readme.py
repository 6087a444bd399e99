"""Every Python block of README.md runs, with its training budgets cut by the prelude below."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", README.read_text(), flags=re.DOTALL | re.MULTILINE)

#: Run before each block: the presets' budgets and the runs' settings cut to seconds, a fast
#: window. Everything else (calls, arguments, names) is the README's own.
PRELUDE = """
import dataclasses
from agents import presets, training
import blobenv

_config = presets.config
def _small(agent, env_id, **overrides):
    config = _config(agent, env_id, **overrides)
    return dataclasses.replace(config, steps=min(config.steps, 300))
presets.config = _small

_train, _resume = training.train, training.resume
def _cut(settings):
    settings.setdefault("val_episodes", 20)
    settings.setdefault("eval_episodes", 20)
    return settings
training.train = lambda env_id="Blob-v0", agent="dqn", steps=None, seed=0, **kw: _train(
    env_id, agent, min(steps or 300, 300), seed, **_cut(kw))
training.resume = lambda run_dir, steps=None, **kw: _resume(
    run_dir, None if steps is None else min(steps, 400), **{**kw, "eval_episodes": 20})
blobenv.BlobEnv.metadata["render_fps"] = 1000
"""


def test_the_readme_has_the_examples_this_test_runs():
    assert len(BLOCKS) >= 3
    assert any("presets.build" in block for block in BLOCKS)
    assert any("training.resume" in block for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block, tmp_path):
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + "\n" + block],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
