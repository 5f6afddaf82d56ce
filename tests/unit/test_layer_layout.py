"""The layer's folders import one way, in the order its ``__init__`` lists them: a module imports
only from its own folder and the folders before it (no cycle, no arrow back up)."""

from __future__ import annotations

import ast
import re

from local.emulator import template

LAYER = template.ROOT / "layers" / "toggl" / "python" / "toggl_connection"


def order() -> list[str]:
    return re.findall(r"^- ``(\w+)``:", (LAYER / "__init__.py").read_text(), flags=re.MULTILINE)


def imported_folders(source: str, package: str = "toggl_connection") -> set[str]:
    """The folders (subpackages) of ``package`` that ``source`` imports from; test_local_layout
    asks the same of local/."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        if isinstance(node, ast.ImportFrom) and node.module == package:
            found |= {alias.name for alias in node.names}  # the folders themselves
        for name in names:
            parts = name.split(".")
            if parts[0] == package and len(parts) > 1:
                found.add(parts[1])
    return found


def test_the_init_lists_every_folder_of_the_layer() -> None:
    assert sorted(order()) == sorted(p.parent.name for p in LAYER.glob("*/__init__.py"))


def test_every_module_imports_only_from_its_folder_and_those_before_it() -> None:
    folders = order()
    checked = 0
    for path in LAYER.glob("*/*.py"):
        folder = path.parent.name
        allowed = set(folders[: folders.index(folder) + 1])
        assert imported_folders(path.read_text()) <= allowed, (path.relative_to(LAYER), sorted(allowed))
        checked += 1
    assert checked >= 30


def test_the_check_sees_an_import_from_a_later_folder() -> None:
    source = "from toggl_connection.agents import tool_list\nimport toggl_connection.upkeep.catch_up"
    assert imported_folders(source) == {"agents", "upkeep"}
    assert imported_folders("from toggl_connection import calls") == {"calls"}
