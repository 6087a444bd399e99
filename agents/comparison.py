"""Comparing agents on one env: learning curves over the same training and evaluation seeds.

Each agent of a comparison (a row of `AGENT_SPECS`) trains once per seed, for its preset's budget
(Q-learning's table needs far more env steps than the DQN) or a budget given. It is evaluated
greedily every `eval_every` steps on `curve_episodes` fixed seeds: the learning curve, from which
the env steps and training seconds to reach 90% and 95% of the exact optimum come. As
`agents.training` does, it is validated every tenth of its budget on seeds of their own, and the
best weights there are the ones evaluated at the end, on `eval_episodes` fixed seeds. The random
policy (and, on Blob games, the cautious heuristic of `blobenv.heuristic`) and the exact optimum
(Blob's, static or moving, or a table's) are the floors and the ceiling.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from agents import presets
from agents.atomic import write_json
from agents.comparison_report import (
    THRESHOLDS,
    first_reaching,
    markdown_table,
    plot_curves,
    write_report,
)
from agents.environments import make_env, resolve_env_id, spaces_of
from agents.options import option_fields, to_json
from agents.replay import gradient_steps
from agents.scoring import (
    blob_optimum,
    blob_options,
    evaluate_agent,
    evaluation_seeds,
    tabular_optimum,
    validation,
    validation_interval,
)
from blobenv.heuristic import cautious_actions
from blobenv.observation import positions_from_rgb
from blobenv.registration import MAX_EPISODE_STEPS


@dataclass(frozen=True)
class AgentSpec:
    """A named agent configuration: one row of the comparison.

    Attributes:
        label: The row's name in the table and the plot's legend.
        agent: "dqn" or "qlearning".
        overrides: (field, value) pairs changed from the agent's preset (`agents.presets`).
        workers: Ray collectors in the Ape-X shape (`agents.distributed`); 0 trains in one
            process.
    """

    label: str
    agent: str
    overrides: tuple[tuple[str, Any], ...] = ()
    workers: int = 0

    def config(self, env_id: str, steps: int, settings: dict[str, Any] | None = None) -> Any:
        """The agent's config on `env_id` for a budget of `steps` env steps.

        Its preset, then `settings` (--set) where the agent has such a field, then this row's
        overrides (which win, so that an ablation row keeps what defines it).
        """
        fields = {item.name for item in dataclasses.fields(presets.CONFIGS[self.agent])}
        own = {name: value for name, value in (settings or {}).items() if name in fields}
        changes = {**own, **dict(self.overrides), "steps": steps}
        return presets.config(self.agent, env_id, **changes)


def _dqn(label: str, **changes: Any) -> AgentSpec:
    """A DQN ablation variant: plain DQN (no double, dueling, PER, n-step) plus `changes`."""
    plain = {"double": False, "dueling": False, "prioritized": False, "n_step": 1}
    return AgentSpec(label, "dqn", tuple({**plain, **changes}.items()))


AGENT_SPECS = {
    "qlearning": AgentSpec("Q-learning", "qlearning"),
    "qlearning-tutorial": AgentSpec("Q-learning (tutorial)", "qlearning", (("tutorial", True),)),
    "dqn": AgentSpec("DQN", "dqn"),
    "dqn-apex1": AgentSpec("DQN, Ape-X 1 collector", "dqn", workers=1),
    "dqn-apex2": AgentSpec("DQN, Ape-X 2 collectors", "dqn", workers=2),
    "dqn-plain": _dqn("DQN (plain)"),
    "dqn+double": _dqn("+double", double=True),
    "dqn+dueling": _dqn("+dueling", dueling=True),
    "dqn+per": _dqn("+PER", prioritized=True),
    "dqn+nstep": _dqn("+n-step (3)", n_step=3),
    "dqn-all": _dqn("all", double=True, dueling=True, prioritized=True, n_step=3),
    "ddpg": AgentSpec("DDPG", "ddpg"),
    "td3": AgentSpec("TD3", "td3"),
    "naf": AgentSpec("NAF", "naf"),
    "sarsa": AgentSpec("SARSA", "sarsa"),
    "cem": AgentSpec("CEM", "cem"),
    "ppo": AgentSpec("PPO", "ppo"),
}
DEFAULT_AGENTS = ("qlearning", "dqn", "ddpg", "td3", "naf")
ABLATION = ("dqn-plain", "dqn+double", "dqn+dueling", "dqn+per", "dqn+nstep", "dqn-all")


@dataclass(frozen=True)
class CompareConfig:
    """The settings of a comparison (see compare_agents.py's `--help` for each one's meaning).

    `env_kwargs` are the env's keyword arguments (e.g. Blob's `size`), as (name, value) pairs.
    """

    agents: tuple[str, ...] = DEFAULT_AGENTS
    env_id: str = "Blob-v0"
    env_kwargs: tuple[tuple[str, Any], ...] = ()
    steps: int | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    eval_every: int | None = None
    curve_episodes: int = 100
    val_episodes: int = 500
    eval_episodes: int = 500
    out: str | None = None
    settings: tuple[tuple[str, Any], ...] = ()

    def agent_config(self, name: str) -> Any:
        """The config agent `name` trains with: its row's, --set's settings and its budget."""
        return AGENT_SPECS[name].config(self.env_id, self.budget(name), dict(self.settings))

    def budget(self, name: str) -> int:
        """Env steps per run of agent `name`: --steps, else its preset's budget."""
        if self.steps is not None:
            return self.steps
        return presets.config(AGENT_SPECS[name].agent, self.env_id).steps

    def interval(self, name: str) -> int:
        """Env steps between curve points of agent `name`: --eval-every, else 1/20 of its budget."""
        if self.eval_every is not None:
            return self.eval_every
        return max(1, self.budget(name) // 20)

    def agent_env_kwargs(self, name: str) -> dict[str, Any]:
        """The keyword arguments of the envs of agent `name` (its observation type included)."""
        return presets.env_kwargs(self.agent_config(name), self.env_id, **dict(self.env_kwargs))


class RandomAgent:
    """The floor: uniformly random actions (duck-types what `evaluate` needs of an agent).

    Args:
        action_space: The env's (single) Discrete or Box action space (Box: finite bounds).
        seed: Seeds the action draws.
    """

    def __init__(self, action_space: gymnasium.Space, seed: int):
        self.action_space = action_space
        self.rng = np.random.default_rng(seed)
        self.training = False

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """One uniformly random action per observation."""
        space = self.action_space
        if isinstance(space, gymnasium.spaces.Box):
            return self.rng.uniform(space.low, space.high, (len(obs), *space.shape))
        return space.start + self.rng.integers(0, space.n, len(obs))


class HeuristicAgent:
    """Blob's hand-written floor: `blobenv.heuristic` on the cells read from rgb observations.

    Args:
        size: The grid size.
        moving_enemy: Whether the enemy moves (the heuristic then keeps out of its reach).
    """

    def __init__(self, size: int, moving_enemy: bool):
        self.size, self.moving_enemy = size, moving_enemy
        self.training = False

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """The heuristic's action per rgb observation."""
        cells = positions_from_rgb(obs)
        return cautious_actions(*cells, self.size, self.moving_enemy)


# --- running --------------------------------------------------------------------------------


def train_one(name: str, config: CompareConfig, seed: int) -> dict[str, Any]:
    """Trains agent `name` with `seed`, recording its learning curve; evaluates it at the end.

    Returns:
        The run's figures: `seed`, `env_steps`, `train_seconds`, `gradient_steps`, `curve`,
        `validation` (its points; empty without validation), `final` (evaluation of the weights
        kept, on the full seed set) and `reached` (per threshold, the first curve point reaching
        it, or None).

    Raises:
        KeyboardInterrupt: If the user stopped training (Ctrl+C).
    """
    from callbacks import PeriodicEvaluation, TrainIntervalLogger

    spec, hyper = AGENT_SPECS[name], config.agent_config(name)
    env_kwargs = config.agent_env_kwargs(name)
    env = presets.make_env(spec.agent, config.env_id, hyper, **dict(config.env_kwargs))
    curve_seeds = evaluation_seeds(config.curve_episodes)
    budget, interval = config.budget(name), config.interval(name)
    curve = PeriodicEvaluation(
        lambda agent: curve_point(agent, config.env_id, curve_seeds, env_kwargs), interval
    )
    # Validation time counts as training time (it is part of a training run); the curve's own
    # evaluations do not.
    callbacks = [curve, TrainIntervalLogger(interval=budget)]
    keep_best = None
    if config.val_episodes:
        every = validation_interval(budget)
        keep_best = validation(config.env_id, config.val_episodes, every, env_kwargs)
        callbacks.insert(0, keep_best)
    try:
        agent = presets.build(spec.agent, env, hyper, seed=seed)
        fit = _fit(spec, config, hyper, seed)
        fit(agent, env, nb_steps=budget, callbacks=callbacks, verbose=0, seed=seed)
        if agent.interrupted:
            raise KeyboardInterrupt
        if keep_best is not None:
            keep_best.restore_best()
    finally:
        env.close()
    seeds = evaluation_seeds(config.eval_episodes)
    return {
        "seed": seed,
        "env_steps": int(agent.step),
        "train_seconds": curve.train_seconds,
        "gradient_steps": gradient_steps(agent),
        "curve": curve.points,
        "validation": keep_best.points if keep_best is not None else [],
        "final": evaluate_agent(agent, config.env_id, seeds, env_kwargs),
        "reached": {str(f): first_reaching(curve.points, f) for f in THRESHOLDS},
    }


def _fit(spec: AgentSpec, config: CompareConfig, hyper: Any, seed: int) -> Any:
    """`fit(agent, env, **options)` of a row: the agent's own, or with its Ray collectors."""
    if not spec.workers:
        return lambda agent, env, **options: agent.fit(env, **options)
    from agents import distributed  # the only module that imports ray
    from agents.run_config import RunConfig

    run = RunConfig(
        agent=spec.agent, env_id=config.env_id, seed=seed, env_kwargs=dict(config.env_kwargs),
        hyper=hyper, workers=spec.workers,
    )  # fmt: skip
    apex = distributed.ApeX(spec.workers)

    def fit(agent: Any, env: Any, **options: Any) -> Any:
        with distributed.ray_session(None, spec.workers):
            return apex(run, agent, env, **options)

    return fit


def curve_point(
    agent: Any, env_id: str, seeds: Sequence[int], env_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The figures of a learning-curve point: greedy evaluation of `agent` on `seeds`."""
    summary = evaluate_agent(agent, env_id, seeds, env_kwargs)
    keys = ("mean_return", "success_rate", "ratio_to_optimum")
    return {key: summary[key] for key in keys if key in summary}


def baselines(config: CompareConfig) -> dict[str, Any]:
    """The floors and the ceiling that a comparison's agents are shown against.

    The random policy (one run per seed); on Blob games the cautious heuristic
    (`blobenv.heuristic`, played on rgb images whatever the agents see; deterministic, so one
    run); the exact optimum (Blob's or a table's).
    """
    env_kwargs = dict(config.env_kwargs)
    env = make_env(resolve_env_id(config.env_id).id, env_kwargs)
    try:
        action_space = spaces_of(env)[1]
    finally:
        env.close()
    seeds = evaluation_seeds(config.eval_episodes)
    random_runs = []
    for seed in config.seeds:
        final = evaluate_agent(RandomAgent(action_space, seed), config.env_id, seeds, env_kwargs)
        random_runs.append({"seed": seed, "final": final})
    result: dict[str, Any] = {"random": random_runs, "heuristic": None, "optimum": None}
    optimum = blob_optimum(config.env_id, env_kwargs, seeds)
    if optimum is not None:
        options = blob_options(config.env_id, env_kwargs)
        heuristic = HeuristicAgent(int(options.get("size", 10)), bool(options.get("moving_enemy")))
        rgb_kwargs = {**env_kwargs, "obs_type": "rgb"}
        result["heuristic"] = evaluate_agent(heuristic, config.env_id, seeds, rgb_kwargs)
        result["optimum"] = {"mean_return": float(optimum.mean()), "ratio_to_optimum": 1.0}
        if not (options.get("moving_food") or options.get("moving_enemy")):
            # An episode that never reaches the food returns -1 per step; any success more.
            result["optimum"]["success_rate"] = float((optimum > -MAX_EPISODE_STEPS).mean())
        return result
    optimum = tabular_optimum(config.env_id, env_kwargs, seeds)
    if optimum is not None:  # an expectation (FrozenLake's optimal success rate)
        result["optimum"] = {"mean_return": float(optimum.mean())}
        result["optimum"].update({"ratio_to_optimum": 1.0} if optimum.mean() > 0 else {})
    return result


def default_agents(env_id: str, env_kwargs: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The agents of DEFAULT_AGENTS that can learn `env_id` (Pendulum: DDPG, TD3, NAF).

    Raises:
        ValueError: If the env id is unknown, or no agent can learn the env.
    """
    able = presets.agents_for(env_id, **(env_kwargs or {}))
    return tuple(name for name in DEFAULT_AGENTS if AGENT_SPECS[name].agent in able)


def check_env(config: CompareConfig) -> None:
    """Checks, before any training, that every agent compared can learn the env.

    Raises:
        ValueError: If the env id or options are invalid, or an agent cannot learn the env.
    """
    for name in config.agents:
        env = make_env(resolve_env_id(config.env_id).id, config.agent_env_kwargs(name))
        try:  # the spaces, and the agent's own checks of its hyperparameters
            presets.build(AGENT_SPECS[name].agent, env, config.agent_config(name))
        finally:
            env.close()


def compare(config: CompareConfig, out_dir: Path, command: str = "") -> dict[str, Any]:
    """Runs the whole comparison, writing compare.json after each run, then the table and plot.

    Args:
        config: The comparison's settings.
        out_dir: An existing directory for compare.json, compare.md and compare.png.
        command: The command line, recorded in compare.json.

    Returns:
        Everything written to compare.json.
    """
    results: dict[str, Any] = {
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": to_json(config),
        "agents": {
            name: {
                "label": AGENT_SPECS[name].label,
                "agent": AGENT_SPECS[name].agent,
                "eval_every": config.interval(name),
                "config": to_json(config.agent_config(name)),
                "runs": [],
            }
            for name in config.agents
        },
    }
    results.update(baselines(config))
    json_path = out_dir / "compare.json"
    write_json(json_path, results)
    # Seeds outermost, so that changes in the machine's load over time hit every agent alike.
    for seed in config.seeds:
        for name in config.agents:
            print(f"--- {AGENT_SPECS[name].label}, seed {seed}", flush=True)
            run = train_one(name, config, seed)
            results["agents"][name]["runs"].append(run)
            print(describe_run(run), flush=True)
            write_json(json_path, results)
    write_report(results, out_dir, "compare", markdown_table, plot_curves)
    return results


def describe_run(run: dict[str, Any]) -> str:
    """One line about a finished run."""
    final = run["final"]
    line = (
        f"{run['env_steps']} env steps in {run['train_seconds']:.1f} s: "
        f"mean return {final['mean_return']:.2f}"
    )
    if "ratio_to_optimum" in final:
        line += f", {100 * final['ratio_to_optimum']:.1f}% of the optimum"
    for fraction, reached in run["reached"].items():
        if reached:
            line += f"; {100 * float(fraction):.0f}% at {reached['steps']} steps"
            line += f" ({reached['seconds']:.1f} s)"
    return line


def parse_settings(items: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    """Parses --set's NAME=VALUE items with the types of the agent configs' fields.

    Raises:
        ValueError: If an item is not NAME=VALUE, no agent has NAME, or VALUE has the wrong type.
    """
    types = {
        item.name: item.metadata["type"]
        for config in presets.CONFIGS.values()
        for item in option_fields(config)
        if item.name != "steps"
    }
    settings = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.replace("-", "_")
        if not sep or name not in types:
            raise ValueError(
                f"--set takes NAME=VALUE with NAME one of {sorted(types)}, got {item!r}"
            )
        kind = types[name]
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                settings[name] = text.lower() in ("true", "1")
            else:
                settings[name] = kind(text)
        except ValueError as error:
            raise ValueError(f"--set {name}: expected a {kind.__name__}, got {text!r}") from error
    return tuple(settings.items())
