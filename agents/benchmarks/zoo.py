"""The RL Zoo's tuned hyperparameters for the rows of `bench_suite.py` (data only, no imports)."""

from __future__ import annotations

from typing import Any

#: The RL Zoo's DQN hyperparameters (DLR-RM/rl-baselines3-zoo, hyperparams/dqn.yml, commit
#: ce95481b041fe5314c1b2f1a53940d169b9253fc), as keyword arguments of SB3's `DQN`.
ZOO_DQN: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000,
        "learning_starts": 1000, "gamma": 0.99, "target_update_interval": 10,
        "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
        "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]},
    },
    "MountainCar-v0": {
        "learning_rate": 4e-3, "batch_size": 128, "buffer_size": 10_000,
        "learning_starts": 1000, "gamma": 0.98, "target_update_interval": 600,
        "train_freq": 16, "gradient_steps": 8, "exploration_fraction": 0.2,
        "exploration_final_eps": 0.07, "policy_kwargs": {"net_arch": [256, 256]},
    },
}  # fmt: skip

#: The RL Zoo's DDPG and TD3 hyperparameters for Pendulum-v1 (hyperparams/ddpg.yml and td3.yml,
#: as the sb3/ddpg-Pendulum-v1 and sb3/td3-Pendulum-v1 model cards list them), as keyword
#: arguments of SB3's `DDPG` and `TD3`; `noise_std` is the std of the Gaussian action noise on
#: the [-1, 1]-scaled actions (the Zoo's noise_type "normal"), which `sb3_baseline` turns into
#: SB3's `action_noise`. The Zoo trains once per episode (train_freq [1, "episode"],
#: gradient_steps -1): as many updates as env steps, batched by episode.
_ZOO_PENDULUM = {
    "learning_rate": 1e-3, "buffer_size": 200_000, "learning_starts": 10_000, "gamma": 0.98,
    "train_freq": (1, "episode"), "gradient_steps": -1, "noise_std": 0.1,
    "policy_kwargs": {"net_arch": [400, 300]},
}  # fmt: skip
ZOO_DDPG: dict[str, dict[str, Any]] = {"Pendulum-v1": _ZOO_PENDULUM}
ZOO_TD3: dict[str, dict[str, Any]] = {"Pendulum-v1": _ZOO_PENDULUM}
#: The RL Zoo's PPO hyperparameters for CartPole-v1 and Pendulum-v1 (hyperparams/ppo.yml);
#: `n_envs` is the vector env's size, "lin_X" the Zoo's linear schedule from X to 0
#: (`sb3_baseline` makes both). Pendulum's row explores with gSDE (`use_sde`), which ours lacks.
ZOO_PPO: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "n_envs": 8, "n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98,
        "n_epochs": 20, "ent_coef": 0.0, "learning_rate": "lin_0.001", "clip_range": "lin_0.2",
    },
    "Pendulum-v1": {
        "n_envs": 4, "n_steps": 1024, "gae_lambda": 0.95, "gamma": 0.9, "n_epochs": 10,
        "ent_coef": 0.0, "learning_rate": 1e-3, "clip_range": 0.2, "use_sde": True,
        "sde_sample_freq": 4,
    },
}  # fmt: skip
#: Per agent of ours, SB3's algorithm of the same name and the Zoo's rows for it.
ZOO: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "dqn": ("DQN", ZOO_DQN), "ddpg": ("DDPG", ZOO_DDPG), "td3": ("TD3", ZOO_TD3),
    "ppo": ("PPO", ZOO_PPO),
}  # fmt: skip
