"""When an off-policy agent learns from its replay memory (the DQN, DDPG, TD3, NAF).

One schedule for all: an update every `train_interval` env steps once past the warm-up and once
the memory holds a batch (several due at one batched env step run in one compiled call), and a
hard target copy every `target_model_update` env steps when that is >= 1. With `train_freq`
(Stable-Baselines3's name), all of it waits for the end of a round of that many env steps, and
the round's updates run together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.memory import Batch


def learn_due(
    agent: Any,
    count: int,
    warmup: int,
    update: Callable[[int, int], dict[str, float]],
    copy_targets: Callable[[], None],
    train_freq: int = 1,
) -> dict[str, float]:
    """Runs the updates and target copies due as the agent's step goes on by `count` env steps.

    Args:
        agent: An agent with `step`, `memory`, `batch_size`, `train_interval` and
            `target_model_update`.
        count: The env steps just taken (the transitions just stored).
        warmup: Env steps before the first update.
        update: `update(step, n)` runs n updates at the new step and returns their metrics.
        copy_targets: Copies the online networks to their targets.
        train_freq: Env steps per round: what falls due within a round runs at its end (the
            step that reaches a multiple of it); with 1, every step ends a round.

    Returns:
        The updates' metrics ({} if none was due).
    """
    # Only whole rounds count: the schedule runs as if the step moved a round at a time.
    before = agent.step // train_freq * train_freq
    after = (agent.step + count) // train_freq * train_freq
    metrics: dict[str, float] = {}
    if after > warmup and len(agent.memory) >= agent.batch_size:
        due = int(after // agent.train_interval) - int(before // agent.train_interval)
        if due:
            metrics = update(after, due)
    interval = agent.target_model_update
    if interval >= 1 and after // interval > before // interval:
        copy_targets()
    return metrics


def sample_stacked(agent: Any, step: int, count: int) -> Batch:
    """`count` batches of the agent's memory at `step`, each field stacked: (count, batch, ...).

    An `agents.memory.Batch` (`next_masks` None without masks), drawn as `count` calls of
    `memory.sample` would draw them.
    """
    agent.memory.step = step
    return agent.memory.sample_batches(agent.batch_size, count, agent.rng)


def gradient_steps(agent: Any) -> int:
    """The updates an agent made: its (critic's) optimizer's steps, else one per env step."""
    optimizer = getattr(agent, "optimizer", None) or getattr(agent, "critic_optimizer", None)
    return int(optimizer.iterations) if optimizer is not None else int(agent.step)
