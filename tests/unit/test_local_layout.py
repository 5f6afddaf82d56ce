"""local/'s packages import one way, in the order its ``__init__`` names them: the emulator, the
Toggl sandbox, the generators, the commands (no cycle, no arrow back up)."""

from __future__ import annotations

import re

from local.emulator import template
from tests.unit.test_layer_layout import imported_folders

LOCAL = template.ROOT / "local"


def order() -> list[str]:
    return re.findall(r"``(\w+)`` \(", (LOCAL / "__init__.py").read_text())


def imported_packages(source: str) -> set[str]:
    return imported_folders(source, "local")


def test_the_init_names_every_package_of_local_and_nothing_is_left_beside_them() -> None:
    assert order() == ["emulator", "toggl_sandbox", "generators", "commands"]
    assert sorted(order()) == sorted(p.parent.name for p in LOCAL.glob("*/__init__.py"))
    assert [p.name for p in LOCAL.glob("*.py")] == ["__init__.py"]


def test_every_module_imports_only_from_its_package_and_those_before_it() -> None:
    packages = order()
    for path in LOCAL.glob("*/*.py"):
        allowed = set(packages[: packages.index(path.parent.name) + 1])
        assert imported_packages(path.read_text()) <= allowed, (path.relative_to(LOCAL), sorted(allowed))
