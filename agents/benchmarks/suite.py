"""The classic suite, ours beside Stable-Baselines3 with the RL Zoo's hyperparameters.

Each row of `SUITE` is one of our agents on one env id, with a budget and a threshold. Each run
(row, framework, seed) trains in a worker of one process pool (a fresh process per run, the
machine's cores split evenly between the workers), so ours and SB3's runs share the machine and
its load; seeds are outermost, and ours and SB3's run of a seed are submitted together. Both are
evaluated greedily on the same seeded episodes (`agents.scoring.evaluation_seeds`) every tenth of
the budget (the learning curve) and at the end. Ours is the run `train_blob.py` makes: validated
on seeds of their own, its best weights evaluated at the end; SB3's is its last model, as `learn`
leaves it. SB3 is the `[compare]` extra; without it, ours runs alone.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.benchmarks.zoo import ZOO
from agents.environments import first_registered

#: Frameworks a row is run with.
OURS, SB3 = "ours", "sb3"


@dataclass(frozen=True)
class SuiteRow:
    """One (agent, env id) of the suite and what counts as solved; its budget is its preset's.

    Attributes:
        agent: An agent of `agents.presets` ("dqn", "ddpg", ...).
        env_id: A registered id.
        threshold: The figure `metric` of a greedy evaluation that counts as solved.
        metric: "mean_return", or "ratio_to_optimum" where the env has an exact optimum.
    """

    agent: str
    env_id: str
    threshold: float
    metric: str = "mean_return"

    @property
    def name(self) -> str:
        """The row's name on the command line: `agent/env id`."""
        return f"{self.agent}/{self.env_id}"

    @property
    def steps(self) -> int:
        """Env steps per run: the budget of the agent's preset for the env (`agents.presets`)."""
        from agents import presets

        return presets.config(self.agent, self.env_id).steps

    @property
    def has_peer(self) -> bool:
        """Whether SB3 + the RL Zoo has this row's algorithm and hyperparameters for its env."""
        return self.env_id in ZOO.get(self.agent, ("", {}))[1]


SUITE = {
    row.name: row
    for row in (
        SuiteRow("dqn", "CartPole-v1", 475.0),
        SuiteRow("dqn", "MountainCar-v0", -110.0),
        SuiteRow("qlearning", "FrozenLake-v1", 0.95, "ratio_to_optimum"),
        SuiteRow("qlearning", first_registered("Taxi-v4", "Taxi-v3"), 0.99, "ratio_to_optimum"),
        SuiteRow("ddpg", "Pendulum-v1", -200.0),
        SuiteRow("td3", "Pendulum-v1", -200.0),
        SuiteRow("naf", "Pendulum-v1", -200.0),
        SuiteRow("sarsa", "CartPole-v1", 475.0),
        SuiteRow("cem", "CartPole-v1", 500.0),
        SuiteRow("ppo", "CartPole-v1", 500.0),
        SuiteRow("ppo", "Pendulum-v1", -200.0),
        SuiteRow("ppo", "Blob-v0", 0.95, "ratio_to_optimum"),
    )
}


@dataclass(frozen=True)
class SuiteConfig:
    """The settings of a suite run (see bench_suite.py's `--help`)."""

    rows: tuple[str, ...] = tuple(SUITE)
    seeds: tuple[int, ...] = (0, 1, 2)
    jobs: int = 2
    curve_points: int = 10
    curve_episodes: int = 100
    val_episodes: int = 100
    eval_episodes: int = 100
    steps: int | None = None
    with_sb3: bool = True

    def budget(self, row: SuiteRow) -> int:
        """Env steps per run of `row`: --steps, else the row's own."""
        return self.steps if self.steps is not None else row.steps

    def check(self) -> None:
        """Checks the settings before any run.

        Raises:
            ValueError: If a row is unknown or a count is out of range.
        """
        unknown = sorted(set(self.rows) - set(SUITE))
        if unknown:
            raise ValueError(f"unknown rows {unknown}; the suite has {list(SUITE)}")
        counts = {"jobs": self.jobs, "curve_points": self.curve_points}
        counts.update(curve_episodes=self.curve_episodes, eval_episodes=self.eval_episodes)
        for name, value in counts.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not isinstance(self.val_episodes, int) or self.val_episodes < 0:
            raise ValueError(f"val_episodes must be an int >= 0, got {self.val_episodes!r}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps!r}")


def sb3_version() -> str | None:
    """The installed Stable-Baselines3's version, or None without the `[compare]` extra."""
    if importlib.util.find_spec("stable_baselines3") is None:
        return None
    from importlib.metadata import version

    return version("stable-baselines3")


def frameworks(row: SuiteRow, config: SuiteConfig) -> list[str]:
    """The frameworks `row` runs with: ours, and SB3 where it has the row and is installed."""
    peer = config.with_sb3 and row.has_peer and sb3_version() is not None
    return [OURS, SB3] if peer else [OURS]


def run_one(row_name: str, framework: str, seed: int, config: SuiteConfig) -> dict[str, Any]:
    """One training run of a row, its curve and its final greedy evaluation (in a worker)."""
    from agents.comparison_report import first_reaching

    row = SUITE[row_name]
    budget = config.budget(row)
    every = max(1, budget // config.curve_points)
    train = _run_ours if framework == OURS else _run_sb3
    run = train(row, seed, config, every)
    run["seed"] = seed
    run["reached"] = first_reaching(run["curve"], row.threshold, row.metric)
    return run


def _run_ours(row: SuiteRow, seed: int, config: SuiteConfig, every: int) -> dict[str, Any]:
    from agents.comparison import CompareConfig, train_one

    compare = CompareConfig(
        agents=(row.agent,), env_id=row.env_id, steps=config.budget(row), seeds=(seed,),
        eval_every=every, curve_episodes=config.curve_episodes,
        val_episodes=config.val_episodes, eval_episodes=config.eval_episodes,
    )  # fmt: skip
    run = train_one(row.agent, compare, seed)
    return {key: run[key] for key in ("env_steps", "train_seconds", "gradient_steps", "curve")} | {
        "final": run["final"]
    }


def _run_sb3(row: SuiteRow, seed: int, config: SuiteConfig, every: int) -> dict[str, Any]:
    import torch

    from agents.benchmarks.sb3_baseline import GreedyPolicy, train_sb3
    from agents.comparison import curve_point
    from agents.scoring import evaluate_agent, evaluation_seeds

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    seeds = evaluation_seeds(config.curve_episodes)
    run = train_sb3(
        row.agent, row.env_id, config.budget(row), seed, every,
        lambda policy: curve_point(policy, row.env_id, seeds, {}),
    )  # fmt: skip
    model = run.pop("model")
    final_seeds = evaluation_seeds(config.eval_episodes)
    run["final"] = evaluate_agent(GreedyPolicy(model), row.env_id, final_seeds)
    return run


def _limit_threads(threads: int) -> None:
    """Limits a worker's threads, before TensorFlow or torch load."""
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_suite(
    config: SuiteConfig,
    on_run: Callable[[dict[str, Any], dict[str, Any]], None] = lambda results, run: None,
) -> dict[str, Any]:
    """Runs every (row, framework, seed) of `config` in one process pool.

    Args:
        config: The suite's settings (checked first).
        on_run: Called as `on_run(results, run)` after each finished run (to save and report).

    Returns:
        `settings`, `sb3_version`, `date` and `rows`: per row name, its `row` settings and
        `runs` per framework (each run: `seed`, `env_steps`, `train_seconds`, `gradient_steps`,
        `curve`, `final`, `reached`).
    """
    config.check()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sb3_version": sb3_version() if config.with_sb3 else None,
        "settings": {"seeds": list(config.seeds), "jobs": config.jobs, "steps": config.steps},
        "rows": {
            name: {
                "row": vars(SUITE[name]) | {"steps": config.budget(SUITE[name])},
                "runs": {framework: [] for framework in frameworks(SUITE[name], config)},
            }
            for name in config.rows
        },
    }
    jobs = [
        (name, framework, seed)
        for seed in config.seeds
        for name in config.rows
        for framework in results["rows"][name]["runs"]
    ]
    threads = max(1, (os.cpu_count() or 1) // config.jobs)
    pool = concurrent.futures.ProcessPoolExecutor(
        config.jobs, multiprocessing.get_context("spawn"), _limit_threads, (threads,),
        max_tasks_per_child=1,
    )  # fmt: skip
    with pool:
        futures = {pool.submit(run_one, *job, config): job for job in jobs}
        try:
            for future in concurrent.futures.as_completed(futures):
                name, framework, _ = futures[future]
                run = future.result() | {"framework": framework, "row": name}
                results["rows"][name]["runs"][framework].append(run)
                on_run(results, run)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    for entry in results["rows"].values():
        for runs in entry["runs"].values():
            runs.sort(key=lambda run: run["seed"])
    return results


def describe_run(run: dict[str, Any]) -> str:
    """One line about a finished run."""
    reached = run["reached"]
    when = f"solved at {reached['steps']} steps" if reached else "threshold not reached"
    return (
        f"{run['row']} {run['framework']} seed {run['seed']}: final greedy return "
        f"{run['final']['mean_return']:.2f}, {when}, {run['train_seconds']:.0f} s"
    )
