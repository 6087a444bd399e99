"""TD3 (Fujimoto et al., 2018): DDPG with twin critics, target smoothing and delayed actors."""

from __future__ import annotations

from typing import Any

from agents.ddpg import DDPGAgent


class TD3Agent(DDPGAgent):
    """`DDPGAgent` with TD3's three corrections on, at the paper's settings by default.

    Twin critics (the second a fresh copy of `critic`'s architecture; targets take the smaller
    Q), target policy smoothing (Gaussian noise of std `target_policy_noise`, clipped to
    ±`target_noise_clip`, both in the action's units) and one actor and target update every
    `policy_delay` critic updates. The other arguments are `DDPGAgent`'s; a TD3 config saves
    and loads like a DDPG one.
    """

    def __init__(
        self,
        *args: Any,
        policy_delay: int = 2,
        target_policy_noise: float = 0.2,
        target_noise_clip: float = 0.5,
        twin_critics: bool = True,
        **kwargs: Any,
    ):
        super().__init__(
            *args,
            twin_critics=twin_critics,
            policy_delay=policy_delay,
            target_policy_noise=target_policy_noise,
            target_noise_clip=target_noise_clip,
            **kwargs,
        )
