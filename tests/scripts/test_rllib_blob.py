"""scripts/rllib_blob.py: RLlib's PPO on Blob-v0 by its id (needs ray[rllib] and torch)."""

import subprocess
import sys

import pytest

from tests.scripts.conftest import REPO


@pytest.mark.slow
def test_rllib_ppo_trains_on_blob_by_its_id_and_prints_its_curve(tmp_path):
    pytest.importorskip("ray.rllib", reason="ray[rllib] is not installed (RLlib pins gymnasium)")
    pytest.importorskip("torch", reason="RLlib's PPO needs torch")
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "rllib_blob.py"), "--env-steps", "6000"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if "env steps" in line]
    assert len(lines) >= 3
    assert int(lines[-1].split()[0]) >= 6000
    assert "mean return" in lines[-1]
