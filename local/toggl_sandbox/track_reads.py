"""Track API v9 reads (what the queries use), each with Toggl's own paging. Time entries, read
and written, are ``time_entries``'s."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from local.toggl_sandbox.documented import V9
from local.toggl_sandbox.server import Request, TogglError, route
from local.toggl_sandbox.track import in_workspace, public, workspace

DEFAULT_PER_PAGE = {"projects": 151, "tasks": 50, "tags": 200}
MAX_PER_PAGE = 200


def _page(req: Request, kind: str) -> tuple[int, int]:
    try:
        page = int(req.param("page") or 1)
        per_page = int(req.param("per_page") or DEFAULT_PER_PAGE[kind])
    except ValueError as exc:
        raise TogglError(400, "page and per_page must be numbers", played=True) from exc
    if page < 1 or per_page < 1:
        raise TogglError(400, "page and per_page must be positive", played=True)
    return page, min(per_page, MAX_PER_PAGE)


def _slice(items: list[Any], page: int, per_page: int) -> list[Any]:
    return items[(page - 1) * per_page : page * per_page]


def _truthy(value: str | None, default: str) -> str:
    return (value or default).lower()


def _ids(value: str | None) -> set[int]:
    return {int(v) for v in (value or "").split(",") if v.strip().isdigit()}


def _since(req: Request) -> float | None:
    value = req.param("since")
    if value is None:
        return None
    if not value.isdigit():
        raise TogglError(400, "Invalid since", played=True)
    return float(value)


def changed_since(req: Request, kind: str, live: list[dict[str, Any]], since: float) -> list[dict[str, Any]]:
    """What a ``since`` read returns: live and deleted entities changed at or after ``since``."""
    every = live + list(req.world.deleted.get(kind, {}).values())
    return [e for e in every if datetime.fromisoformat(e["at"]).timestamp() >= since]


@route("GET", V9 + "/workspaces/{workspace_id}/projects")
def list_projects(req: Request) -> Any:
    ws = workspace(req)
    since = _since(req)
    # With ``since`` every project changed since then, active or not, deleted included.
    active = "both" if since is not None else _truthy(req.param("active"), "true")
    name = (req.param("name") or "").lower()
    client_ids = _ids(req.param("client_ids"))
    projects = list(req.world.projects.values())
    if since is not None:
        projects = changed_since(req, "project", projects, since)
    items = [
        public(p)
        for p in sorted(projects, key=lambda p: p["id"])
        if p["workspace_id"] == ws["id"]
        and (active == "both" or str(p["active"]).lower() == active)
        and name in p["name"].lower()
        and (not client_ids or p.get("client_id") in client_ids)
    ]
    page, per_page = _page(req, "projects")
    return _slice(items, page, per_page)


@route("GET", V9 + "/workspaces/{workspace_id}/clients")
def list_clients(req: Request) -> Any:
    ws = workspace(req)
    status = req.param("status") or "active"
    name = (req.param("name") or "").lower()
    return [
        c
        for c in sorted(req.world.clients.values(), key=lambda c: c["id"])
        if c["wid"] == ws["id"]
        and (status == "both" or c["archived"] == (status == "archived"))
        and name in c["name"].lower()
    ]


@route("GET", V9 + "/workspaces/{workspace_id}/tasks")
def list_tasks(req: Request) -> Any:
    ws = workspace(req)
    active = _truthy(req.param("active"), "true")
    pid = req.param("pid")
    search = (req.param("search") or "").lower()
    items = [
        t
        for t in sorted(req.world.tasks.values(), key=lambda t: t["id"])
        if t["workspace_id"] == ws["id"]
        and (active == "both" or str(t["active"]).lower() == active)
        and (pid is None or str(t["project_id"]) == pid)
        and search in t["name"].lower()
    ]
    page, per_page = _page(req, "tasks")
    return {
        "data": _slice(items, page, per_page),
        "page": page,
        "per_page": per_page,
        "sort_field": "name",
        "sort_order": "ASC",
        "total_count": len(items),
    }


@route("GET", V9 + "/workspaces/{workspace_id}/projects/{project_id}/tasks")
def list_project_tasks(req: Request) -> Any:
    ws = workspace(req)
    project = in_workspace(req.world.projects, req.args["project_id"], ws, 400, "Invalid project_id")
    active = req.param("active")  # true: active ones only; false or left out: all of them
    return [
        t
        for t in sorted(req.world.tasks.values(), key=lambda t: t["id"])
        if t["project_id"] == project["id"] and (active != "true" or t["active"])
    ]


@route("GET", V9 + "/workspaces/{workspace_id}/tags")
def list_tags(req: Request) -> Any:
    ws = workspace(req)
    search = (req.param("search") or "").lower()
    items = [
        t
        for t in sorted(req.world.tags.values(), key=lambda t: t["id"])
        if t["workspace_id"] == ws["id"] and search in t["name"].lower()
    ]
    page, per_page = _page(req, "tags")
    return _slice(items, page, per_page)


@route("GET", V9 + "/workspaces/{workspace_id}/users")
def list_workspace_users(req: Request) -> Any:
    ws = workspace(req)
    users = [req.world.users[uid] for uid in sorted(req.world.workspace_users.get(ws["id"], set()))]
    return [
        {
            "id": u["id"],
            "email": u["email"],
            "fullname": u["fullname"],
            "role": "admin" if ws["admin"] else "user",
            "is_admin": bool(ws["admin"]),
            "is_active": True,
            "inactive": False,
        }
        for u in users
    ]
