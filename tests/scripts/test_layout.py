"""The scripts are thin command lines: no sys.path edits, no imports of scripts, no classes."""

from __future__ import annotations

import ast

import pytest

from tests.scripts.conftest import REPO

SCRIPTS = sorted((REPO / "scripts").glob("*.py"))


def parsed(path):
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_scripts_are_files_not_a_package():
    assert SCRIPTS and not (REPO / "scripts" / "__init__.py").exists()


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_a_script_leaves_sys_path_alone(path):
    edits = [
        node.lineno
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    ]
    assert not edits, f"{path.name} uses sys.path on lines {edits}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_a_script_imports_no_other_script(path):
    siblings = {script.stem for script in SCRIPTS} | {"scripts"}
    imported = set()
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & siblings, f"{path.name} imports {sorted(imported & siblings)}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_a_script_defines_no_class(path):
    classes = [node.name for node in ast.walk(parsed(path)) if isinstance(node, ast.ClassDef)]
    assert not classes, f"{path.name} defines {classes}: move them into a package"
