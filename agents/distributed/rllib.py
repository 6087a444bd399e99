"""Blob for RLlib's users: RLlib's PPO (PyTorch) on a Blob id, with no glue.

RLlib makes the env by its registered id in each env runner (`gymnasium.make("Blob-v0")`: the
install-time hook registers the Blob ids when gymnasium is imported, so nothing of ours is
imported there). The only settings given are the ones any pixel env of this size needs: a
small convolution stack (RLlib has no default one for 10 x 10 images) and a budget. Needs
`pip install "ray[rllib]" torch` (RLlib 2.60 pins gymnasium 1.2.2, which blobenv supports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Convolutions ([channels, kernel, stride]) for small Blob grids.
CONV_FILTERS = [[16, 3, 1], [32, 3, 1]]


def ppo_curve(
    env_id: str = "Blob-v0",
    env_steps: int = 40_000,
    seed: int = 0,
    num_envs: int = 8,
    report: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Trains RLlib's PPO on `env_id` for about `env_steps` env steps; returns its curve.

    Args:
        env_id: A registered Gymnasium id (a Blob id, or any other RLlib can run).
        env_steps: Budget; training stops at the first iteration that reaches it.
        seed: RLlib's seed.
        num_envs: Sub-envs of the (one) env runner.
        report: Called with each point as it comes.

    Returns:
        One point per training iteration: `env_steps` (sampled so far), `episode_return_mean`
        (RLlib's, over its recent episodes; None before the first ends) and `seconds`.

    Raises:
        ModuleNotFoundError: If RLlib or torch is not installed.
    """
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

    config = (
        PPOConfig()
        .environment(env_id)
        .framework("torch")
        .env_runners(num_env_runners=1, num_envs_per_env_runner=num_envs)
        .rl_module(model_config=DefaultModelConfig(conv_filters=CONV_FILTERS))
        .training(train_batch_size_per_learner=2_000, minibatch_size=250, num_epochs=6)
        .debugging(seed=seed)
    )
    started = not ray.is_initialized()
    if started:
        ray.init(include_dashboard=False)
    algo = config.build_algo()
    curve: list[dict[str, Any]] = []
    seconds = 0.0
    try:
        while not curve or curve[-1]["env_steps"] < env_steps:
            result = algo.train()
            seconds += float(result.get("time_this_iter_s", 0.0))
            runners = result.get("env_runners", {})
            point = {
                "env_steps": int(result.get("num_env_steps_sampled_lifetime", 0)),
                "episode_return_mean": runners.get("episode_return_mean"),
                "seconds": seconds,
            }
            curve.append(point)
            if report is not None:
                report(point)
    finally:
        algo.stop()
        if started:
            ray.shutdown()
    return curve


def describe(point: dict[str, Any]) -> str:
    """One line about a point of `ppo_curve`."""
    mean = point["episode_return_mean"]
    text = "no episode yet" if mean is None else f"mean return {mean:.2f}"
    return f"{point['env_steps']:>8} env steps  {text}  {point['seconds']:.1f} s"
