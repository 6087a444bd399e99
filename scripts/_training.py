"""What train_blob.py and compare_agents.py share: making envs, building agents, evaluating.

The hyperparameters themselves live in `scripts.train_blob` (`DQNConfig`, `QLearningConfig`);
the builders here read their fields.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium
import numpy as np

import blobenv
from blobenv.registration import ENTRY_POINT, VARIANTS
from blobenv.solver import optimal_returns

#: Evaluation episode i starts from reset(seed=EVAL_SEED_START + i); training seeds stay below.
EVAL_SEED_START = 1_000_000
#: Validation episodes (choosing the best weights during training) start here: their own seeds,
#: so the choice does not leak into the evaluation.
VALIDATION_SEED_START = 2_000_000
#: At most this many evaluation or validation episodes, so the two seed ranges never overlap.
MAX_EPISODES = VALIDATION_SEED_START - EVAL_SEED_START


class Setup(NamedTuple):
    """An env and an agent ready to train.

    Attributes:
        env_id: The registered id (without a `module:` prefix), for `gymnasium.make`.
        env_kwargs: Keyword arguments of every env of the run (training and evaluation).
        is_blob: Whether the env is a Blob game (success and optimum are reported then).
        env: The training env (a vector env when `num_envs` > 1).
        agent: The compiled agent.
    """

    env_id: str
    env_kwargs: dict[str, Any]
    is_blob: bool
    env: Any
    agent: Any


# --- env ------------------------------------------------------------------------------------


def resolve_env_id(env_id: str) -> gymnasium.envs.registration.EnvSpec:
    """The registered spec of `env_id` (a `module:` prefix is imported first, as `make` does).

    Raises:
        ValueError: If no env is registered under that id.
    """
    module, _, name = env_id.rpartition(":")
    try:
        if module:
            importlib.import_module(module)
        return gymnasium.spec(name)
    except (gymnasium.error.Error, ImportError) as error:
        blob_ids = ", ".join(variant.env_id for variant in VARIANTS)
        raise ValueError(
            f"unknown --env-id {env_id!r}: {error} (Blob ids: {blob_ids}; any registered "
            "Gymnasium id with a Discrete action space works)"
        ) from error


def is_blob(spec: gymnasium.envs.registration.EnvSpec) -> bool:
    """Whether `spec` is one of the Blob games."""
    return spec.entry_point == ENTRY_POINT


def env_kwargs_for(
    spec: gymnasium.envs.registration.EnvSpec,
    blob_options: dict[str, Any],
    obs_type: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a run's envs: the Blob options given and the observation type.

    Args:
        spec: The env's spec.
        blob_options: `size`, `moving_food`, `moving_enemy`; None values mean the id's own.
        obs_type: Blob's `obs_type` for this agent (None: the id's own).

    Raises:
        ValueError: If a Blob option is given for an env that is not Blob.
    """
    given = {name: value for name, value in blob_options.items() if value is not None}
    if not is_blob(spec):
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise ValueError(f"{flags}: Blob options, but {spec.id} is not a Blob env")
        return {}
    if obs_type is not None:
        given["obs_type"] = obs_type
    return given


def make_env(
    env_id: str, env_kwargs: dict[str, Any], num_envs: int = 1, max_episode_steps: int | None = None
) -> Any:
    """`gymnasium.make`, or `gymnasium.make_vec` when `num_envs` > 1.

    `max_episode_steps` (None: the id's own) sets the time limit of training episodes.

    Raises:
        ValueError: If the env cannot be made with these arguments.
    """
    try:
        limit = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
        if num_envs > 1:
            return gymnasium.make_vec(env_id, num_envs=num_envs, **limit, **env_kwargs)
        return gymnasium.make(env_id, **limit, **env_kwargs)
    except (gymnasium.error.Error, TypeError, ValueError, ImportError) as error:
        raise ValueError(f"cannot make {env_id} with {env_kwargs}: {error}") from error


def spaces_of(env: Any) -> tuple[gymnasium.Space, gymnasium.Space]:
    """The (observation, action) spaces of one sub-env of `env`, a single or vector env."""
    if isinstance(env, gymnasium.vector.VectorEnv):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


def check_spaces(agent: str, env: Any) -> None:
    """Checks that `agent` ("dqn" or "qlearning") can act in and learn `env`.

    Raises:
        ValueError: If the action space is not Discrete, or the observations don't suit the agent.
    """
    observations, actions = spaces_of(env)
    name = env.spec.id if env.spec else type(env).__name__
    if not isinstance(actions, gymnasium.spaces.Discrete):
        raise ValueError(
            f"{name} has the action space {actions}; the {agent} agent needs a Discrete one "
            "(continuous actions cannot be learned by Q-learning or a DQN)"
        )
    if agent == "dqn" and not isinstance(observations, gymnasium.spaces.Box):
        raise ValueError(
            f"{name} has the observation space {observations}; the DQN needs Box (array) "
            "observations: use --agent qlearning for Discrete/MultiDiscrete ones"
        )
    if agent == "qlearning" and not isinstance(
        observations, (gymnasium.spaces.Discrete, gymnasium.spaces.MultiDiscrete)
    ):
        raise ValueError(
            f"{name} has the observation space {observations}; tabular Q-learning needs "
            "Discrete or MultiDiscrete observations: use --agent dqn"
        )


def blob_optimum(env: Any, seeds: Sequence[int]) -> np.ndarray | None:
    """The exact optimal return per seed, or None if `env` is not a static Blob game."""
    game = env.unwrapped
    if not isinstance(game, (blobenv.BlobEnv, blobenv.BlobVectorEnv)):
        return None
    if game.moving_food or game.moving_enemy:
        return None  # the solver covers static games only
    return optimal_returns([int(seed) for seed in seeds], game.size)


def evaluation_seeds(count: int) -> list[int]:
    """The fixed evaluation seeds, disjoint from the training seeds (which stay below them)."""
    return list(range(EVAL_SEED_START, EVAL_SEED_START + count))


def validation_seeds(count: int) -> list[int]:
    """The fixed validation seeds, disjoint from the training and the evaluation seeds."""
    return list(range(VALIDATION_SEED_START, VALIDATION_SEED_START + count))


def check_episodes(option: str, value: int, minimum: int = 0) -> None:
    """Checks an episode count: every episode needs a seed of its own set, so at most MAX_EPISODES.

    Raises:
        ValueError: If `value` is not in [minimum, MAX_EPISODES]; the message names `option`.
    """
    if not minimum <= value <= MAX_EPISODES:
        raise ValueError(f"{option} must be in [{minimum}, {MAX_EPISODES}], got {value}")


def validation_interval(steps: int) -> int:
    """Env steps between validations of a run of `steps` env steps: a tenth of it."""
    return max(1, steps // 10)


def keep_best(setup: Setup, every: int, episodes: int, **kwargs: Any) -> Any:
    """A `callbacks.PeriodicEvaluation` on `episodes` validation episodes every `every` steps.

    It keeps the weights with the best greedy mean return on the validation seeds; `**kwargs`
    go to `PeriodicEvaluation` (a resumed run's `best`, `best_weights`, `on_best`).
    """
    from callbacks import PeriodicEvaluation

    seeds = validation_seeds(episodes)
    return PeriodicEvaluation(lambda agent: evaluate_agent(agent, setup, seeds), every, **kwargs)


# --- agents ---------------------------------------------------------------------------------


def _mlp(obs_shape: Sequence[int], nb_actions: int, hidden_units: int) -> Any:
    """Two hidden ReLU layers on the flattened observation, for vector envs like CartPole."""
    import keras

    inputs = keras.Input(shape=tuple(obs_shape), name="observation")
    x = keras.layers.Flatten()(inputs)
    for _ in range(2):
        x = keras.layers.Dense(hidden_units, activation="relu")(x)
    outputs = keras.layers.Dense(nb_actions, name="q_values")(x)
    return keras.Model(inputs, outputs, name="mlp")


NETWORKS = ("blob_cnn", "tutorial_cnn", "mlp")


def build_network(config: Any, obs_shape: Sequence[int], nb_actions: int) -> Any:
    """The Q-network named by `config.network` (one of NETWORKS).

    Raises:
        ValueError: If the network is unknown or does not take observations of `obs_shape`.
    """
    from agents import networks

    obs_shape = tuple(obs_shape)
    if config.network not in NETWORKS:
        raise ValueError(f"--network must be one of {', '.join(NETWORKS)}, got {config.network!r}")
    if config.network == "mlp":
        return _mlp(obs_shape, nb_actions, config.hidden_units)
    if len(obs_shape) != 3:
        raise ValueError(
            f"{config.network} takes image observations (height, width, channels), the env "
            f"gives shape {obs_shape}: use --network mlp"
        )
    if config.network == "tutorial_cnn":
        return networks.tutorial_cnn(obs_shape, nb_actions)
    return networks.blob_cnn(obs_shape, nb_actions, hidden_units=config.hidden_units)


def build_dqn(config: Any, observation_space: Any, nb_actions: int, seed: int) -> Any:
    """A compiled DQNAgent with the network, memory and epsilon schedule of a `DQNConfig`."""
    import keras

    from agents.dqn import DQNAgent
    from agents.memory import PrioritizedMemory, SequentialMemory
    from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy

    keras.utils.set_random_seed(seed)  # the network's initial weights
    memory_class = PrioritizedMemory if config.prioritized else SequentialMemory
    memory = memory_class(config.memory_size, n_step=config.n_step, gamma=config.gamma)
    policy = LinearAnnealedPolicy(
        EpsGreedyQPolicy(),
        "eps",
        value_max=config.eps_start,
        value_min=config.eps_end,
        value_test=0.0,
        nb_steps=config.eps_steps,
    )
    agent = DQNAgent(
        model=build_network(config, observation_space.shape, nb_actions),
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
    agent.compile(keras.optimizers.Adam(config.lr))
    return agent


def build_qlearning(config: Any, observation_space: Any, nb_actions: int, seed: int) -> Any:
    """A QLearningAgent with the settings of a `QLearningConfig` (the agent's own where None)."""
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


BUILDERS = {"dqn": build_dqn, "qlearning": build_qlearning}


def prepare(agent: str, config: Any, env_id: str, blob_options: dict[str, Any], seed: int) -> Setup:
    """Makes and checks the env, then builds the agent.

    Args:
        agent: "dqn" or "qlearning".
        config: The agent's hyperparameters (`DQNConfig` or `QLearningConfig`).
        env_id: A registered Gymnasium id.
        blob_options: `size`, `moving_food`, `moving_enemy` (None: the id's own).
        seed: Seeds the agent (and the DQN's initial weights).

    Returns:
        The env and the agent, ready for `agent.fit(setup.env, ...)`.

    Raises:
        ValueError: If the env id, the env options or the hyperparameters are invalid.
    """
    spec = resolve_env_id(env_id)
    env_kwargs = env_kwargs_for(spec, blob_options, getattr(config, "obs_type", None))
    limit = getattr(config, "train_episode_steps", 0) or None
    env = make_env(spec.id, env_kwargs, config.num_envs, limit)
    try:
        check_spaces(agent, env)
        observations, actions = spaces_of(env)
        built = BUILDERS[agent](config, observations, int(actions.n), seed)
    except (TypeError, ValueError) as error:
        env.close()
        raise ValueError(str(error)) from error
    return Setup(spec.id, env_kwargs, is_blob(spec), env, built)


# --- evaluation and results -----------------------------------------------------------------


def evaluate_agent(agent: Any, setup: Setup, seeds: Sequence[int]) -> dict[str, Any]:
    """Greedy evaluation on `seeds`: mean return, success rate and ratio to the optimum.

    Success rate is given for Blob envs only, the optimum for static Blob games only.
    """
    from agents.evaluation import evaluate

    result = evaluate(agent, setup.env_id, seeds, **setup.env_kwargs)
    summary: dict[str, Any] = {
        "episodes": len(seeds),
        "seeds": [int(seeds[0]), int(seeds[-1])],
        "mean_return": float(result.returns.mean()),
        "std_return": float(result.returns.std()),
        "mean_length": float(result.lengths.mean()),
    }
    if setup.is_blob:
        summary["success_rate"] = float(result.successes.mean())
    optimum = blob_optimum(setup.env, seeds)
    if optimum is not None:
        summary["optimal_mean_return"] = float(optimum.mean())
        summary["ratio_to_optimum"] = summary["mean_return"] / summary["optimal_mean_return"]
    return summary


def describe_evaluation(summary: dict[str, Any]) -> str:
    """One line for people: mean return, success rate, ratio to the optimum."""
    line = (
        f"greedy evaluation over {summary['episodes']} episodes: mean return "
        f"{summary['mean_return']:.2f} ± {summary['std_return']:.2f}"
    )
    if "success_rate" in summary:
        line += f", success rate {100 * summary['success_rate']:.1f}%"
    if "ratio_to_optimum" in summary:
        line += (
            f", {100 * summary['ratio_to_optimum']:.1f}% of the optimum "
            f"({summary['optimal_mean_return']:.2f})"
        )
    return line


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Writes `data` as JSON to `path` atomically (a temporary file, then os.replace)."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(data, file, indent=2, allow_nan=False)
            file.write("\n")
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
