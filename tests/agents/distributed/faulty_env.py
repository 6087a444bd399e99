"""A corridor whose step raises on demand, registered as FaultyCorridor-v0 (for fault tests).

Collectors are other processes: they make the env by the id `tests.agents.distributed.
faulty_env:FaultyCorridor-v0`, which imports this module there and registers the id.
"""

from __future__ import annotations

import os

import gymnasium

from tests.agents.toy_envs import Corridor

ENV_ID = "tests.agents.distributed.faulty_env:FaultyCorridor-v0"


class FaultyCorridor(Corridor):
    """`Corridor` whose `fail_at`-th step raises: once, if `marker` (a file) exists, or always.

    The first process to remove the marker raises; the others see it gone and go on, so a
    marker injects exactly one fault however many collectors run.
    """

    def __init__(self, marker: str = "", fail_at: int = 100, always: bool = False):
        super().__init__(length=5)
        self.marker, self.fail_at, self.always = marker, fail_at, always
        self.steps = 0

    def step(self, action: int):
        self.steps += 1
        if self.steps == self.fail_at and (self.always or self._take_marker()):
            raise RuntimeError("injected fault in the env's step")
        return super().step(action)

    def _take_marker(self) -> bool:
        try:
            os.remove(self.marker)
        except (FileNotFoundError, IsADirectoryError):
            return False
        return True


if "FaultyCorridor-v0" not in gymnasium.registry:
    gymnasium.register("FaultyCorridor-v0", entry_point=FaultyCorridor, max_episode_steps=50)
