"""The names of a workspace's projects, clients and users, read in one listing each and kept per
container for a few minutes: what names the groups of a summary and the project and client of a
running time entry (Toggl's read of it offers no names)."""

from __future__ import annotations

import time
from typing import Any

from toggl_connection.toggl import paging
from toggl_connection.toggl.client import V9, TogglClient

KEEP_SECONDS = 300

NAME_FIELD = {"projects": "name", "clients": "name", "users": "fullname"}

_kept: dict[tuple[str, str, int, str], tuple[float, dict[int, dict[str, Any]]]] = {}


def forget_listings() -> None:
    _kept.clear()


def _read(toggl: TogglClient, workspace_id: int, kind: str) -> dict[int, dict[str, Any]]:
    """The workspace's ``kind`` (projects, clients, users) by id, archived ones included."""
    base = f"{V9}/workspaces/{workspace_id}"
    if kind == "projects":
        items = paging.bare_pages(toggl, base + "/projects", {"active": "both"}, 10_000).items
    elif kind == "clients":
        items = toggl.get(base + "/clients", {"status": "both"}).data or []
    else:
        items = toggl.get(base + "/users").data or []
    return {i["id"]: i for i in items if isinstance(i, dict) and isinstance(i.get("id"), int)}


def listing(toggl: TogglClient, workspace_id: int, kind: str) -> dict[int, dict[str, Any]]:
    """The workspace's ``kind`` by id, from a listing at most ``KEEP_SECONDS`` old."""
    key = (toggl.base_url, toggl.identity, workspace_id, kind)
    kept = _kept.get(key)
    if kept is None or kept[0] < time.monotonic():
        kept = (time.monotonic() + KEEP_SECONDS, _read(toggl, workspace_id, kind))
        _kept[key] = kept
    return kept[1]


def of(toggl: TogglClient, workspace_id: int, kind: str) -> dict[int, str]:
    """Id to name of the workspace's ``kind``."""
    return {ident: str(item.get(NAME_FIELD[kind])) for ident, item in listing(toggl, workspace_id, kind).items()}
