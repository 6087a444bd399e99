"""The settings of a training run (`agents.training`), checked before anything is made.

Each field is also an option of `scripts/train_blob.py`: its default and help are written here
once. A run's config is saved in its checkpoints (JSON, via `agents.options.to_json`), so that
`training.resume` goes on with the same settings.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from agents import presets
from agents.options import from_json, option, to_json
from agents.scoring import EVAL_SEED_START, VALIDATION_SEED_START, check_episodes

#: Fields `training.resume` may change: the budget (a new total), evaluation, checkpoints and
#: the number of collectors.
RESUMABLE = (
    "steps", "episodes", "eval_episodes", "checkpoint_interval", "save_memory", "workers",
)  # fmt: skip

#: The agents `workers` collect for: off-policy, with TD errors for the initial priorities.
DISTRIBUTED_AGENTS = ("dqn", "ddpg", "td3")


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; `hyper` holds the agent's hyperparameters."""

    agent: str = option(
        "dqn",
        "the agent (default: the first agent in this list that can learn --env-id: qlearning "
        "on FrozenLake-v1 or Taxi-v4, ddpg on Pendulum-v1; dqn in Python)",
        choices=tuple(presets.CONFIGS),
    )
    env_id: str = option(
        "Blob-v0",
        "any registered Gymnasium id with a Discrete or Box action space, e.g. Blob-v0, "
        "BlobMoving-v0, Blob-5x5-v0, CartPole-v1, MountainCar-v0, FrozenLake-v1, Taxi-v4, "
        "Pendulum-v1",
    )
    episodes: int | None = option(None, "train for this many episodes instead of --steps", int)
    seed: int = option(0, "seeds the env, the agent and the network")
    logdir: str = option("runs", "parent of the run's directory <agent>-<env id>-<time>")
    out: str | None = option(None, "directory of the saved agent (default: <run dir>/agent)", str)
    eval_episodes: int = option(
        500,
        f"greedy evaluation episodes after training, seeded {EVAL_SEED_START}, "
        f"{EVAL_SEED_START + 1}, ...; 0 skips the evaluation",
    )
    val_episodes: int = option(
        500,
        f"greedy validation episodes every --val-every steps, seeded {VALIDATION_SEED_START}, "
        "...; the best weights are kept; 0: no validation, the last weights",
    )
    val_every: int | None = option(
        None, "env steps between validations (default: a tenth of the budget; 10000 with "
        "--episodes)", int,
    )  # fmt: skip
    checkpoint_interval: int = option(10_000, "env steps between checkpoints; 0: only at the end")
    save_memory: bool = option(
        False,
        "include the replay memory in checkpoints, for an exact resume (agents with a "
        "replay memory: dqn, ddpg, td3, naf)",
    )
    workers: int = option(
        0,
        "collect with this many Ray actors in the Ape-X shape (dqn, ddpg, td3; pip install -e "
        "'.[scale]'); the agent learns in this process; 0: no Ray, one process",
    )
    #: Keyword arguments of every env of the run (e.g. Blob's `size`).
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    #: The agent's hyperparameters; None: the preset of `env_id`.
    hyper: presets.AgentConfig | None = None

    def resolved(self) -> RunConfig:
        """This config with `hyper` filled in from the presets, after checking every value.

        Raises:
            ValueError: If a value is out of range or of the wrong type, naming the field.
        """
        hyper = self.hyper or presets.config(self.agent, self.env_id)
        config = dataclasses.replace(self, hyper=hyper)
        config.check()
        return config

    def check(self) -> None:
        """Checks the run's settings and the agent's hyperparameters (`presets.check_config`).

        Raises:
            ValueError: If a value is out of range or of the wrong type, naming the field.
        """
        if self.agent not in presets.CONFIGS:
            raise ValueError(f"agent must be one of {sorted(presets.CONFIGS)}, got {self.agent!r}")
        if self.hyper is not None and presets.agent_name(self.hyper) != self.agent:
            raise ValueError(f"a {type(self.hyper).__name__} does not configure {self.agent!r}")
        if self.hyper is not None:
            presets.check_config(self.hyper)
        if not isinstance(self.seed, int) or not 0 <= self.seed < EVAL_SEED_START:
            raise ValueError(
                f"seed must be an int in [0, {EVAL_SEED_START}) (evaluation seeds start there), "
                f"got {self.seed!r}"
            )
        positive = {"episodes": self.episodes, "val_every": self.val_every}
        for name, value in positive.items():
            if value is not None and (not _is_int(value) or value < 1):
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        check_episodes("eval_episodes", self.eval_episodes)
        check_episodes("val_episodes", self.val_episodes)
        if not _is_int(self.checkpoint_interval) or self.checkpoint_interval < 0:
            raise ValueError(
                f"checkpoint_interval must be an int >= 0, got {self.checkpoint_interval!r}"
            )
        if not _is_int(self.workers) or self.workers < 0:
            raise ValueError(f"workers must be an int >= 0, got {self.workers!r}")
        if self.workers and self.agent not in DISTRIBUTED_AGENTS:
            raise ValueError(
                f"workers: distributed training runs the {', '.join(DISTRIBUTED_AGENTS)} agents, "
                f"not {self.agent}"
            )
        if self.save_memory and not hasattr(
            self.hyper or presets.CONFIGS[self.agent], "memory_size"
        ):
            raise ValueError(f"save_memory: the {self.agent} agent has no replay memory")
        if not isinstance(self.env_kwargs, dict):
            raise ValueError(f"env_kwargs must be a dict, got {self.env_kwargs!r}")

    @property
    def run_name(self) -> str:
        """The prefix of the run's directory: `<agent>-<env id>` in file-name characters."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.agent}-{self.env_id}")

    def to_json(self) -> dict[str, Any]:
        """The config as JSON (inf and NaN as strings), as checkpoints store it."""
        return to_json(self)

    @classmethod
    def from_json(cls, data: Any) -> RunConfig:
        """Rebuilds a config saved by `to_json`, checking every field.

        Raises:
            ValueError: If a field is unknown, missing or of the wrong type.
        """
        if not isinstance(data, dict) or data.get("agent") not in presets.CONFIGS:
            raise ValueError(f"not a run config of a known agent: {str(data)[:200]}")
        hyper = data.get("hyper")
        hyper_config = None if hyper is None else from_json(presets.CONFIGS[data["agent"]], hyper)
        config = from_json(cls, {**data, "hyper": None})
        return dataclasses.replace(config, hyper=hyper_config)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
