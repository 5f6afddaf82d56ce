"""Track API v9 reads (what the queries use), each with Toggl's own paging, plus time entries
(created, updated, deleted: what the time-entry webhooks report)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from local.toggl_sandbox.documented import V9
from local.toggl_sandbox.server import Request, TogglError, route
from local.toggl_sandbox.state import now
from local.toggl_sandbox.track import body, created, in_workspace, public, workspace

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


def _changed_since(req: Request, kind: str, live: list[dict[str, Any]], since: float) -> list[dict[str, Any]]:
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
        projects = _changed_since(req, "project", projects, since)
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


# --- time entries ----------------------------------------------------------------------------
def _parse_time(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value if "T" in value else value + "T00:00:00+00:00")
    except ValueError as exc:
        raise TogglError(400, f"Invalid {field}", played=True) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@route("GET", V9 + "/me/time_entries")
def my_time_entries(req: Request) -> Any:
    since, before = req.param("since"), req.param("before")
    start, end = req.param("start_date"), req.param("end_date")
    if since and before:
        raise TogglError(400, "since and before cannot be used together", played=True)
    if bool(start) != bool(end):
        raise TogglError(400, "start_date and end_date must both be set", played=True)
    entries = list(req.world.time_entries.values())
    if start and end:
        lo, hi = _parse_time(start, "start_date"), _parse_time(end, "end_date")
        entries = [e for e in entries if lo <= _parse_time(e["start"], "start") < hi]
    moment = _since(req)
    if moment is not None:
        entries = _changed_since(req, "time_entry", entries, moment)
    mine = [e for e in entries if e["user_id"] == req.user["id"]]
    if str(req.param("meta") or "").lower() == "true":
        mine = [_with_names(req, e) for e in mine]
    return sorted(mine, key=lambda e: e["start"], reverse=True)


def _with_names(req: Request, entry: dict[str, Any]) -> dict[str, Any]:
    """``meta=true``: the entry with the names of its project, the project's client and its task."""
    project = req.world.projects.get(entry.get("project_id") or 0) or {}
    client = req.world.clients.get(project.get("client_id") or 0) or {}
    task = req.world.tasks.get(entry.get("task_id") or 0) or {}
    names = {"project_name": project.get("name"), "client_name": client.get("name"), "task_name": task.get("name")}
    return {**entry, **{k: v for k, v in names.items() if v is not None}}


@route("GET", V9 + "/me/time_entries/current")
def current_time_entry(req: Request) -> Any:
    running = [e for e in req.world.time_entries.values() if e["user_id"] == req.user["id"] and e["stop"] is None]
    if not running and req.sandbox.behaviour.no_running_entry == "404":
        raise TogglError(404, "Resource can not be found")
    return running[0] if running else None


def _entry(req: Request, ws: dict[str, Any]) -> dict[str, Any]:
    return in_workspace(req.world.time_entries, req.args["time_entry_id"], ws, 404, "Time entry not found")


# Where decreasing time entry ids start (Behaviour.time_entry_ids).
DECREASING_FROM = 9 * 10**15


@route("POST", V9 + "/workspaces/{workspace_id}/time_entries")
def create_time_entry(req: Request) -> Any:
    ws, data = workspace(req), body(req)
    start = data.get("start") or now()
    duration = int(data.get("duration", -1))
    running = duration < 0
    started = _parse_time(start, "start")
    ident = req.world.next_id()
    if req.sandbox.behaviour.time_entry_ids == "decreasing":
        ident = DECREASING_FROM - ident
    entry = {
        "id": ident,
        "workspace_id": ws["id"],
        "wid": ws["id"],
        "user_id": req.user["id"],
        "uid": req.user["id"],
        "project_id": data.get("project_id"),
        "task_id": data.get("task_id"),
        "description": data.get("description", ""),
        "billable": bool(data.get("billable", False)),
        "tags": data.get("tags", []),
        "tag_ids": data.get("tag_ids"),
        "start": start,
        "stop": None if running else data.get("stop"),
        "duration": -int(started.timestamp()) if running else duration,
        "duronly": True,
        "at": now(),
        "server_deleted_at": None,
    }
    return created(req, req.world.time_entries, "time_entry", entry, ws["id"])


@route("PUT", V9 + "/workspaces/{workspace_id}/time_entries/{time_entry_id}")
def update_time_entry(req: Request) -> Any:
    ws = workspace(req)
    entry = _entry(req, ws)
    allowed = {"description", "billable", "project_id", "task_id", "tags", "tag_ids", "start", "stop", "duration"}
    entry.update({k: v for k, v in body(req).items() if k in allowed}, at=now())
    req.sandbox.emit("time_entry", "updated", entry, ws["id"], req)
    return entry


@route("DELETE", V9 + "/workspaces/{workspace_id}/time_entries/{time_entry_id}")
def delete_time_entry(req: Request) -> Any:
    ws = workspace(req)
    entry = req.world.delete("time_entry", req.world.time_entries, _entry(req, ws)["id"])
    req.sandbox.emit(
        "time_entry", "deleted", {"id": entry["id"], "server_deleted_at": entry["server_deleted_at"]}, ws["id"], req
    )
    return None
