"""setuptools commands that install blobenv's Gymnasium import hook along with the package.

setup.cfg's ``cmdclass`` names the two classes here. setuptools loads this file by its path (as
``blobenv._build_gym_hook``, without executing ``blobenv/__init__.py``, which imports gymnasium,
absent from an isolated build environment), so it must import nothing from blobenv.

``build`` gains one sub-command, ``build_gym_hook``, that writes two files to the top of the wheel,
that is, of site-packages: ``_blobenv_gym_hook.py`` (a copy of ``blobenv/_gym_hook.py``) and
``_blobenv_gym_hook.pth``, whose line imports it and calls ``install()`` at interpreter start.

- Regular wheel: the files go to ``build_lib``, whose tree becomes the wheel.
- Editable wheel (PEP 660): setuptools' default editable strategies map the packages to the
  source tree and leave out whatever is in ``build_lib``, but they point the ``install``
  command's ``install_lib`` at the unpacked editable wheel (where they also put scripts and
  data), so in editable mode the files are written there as well.

A sub-command of ``build`` is used rather than a ``build_py`` subclass because setuptools turns
the errors of a customised ``build_py`` into a warning during an editable install, which would
leave the hook out silently; a sub-command's errors fail the install.
"""

from __future__ import annotations

import os
import tempfile

from setuptools import Command
from setuptools.command.build import build

MODULE_NAME = "_blobenv_gym_hook"
PTH_NAME = f"{MODULE_NAME}.pth"
PTH_LINE = f"import {MODULE_NAME}; {MODULE_NAME}.install()\n"
HOOK_SOURCE = "_gym_hook.py"


def _write_atomically(path: str, data: bytes) -> None:
    directory = os.path.dirname(path) or "."
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        os.unlink(tmp_path)
        raise


class BuildGymHook(Command):
    """Write ``_blobenv_gym_hook.py`` and ``_blobenv_gym_hook.pth`` to the top of the wheel."""

    description = "write blobenv's gymnasium import hook (.py and .pth) to the top of the wheel"
    user_options: list[tuple[str, str | None, str]] = []

    def initialize_options(self) -> None:
        self.build_lib: str | None = None
        # Set to True by setuptools' editable_wheel (its build sub-command protocol).
        self.editable_mode = False

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def run(self) -> None:
        """Write the hook's module and .pth to ``build_lib`` (and to the editable wheel)."""
        with open(self._hook_source(), "rb") as file:
            module = file.read()
        directories = [self.build_lib]
        if self.editable_mode:
            directories.append(self.get_finalized_command("install").install_lib)
        for directory in directories:
            os.makedirs(directory, exist_ok=True)
            _write_atomically(os.path.join(directory, f"{MODULE_NAME}.py"), module)
            _write_atomically(os.path.join(directory, PTH_NAME), PTH_LINE.encode("ascii"))

    def get_source_files(self) -> list[str]:
        """Return the hook's source, relative to the project root (for the sdist)."""
        return [self._hook_source()]

    def get_outputs(self) -> list[str]:
        """Return the two files this command writes to ``build_lib``."""
        return [os.path.join(self.build_lib, name) for name in (f"{MODULE_NAME}.py", PTH_NAME)]

    def get_output_mapping(self) -> dict[str, str]:
        """Map the module in ``build_lib`` to its source (the .pth has none: it is generated)."""
        return {os.path.join(self.build_lib, f"{MODULE_NAME}.py"): self._hook_source()}

    def _hook_source(self) -> str:
        package_dir = self.get_finalized_command("build_py").get_package_dir("blobenv")
        return os.path.join(package_dir, HOOK_SOURCE)


class Build(build):
    """setuptools' ``build``, with ``build_gym_hook`` as one more sub-command."""

    sub_commands = [*build.sub_commands, ("build_gym_hook", None)]
