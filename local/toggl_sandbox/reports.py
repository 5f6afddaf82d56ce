"""Reports API v3: the detailed search, paged with the ``X-Next-ID`` / ``X-Next-Row-Number``
cursor headers (sent back as ``first_id`` / ``first_row_number``)."""

from __future__ import annotations

from typing import Any

from local.toggl_sandbox.documented import REPORT_DATE
from local.toggl_sandbox.server import Reply, Request, TogglError, route
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
