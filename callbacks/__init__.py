"""Keras callbacks for agents: TensorBoard, loggers, checkpoints, evaluation, stopping, rendering.

Every class subclasses `keras.callbacks.Callback` and is driven by `agent.fit` / `agent.test`;
`ModifiedTensorBoard` also works with a plain Keras `model.fit`. `import callbacks` is cheap:
Keras (and TensorFlow) are imported when a class is first looked up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # names for type checkers and IDEs; at run time __getattr__ imports them
    from callbacks.checkpoint import ModelIntervalCheckpoint
    from callbacks.evaluation import PeriodicEvaluation
    from callbacks.loggers import FileLogger, TrainEpisodeLogger, TrainIntervalLogger
    from callbacks.periodic_checkpoint import PeriodicCheckpoint
    from callbacks.signals import StopOnSignal
    from callbacks.stopping import StopOnRewardThreshold
    from callbacks.tensorboard import ModifiedTensorBoard
    from callbacks.visualizer import Visualizer

__all__ = [
    "FileLogger",
    "ModelIntervalCheckpoint",
    "ModifiedTensorBoard",
    "PeriodicCheckpoint",
    "PeriodicEvaluation",
    "StopOnRewardThreshold",
    "StopOnSignal",
    "TrainEpisodeLogger",
    "TrainIntervalLogger",
    "Visualizer",
]

_MODULES = {
    "FileLogger": "callbacks.loggers",
    "ModelIntervalCheckpoint": "callbacks.checkpoint",
    "ModifiedTensorBoard": "callbacks.tensorboard",
    "PeriodicCheckpoint": "callbacks.periodic_checkpoint",
    "PeriodicEvaluation": "callbacks.evaluation",
    "StopOnRewardThreshold": "callbacks.stopping",
    "StopOnSignal": "callbacks.signals",
    "TrainEpisodeLogger": "callbacks.loggers",
    "TrainIntervalLogger": "callbacks.loggers",
    "Visualizer": "callbacks.visualizer",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(f"module 'callbacks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
