"""The three tiers of tests, by folder, and what each may touch (a pytest plugin: tests/conftest.py
registers it).

- ``unit`` (tests/unit): pure tests: the layer's logic, the template read as data. No AWS (not
  even moto), no socket, no process.
- ``moto`` (tests/integration): the real handlers through the template on moto in-process. No
  socket, no process.
- ``e2e`` (tests/e2e, the reliability and agent suites included: tests/e2e/reliability,
  tests/e2e/agents): real HTTP over loopback, moto in server mode, the Toggl sandbox, processes.

Every test is in exactly one tier, and its marker says which: ``pytest -m "not e2e"`` runs the
first two. A pure or moto test that reaches past its tier fails, saying so.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import pytest

TESTS = Path(__file__).parent
TIER_OF_FOLDER = {"unit": "unit", "integration": "moto", "e2e": "e2e"}
# What each tier may not do (the markers themselves are declared in pyproject.toml).
LIMITS = {"unit": "no AWS (moto included), no network, no process", "moto": "no network, no process"}


class OutsideItsTier(AssertionError):
    """A test reached for something its tier does not have."""


def tier_of(path: Path) -> str | None:
    relative = path.relative_to(TESTS) if path.is_relative_to(TESTS) else None
    return TIER_OF_FOLDER.get(relative.parts[0]) if relative and len(relative.parts) > 1 else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            raise pytest.UsageError(f"{item.nodeid} is in no tier: put it under one of {sorted(TIER_OF_FOLDER)}")
        item.add_marker(tier)


def _refuse(what: str, tier: str) -> Any:
    def refused(*_: Any, **__: Any) -> Any:
        raise OutsideItsTier(f"a {tier} test may not {what} ({LIMITS[tier]}): move it to its tier")

    return refused


@pytest.fixture(autouse=True)
def tier_boundaries(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pure tests reach no AWS, no network and no process; moto tests no network and no process."""
    tier = tier_of(request.node.path)
    if tier in ("unit", "moto"):
        monkeypatch.setattr(socket.socket, "connect", _refuse("open a connection", tier))
        monkeypatch.setattr(socket.socket, "bind", _refuse("listen on a port", tier))
        monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process", tier))
    if tier == "unit":
        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _refuse("call AWS (moto included)", tier))
    yield
