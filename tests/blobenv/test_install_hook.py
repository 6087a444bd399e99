"""The three ways third-party code gets Blob, and the install-time hook behind the bare one.

Every check runs in a fresh interpreter. The hook's own logic is checked against stand-in
``gymnasium`` and ``blobenv`` packages (``python -S``, so that no installed ``.pth`` runs); the
end-to-end checks use the real packages, in this environment (an editable install) and in scratch
virtual environments where the project is installed from a freshly built wheel, regular or
editable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agents.benchmarks import startup

ROOT = Path(__file__).resolve().parents[2]
HOOK_SOURCE = ROOT / "blobenv" / "_gym_hook.py"
HOOK_MODULE = "_blobenv_gym_hook"
PTH_LINE = f"import {HOOK_MODULE}; {HOOK_MODULE}.install()\n"


def run_python(
    code: str,
    python: str | Path = sys.executable,
    *,
    flags: tuple[str, ...] = (),
    pythonpath: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(python), *flags, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        # Not the checkout, whose directories would shadow the installed packages.
        cwd=pythonpath or sys.prefix,
        timeout=120,
        check=False,
    )


def check_python(code: str, python: str | Path = sys.executable, **kwargs) -> str:
    result = run_python(code, python, **kwargs)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


# The real packages, in this environment.


def test_import_blobenv_then_make_blob() -> None:
    out = check_python(
        """
        import blobenv, gymnasium
        env = gymnasium.make("Blob-v0")
        obs, info = env.reset(seed=0)
        print(env.spec.id, obs.shape, env.spec.max_episode_steps)
        """
    )
    assert out.split() == ["Blob-v0", "(10,", "10,", "3)", "200"]


def test_make_with_module_prefix_needs_no_prior_import() -> None:
    # The hook is taken out first, so this checks Gymnasium's "module:id" import on its own.
    out = check_python(
        """
        import sys
        sys.meta_path.remove(sys.modules["_blobenv_gym_hook"])
        import gymnasium
        assert "blobenv" not in sys.modules
        env = gymnasium.make("blobenv:Blob-v0")
        print(env.spec.id, "blobenv" in sys.modules)
        """
    )
    assert out.split() == ["Blob-v0", "True"]


def test_bare_make_works_through_the_installed_hook() -> None:
    out = check_python(
        """
        import sys
        assert "blobenv" not in sys.modules
        import gymnasium
        assert "blobenv" in sys.modules, "the hook did not import blobenv"
        env = gymnasium.make("Blob-v0")
        print(env.spec.id, type(env.unwrapped).__name__)
        print(type(gymnasium.make_vec("Blob-v0", num_envs=2)).__name__)
        """
    )
    assert out.split() == ["Blob-v0", "BlobEnv", "BlobVectorEnv"]


def test_plain_interpreter_has_the_hook_but_imports_no_numpy_gymnasium_or_blobenv() -> None:
    out = check_python(
        """
        import sys
        print(sorted(m for m in ("numpy", "gymnasium", "blobenv") if m in sys.modules))
        print(sys.meta_path.count(sys.modules.get("_blobenv_gym_hook")))
        """
    )
    assert out.splitlines() == ["[]", "1"], "hook missing: reinstall with pip install -e ."


def test_installed_hook_is_the_current_source() -> None:
    out = check_python(f"import {HOOK_MODULE}; print({HOOK_MODULE}.__file__)")
    installed = Path(out.strip())
    assert installed.read_bytes() == HOOK_SOURCE.read_bytes(), (
        f"{installed} is stale: reinstall with pip install -e ."
    )
    assert installed.with_suffix(".pth").read_text() == PTH_LINE


# The hook's logic, on stand-in packages.


@pytest.fixture
def stand_ins(tmp_path: Path) -> Path:
    """A directory holding the hook module and a stand-in gymnasium that counts its runs."""
    shutil.copyfile(HOOK_SOURCE, tmp_path / f"{HOOK_MODULE}.py")
    (tmp_path / "gymnasium").mkdir()
    (tmp_path / "gymnasium" / "__init__.py").write_text(
        "import builtins\nbuiltins.runs = getattr(builtins, 'runs', []) + ['gymnasium']\n"
        "REGISTRY = []\n"
    )
    return tmp_path


def make_blobenv(directory: Path, body: str) -> None:
    (directory / "blobenv").mkdir()
    (directory / "blobenv" / "__init__.py").write_text(
        "import builtins\nbuiltins.runs = getattr(builtins, 'runs', []) + ['blobenv']\n" + body
    )


def check_with_hook(code: str, stand_ins: Path) -> str:
    return check_python(
        f"import {HOOK_MODULE}; {HOOK_MODULE}.install()\n" + textwrap.dedent(code),
        flags=("-S",),
        pythonpath=stand_ins,
    )


def test_hook_imports_blobenv_once_gymnasium_has_run(stand_ins: Path) -> None:
    make_blobenv(stand_ins, "import gymnasium\ngymnasium.REGISTRY.append('Blob-v0')\n")
    out = check_with_hook(
        """
        import builtins, sys
        import gymnasium
        print(builtins.runs, gymnasium.REGISTRY)
        loader = gymnasium.__loader__
        print(type(loader).__name__, gymnasium.__spec__.loader is loader, vars(loader).keys())
        print(sys.modules["_blobenv_gym_hook"] in sys.meta_path)
        """,
        stand_ins,
    )
    assert out.splitlines() == [
        "['gymnasium', 'blobenv'] ['Blob-v0']",
        "SourceFileLoader True dict_keys(['name', 'path'])",
        "False",
    ]


def test_hook_stands_aside_when_blobenv_imports_gymnasium(stand_ins: Path) -> None:
    make_blobenv(stand_ins, "import gymnasium\ngymnasium.REGISTRY.append('Blob-v0')\n")
    out = check_with_hook(
        """
        import builtins, sys
        import blobenv, gymnasium
        print(builtins.runs, gymnasium.REGISTRY)
        print(sys.modules["_blobenv_gym_hook"] in sys.meta_path)
        """,
        stand_ins,
    )
    assert out.splitlines() == ["['blobenv', 'gymnasium'] ['Blob-v0']", "False"]


def test_hook_does_nothing_when_blobenv_is_gone(stand_ins: Path) -> None:
    result = run_python(
        f"import {HOOK_MODULE}; {HOOK_MODULE}.install()\n"
        "import builtins, sys, gymnasium\nprint(builtins.runs, 'blobenv' in sys.modules)",
        flags=("-S",),
        pythonpath=stand_ins,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "['gymnasium'] False\n", "")


def test_hook_ignores_an_empty_leftover_blobenv_directory(stand_ins: Path) -> None:
    (stand_ins / "blobenv" / "__pycache__").mkdir(parents=True)
    out = check_with_hook(
        "import builtins, sys, gymnasium\nprint(builtins.runs, 'blobenv' in sys.modules)",
        stand_ins,
    )
    assert out == "['gymnasium'] False\n"


def test_blobenv_import_error_propagates_and_again_on_retry(stand_ins: Path) -> None:
    make_blobenv(stand_ins, "raise RuntimeError('blobenv is broken')\n")
    out = check_with_hook(
        """
        import sys
        for attempt in range(2):
            try:
                import gymnasium
            except RuntimeError as error:
                notes = getattr(error, "__notes__", [])
                print(error, "gymnasium" in sys.modules, [note.split(" (")[0] for note in notes])
            else:
                print("imported")
        """,
        stand_ins,
    )
    # Exceptions carry notes from Python 3.11 on.
    notes = ["blobenv's import hook"] if sys.version_info >= (3, 11) else []
    assert out.splitlines() == [f"blobenv is broken False {notes}"] * 2


def test_hook_imports_nothing_and_installs_once(stand_ins: Path) -> None:
    out = check_python(
        f"""
        import sys
        before = set(sys.modules)
        import {HOOK_MODULE}
        {HOOK_MODULE}.install()
        {HOOK_MODULE}.install()
        print(sorted(set(sys.modules) - before))
        hook = sys.modules["{HOOK_MODULE}"]
        print(sys.meta_path.count(hook), sys.meta_path[0] is hook, hook.find_spec("json"))
        import json
        print(type(json.__loader__).__name__, "gymnasium" in sys.modules)
        """,
        flags=("-S",),
        pythonpath=stand_ins,
    )
    assert out.splitlines() == [f"['{HOOK_MODULE}']", "1 True None", "SourceFileLoader False"]


# The real packages, installed from a freshly built wheel into a scratch virtual environment.


def pip(*args: str) -> None:
    startup.pip(*args, timeout=300)


# The editable kind is marked slow: this environment's own editable install (the tests above, and
# CI's fresh `pip install -e`) already covers it.
@pytest.mark.parametrize("kind", ["regular", pytest.param("editable", marks=pytest.mark.slow)])
def test_fresh_install_gives_bare_gymnasium_blob(tmp_path: Path, kind: str) -> None:
    project = startup.copy_project(ROOT, tmp_path / "project")
    python, purelib = startup.scratch_venv(tmp_path / "venv")
    # pip builds a wheel (regular or editable) in an isolated environment, then installs it.
    if kind == "regular":
        pip("--python", str(python), "install", "--no-deps", str(project))
        expected_package = purelib / "blobenv" / "__init__.py"
    else:
        pip("--python", str(python), "install", "--no-deps", "--editable", str(project))
        expected_package = project / "blobenv" / "__init__.py"
    assert (purelib / f"{HOOK_MODULE}.pth").read_text() == PTH_LINE

    out = check_python(
        """
        import sys
        print(sorted(m for m in ("numpy", "gymnasium", "blobenv") if m in sys.modules))
        import gymnasium
        print(sys.modules["blobenv"].__file__)
        print(gymnasium.make("Blob-v0").spec.id)
        """,
        python,
    )
    assert out.splitlines() == ["[]", str(expected_package), "Blob-v0"]

    pip("--python", str(python), "uninstall", "--yes", "blobenv")
    assert not list(purelib.glob(f"{HOOK_MODULE}*")), "uninstall left the hook behind"
