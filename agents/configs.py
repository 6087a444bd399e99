"""The hyperparameters of every agent: one frozen dataclass each, checked before anything runs.

Each field is also an option of `scripts/train_blob.py` (see `agents.options`): its default and
help are written here once. `agents.presets` holds the measured rows of these configs per env id,
`agents.builders` turns a config into a compiled agent. Nothing here imports Keras.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from agents.episode_memory import elite_count
from agents.hyperparameters import check_int, check_number
from agents.options import option

#: The names `agents.networks.build` takes (listed here too, so that configs need no Keras).
NETWORKS = ("auto", "blob_cnn", "tutorial_cnn", "mlp")
#: `DQNConfig.jit_compile`'s values, for `keras.Model.compile`'s True, False and "auto".
JIT_COMPILE = {"on": True, "off": False, "auto": "auto"}


@dataclass(frozen=True)
class DQNConfig:
    """Hyperparameters of the DQN (`DQNAgent`, its memory, policy, network and training env)."""

    steps: int = option(60_000, "env steps to train")
    network: str = option(
        "blob_cnn",
        "Q-network: blob_cnn (player-centred view + dense head), tutorial_cnn (the tutorial's "
        "Conv2D(256) x 2), mlp (for flat vector observations such as CartPole's), or auto "
        "(mlp for vectors, tutorial_cnn for images)",
        choices=NETWORKS,
    )
    hidden_units: int = option(128, "width of the hidden layers of blob_cnn and mlp")
    reach: bool = option(
        False,
        "blob_cnn also sees, around the player, the cells each blob can reach in one step "
        "(where a moving enemy can catch it)",
    )
    scale_obs: bool = option(
        True,
        "mlp: observation entries with finite bounds are scaled to [-1, 1] (MountainCar's "
        "velocity spans ±0.07); unbounded ones are left as they are",
    )
    double: bool = option(True, "double DQN: choose the bootstrap action with the online net")
    dueling: bool = option(True, "dueling head (value + advantages)")
    lr: float = option(1e-3, "Adam's learning rate")
    anneal_lr: bool = option(
        False,
        "anneal the learning rate linearly from --lr to 0 over the --steps budget's updates "
        "(CleanRL's anneal_lr, the RL Zoo's lin_ schedules)",
    )
    grad_clip: float = option(
        math.inf, "gradients are clipped to this global norm (SB3's max_grad_norm; inf: none)"
    )
    gamma: float = option(0.95, "discount factor")
    batch_size: int = option(64, "transitions per update")
    memory_size: int = option(50_000, "replay memory capacity in transitions")
    warmup: int = option(1_000, "env steps before the first update")
    target_update: float = option(
        0.01, "target network: hard copy every this many env steps (>= 1), or soft tau (< 1)"
    )
    train_interval: float = option(
        1, "env steps per update (below 1: several updates a step)", float
    )
    train_freq: int = option(
        1,
        "env steps per training round (Stable-Baselines3's train_freq, in env steps): the "
        "updates due in a round run together, in one compiled call, when it ends",
    )
    eps_start: float = option(1.0, "exploration rate at the start")
    eps_end: float = option(0.05, "exploration rate at the end of the schedule")
    eps_steps: int = option(5_000, "env steps over which epsilon anneals linearly")
    reward_scale: float = option(0.1, "rewards are multiplied by this before learning")
    reward_clip: float = option(
        30.0,
        "rewards are clipped to [-this, this] as they are stored (Blob's -300 enemy to -30, "
        "still the worst outcome; inf: no clipping)",
    )
    delta_clip: float = option(
        1.0, "Huber loss threshold, in scaled reward units (inf: the squared error)"
    )
    n_step: int = option(1, "n-step returns: rewards summed per transition")
    prioritized: bool = option(True, "prioritized experience replay (PrioritizedMemory)")
    num_envs: int = option(8, "sub-envs acting in one batch (a vector env when > 1)")
    train_episode_steps: int = option(
        30,
        "training episodes are truncated (so they bootstrap) after this many steps, for more "
        "start states per env step; 0 keeps the env's own limit (evaluation always does)",
    )
    jit_compile: str = option(
        "auto",
        "compile the act and train steps with XLA: on, off, or auto (on unless the network has "
        "convolutions, which XLA runs slower on CPU)",
        choices=JIT_COMPILE,
    )


@dataclass(frozen=True)
class QLearningConfig:
    """Hyperparameters of tabular Q-learning; None means `QLearningAgent`'s own default."""

    steps: int = option(6_000_000, "env steps to train")
    tutorial: bool = option(False, "the tutorial's settings (QLearningAgent.tutorial)")
    lr: float | None = option(None, "step size of the table update", float)
    gamma: float | None = option(None, "discount factor", float)
    eps_start: float | None = option(None, "exploration rate at the start", float)
    eps_end: float | None = option(None, "floor of the exploration rate", float)
    eps_decay: float | None = option(
        None, "epsilon is multiplied by this after each episode", float
    )
    initial_q: float | None = option(None, "initial value of every table entry", float)
    num_envs: int = option(64, "sub-envs acting in one batch (a vector env when > 1)")
    #: The env's `obs_type` for the table (Blob's coords offsets); None: the id's own.
    obs_type: str | None = option(None, None, str)


@dataclass(frozen=True)
class DDPGConfig:
    """Hyperparameters of DDPG (`DDPGAgent`, its actor, critic, memory and noise)."""

    steps: int = option(20_000, "env steps to train")
    hidden_layers: str = option(
        "400,300", "widths of the actor's and the critic's hidden layers, comma-separated"
    )
    actor_lr: float = option(1e-3, "the actor's Adam learning rate")
    critic_lr: float = option(1e-3, "the critic's Adam learning rate")
    gamma: float = option(0.98, "discount factor")
    batch_size: int = option(256, "transitions per update")
    memory_size: int = option(200_000, "replay memory capacity in transitions")
    warmup: int = option(10_000, "env steps before the first update of the critic and the actor")
    random_steps: int = option(
        10_000, "env steps acting uniformly at random within the action bounds at the start"
    )
    target_update: float = option(
        0.005, "target networks: soft tau (< 1) after each update, or a hard copy every N steps"
    )
    train_interval: float = option(
        1, "env steps per update (below 1: several updates a step)", float
    )
    noise: str = option(
        "gaussian", "exploration noise: gaussian (white) or ou (Ornstein-Uhlenbeck)",
        choices=("gaussian", "ou"),
    )  # fmt: skip
    noise_sigma: float = option(
        0.1, "std of the exploration noise, as a fraction of the action's half-range"
    )
    noise_sigma_end: float | None = option(
        None, "the noise's std anneals linearly to this (same units) over --noise-steps "
        "(default: constant)", float,
    )  # fmt: skip
    noise_steps: int = option(10_000, "env steps over which the noise's std anneals")
    ou_theta: float = option(0.15, "mean reversion rate of the ou noise")
    reward_scale: float = option(1.0, "rewards are multiplied by this before learning")
    delta_clip: float = option(
        math.inf, "Huber loss threshold of the critic (inf: the squared error)"
    )
    num_envs: int = option(1, "sub-envs acting in one batch (a vector env when > 1)")
    train_episode_steps: int = option(
        0, "training episodes are truncated after this many steps; 0 keeps the env's own limit"
    )


@dataclass(frozen=True)
class TD3Config(DDPGConfig):
    """Hyperparameters of TD3: DDPG's, plus its three corrections' (`TD3Agent`)."""

    policy_delay: int = option(2, "critic updates per actor and target update")
    target_noise: float = option(
        0.2, "std of the target policy smoothing noise, as a fraction of the action's half-range"
    )
    target_noise_clip: float = option(
        0.5, "the smoothing noise is clipped to this, as a fraction of the half-range"
    )


@dataclass(frozen=True)
class NAFConfig:
    """Hyperparameters of NAF (`NAFAgent`: its V, L and mu networks, memory and noise)."""

    steps: int = option(20_000, "env steps to train")
    hidden_units: int = option(64, "width of the two hidden layers of V, L and mu")
    covariance: str = option(
        "full", "the advantage's covariance: full (a lower-triangular L) or diag",
        choices=("full", "diag"),
    )  # fmt: skip
    lr: float = option(1e-3, "Adam's learning rate (one optimizer for the three networks)")
    gamma: float = option(0.99, "discount factor")
    batch_size: int = option(64, "transitions per update")
    memory_size: int = option(100_000, "replay memory capacity in transitions")
    warmup: int = option(1_000, "env steps before the first update")
    target_update: float = option(
        5e-3, "V's target: soft tau (< 1) after each update, or a hard copy every N steps"
    )
    train_interval: float = option(
        1, "env steps per update (below 1: several updates a step)", float
    )
    noise: str = option(
        "gaussian", "exploration noise: gaussian (white) or ou (Ornstein-Uhlenbeck)",
        choices=("gaussian", "ou"),
    )  # fmt: skip
    noise_sigma: float = option(
        0.3, "std of the exploration noise, as a fraction of the action's half-range"
    )
    noise_sigma_end: float | None = option(
        0.05, "the noise's std anneals linearly to this (same units) over --noise-steps", float
    )
    noise_steps: int = option(30_000, "env steps over which the noise's std anneals")
    ou_theta: float = option(0.15, "mean reversion rate of the ou noise")
    reward_scale: float = option(0.1, "rewards are multiplied by this before learning")
    delta_clip: float = option(math.inf, "Huber loss threshold (inf: the squared error)")
    num_envs: int = option(1, "sub-envs acting in one batch (a vector env when > 1)")


@dataclass(frozen=True)
class SARSAConfig:
    """Hyperparameters of SARSA (`SARSAAgent`: on-policy TD, no replay, no target network)."""

    steps: int = option(100_000, "env steps to train")
    hidden_units: int = option(64, "width of the MLP's two hidden layers")
    lr: float = option(1e-3, "Adam's learning rate")
    gamma: float = option(0.99, "discount factor")
    warmup: int = option(10, "env steps before the first update")
    train_interval: int = option(1, "env steps per update")
    eps_start: float = option(1.0, "exploration rate at the start")
    eps_end: float = option(0.01, "exploration rate at the end of the schedule")
    eps_steps: int = option(20_000, "env steps over which epsilon anneals linearly")
    delta_clip: float = option(math.inf, "Huber loss threshold (inf: the squared error)")
    num_envs: int = option(1, "sub-envs acting in one batch (a vector env when > 1)")


@dataclass(frozen=True)
class CEMConfig:
    """Hyperparameters of the cross-entropy method (`CEMAgent` and its episode memory)."""

    steps: int = option(100_000, "env steps to train")
    hidden_units: int = option(
        0, "width of one hidden ReLU layer of the policy; 0: linear (keras-rl's cem_cartpole)",
    )  # fmt: skip
    batch_size: int = option(50, "episodes the elites are picked from")
    memory_size: int = option(50, "episodes the memory keeps (batch_size: the last population)")
    elite_frac: float = option(0.2, "fraction of the episodes that are the elites")
    train_interval: int = option(10, "episodes between updates of the distribution")
    warmup: int = option(0, "env steps before the first update")
    noise_ampl: float = option(0.1, "extra std added to the weights' after each update")
    noise_decay: float = option(0.0, "the extra std decays as exp(-this * step)")
    num_envs: int = option(8, "sub-envs acting in one batch, each with its own weights")


@dataclass(frozen=True)
class PPOConfig:
    """Hyperparameters of PPO (`PPOAgent` and its actor-critic MLP), Stable-Baselines3's names."""

    steps: int = option(100_000, "env steps to train")
    hidden_units: int = option(64, "width of the two tanh hidden layers of policy and value")
    lr: float = option(1e-3, "Adam's learning rate")
    anneal_lr: bool = option(
        False,
        "anneal the learning rate linearly from --lr to 0 over the --steps budget's gradient "
        "steps (CleanRL's anneal_lr, the RL Zoo's lin_ schedules)",
    )
    n_steps: int = option(32, "env steps per sub-env in each rollout")
    batch_size: int = option(256, "rows per minibatch")
    n_epochs: int = option(20, "passes over each rollout")
    gamma: float = option(0.98, "discount factor")
    gae_lambda: float = option(0.8, "GAE's lambda")
    clip_range: float = option(0.2, "the surrogate's clip range")
    clip_range_vf: float | None = option(
        None, "the value's clip range around the rollout's values (default: no clipping)", float
    )
    ent_coef: float = option(0.0, "weight of the entropy bonus")
    vf_coef: float = option(0.5, "weight of the value loss")
    max_grad_norm: float = option(0.5, "gradients are clipped to this global norm (inf: none)")
    normalize_obs: bool = option(False, "normalize observations by running statistics")
    normalize_reward: bool = option(False, "scale rewards by the running std of the returns")
    num_envs: int = option(8, "sub-envs acting in one batch (a vector env when > 1)")
    train_episode_steps: int = option(
        0, "training episodes are truncated after this many steps; 0 keeps the env's own limit"
    )


CONFIGS: dict[str, type] = {
    "dqn": DQNConfig, "qlearning": QLearningConfig, "ddpg": DDPGConfig, "td3": TD3Config,
    "naf": NAFConfig, "sarsa": SARSAConfig, "cem": CEMConfig, "ppo": PPOConfig,
}  # fmt: skip
#: Any agent's config.
AgentConfig = (
    DQNConfig
    | QLearningConfig
    | DDPGConfig
    | TD3Config
    | NAFConfig
    | SARSAConfig
    | CEMConfig
    | PPOConfig
)

_POSITIVE, _UNIT, _OPEN_UNIT = (0, math.inf, True, True), (0, 1, False, False), (0, 1, True, False)
#: The allowed interval of each real-valued field: (low, high, low_open, high_open).
_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "lr": _POSITIVE, "gamma": _UNIT, "eps_start": _UNIT, "eps_end": _UNIT,
    "target_update": _POSITIVE, "train_interval": _POSITIVE, "reward_scale": _POSITIVE,
    "reward_clip": (0, math.inf, True, False), "delta_clip": (0, math.inf, True, False),
    "grad_clip": (0, math.inf, True, False),
    "eps_decay": _OPEN_UNIT, "initial_q": (-math.inf, math.inf, True, True),
    "actor_lr": _POSITIVE, "critic_lr": _POSITIVE, "noise_sigma": (0, math.inf, False, True),
    "noise_sigma_end": (0, math.inf, False, True), "ou_theta": (0, math.inf, False, True),
    "target_noise": (0, math.inf, False, True), "target_noise_clip": (0, math.inf, False, True),
    "elite_frac": _OPEN_UNIT, "noise_ampl": (0, math.inf, False, True),
    "noise_decay": (0, math.inf, False, True), "gae_lambda": _UNIT, "clip_range": _POSITIVE,
    "clip_range_vf": _POSITIVE, "ent_coef": (0, math.inf, False, True),
    "vf_coef": (0, math.inf, False, True), "max_grad_norm": (0, math.inf, True, False),
}  # fmt: skip
_QLEARNING_RANGES = {**_RANGES, "lr": _OPEN_UNIT}
#: The smallest value of each integer field (the rest are at least 1).
_MINIMUMS = {"warmup": 0, "train_episode_steps": 0, "random_steps": 0}
#: An agent's own smallest values (CEM's 0 hidden units: a linear policy).
_AGENT_MINIMUMS = {"cem": {"hidden_units": 0}}
#: The largest value of each integer field that sizes an allocation (the rest: _MAX_COUNT): the
#: memory and its sum tree are preallocated, and a hidden layer's weights grow as its square.
_MAXIMUMS = {"memory_size": 10**7, "hidden_units": 4096, "batch_size": 65_536, "num_envs": 4096}
#: The most hidden layers of a `hidden_layers` field, and the widest.
_MAX_LAYERS, _MAX_WIDTH = 8, 4096
_MAX_COUNT = 10**12


def check_config(config: Any) -> None:
    """Checks every hyperparameter of a config, before anything is built or trained.

    Raises:
        ValueError: If a field has the wrong type or is out of range; the message names the
            field and what it must be.
    """
    agent = agent_name(config)
    ranges = _QLEARNING_RANGES if agent == "qlearning" else _RANGES
    for item in dataclasses.fields(config):
        value, kind = getattr(config, item.name), item.metadata.get("type")
        if value is None and item.default is None:
            continue
        if kind is bool and not isinstance(value, bool):
            raise ValueError(f"{item.name} must be a bool, got {value!r}")
        if kind is int:
            minimums = {**_MINIMUMS, **_AGENT_MINIMUMS.get(agent, {})}
            check_int(item.name, value, minimums.get(item.name, 1))
            maximum = _MAXIMUMS.get(item.name, _MAX_COUNT)
            if value > maximum:
                raise ValueError(f"{item.name} must be at most {maximum}, got {value!r}")
        if kind is float:
            check_number(item.name, value, *ranges[item.name])
        choices = item.metadata.get("choices")
        if choices and value not in choices:
            raise ValueError(f"{item.name} must be one of {', '.join(choices)}, got {value!r}")
        if kind is str and not isinstance(value, str):
            raise ValueError(f"{item.name} must be a string, got {value!r}")
        if item.name == "hidden_layers":
            hidden_layers(value)
    if isinstance(config, CEMConfig):
        _check_cem(config)
    end = getattr(config, "noise_sigma_end", None)
    if end is not None and end > config.noise_sigma:
        raise ValueError(
            f"noise_sigma_end ({end}) must be at most noise_sigma ({config.noise_sigma}): the "
            "noise anneals down"
        )


def _check_cem(config: CEMConfig) -> None:
    """The CEM fields that must fit each other: a population to pick at least one elite from."""
    if config.memory_size < config.batch_size:
        raise ValueError(
            f"memory_size ({config.memory_size}) must be at least batch_size "
            f"({config.batch_size}): the elites are picked from that many episodes"
        )
    if elite_count(config.batch_size, config.elite_frac) < 1:
        raise ValueError(
            f"elite_frac ({config.elite_frac}) of batch_size ({config.batch_size}) episodes "
            "leaves no elite: raise either"
        )


def hidden_layers(text: str) -> tuple[int, ...]:
    """The widths in a `hidden_layers` field ("400,300" -> (400, 300)).

    Raises:
        ValueError: Unless it is 1 to 8 comma-separated integers in [1, 4096].
    """
    try:
        widths = tuple(int(part) for part in str(text).split(","))
    except ValueError:
        widths = ()
    if not 1 <= len(widths) <= _MAX_LAYERS or not all(1 <= w <= _MAX_WIDTH for w in widths):
        raise ValueError(
            f"hidden_layers must be 1 to {_MAX_LAYERS} comma-separated widths in "
            f"[1, {_MAX_WIDTH}], e.g. '400,300', got {text!r}"
        )
    return widths


def agent_name(config: Any) -> str:
    """The agent a config is for ("dqn", "qlearning", "ddpg", ...).

    Raises:
        ValueError: If `config` is not one of this module's configs.
    """
    for name, config_class in CONFIGS.items():
        if type(config) is config_class:
            return name
    names = ", ".join(cls.__name__ for cls in CONFIGS.values())
    raise ValueError(f"expected one of the configs {names}, got {config!r}")
