"""The measured defaults of every agent on every env: one table, in the spirit of the RL Zoo.

    config = presets.config("dqn", "Blob-v0")         # a frozen dataclass of hyperparameters
    env = presets.make_env("dqn", "Blob-v0", config)   # its training env (8 sub-envs, 30 steps)
    agent = presets.build("dqn", env, config, seed=0)  # compiled: fit(nb_steps=config.steps)

Each row of `PRESETS` is the config of one agent on one env id, with how it was chosen; ids
without a row of their own get the agent's generic row. The agents' constructors keep keras-rl's
defaults: what was measured lives here, and only here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium

from agents.environments import make_env as _make_env
from agents.environments import resolve_env_id, spaces_of
from agents.hyperparameters import check_int, check_number
from agents.options import option

#: The names `agents.networks.build` takes (listed here too, so that configs need no Keras).
NETWORKS = ("auto", "blob_cnn", "tutorial_cnn", "mlp")


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
    scale_obs: bool = option(
        True,
        "mlp: observation entries with finite bounds are scaled to [-1, 1] (MountainCar's "
        "velocity spans ±0.07); unbounded ones are left as they are",
    )
    double: bool = option(True, "double DQN: choose the bootstrap action with the online net")
    dueling: bool = option(True, "dueling head (value + advantages)")
    lr: float = option(1e-3, "Adam's learning rate")
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


CONFIGS: dict[str, type] = {"dqn": DQNConfig, "qlearning": QLearningConfig}

_POSITIVE, _UNIT, _OPEN_UNIT = (0, math.inf, True, True), (0, 1, False, False), (0, 1, True, False)
#: The allowed interval of each real-valued field: (low, high, low_open, high_open).
_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "lr": _POSITIVE, "gamma": _UNIT, "eps_start": _UNIT, "eps_end": _UNIT,
    "target_update": _POSITIVE, "train_interval": _POSITIVE, "reward_scale": _POSITIVE,
    "reward_clip": (0, math.inf, True, False), "delta_clip": (0, math.inf, True, False),
    "grad_clip": (0, math.inf, True, False),
    "eps_decay": _OPEN_UNIT, "initial_q": (-math.inf, math.inf, True, True),
}  # fmt: skip
_QLEARNING_RANGES = {**_RANGES, "lr": _OPEN_UNIT}
#: The smallest value of each integer field (the rest are at least 1).
_MINIMUMS = {"warmup": 0, "train_episode_steps": 0}
#: The largest value of each integer field that sizes an allocation (the rest: _MAX_COUNT): the
#: memory and its sum tree are preallocated, and a hidden layer's weights grow as its square.
_MAXIMUMS = {"memory_size": 10**7, "hidden_units": 4096, "batch_size": 65_536, "num_envs": 4096}
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
            check_int(item.name, value, _MINIMUMS.get(item.name, 1))
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


#: The id of every agent's generic row, for env ids without a row of their own.
GENERIC = "*"


class Preset(NamedTuple):
    """One row of the table: an agent's config on an env id, and how it was chosen."""

    config: Any
    chosen_by: str


_BLOB_DQN = Preset(
    DQNConfig(),
    "ablation of double, dueling, PER and n-step at 30,000 steps over 3 seeds, then the budget "
    "at 60,000 steps (scripts/compare_agents.py; README, Performance): 0.999-1.000 of the exact "
    "optimum for seeds 0-2",
)
_BLOB_QLEARNING = Preset(
    QLearningConfig(obs_type="coords"),
    "grid search of alpha, epsilon and the initial table over 3 seeds at 6M steps "
    "(scripts/tune_qlearning.py): 0.95 of the exact optimum",
)
_GENERIC_DQN = Preset(
    DQNConfig(
        steps=50_000, network="auto", gamma=0.99, reward_scale=1.0, reward_clip=math.inf,
        train_episode_steps=0,
    ),  # fmt: skip
    "Blob's row without what suits Blob alone (gamma 0.95, the reward clip and scale, the "
    "30-step training episodes), an MLP for vectors; not tuned for any env (tried beyond "
    "the named ids on Acrobot-v1: see the README)",
)
_GENERIC_QLEARNING = Preset(
    QLearningConfig(steps=200_000, lr=0.1, gamma=0.99, eps_start=0.2, num_envs=8),
    "textbook settings (alpha 0.1, gamma 0.99, epsilon 0.2); not tuned for any env (tried "
    "beyond the named ids on CliffWalking-v1: see the README)",
)
_TAXI_QLEARNING = Preset(
    dataclasses.replace(_GENERIC_QLEARNING.config, steps=500_000),
    "the generic row with a longer budget: at 200,000 steps one seed of three missed the "
    "optimum on some start states (0.745), at 500,000 all three reach 1.000 of it (alpha 0.5 "
    "at 200,000: 1.000, 0.990, 1.000) (scripts/bench_suite.py; README, Performance)",
)
PRESETS: dict[tuple[str, str], Preset] = {
    ("dqn", "Blob-v0"): _BLOB_DQN,
    ("dqn", "BlobMoving-v0"): Preset(_BLOB_DQN.config, "Blob-v0's row, not tuned for moving"),
    ("dqn", "Blob-5x5-v0"): Preset(_BLOB_DQN.config, "Blob-v0's row"),
    ("qlearning", "Blob-v0"): _BLOB_QLEARNING,
    ("qlearning", "BlobCoords-v0"): _BLOB_QLEARNING,
    ("qlearning", "BlobMoving-v0"): Preset(_BLOB_QLEARNING.config, "Blob-v0's row"),
    ("qlearning", "Blob-5x5-v0"): Preset(_BLOB_QLEARNING.config, "Blob-v0's row"),
    ("dqn", GENERIC): _GENERIC_DQN,
    ("dqn", "CartPole-v1"): Preset(
        dataclasses.replace(_GENERIC_DQN.config, hidden_units=256, scale_obs=False),
        "the generic row with the RL Zoo's network width (256 x 2, so that gradient steps per "
        "second compare on one network size), inputs unscaled (scaled, seed 1 ended at 441): "
        "greedy 500 of 500 for seeds 0, 1, 2 within 50,000 steps (scripts/bench_suite.py; "
        "README, Performance)",
    ),
    ("dqn", "MountainCar-v0"): Preset(
        dataclasses.replace(
            _GENERIC_DQN.config, steps=120_000, hidden_units=256, lr=4e-3, batch_size=128,
            memory_size=10_000, gamma=0.98, target_update=600, train_interval=2,
            eps_steps=24_000, eps_end=0.07, n_step=3,
        ),  # fmt: skip
        "the RL Zoo's DQN hyperparameters for the id on the generic row, plus 3-step returns: "
        "without them no variant tried reached the goal once in 120,000 steps of seed 0; with "
        "them, -99.6 on seed 0 but -200 on seeds 1 and 2: not solved yet "
        "(scripts/bench_suite.py; README, Performance)",
    ),
    ("qlearning", GENERIC): _GENERIC_QLEARNING,
    ("qlearning", "FrozenLake-v1"): Preset(
        _GENERIC_QLEARNING.config,
        "the generic row, measured (gamma 0.999 and 500,000 steps were no better): success "
        "0.81 on the 100 evaluation episodes for seeds 0, 1, 2 (the optimum's expectation is "
        "0.744) within 200,000 steps (scripts/bench_suite.py; README, Performance)",
    ),
    ("qlearning", "Taxi-v4"): _TAXI_QLEARNING,
    # Gymnasium before 1.3 registers the same game as Taxi-v3.
    ("qlearning", "Taxi-v3"): Preset(_TAXI_QLEARNING.config, "Taxi-v4's row"),
}


def preset(agent: str, env_id: str) -> Preset:
    """The row of `agent` on `env_id` (a `module:` prefix is ignored), else its generic row.

    Raises:
        ValueError: If the agent is unknown.
    """
    if agent not in CONFIGS:
        raise ValueError(f"unknown agent {agent!r}; known: {', '.join(sorted(CONFIGS))}")
    name = str(env_id).rpartition(":")[2]
    return PRESETS.get((agent, name), PRESETS[(agent, GENERIC)])


def config(agent: str, env_id: str, **overrides: Any) -> Any:
    """The measured hyperparameters of `agent` on `env_id`, with `overrides` applied.

    Args:
        agent: "dqn" or "qlearning".
        env_id: A Gymnasium id; ids without a row get the agent's generic row.
        **overrides: Fields to change, e.g. `steps=1000`.

    Returns:
        A frozen `DQNConfig` or `QLearningConfig`.

    Raises:
        ValueError: If the agent or a field is unknown.
    """
    row = preset(agent, env_id).config
    unknown = sorted(set(overrides) - {item.name for item in dataclasses.fields(row)})
    if unknown:
        raise ValueError(f"{type(row).__name__} has no field {', '.join(unknown)}")
    return dataclasses.replace(row, **overrides)


def agent_name(config: Any) -> str:
    """The agent a config is for ("dqn" or "qlearning").

    Raises:
        ValueError: If `config` is not one of this module's configs.
    """
    for name, config_class in CONFIGS.items():
        if type(config) is config_class:
            return name
    raise ValueError(f"expected a DQNConfig or QLearningConfig, got {config!r}")


def env_kwargs(config: Any, env_id: str, **given: Any) -> dict[str, Any]:
    """The keyword arguments of the envs an agent of `config` trains and is evaluated on.

    `given` (e.g. Blob's `size`), plus the observation type the config needs (`obs_type`).
    """
    obs_type = getattr(config, "obs_type", None)
    return {**given, **({} if obs_type is None else {"obs_type": obs_type})}


def make_env(agent: str, env_id: str, config: Any = None, **kwargs: Any) -> Any:
    """The training env of a config: `num_envs` sub-envs, training episodes of its length.

    Args:
        agent: "dqn" or "qlearning".
        env_id: A registered Gymnasium id.
        config: The agent's config (default: the preset of `env_id`).
        **kwargs: Env keyword arguments (e.g. Blob's `size=5`).

    Raises:
        ValueError: If the env id is unknown or the env cannot be made with these arguments.
    """
    config = config if config is not None else preset(agent, env_id).config
    spec = resolve_env_id(env_id)
    limit = getattr(config, "train_episode_steps", 0) or None
    return _make_env(spec.id, env_kwargs(config, env_id, **kwargs), config.num_envs, limit)


def build(agent: str, env: Any, config: Any = None, seed: int | None = None) -> Any:
    """A compiled agent with the hyperparameters of `config`, for the spaces of `env`.

    Args:
        agent: "dqn" or "qlearning".
        env: The env (single or vector) it will act in.
        config: Its hyperparameters (default: the preset of the env's id).
        seed: Seeds the agent's generator and the network's initial weights.

    Raises:
        ValueError: If the config is not the agent's, or the env's spaces don't suit the agent.
    """
    if config is None:
        spec = getattr(env, "spec", None)
        config = preset(agent, spec.id if spec is not None else GENERIC).config
    if agent_name(config) != agent:
        raise ValueError(f"a {type(config).__name__} does not configure the agent {agent!r}")
    check_config(config)
    observations, actions = spaces_of(env)
    check_spaces(agent, observations, actions)
    return _BUILDERS[agent](config, observations, int(actions.n), seed)


def check_spaces(agent: str, observations: gymnasium.Space, actions: gymnasium.Space) -> None:
    """Checks that `agent` can act in and learn an env of these spaces.

    Raises:
        ValueError: If the action space is not Discrete, or the observations don't suit it.
    """
    if not isinstance(actions, gymnasium.spaces.Discrete):
        raise ValueError(
            f"the action space is {actions}; the {agent} agent needs a Discrete one "
            "(continuous actions cannot be learned by Q-learning or a DQN)"
        )
    if agent == "dqn" and not isinstance(observations, gymnasium.spaces.Box):
        raise ValueError(
            f"the observation space is {observations}; the DQN needs Box (array) "
            "observations: use the qlearning agent for Discrete/MultiDiscrete ones"
        )
    if agent == "qlearning" and not isinstance(
        observations, (gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete)
    ):
        raise ValueError(
            f"the observation space is {observations}; tabular Q-learning needs "
            "Discrete or MultiDiscrete observations: use the dqn agent"
        )


def agents_for(env_id: str, **kwargs: Any) -> tuple[str, ...]:
    """The agents that can learn `env_id`, each on its preset's observations, the DQN first.

    Blob-v0: both (the DQN on pixels, Q-learning on coords); CartPole-v1: the DQN; FrozenLake-v1
    and Taxi-v4: Q-learning.

    Args:
        env_id: A registered id.
        **kwargs: Env keyword arguments (e.g. Blob's `size=5`).

    Raises:
        ValueError: If the id is unknown, or no agent can learn the env (with each one's reason).
    """
    spec = resolve_env_id(env_id)
    fitting, reasons = [], []
    for agent in CONFIGS:
        env = _make_env(spec.id, env_kwargs(preset(agent, env_id).config, env_id, **kwargs))
        try:
            check_spaces(agent, *spaces_of(env))
            fitting.append(agent)
        except ValueError as error:
            reasons.append(str(error))
        finally:
            env.close()
    if not fitting:
        raise ValueError(f"no agent can learn {env_id}: {'; '.join(reasons)}")
    return tuple(fitting)


def _build_dqn(config: DQNConfig, observation_space: Any, nb_actions: int, seed: int | None):
    import keras

    from agents import networks
    from agents.dqn import DQNAgent
    from agents.memory import PrioritizedMemory, SequentialMemory
    from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy

    if seed is not None:
        keras.utils.set_random_seed(seed)  # the network's initial weights
    memory_class = PrioritizedMemory if config.prioritized else SequentialMemory
    memory = memory_class(config.memory_size, n_step=config.n_step, gamma=config.gamma)
    policy = LinearAnnealedPolicy(
        EpsGreedyQPolicy(), "eps", value_max=config.eps_start, value_min=config.eps_end,
        value_test=0.0, nb_steps=config.eps_steps,
    )  # fmt: skip
    bounds = (observation_space.low, observation_space.high) if config.scale_obs else None
    network = networks.build(
        config.network, observation_space.shape, nb_actions, config.hidden_units, bounds
    )
    agent = DQNAgent(
        model=network,
        nb_actions=nb_actions,
        memory=memory,
        policy=policy,
        gamma=config.gamma,
        batch_size=config.batch_size,
        nb_steps_warmup=config.warmup,
        train_interval=config.train_interval,
        target_model_update=config.target_update,
        enable_double_dqn=config.double,
        enable_dueling_network=config.dueling,
        reward_scale=config.reward_scale,
        reward_clip=config.reward_clip,
        delta_clip=config.delta_clip,
    )
    clip = {} if math.isinf(config.grad_clip) else {"global_clipnorm": float(config.grad_clip)}
    agent.compile(keras.optimizers.Adam(float(config.lr), **clip))
    if seed is not None:
        agent.seed(seed)
    return agent


def _build_qlearning(
    config: QLearningConfig, observation_space: Any, nb_actions: int, seed: int | None
):
    from agents.qlearning import QLearningAgent

    if config.tutorial:
        return QLearningAgent.tutorial(observation_space, nb_actions, seed=seed)
    names = {
        "lr": "learning_rate", "gamma": "gamma", "eps_start": "epsilon",
        "eps_end": "min_epsilon", "eps_decay": "epsilon_decay", "initial_q": "initial_q",
    }  # fmt: skip
    kwargs = {arg: getattr(config, name) for name, arg in names.items()}
    kwargs = {arg: value for arg, value in kwargs.items() if value is not None}
    return QLearningAgent(observation_space, nb_actions, seed=seed, **kwargs)


_BUILDERS = {"dqn": _build_dqn, "qlearning": _build_qlearning}
