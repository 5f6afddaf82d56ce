"""Reports API v3: the detailed search, paged with the ``X-Next-ID`` / ``X-Next-Row-Number``
cursor headers (sent back as ``first_id`` / ``first_row_number``), and the summary (one piece,
no paging)."""

from __future__ import annotations

from datetime import date
from typing import Any

from local.toggl_sandbox.documented import REPORT_DATE
from local.toggl_sandbox.server import Reply, Request, TogglError, route
from local.toggl_sandbox.time_entries import parse_time
from local.toggl_sandbox.track import body, workspace

REPORTS = "/reports/api/v3"
DEFAULT_PAGE_SIZE = 50


@route("POST", REPORTS + "/workspace/{workspace_id}/search/time_entries")
def detailed_search(req: Request) -> Any:
    ws, data = workspace(req), body(req)
    if not data:
        raise TogglError(400, "At least one parameter must be set")
    for name in ("start_date", "end_date"):
        if name in data and not REPORT_DATE.fullmatch(str(data[name])):  # dates only, says the document
            raise TogglError(400, f"Invalid '{name}' value, allowed values are: 'YYYY-MM-DD'")
    size = int(data.get("page_size") or DEFAULT_PAGE_SIZE)
    project_ids = set(data.get("project_ids") or [])
    entries = sorted(
        (
            e
            for e in req.world.time_entries.values()
            if e["workspace_id"] == ws["id"] and (not project_ids or e.get("project_id") in project_ids)
        ),
        key=lambda e: e["id"],
    )
    # The cursor may come as either or both of first_id / first_row_number.
    first_id, first_row = data.get("first_id"), data.get("first_row_number")
    if first_id is not None:
        start = next((i for i, e in enumerate(entries) if e["id"] >= int(first_id)), len(entries))
    else:
        start = int(first_row or 1) - 1
    first_row = int(first_row) if first_row is not None else start + 1
    entries = entries[start:]
    rows = []
    for number, entry in enumerate(entries[:size], start=first_row):
        user = req.world.users.get(entry["user_id"], {})
        rows.append(
            {
                "user_id": entry["user_id"],
                "username": user.get("fullname"),
                "project_id": entry.get("project_id"),
                "task_id": entry.get("task_id"),
                "billable": entry["billable"],
                "description": entry["description"],
                "tag_ids": entry.get("tag_ids") or [],
                "row_number": number,
                "time_entries": [
                    {
                        "id": entry["id"],
                        "seconds": max(entry["duration"], 0),
                        "start": entry["start"],
                        "stop": entry["stop"],
                        "at": entry["at"],
                    }
                ],
            }
        )
    headers: dict[str, str] = {}
    rest = entries[size:]
    if rest:
        cursor = req.sandbox.report_cursor_override or (rest[0]["id"], first_row + size)
        headers = {"X-Next-ID": str(cursor[0]), "X-Next-Row-Number": str(cursor[1])}
        sent = req.sandbox.behaviour.report_cursor
        headers = {k: v for k, v in headers.items() if sent == "both" or k.lower() == f"x-{sent}"}
    return Reply(200, rows, headers)


# --- summary ---------------------------------------------------------------------------------
# The groupings and, for each, its sub-groupings (the first is the default): Toggl's Reports v2
# document lists them; v3's says only "optional".
GROUPINGS = {
    "projects": ("time_entries", "tasks", "users"),
    "clients": ("time_entries", "projects", "users"),
    "users": ("time_entries", "projects", "clients"),
}
ID_FILTERS = ("project_ids", "client_ids", "user_ids", "task_ids", "tag_ids", "time_entry_ids")


def _invalid(parameter: str, values: str) -> TogglError:
    return TogglError(400, f"Invalid '{parameter}' value, allowed values are: '{values}'")


def _summary_dates(data: dict[str, Any]) -> tuple[date, date]:
    """``start_date`` and ``end_date``, dates only, the start not after the end."""
    days = []
    for name in ("start_date", "end_date"):
        value = data.get(name)
        if not isinstance(value, str) or not REPORT_DATE.fullmatch(value):
            raise _invalid(name, "YYYY-MM-DD")
        try:
            days.append(date.fromisoformat(value))
        except ValueError as exc:
            raise _invalid(name, "YYYY-MM-DD") from exc
    if days[0] > days[1]:
        raise _invalid("end_date", "a date not before start_date")
    return days[0], days[1]


def _groupings(data: dict[str, Any]) -> tuple[str, str]:
    grouping = data.get("grouping") or "projects"
    if grouping not in GROUPINGS:
        raise _invalid("grouping", ", ".join(GROUPINGS))
    sub_grouping = data.get("sub_grouping") or GROUPINGS[grouping][0]
    if sub_grouping not in GROUPINGS[grouping]:
        raise _invalid("sub_grouping", ", ".join(GROUPINGS[grouping]))
    return grouping, sub_grouping


def _id_filters(data: dict[str, Any]) -> dict[str, list[int | None]]:
    """The id filters sent (``[null]`` stands for "none": no project, no tags, ...)."""
    filters: dict[str, list[int | None]] = {}
    for name in ID_FILTERS:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(v is None or (isinstance(v, int) and v > 0) for v in value):
            raise _invalid(name, "a list of ids")
        filters[name] = value
    return filters


def _attributes(req: Request, entry: dict[str, Any]) -> dict[str, Any]:
    """What the summary groups and filters an entry by: its ids (None for "none") and names."""
    project = req.world.projects.get(entry.get("project_id") or 0)
    client = req.world.clients.get((project or {}).get("client_id") or 0)
    task = req.world.tasks.get(entry.get("task_id") or 0)
    user = req.world.users.get(entry["user_id"])
    return {
        "projects": (project["id"], project["name"]) if project else (None, None),
        "clients": (client["id"], client["name"]) if client else (None, None),
        "tasks": (task["id"], task["name"]) if task else (None, None),
        "users": (entry["user_id"], user["fullname"] if user else None),
        "time_entries": (None, entry.get("description") or ""),
    }


def _passes(req: Request, entry: dict[str, Any], data: dict[str, Any], filters: dict[str, list[int | None]]) -> bool:
    attributes = _attributes(req, entry)
    values: dict[str, list[int | None]] = {
        "project_ids": [attributes["projects"][0]],
        "client_ids": [attributes["clients"][0]],
        "user_ids": [entry["user_id"]],
        "task_ids": [attributes["tasks"][0]],
        "tag_ids": list(entry.get("tag_ids") or []) or [None],
        "time_entry_ids": [entry["id"]],
    }
    if any(not set(values[name]) & set(wanted) for name, wanted in filters.items()):
        return False
    if isinstance(data.get("billable"), bool) and bool(entry.get("billable")) != data["billable"]:
        return False
    wanted_text = data.get("description")
    return not wanted_text or str(wanted_text).casefold() in str(entry.get("description") or "").casefold()


def _in_range(entry: dict[str, Any], first: date, last: date) -> bool:
    """A finished entry whose start's (UTC) date is within the range, both days included."""
    if entry.get("stop") is None or int(entry.get("duration") or 0) < 0:
        return False
    return first <= parse_time(entry["start"], "start").date() <= last


def _groups(req: Request, entries: list[dict[str, Any]], grouping: str, sub_grouping: str, with_ids: bool) -> Any:
    groups: dict[Any, dict[Any, dict[str, Any]]] = {}
    for entry in entries:
        attributes = _attributes(req, entry)
        key = attributes[grouping][0]
        sub_id, title = attributes[sub_grouping]
        sub = groups.setdefault(key, {}).setdefault(
            (sub_id, title), {"id": sub_id, "title": title, "seconds": 0, "ids": []}
        )
        sub["seconds"] += int(entry["duration"])
        sub["ids"].append(entry["id"])
    sparse = req.sandbox.behaviour.summary_fields == "sparse"
    answer = []
    for key in sorted(groups, key=lambda k: (k is not None, k or 0)):
        subs = sorted(groups[key].values(), key=lambda s: (str(s["title"] or ""), s["id"] or 0))
        for sub in subs:
            if not with_ids:
                del sub["ids"]
            if sparse:
                del sub["title"]
                if sub["id"] is None:
                    del sub["id"]
        group: dict[str, Any] = {"id": key, "sub_groups": subs}
        if sparse and key is None:
            del group["id"]
        answer.append(group)
    return answer


@route("POST", REPORTS + "/workspace/{workspace_id}/summary/time_entries")
def summary(req: Request) -> Any:
    """The summary of the workspace's finished time entries (every user's) in seconds, grouped
    and sub-grouped; its answer's schema is undocumented (``behaviour.summary_fields``)."""
    ws, data = workspace(req), body(req)
    if not data:
        raise TogglError(400, "At least one parameter must be set")
    first, last = _summary_dates(data)
    grouping, sub_grouping = _groupings(data)
    filters = _id_filters(data)
    if "billable" in data and not ws["premium"]:
        raise TogglError(402, "Workspace needs to have this feature enabled")  # billable: a premium filter
    entries = [
        e
        for e in sorted(req.world.time_entries.values(), key=lambda e: e["id"])
        if e["workspace_id"] == ws["id"] and _in_range(e, first, last) and _passes(req, e, data, filters)
    ]
    groups = _groups(req, entries, grouping, sub_grouping, data.get("include_time_entry_ids") is True)
    headers = {
        "X-Grouping": grouping,
        "X-Sub-Grouping": sub_grouping,
        "X-Range-Start": first.isoformat(),
        "X-Range-End": last.isoformat(),
    }
    return Reply(200, {"groups": groups}, headers)
