"""The Blob grid game for Gymnasium: a single env, a native vector env, and its exact solver.

Importing the package registers ``Blob-v0`` and its variants (see ``blobenv.registration``).
"""

from __future__ import annotations

from blobenv.blob_env import BlobEnv
from blobenv.registration import register_envs
from blobenv.vector_env import BlobVectorEnv

__all__ = ["BlobEnv", "BlobVectorEnv", "register_envs"]

register_envs()
