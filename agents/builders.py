"""Compiled agents from configs: one builder per agent, as `agents.presets.build` calls them.

Each builder takes the config, the env's observation and action spaces and a seed (which seeds
the agent's generator and the networks' initial weights). Keras is imported only inside them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agents.configs import (
    JIT_COMPILE,
    CEMConfig,
    DDPGConfig,
    DQNConfig,
    NAFConfig,
    PPOConfig,
    QLearningConfig,
    SARSAConfig,
    TD3Config,
    hidden_layers,
)


def build_dqn(
    config: DQNConfig, observation_space: Any, action_space: Any, seed: int | None
) -> Any:
    """A compiled `DQNAgent` of `config` (see `agents.presets.build`)."""
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
    nb_actions = int(action_space.n)
    network = networks.build(
        config.network, observation_space.shape, nb_actions, config.hidden_units, bounds,
        reach=config.reach,
    )  # fmt: skip
    agent = DQNAgent(
        model=network,
        nb_actions=nb_actions,
        memory=memory,
        policy=policy,
        gamma=config.gamma,
        batch_size=config.batch_size,
        nb_steps_warmup=config.warmup,
        train_interval=config.train_interval,
        train_freq=config.train_freq,
        target_model_update=config.target_update,
        enable_double_dqn=config.double,
        enable_dueling_network=config.dueling,
        reward_scale=config.reward_scale,
        reward_clip=config.reward_clip,
        delta_clip=config.delta_clip,
    )
    clip = {} if math.isinf(config.grad_clip) else {"global_clipnorm": float(config.grad_clip)}
    optimizer = keras.optimizers.Adam(_learning_rate(config, dqn_updates(config)), **clip)
    agent.compile(optimizer, jit_compile=JIT_COMPILE[config.jit_compile])
    if seed is not None:
        agent.seed(seed)
    return agent


def build_qlearning(
    config: QLearningConfig, observation_space: Any, action_space: Any, seed: int | None
) -> Any:
    """A `QLearningAgent` of `config`."""
    from agents.qlearning import QLearningAgent

    if config.tutorial:
        return QLearningAgent.tutorial(observation_space, int(action_space.n), seed=seed)
    names = {
        "lr": "learning_rate", "gamma": "gamma", "eps_start": "epsilon",
        "eps_end": "min_epsilon", "eps_decay": "epsilon_decay", "initial_q": "initial_q",
    }  # fmt: skip
    kwargs = {arg: getattr(config, name) for name, arg in names.items()}
    kwargs = {arg: value for arg, value in kwargs.items() if value is not None}
    return QLearningAgent(observation_space, int(action_space.n), seed=seed, **kwargs)


def build_ddpg(
    config: DDPGConfig, observation_space: Any, action_space: Any, seed: int | None
) -> Any:
    """A compiled `DDPGAgent` (or `TD3Agent`, for a `TD3Config`) of `config`.

    The noise settings are fractions of the action's half-range (Stable-Baselines3 adds its
    noise to actions scaled to [-1, 1]); the agent gets them in the action's units.
    """
    import keras

    from agents import networks
    from agents.ddpg import DDPGAgent
    from agents.memory import SequentialMemory
    from agents.td3 import TD3Agent

    if seed is not None:
        keras.utils.set_random_seed(seed)
    low, high = action_space.low, action_space.high
    half_range = float(np.mean((high - low) / 2))
    widths = hidden_layers(config.hidden_layers)
    actor = networks.actor_mlp(observation_space.shape, low, high, widths)
    critic, action_input = networks.critic_mlp(observation_space.shape, action_space.shape, widths)
    kwargs: dict[str, Any] = {}
    if isinstance(config, TD3Config):
        kwargs = {
            "policy_delay": config.policy_delay,
            "target_policy_noise": config.target_noise * half_range,
            "target_noise_clip": config.target_noise_clip * half_range,
        }
    agent = (TD3Agent if isinstance(config, TD3Config) else DDPGAgent)(
        nb_actions=int(np.prod(action_space.shape)),
        actor=actor,
        critic=critic,
        critic_action_input=action_input,
        memory=SequentialMemory(config.memory_size, gamma=config.gamma),
        gamma=config.gamma,
        batch_size=config.batch_size,
        nb_steps_warmup_critic=config.warmup,
        nb_steps_warmup_actor=config.warmup,
        train_interval=config.train_interval,
        target_model_update=config.target_update,
        random_process=noise_process(config, int(np.prod(action_space.shape)), half_range),
        delta_clip=config.delta_clip,
        nb_steps_random=config.random_steps,
        reward_scale=config.reward_scale,
        **kwargs,
    )
    agent.compile(
        [
            keras.optimizers.Adam(float(config.actor_lr)),
            keras.optimizers.Adam(float(config.critic_lr)),
        ]
    )
    if seed is not None:
        agent.seed(seed)
    return agent


def noise_process(config: Any, size: int, half_range: float) -> Any:
    """The exploration noise of a config's `noise*` fields, scaled by the action's half-range."""
    from agents.random import GaussianWhiteNoiseProcess, OrnsteinUhlenbeckProcess

    sigma = config.noise_sigma * half_range
    end = None if config.noise_sigma_end is None else config.noise_sigma_end * half_range
    anneal = {"sigma": sigma, "sigma_min": end, "n_steps_annealing": config.noise_steps}
    if config.noise == "ou":
        return OrnsteinUhlenbeckProcess(theta=config.ou_theta, size=size, **anneal)
    return GaussianWhiteNoiseProcess(size=size, **anneal)


def build_naf(
    config: NAFConfig, observation_space: Any, action_space: Any, seed: int | None
) -> Any:
    """A compiled `NAFAgent` of `config` (noise settings as fractions of the half-range)."""
    import keras

    from agents import networks
    from agents.memory import SequentialMemory
    from agents.naf import NAFAgent

    if seed is not None:
        keras.utils.set_random_seed(seed)
    size = int(np.prod(action_space.shape))
    half_range = float(np.mean((action_space.high - action_space.low) / 2))
    v_model, l_model, mu_model = networks.naf_networks(
        observation_space, action_space, config.hidden_units, config.covariance
    )
    agent = NAFAgent(
        size, v_model, l_model, mu_model, SequentialMemory(config.memory_size, gamma=config.gamma),
        random_process=noise_process(config, size, half_range),
        covariance_mode=config.covariance, gamma=config.gamma, batch_size=config.batch_size,
        nb_steps_warmup=config.warmup, train_interval=config.train_interval,
        target_model_update=config.target_update, delta_clip=config.delta_clip,
        reward_scale=config.reward_scale,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(float(config.lr)))
    if seed is not None:
        agent.seed(seed)
    return agent


def build_sarsa(
    config: SARSAConfig, observation_space: Any, action_space: Any, seed: int | None
) -> Any:
    """A compiled `SARSAAgent` of `config`: an MLP on unscaled inputs, annealed epsilon."""
    import keras

    from agents import networks
    from agents.policy import EpsGreedyQPolicy, LinearAnnealedPolicy
    from agents.sarsa import SARSAAgent

    if seed is not None:
        keras.utils.set_random_seed(seed)
    nb_actions = int(action_space.n)
    policy = LinearAnnealedPolicy(
        EpsGreedyQPolicy(), "eps", value_max=config.eps_start, value_min=config.eps_end,
        value_test=0.0, nb_steps=config.eps_steps,
    )  # fmt: skip
    agent = SARSAAgent(
        networks.mlp(observation_space.shape, nb_actions, config.hidden_units), nb_actions,
        policy=policy, gamma=config.gamma, nb_steps_warmup=config.warmup,
        train_interval=config.train_interval, delta_clip=config.delta_clip,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(float(config.lr)))
    if seed is not None:
        agent.seed(seed)
    return agent


def build_cem(
    config: CEMConfig, observation_space: Any, action_space: Any, seed: int | None
) -> Any:
    """A compiled `CEMAgent` of `config`: a linear (or one-hidden-layer) softmax policy."""
    import keras

    from agents import networks
    from agents.cem import CEMAgent
    from agents.episode_memory import EpisodeParameterMemory

    if seed is not None:
        keras.utils.set_random_seed(seed)
    nb_actions = int(action_space.n)
    model = networks.policy_mlp(observation_space.shape, nb_actions, config.hidden_units)
    agent = CEMAgent(
        model, nb_actions, EpisodeParameterMemory(config.memory_size),
        batch_size=config.batch_size, nb_steps_warmup=config.warmup,
        train_interval=config.train_interval, elite_frac=config.elite_frac,
        noise_ampl=config.noise_ampl, noise_decay_const=config.noise_decay,
    )  # fmt: skip
    agent.compile()
    if seed is not None:
        agent.seed(seed)
    return agent


def build_ppo(
    config: PPOConfig, observation_space: Any, action_space: Any, seed: int | None
) -> Any:
    """A compiled `PPOAgent` of `config` on Stable-Baselines3's actor-critic MLP."""
    import keras

    from agents.networks import actor_critic
    from agents.ppo import PPOAgent

    if seed is not None:
        keras.utils.set_random_seed(seed)
    agent = PPOAgent(
        actor_critic(observation_space, action_space, config.hidden_units), action_space,
        n_steps=config.n_steps, batch_size=config.batch_size, n_epochs=config.n_epochs,
        gamma=config.gamma, gae_lambda=config.gae_lambda, clip_range=config.clip_range,
        clip_range_vf=config.clip_range_vf, ent_coef=config.ent_coef, vf_coef=config.vf_coef,
        max_grad_norm=config.max_grad_norm, normalize_obs=config.normalize_obs,
        normalize_reward=config.normalize_reward,
    )  # fmt: skip
    agent.compile(keras.optimizers.Adam(_learning_rate(config, ppo_gradient_steps(config))))
    if seed is not None:
        agent.seed(seed)
    return agent


def _learning_rate(config: DQNConfig | PPOConfig, updates: int) -> Any:
    """`config.lr`, or with `config.anneal_lr` a rate falling linearly to 0 over `updates`."""
    import keras

    if config.anneal_lr:
        return keras.optimizers.schedules.PolynomialDecay(float(config.lr), updates, 0.0)
    return float(config.lr)


def dqn_updates(config: DQNConfig) -> int:
    """The updates of a DQN run of `config.steps` env steps: one per train_interval past warmup."""
    return max(1, math.ceil((config.steps - config.warmup) / config.train_interval))


def ppo_gradient_steps(config: PPOConfig) -> int:
    """About the minibatch updates of a PPO run of `config.steps` env steps.

    About: a NEXT_STEP vector env's autoreset rows, which are no transitions, are counted.
    """
    rows = config.n_steps * config.num_envs
    rollouts = math.ceil(config.steps / rows)  # fit's last rollout may pass the budget
    return rollouts * config.n_epochs * math.ceil(rows / config.batch_size)


#: The builder of each agent's config, by agent name.
BUILDERS = {
    "dqn": build_dqn, "qlearning": build_qlearning, "ddpg": build_ddpg, "td3": build_ddpg,
    "naf": build_naf, "sarsa": build_sarsa, "cem": build_cem, "ppo": build_ppo,
}  # fmt: skip
