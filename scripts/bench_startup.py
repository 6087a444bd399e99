"""Interpreter start-up with and without blobenv's gymnasium import hook.

    python scripts/bench_startup.py [--runs 200] [--gymnasium-runs 10] [--instruction-runs 3]
                                    [--wheel PATH] [--out runs/bench_startup.json]

What is compared, and why that is fair: the project's wheel (built from this checkout unless
``--wheel`` is given) is installed into a scratch virtual environment, and ``python -c pass`` is
run there with the hook's ``.pth`` in place ("with hook") and with it renamed so that ``site``
skips it ("without hook"), alternating the two run by run so that drift in the machine's load
falls on both alike. Everything else (interpreter, flags, environment variables, ``sys.path``,
the other ``.pth`` files, the directory listing) is identical. The ``.pth`` is the only part of an
installed blobenv that runs at start-up (the package directory is read only when imported), so
"without hook" is also "blobenv not installed". ``python -S`` would not be fair: it skips all of
``site``, not just the hook. The venv has no other ``.pth`` that imports a module, so the hook is
measured at its most visible. The scratch venv sees this environment's packages through a path
line, so the same alternation also times ``import gymnasium``, where the hook's cost is the import
of blobenv, by design.

Three measures: wall time (what a user waits), the child's CPU time (less sensitive to other
processes on a shared machine), and, when valgrind is installed, the instructions executed
(callgrind; deterministic, so a few runs suffice). Prints a Markdown table (medians, half the
interquartile range, the ratio of the medians, the median of the paired differences with a
bootstrap 95% interval) and writes all samples to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOOK = "_blobenv_gym_hook"
BOOTSTRAP_SEED = 0
WARMUP_RUNS = 3
KINDS = ("without hook", "with hook")


def pip(*args: str) -> None:
    """Run this interpreter's pip quietly, raising with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def build_wheel(work: Path) -> Path:
    """Build the project's wheel from a copy of the checkout (which stays untouched).

    Args:
        work: A scratch directory.

    Returns:
        The wheel's path.
    """
    project = work / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("blobenv", "agents", "callbacks"):
        shutil.copytree(ROOT / name, project / name, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copyfile(ROOT / name, project / name)
    pip("wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(project))
    (wheel,) = (work / "dist").glob("blobenv-*.whl")
    return wheel


def make_venv(directory: Path, wheel: Path) -> tuple[Path, Path]:
    """Create a venv with the wheel installed that also sees this environment's packages.

    Args:
        directory: Where to create it.
        wheel: The project's wheel.

    Returns:
        The venv's interpreter and its site-packages directory.

    Raises:
        RuntimeError: If installing the wheel put no hook in site-packages.
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
    pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel))
    if not Path(purelib, f"{HOOK}.pth").is_file():
        raise RuntimeError(f"the wheel {wheel} installed no {HOOK}.pth")
    return python, Path(purelib)


def measure_run(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``command`` once; return its wall and CPU (user + system) times in milliseconds."""
    start = time.perf_counter_ns()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = (time.perf_counter_ns() - start) / 1e6
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return {"wall_ms": wall, "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1e3}


def count_instructions(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``command`` once under callgrind; return the instructions it executed, in millions."""
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
    """Measure with and without the hook's .pth, alternating which of the two goes first.

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
        with_: The same figure's values with the hook, paired with ``without`` by index.

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


def markdown(rows: list[tuple[str, str, int, dict[str, float]]]) -> str:
    """Render (command, figure, runs, summary) rows as a Markdown table."""
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


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as JSON atomically (a temporary file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(data, file, indent=2)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def run_count(minimum: int) -> Callable[[str], int]:
    """Return an argparse type for a run count of at least ``minimum``."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum} runs, got {value}")
        return value

    return parse


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print its table and write its JSON.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        What was written to the JSON file.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=run_count(2), default=200, help="`-c pass` runs each")
    parser.add_argument(
        "--gymnasium-runs", type=run_count(0), default=10, help="`import gymnasium` runs each"
    )
    parser.add_argument(
        "--instruction-runs",
        type=run_count(0),
        default=3,
        help="`-c pass` runs each under callgrind (skipped, with a note, without valgrind)",
    )
    parser.add_argument("--wheel", type=Path, help="an already built blobenv wheel")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_startup.json"))
    args = parser.parse_args(argv)
    if args.wheel is not None and not args.wheel.is_file():
        parser.error(f"--wheel {args.wheel}: no such file (expected a blobenv-*.whl)")
    instruction_runs = args.instruction_runs
    if instruction_runs and shutil.which("valgrind") is None:
        print("valgrind not found: no instruction counts.", file=sys.stderr)
        instruction_runs = 0

    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    rows: list[tuple[str, str, int, dict[str, float]]] = []
    samples: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as scratch:
        work = Path(scratch)
        wheel = args.wheel or build_wheel(work)
        python, purelib = make_venv(work / "venv", wheel)
        pth = purelib / f"{HOOK}.pth"
        startup = [str(python), "-c", "pass"]
        gymnasium = [str(python), "-c", "import gymnasium"]
        plan = [
            ("python -c pass", args.runs, lambda: measure_run(startup, env)),
            ("python -c pass", instruction_runs, lambda: count_instructions(startup, env)),
            (
                "python -c 'import gymnasium'",
                args.gymnasium_runs,
                lambda: measure_run(gymnasium, env),
            ),
        ]
        for command, runs, measure in plan:
            if runs == 0:
                continue
            measured = alternate(pth, runs, measure)
            for figure in measured["with hook"]:
                summary = summarise(measured["without hook"][figure], measured["with hook"][figure])
                rows.append((command, figure, runs, summary))
                samples[f"{command} {figure}"] = {kind: measured[kind][figure] for kind in KINDS}

    print(markdown(rows))
    result = {
        "python": sys.version,
        "platform": platform.platform(),
        "wheel": wheel.name,
        "rows": [
            {"command": command, "figure": figure, "runs": runs, "summary": summary}
            for command, figure, runs, summary in rows
        ],
        "samples": samples,
    }
    write_json(args.out, result)
    print(f"\nWrote {args.out}")
    return result


if __name__ == "__main__":
    main()
