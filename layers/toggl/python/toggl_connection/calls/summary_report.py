"""The summary report (Reports API v3): time per project, client or user over a period, each
group named. Toggl answers the summary in one piece and documents no schema for it, so only
``groups[].id`` and ``groups[].sub_groups[].{id, title, seconds}`` are read, each may be missing;
the groups' names come from one listing of the grouped entity (``workspace_names``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from toggl_connection.calls import workspace_names
from toggl_connection.core.errors import TogglFailure, ValidationFailed
from toggl_connection.toggl import paging
from toggl_connection.toggl.client import TogglClient

REPORTS = "/reports/api/v3"
# Toggl's range is a year at most: 366 days, both ends counted, allows a leap year.
MAX_DAYS = 366
# The sub-groupings Toggl's summary offers under each grouping (the first is the default).
GROUPINGS = {
    "projects": ("time_entries", "tasks", "users"),
    "clients": ("time_entries", "projects", "users"),
    "users": ("time_entries", "projects", "clients"),
}
SUB_GROUPINGS = ("time_entries", "tasks", "users", "projects", "clients")


def check(params: dict[str, Any]) -> None:
    """A period Toggl takes (both days given, in order, at most a year) and a grouping it offers."""
    first, last = date.fromisoformat(params["start_date"]), date.fromisoformat(params["end_date"])
    if first > last:
        raise ValidationFailed("start_date", "must not be after end_date")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise ValidationFailed("end_date", f"makes a period of {days} days; a summary covers at most {MAX_DAYS}")
    grouping = params.get("grouping", "projects")
    sub_grouping = params.get("sub_grouping", "time_entries")
    if sub_grouping == grouping:
        raise ValidationFailed("sub_grouping", f"groups by {grouping} twice: choose another sub_grouping")
    if sub_grouping not in GROUPINGS[grouping]:
        raise ValidationFailed(
            "sub_grouping", f"with grouping {grouping} must be one of {', '.join(GROUPINGS[grouping])}"
        )


def _seconds(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _group(group: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    subs = [s for s in group.get("sub_groups") or [] if isinstance(s, dict)]
    sub_groups = [{"id": s.get("id"), "title": s.get("title"), "seconds": _seconds(s.get("seconds"))} for s in subs]
    ident = group.get("id")
    return {
        "id": ident,
        "name": names.get(ident) if isinstance(ident, int) else None,
        "seconds": sum(s["seconds"] for s in sub_groups),
        "sub_groups": sub_groups,
    }


def fetch(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> paging.Listing:
    """The summary (``reading``: the query's ``Reading``, how far to read and from where)."""
    workspace_id = params["workspace_id"]
    body = {
        "grouping": "projects",
        "sub_grouping": "time_entries",
        **{k: v for k, v in params.items() if k != "workspace_id"},
    }
    # A report only reads: repeating it after a lost answer does nothing twice.
    path = f"{REPORTS}/workspace/{workspace_id}/summary/time_entries"
    data = toggl.post(path, body, repeatable=True).data
    groups = [g for g in (data.get("groups") if isinstance(data, dict) else None) or [] if isinstance(g, dict)]
    names: dict[int, str] = {}
    warning = None
    try:
        names = workspace_names.of(toggl, workspace_id, body["grouping"]) if groups else {}
    except TogglFailure as failure:  # the report is read and paid for: answered without names
        warning = f"The groups' names could not be read ({failure.code}); their ids are given."
    items = [_group(g, names) for g in groups]
    total = sum(item["seconds"] for item in items)
    part = paging.whole(items, reading.start, reading.limit)
    return part._replace(warning=warning, extra={"total_seconds": total})
