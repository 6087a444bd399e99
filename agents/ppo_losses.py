"""PPO's arithmetic: generalized advantage estimation and the terms of the clipped loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

#: The loss terms `ppo_loss_terms` returns, in the order `PPOAgent` reports them.
METRICS = ["policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"]


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    done: np.ndarray,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimation over one sub-env's steps, contiguous in time.

    With `delta[t] = rewards[t] + gamma * (1 - terminated[t]) * next_values[t] - values[t]`,
    `advantages[t] = delta[t] + gamma * lam * (1 - done[t]) * advantages[t + 1]`, and 0 after
    the last step. An episode end (`done`) stops the recursion; a truncation (done, not
    terminated) bootstraps from `next_values`, V of the final observation; a termination from
    0. The last step, done or not, bootstraps from its `next_values`.

    Args:
        rewards: (T, ...) rewards.
        values: (T, ...) V(obs[t]).
        next_values: (T, ...) V(next_obs[t]): `values[t + 1]` where the episode goes on.
        terminated: (T, ...) bools: the step ended its episode in a terminal state.
        done: (T, ...) bools: the step ended its episode (terminated or truncated).
        gamma: Discount factor.
        lam: GAE's lambda (0: one-step TD errors, 1: Monte Carlo returns minus values).

    Returns:
        `(advantages, returns)`, float64 of the rewards' shape; `returns = advantages + values`.
    """
    rewards, values = np.asarray(rewards, np.float64), np.asarray(values, np.float64)
    go_on = 1.0 - np.asarray(terminated, np.float64)
    deltas = rewards + gamma * go_on * np.asarray(next_values, np.float64) - values
    carry = gamma * lam * (1.0 - np.asarray(done, np.float64))
    advantages = np.zeros_like(deltas)
    following = np.zeros_like(deltas[0]) if len(deltas) else 0.0
    for t in reversed(range(len(deltas))):
        following = deltas[t] + carry[t] * following
        advantages[t] = following
    return advantages, advantages + values


def ppo_loss_terms(
    log_probs: Any,
    old_log_probs: Any,
    advantages: Any,
    values: Any,
    old_values: Any,
    returns: Any,
    entropy: Any,
    clip_range: float,
    clip_range_vf: float | None = None,
) -> dict[str, Any]:
    """The terms of PPO's loss on a minibatch (all inputs of shape (B,)).

    Returns:
        Scalars: `policy_loss`, the negated clipped surrogate
        `-mean(min(ratio * A, clip(ratio, 1 - c, 1 + c) * A))` with
        `ratio = exp(log_probs - old_log_probs)`; `value_loss`, `mean((returns - v)**2)` where
        v is `values`, or with `clip_range_vf` Stable-Baselines3's clipped
        `old_values + clip(values - old_values, -clip_range_vf, clip_range_vf)`; `entropy`,
        the mean entropy; `approx_kl`, `mean(ratio - 1 - log(ratio))`; `clip_fraction`, the
        share of rows with `|ratio - 1| > clip_range`.
    """
    log_ratio = log_probs - old_log_probs
    ratio = tf.exp(log_ratio)
    clipped = tf.clip_by_value(ratio, 1.0 - clip_range, 1.0 + clip_range)
    policy_loss = -tf.reduce_mean(tf.minimum(ratio * advantages, clipped * advantages))
    if clip_range_vf is not None:
        values = old_values + tf.clip_by_value(values - old_values, -clip_range_vf, clip_range_vf)
    outside = tf.cast(tf.abs(ratio - 1.0) > clip_range, log_ratio.dtype)
    return {
        "policy_loss": policy_loss,
        "value_loss": tf.reduce_mean(tf.square(returns - values)),
        "entropy": tf.reduce_mean(entropy),
        "approx_kl": tf.reduce_mean(ratio - 1.0 - log_ratio),
        "clip_fraction": tf.reduce_mean(outside),
    }
