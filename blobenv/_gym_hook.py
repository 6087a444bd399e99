"""Import hook that registers blobenv's ids the first time ``gymnasium`` is imported.

Gymnasium 1.x loads no plugins, so a bare ``gymnasium.make("Blob-v0")`` in code that never
imports blobenv needs blobenv imported for it. The build (``blobenv/_build_gym_hook.py``) installs
this file at the top of site-packages as ``_blobenv_gym_hook.py``, next to
``_blobenv_gym_hook.pth``, whose one line ``import _blobenv_gym_hook; _blobenv_gym_hook.install()``
runs at every interpreter start. ``install`` puts this module at the front of ``sys.meta_path``,
where its ``find_spec`` ignores every module but ``gymnasium``; for gymnasium it lets the other
finders find the spec and has the spec's loader, once gymnasium's ``__init__`` has run, import
blobenv, whose import registers the ids. Then the hook leaves ``sys.meta_path``.

Start-up cost: an interpreter that never imports gymnasium loads this one small module, which
imports only ``sys`` (already loaded) and defines functions only (classes cost more to create and
to tear down), and pays one string comparison per import. For the same reason the module goes
without ``from __future__ import annotations``: importing ``__future__`` would be its only
import. ``scripts/bench_startup.py`` measures it.

Failure policy:

- blobenv gone but the hook left behind (its package directory deleted by hand, an editable
  checkout moved or deleted): nothing to register, so the hook does nothing, silently.
- blobenv present but its import fails: that is a real bug, so the error propagates out of
  ``import gymnasium`` unchanged (with a note on Python 3.11+ naming this hook and the fix), and
  the hook stays armed, so a retried ``import gymnasium`` fails the same way instead of quietly
  succeeding without the ids.
"""

import sys

_TRIGGER = "gymnasium"
_PACKAGE = "blobenv"

# importlib.machinery.ModuleSpec and types.ModuleType, without importing either module.
_ModuleSpec = type(sys.__spec__)
_Module = type(sys)


def find_spec(fullname: str, path: object = None, target: object = None) -> "_ModuleSpec | None":
    """Find gymnasium with the other finders and hook its loader; ignore any other module.

    This module is itself the ``sys.meta_path`` finder, so this is the finder protocol's method.

    Args:
        fullname: The module being imported.
        path: The parent package's ``__path__`` (None for a top-level module).
        target: The module being reloaded, if any.

    Returns:
        gymnasium's spec, its loader hooked, or None to leave the import to the other finders.
    """
    if fullname != _TRIGGER:
        return None
    this = sys.modules[__name__]
    for finder in sys.meta_path:
        if finder is this or not hasattr(finder, "find_spec"):
            continue
        spec = finder.find_spec(fullname, path, target)
        if spec is not None:
            break
    else:
        return None
    loader = spec.loader
    # The hook patches this spec's own loader object instead of wrapping it, so gymnasium's
    # __loader__ and __spec__.loader stay the real one. A class (the builtin and frozen loaders)
    # is shared by other modules and an object without a __dict__ takes no patch: such a loader
    # is left alone. gymnasium's (a SourceFileLoader) is neither.
    if isinstance(loader, type) or not hasattr(loader, "__dict__"):
        return None
    if not hasattr(loader, "exec_module"):
        return None

    def exec_module(module: _Module) -> None:
        # The loader's own method again, before gymnasium's code can see this one.
        del loader.exec_module
        loader.exec_module(module)
        _import_blobenv()
        uninstall()

    loader.exec_module = exec_module
    return spec


def _import_blobenv() -> None:
    """Import blobenv so that it registers its ids; do nothing if it is absent or importing."""
    if _PACKAGE in sys.modules:
        # blobenv itself is importing gymnasium; its own __init__ registers the ids.
        return
    from importlib.util import find_spec as find_module_spec

    spec = find_module_spec(_PACKAGE)
    if spec is None or spec.origin is None:
        # Uninstalled (origin None: only an empty directory left, seen as a namespace package).
        return
    try:
        __import__(_PACKAGE)
    except Exception as error:
        if hasattr(error, "add_note"):
            error.add_note(
                "blobenv's import hook (_blobenv_gym_hook.pth in site-packages) imports "
                "blobenv when gymnasium is imported, so that gymnasium.make('Blob-v0') works "
                "without 'import blobenv'. Fix the error above, or remove the hook with "
                "'pip uninstall blobenv'."
            )
        raise


def install() -> None:
    """Put the hook at the front of ``sys.meta_path``, once however often this is called.

    site runs a venv's ``.pth`` lines twice on some Pythons (3.11 does), hence the check.
    """
    this = sys.modules[__name__]
    if this not in sys.meta_path:
        sys.meta_path.insert(0, this)


def uninstall() -> None:
    """Take the hook off ``sys.meta_path``: its work is done once gymnasium is imported."""
    this = sys.modules[__name__]
    if this in sys.meta_path:
        sys.meta_path.remove(this)
