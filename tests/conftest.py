"""Test-wide settings: headless pygame, quiet TensorFlow, and one XLA compilation cache.

The cache (TensorFlow's persistent XLA cache, in a fresh temporary directory per test session)
lets the many small agents the tests build, in this process and in the scripts they run, reuse
each other's compiled steps: the same network and shapes compile once per session. It is set
before TensorFlow is first imported, which is when TensorFlow reads `TF_XLA_FLAGS`.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

_XLA_CACHE = tempfile.mkdtemp(prefix="blobenv-tests-xla-")
atexit.register(shutil.rmtree, _XLA_CACHE, ignore_errors=True)
os.environ["TF_XLA_FLAGS"] = " ".join(
    [os.environ.get("TF_XLA_FLAGS", ""), f"--tf_xla_persistent_cache_directory={_XLA_CACHE}"]
).strip()
