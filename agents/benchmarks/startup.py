"""Interpreter start-up with and without blobenv's gymnasium import hook.

What is compared, and why that is fair: the project's wheel is installed into a scratch virtual
environment, and ``python -c pass`` is run there with the hook's ``.pth`` in place ("with hook")
and with it renamed so that ``site`` skips it ("without hook"), alternating the two run by run
so that drift in the machine's load falls on both alike. Everything else (interpreter, flags,
environment variables, ``sys.path``, the other ``.pth`` files, the directory listing) is
identical. The ``.pth`` is the only part of an installed blobenv that runs at start-up (the
package directory is read only when imported), so "without hook" is also "blobenv not
installed". ``python -S`` would not be fair: it skips all of ``site``, not just the hook. The
venv has no other ``.pth`` that imports a module, so the hook is measured at its most visible.
The scratch venv sees this environment's packages through a path line, so the same alternation
also times ``import gymnasium``, where the hook's cost is the import of blobenv, by design.

Three measures: wall time (what a user waits), the child's CPU time (less sensitive to other
processes on a shared machine), and, when valgrind is installed, the instructions executed
(callgrind; deterministic, so a few runs suffice).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

HOOK = "_blobenv_gym_hook"
BOOTSTRAP_SEED = 0
WARMUP_RUNS = 3
KINDS = ("without hook", "with hook")
#: A row of the results: the command, the figure, the runs of each kind, and their summary.
Row = tuple[str, str, int, dict[str, float]]


def pip(*args: str, timeout: float | None = None) -> None:
    """Runs this interpreter's pip quietly, raising with its output if it fails.

    Raises:
        RuntimeError: If pip fails.
        subprocess.TimeoutExpired: If it runs longer than `timeout` seconds.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def copy_project(root: Path, destination: Path) -> Path:
    """Copies what a build of the checkout `root` reads to `destination`, and returns it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("blobenv", "agents", "callbacks"):
        shutil.copytree(root / name, destination / name, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        if (root / name).exists():
            shutil.copyfile(root / name, destination / name)
    return destination


def build_wheel(root: Path, work: Path) -> Path:
    """Builds the project's wheel from a copy of a checkout (which stays untouched).

    Args:
        root: The checkout: the directory of setup.cfg.
        work: A scratch directory.

    Returns:
        The wheel's path.
    """
    project = copy_project(root, work / "project")
    pip("wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(project))
    (wheel,) = (work / "dist").glob("blobenv-*.whl")
    return wheel


def make_venv(directory: Path, wheel: Path) -> tuple[Path, Path]:
    """Creates a venv with the wheel installed that also sees this environment's packages.

    Args:
        directory: Where to create it.
        wheel: The project's wheel.

    Returns:
        The venv's interpreter and its site-packages directory.

    Raises:
        RuntimeError: If installing the wheel put no hook in site-packages.
    """
    python, purelib = scratch_venv(directory)
    pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel))
    if not (purelib / f"{HOOK}.pth").is_file():
        raise RuntimeError(f"the wheel {wheel} installed no {HOOK}.pth")
    return python, purelib


def scratch_venv(directory: Path) -> tuple[Path, Path]:
    """Creates a venv without pip or the project that sees this environment's packages.

    They are seen through a path line (not a site dir), so this environment's own ``.pth``
    files, the hook's included, do not run in the scratch venv.

    Returns:
        The venv's interpreter and its site-packages directory.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    python = directory / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    stack = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    Path(purelib, "_stack.pth").write_text("".join(f"{path}\n" for path in stack))
    return python, Path(purelib)


def measure_run(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Runs `command` once; returns its wall and CPU (user + system) times in milliseconds.

    Raises:
        subprocess.CalledProcessError: If the command fails.
    """
    start = time.perf_counter_ns()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = (time.perf_counter_ns() - start) / 1e6
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return {"wall_ms": wall, "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1e3}


def count_instructions(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Runs `command` once under callgrind; returns the instructions it executed, in millions.

    Raises:
        RuntimeError: If callgrind reports no count.
    """
    log = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    match = re.search(r"Collected : (\d+)", log)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{log}")
    return {"instructions_M": int(match.group(1)) / 1e6}


def alternate(
    pth: Path, runs: int, measure: Callable[[], dict[str, float]]
) -> dict[str, dict[str, list[float]]]:
    """Measures with and without the hook's .pth, alternating which of the two goes first.

    Args:
        pth: The hook's .pth file, renamed aside for the runs without it.
        runs: Measured runs of each kind, after a few unmeasured warm-up runs.
        measure: Called with no arguments for one run; returns a dict of named figures.

    Returns:
        For "without hook" and "with hook", each figure's values in run order.
    """
    disabled = pth.with_name(pth.name + ".off")
    samples: dict[str, dict[str, list[float]]] = {kind: {} for kind in KINDS}
    try:
        for index in range(runs + WARMUP_RUNS):
            for kind in KINDS if index % 2 else KINDS[::-1]:
                source, target = (disabled, pth) if kind == "with hook" else (pth, disabled)
                if source.exists():
                    os.replace(source, target)
                figures = measure()
                if index >= WARMUP_RUNS:
                    for name, value in figures.items():
                        samples[kind].setdefault(name, []).append(value)
    finally:
        if disabled.exists():
            os.replace(disabled, pth)
    return samples


def summarise(without: list[float], with_: list[float]) -> dict[str, float]:
    """Medians, spreads, their ratio, and the paired difference with a bootstrap 95% interval.

    Args:
        without: One figure's values without the hook.
        with_: The same figure's values with the hook, paired with `without` by index.

    Returns:
        The summary, in the figure's unit (apart from the ratio).
    """
    differences = [b - a for a, b in zip(without, with_, strict=True)]
    rng = random.Random(BOOTSTRAP_SEED)
    boot = sorted(
        statistics.median(rng.choices(differences, k=len(differences))) for _ in range(2000)
    )
    summary = {"ratio": statistics.median(with_) / statistics.median(without)}
    for kind, values in zip(KINDS, (without, with_), strict=True):
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
        summary[f"{kind} median"] = statistics.median(values)
        summary[f"{kind} half iqr"] = (quartiles[2] - quartiles[0]) / 2
    summary["difference median"] = statistics.median(differences)
    summary["difference ci95 low"] = boot[int(0.025 * len(boot))]
    summary["difference ci95 high"] = boot[int(0.975 * len(boot)) - 1]
    return summary


def compare(
    python: Path, pth: Path, runs: int, gymnasium_runs: int, instruction_runs: int
) -> tuple[list[Row], dict[str, dict[str, list[float]]]]:
    """Times `python -c pass` and `python -c 'import gymnasium'` with and without the hook.

    Args:
        python: The scratch venv's interpreter (see `make_venv`).
        pth: The hook's .pth file in that venv.
        runs: Timed `-c pass` runs of each kind.
        gymnasium_runs: Timed `import gymnasium` runs of each kind (0: none).
        instruction_runs: `-c pass` runs of each kind under callgrind (0: none).

    Returns:
        One row per command and figure, and every sample by "<command> <figure>" and kind.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    startup = [str(python), "-c", "pass"]
    gymnasium = [str(python), "-c", "import gymnasium"]
    plan = [
        ("python -c pass", runs, lambda: measure_run(startup, env)),
        ("python -c pass", instruction_runs, lambda: count_instructions(startup, env)),
        ("python -c 'import gymnasium'", gymnasium_runs, lambda: measure_run(gymnasium, env)),
    ]
    rows: list[Row] = []
    samples: dict[str, dict[str, list[float]]] = {}
    for command, count, measure in plan:
        if count == 0:
            continue
        measured = alternate(pth, count, measure)
        for figure in measured["with hook"]:
            summary = summarise(measured["without hook"][figure], measured["with hook"][figure])
            rows.append((command, figure, count, summary))
            samples[f"{command} {figure}"] = {kind: measured[kind][figure] for kind in KINDS}
    return rows, samples


def markdown(rows: list[Row]) -> str:
    """Renders (command, figure, runs, summary) rows as a Markdown table.

    Args:
        rows: What `compare` returned.

    Returns:
        The table: medians ± half the interquartile range, their ratio, the paired difference.
    """
    lines = [
        "| command | figure | runs | without hook | with hook | ratio | difference [95% CI] |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for command, figure, runs, s in rows:
        lines.append(
            f"| `{command}` | {figure} | {runs} "
            f"| {s['without hook median']:.2f} ± {s['without hook half iqr']:.2f} "
            f"| {s['with hook median']:.2f} ± {s['with hook half iqr']:.2f} "
            f"| {s['ratio']:.3f} | {s['difference median']:+.3f} "
            f"[{s['difference ci95 low']:+.3f}, {s['difference ci95 high']:+.3f}] |"
        )
    return "\n".join(lines)
