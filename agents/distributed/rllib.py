"""Blob for RLlib's users: RLlib's PPO (PyTorch) on a Blob id, with no glue code of ours.

RLlib makes the env by its registered id in each env runner (`gymnasium.make("Blob-v0",
obs_type="coords")`: the install-time hook registers the Blob ids when gymnasium is imported, so
nothing of ours is imported there). RLlib's default networks do not take Blob's uint8 pixels as
they are (its CNN fails on uint8 input, "Input type (unsigned char) and bias type (float) should
be the same", and its `MeanStdFilter` refuses a uint8 space, "Box low is out of bounds of the
dtype range"), so RLlib gets Blob's other observation, the tutorial's coordinates (a
MultiDiscrete), one-hot encoded by RLlib's own `FlattenObservations` connector. Those, an
env option and a budget are all the settings. Needs
`pip install "ray[rllib]" torch` (RLlib 2.60 pins gymnasium 1.2.2, which blobenv supports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def ppo_curve(
    env_id: str = "Blob-v0",
    env_steps: int = 40_000,
    seed: int = 0,
    num_envs: int = 8,
    report: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Trains RLlib's PPO on `env_id` for about `env_steps` env steps; returns its curve.

    Args:
        env_id: A registered Blob id (its `obs_type="coords"` is used).
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
    from ray.rllib.connectors.env_to_module import FlattenObservations

    config = (
        PPOConfig()
        .environment(env_id, env_config={"obs_type": "coords"})
        .framework("torch")
        .env_runners(
            num_env_runners=1,
            num_envs_per_env_runner=num_envs,
            env_to_module_connector=lambda env, spaces, device: FlattenObservations(),
        )
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
