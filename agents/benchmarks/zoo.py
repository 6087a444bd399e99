"""The RL Zoo's tuned hyperparameters for the ids of `bench_suite.py` (data only, no imports)."""

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
