"""Read operations on Toggl: one table of queries, each with Toggl's own parameter names, the
call it makes and how that call pages. Lists come back whole up to ``limit``; single objects as
``{"item": ...}``; every answer says how many Toggl requests it used and what quota is left."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from toggl_connection.calls import guards, invocation, summary_report, workspace_names
from toggl_connection.calls.query_params import (
    Converter,
    active_filter,
    boolean,
    convert,
    day,
    day_or_timestamp,
    ids,
    integer,
    moment,
    one_of,
    text,
    unix_time,
)
from toggl_connection.core import settings
from toggl_connection.core.documents import without_secrets
from toggl_connection.core.errors import (
    ConnectionFailure,
    TogglNotFound,
    TogglRequestTooLong,
    ValidationFailed,
    WorkspaceNotAllowed,
)
from toggl_connection.core.observability import count_by, logger
from toggl_connection.toggl import paging
from toggl_connection.toggl.client import V9, TogglClient, toggl_client

REPORTS = "/reports/api/v3"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000


class Single(NamedTuple):
    item: Any


Fetch = Callable[[TogglClient, dict[str, Any], paging.Reading], "paging.Listing | Single"]


class Query(NamedTuple):
    name: str
    fetch: Fetch
    params: Mapping[str, Converter] = MappingProxyType({})
    workspace: bool = False  # takes workspace_id (defaulting to DEFAULT_WORKSPACE_ID)
    check: Callable[[dict[str, Any]], None] | None = None  # rules across parameters
    # Spans workspaces: with AllowedWorkspaceIds set, only items whose field names an allowed one.
    scoped_by: str | None = None
    required: tuple[str, ...] = ()  # parameters without which Toggl cannot answer


def _query_value(value: Any) -> Any:
    """A value as Toggl takes it in a query string: lists comma-separated, booleans lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return value


def _csv(params: dict[str, Any]) -> dict[str, Any]:
    return {k: _query_value(v) for k, v in params.items()}


def _get_list(path: str) -> Callable[[TogglClient, dict[str, Any], paging.Reading], paging.Listing]:
    def fetch(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> paging.Listing:
        data = toggl.get(path.format(**params), _csv(_rest(params))).data or []
        return paging.whole(data if isinstance(data, list) else [data], reading.start, reading.limit)

    return fetch


def _get_one(path: str) -> Callable[[TogglClient, dict[str, Any], paging.Reading], Single]:
    def fetch(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> Single:
        return Single(toggl.get(path.format(**params), _csv(_rest(params))).data)

    return fetch


def _paged(
    path: str, reader: Callable[..., paging.Listing]
) -> Callable[[TogglClient, dict[str, Any], paging.Reading], paging.Listing]:
    def fetch(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> paging.Listing:
        query = _csv(_rest(params))
        return reader(toggl, path.format(**params), query, reading.limit, reading.start, reading.resumable)

    return fetch


def kept(listing: paging.Listing, keep: Callable[[Any], bool]) -> paging.Listing:
    """The listing's items that ``keep`` keeps, each with its position (the next read still
    starts where this one stopped)."""
    pairs = [
        (item, at)
        for item, at in zip(listing.items, listing.positions or [None] * len(listing.items), strict=True)
        if keep(item)
    ]
    return listing._replace(items=[item for item, _ in pairs], positions=tuple(at for _, at in pairs if at is not None))


def _organizations(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> paging.Listing:
    """The user's organizations; with AllowedWorkspaceIds set, only those holding an allowed
    workspace (one more request, for the workspaces' organizations)."""
    found = _get_list(V9 + "/me/organizations")(toggl, params, reading)
    config = settings.load()
    if not config.allowed_workspace_ids:
        return found
    workspaces = guards.only_allowed(config, toggl.get(V9 + "/me/workspaces").data or [], "id")
    allowed = {w.get("organization_id") for w in workspaces}
    return kept(found, lambda o: isinstance(o, dict) and o.get("id") in allowed)


def _current_entry(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> Single:
    """The running time entry. Nothing running is a 200 with ``null`` (seen) or the documented
    404 "Resource can not be found": both are ``{"item": null}``. ``meta``: with its project's and
    client's names, as the list's ``meta`` gives them (Toggl's read of the running entry has no
    ``meta``: the names come from the workspace's listings, kept a few minutes)."""
    try:
        entry = toggl.get(V9 + "/me/time_entries/current").data
    except TogglNotFound:
        return Single(None)
    if params.get("meta") and isinstance(entry, dict) and isinstance(entry.get("workspace_id"), int):
        entry = {**entry, **_names_of_entry(toggl, entry)}
    return Single(entry)


def _names_of_entry(toggl: TogglClient, entry: dict[str, Any]) -> dict[str, Any]:
    """``project_name``, ``client_id`` and ``client_name`` of a time entry, where it has a project."""
    project_id = entry.get("project_id")
    if not isinstance(project_id, int):
        return {}
    workspace_id = entry["workspace_id"]
    project = workspace_names.listing(toggl, workspace_id, "projects").get(project_id) or {}
    names: dict[str, Any] = {"project_name": project.get("name")}
    if isinstance(project.get("client_id"), int):
        names["client_id"] = project["client_id"]
        names["client_name"] = workspace_names.of(toggl, workspace_id, "clients").get(project["client_id"])
    return {k: v for k, v in names.items() if v is not None}


def _rest(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "workspace_id"}


def _time_entry(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> Single:
    rest = {k: v for k, v in params.items() if k != "time_entry_id"}
    return Single(toggl.get(f"{V9}/me/time_entries/{params['time_entry_id']}", _csv(rest)).data)


def _detailed_report(toggl: TogglClient, params: dict[str, Any], reading: paging.Reading) -> paging.Listing:
    path = f"{REPORTS}/workspace/{params['workspace_id']}/search/time_entries"
    body = {**_rest(params), "page_size": 50}
    return paging.cursor_pages(toggl, path, body, reading.limit, reading.start)


def _ordered(params: dict[str, Any]) -> None:
    start, end = params.get("start_date"), params.get("end_date")
    if start is not None and end is not None and moment(start) > moment(end):
        raise ValidationFailed("start_date", "must not be after end_date")


def _time_window(params: dict[str, Any]) -> None:
    if "since" in params and "before" in params:
        raise ValidationFailed("since", "cannot be combined with before (Toggl refuses both)")
    if ("start_date" in params) != ("end_date" in params):
        missing = "end_date" if "start_date" in params else "start_date"
        raise ValidationFailed(missing, "is required with the other end of the date range")
    if "start_date" in params and ("since" in params or "before" in params):
        raise ValidationFailed("since" if "since" in params else "before", "cannot be combined with start_date")
    _ordered(params)


def _report_window(params: dict[str, Any]) -> None:
    _ordered(params)


SORT_ORDER = one_of("ASC", "DESC")
QUERIES = {
    query.name: query
    for query in (
        Query("me", _get_one(V9 + "/me"), {"with_related_data": boolean}),
        Query("organizations", _organizations),
        Query("workspaces", _get_list(V9 + "/me/workspaces"), scoped_by="id"),
        Query("workspace", _get_one(V9 + "/workspaces/{workspace_id}"), workspace=True),
        Query(
            "projects",
            _paged(V9 + "/workspaces/{workspace_id}/projects", paging.bare_pages),
            {
                "active": active_filter,
                "billable": boolean,
                "name": text,
                "client_ids": ids,
                "user_ids": ids,
                "only_me": boolean,
                "only_templates": boolean,
                "since": unix_time,
                "sort_field": one_of("name", "created_at", "client_name", "color", "status"),
                "sort_order": SORT_ORDER,
            },
            workspace=True,
        ),
        Query(
            "clients",
            _get_list(V9 + "/workspaces/{workspace_id}/clients"),
            {"status": one_of("active", "archived", "both"), "name": text},
            workspace=True,
        ),
        Query(
            "tasks",
            _paged(V9 + "/workspaces/{workspace_id}/tasks", paging.envelope_pages),
            {"active": active_filter, "pid": integer, "search": text, "since": unix_time},
            workspace=True,
        ),
        Query(
            "time-entries",
            _get_list(V9 + "/me/time_entries"),
            {
                "start_date": day_or_timestamp,
                "end_date": day_or_timestamp,
                "since": unix_time,
                "before": day_or_timestamp,
                "meta": boolean,
            },
            check=_time_window,
            scoped_by="workspace_id",
        ),
        Query("current-time-entry", _current_entry, {"meta": boolean}, scoped_by="workspace_id"),
        Query(
            "time-entry",
            _time_entry,
            {"time_entry_id": integer, "meta": boolean},
            scoped_by="workspace_id",
            required=("time_entry_id",),
        ),
        Query("workspace-users", _get_list(V9 + "/workspaces/{workspace_id}/users"), workspace=True),
        Query(
            "project-members",
            _get_list(V9 + "/workspaces/{workspace_id}/project_users"),
            {"project_ids": ids, "user_id": integer},
            workspace=True,
        ),
        Query(
            "tags", _paged(V9 + "/workspaces/{workspace_id}/tags", paging.bare_pages), {"search": text}, workspace=True
        ),
        Query(
            "detailed-report",
            _detailed_report,
            {
                "start_date": day,
                "end_date": day,
                "project_ids": ids,
                "user_ids": ids,
                "client_ids": ids,
                "tag_ids": ids,
                "task_ids": ids,
                "description": text,
                "billable": boolean,
                "order_by": one_of("date", "user", "duration", "description", "last_update"),
                "order_dir": SORT_ORDER,
            },
            workspace=True,
            check=_report_window,
            required=("start_date",),
        ),
        Query(
            "summary-report",
            summary_report.fetch,
            {
                "start_date": day,
                "end_date": day,
                "grouping": one_of(*summary_report.GROUPINGS),
                "sub_grouping": one_of(*summary_report.SUB_GROUPINGS),
                "project_ids": ids,
                "client_ids": ids,
                "user_ids": ids,
                "tag_ids": ids,
                "billable": boolean,
                "description": text,
            },
            workspace=True,
            check=summary_report.check,
            required=("start_date", "end_date"),
        ),
    )
}


def _limit(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    number = integer("limit", value)
    if number > MAX_LIMIT:
        raise ValidationFailed("limit", f"must be at most {MAX_LIMIT}")
    return number


def parse(name: str, given: Mapping[str, Any], default_workspace_id: int | None) -> tuple[Query, dict[str, Any], int]:
    query = QUERIES.get(name)
    if query is None:
        raise ValidationFailed("query", f"unknown query {name!r} (known: {', '.join(QUERIES)})")
    given = dict(given)
    limit = _limit(given.pop("limit", None))
    spec = dict(query.params)
    if query.workspace:
        spec["workspace_id"] = integer
    params = convert(spec, given)
    missing = [name for name in query.required if name not in params]
    if missing:
        raise ValidationFailed(missing[0], f"is required for the {name} query")
    if query.workspace:
        params.setdefault("workspace_id", default_workspace_id)
        if params["workspace_id"] is None:
            raise ValidationFailed("workspace_id", "is required (or set the stack's DefaultWorkspaceId)")
    if query.check:
        query.check(params)
    return query, params, limit


def _allowed(config: settings.Settings, query: Query, params: dict[str, Any]) -> None:
    if query.workspace:
        guards.workspace_allowed(config, params["workspace_id"])
    if query.name == "me" and params.get("with_related_data") and config.allowed_workspace_ids:
        raise WorkspaceNotAllowed("with_related_data spans every workspace; this stack may read only some of them.")


def _scoped(config: settings.Settings, query: Query, result: paging.Listing | Single) -> paging.Listing | Single:
    if query.scoped_by is None or not config.allowed_workspace_ids:
        return result
    if isinstance(result, Single):
        return result if guards.only_allowed(config, [result.item], query.scoped_by) else Single(None)
    allowed = config.allowed_workspace_ids
    return kept(result, lambda item: isinstance(item, dict) and item.get(query.scoped_by) in allowed)


def answer(toggl: TogglClient, result: paging.Listing | Single) -> dict[str, Any]:
    body: dict[str, Any]
    if isinstance(result, Single):
        body = {"item": without_secrets(result.item)}
    else:
        body = {"items": without_secrets(result.items), "count": len(result.items), "truncated": result.truncated}
        if result.warning:
            body["warning"] = result.warning
        body.update(result.extra)
    body["toggl_requests"] = toggl.requests_made
    if toggl.quota.remaining is not None:
        body["quota"] = {"remaining": toggl.quota.remaining, "resets_in": toggl.quota.resets_in}
    return body


def _request(event: Any) -> tuple[str, dict[str, Any]]:
    """The query's name and parameters, from a ``GET /queries/<name>`` or ``{"query", "params"}``."""
    if invocation.kind_of(event) == "http":
        name = (event.get("pathParameters") or {}).get("name") or str(event.get("path", "")).rsplit("/", 1)[-1]
        params = {k: v for k, v in (event.get("queryStringParameters") or {}).items() if v is not None}
        return name, params
    if not isinstance(event, dict) or not isinstance(event.get("query"), str):
        raise ValidationFailed("query", 'is required: invoke with {"query": "<name>", "params": {...}}')
    params = event.get("params") or {}
    if not isinstance(params, dict):
        raise ValidationFailed("params", "must be an object")
    return event["query"], params


def ask(name: str, given: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Query ``name`` with ``given`` parameters, however it was asked (a route, a direct call, an
    agent's tool call): validated, guarded, read whole up to ``limit``, scoped to the allowed
    workspaces. Raises a ``ConnectionFailure`` for anything refused or failed."""
    return read(name, given, context)[0]


def read(
    name: str,
    given: Mapping[str, Any],
    context: Any,
    start: paging.Position | None = None,
    resumable: bool = False,
) -> tuple[dict[str, Any], paging.Listing | Single]:
    """``ask``, from ``start`` (where an earlier read stopped), with what was read beside the
    answer: each item's position and where the next read would start."""
    logger.append_keys(query=name)
    config = settings.load()
    query, params, limit = parse(name, given, config.default_workspace_id)
    _allowed(config, query, params)
    toggl = toggl_client(config, context)
    try:
        result = _scoped(config, query, query.fetch(toggl, params, paging.Reading(limit, start, resumable)))
        return answer(toggl, result), result
    except TogglRequestTooLong:
        longest = max(params, key=lambda k: len(str(params[k])), default="query")
        raise ValidationFailed(longest, "makes the request too long for Toggl: shorten it") from None


def run(event: Any, context: Any) -> Any:
    kind = invocation.kind_of(event)
    logger.append_keys(caller=invocation.caller_of(event))
    try:
        name, given = _request(event)
        body = ask(name, given, context)
    except Exception as failure:  # noqa: BLE001 - answered (or raised) in invocation.fail
        code = failure.code if isinstance(failure, ConnectionFailure) else "internal_error"
        count_by("QueryFailed", "error", code)
        return invocation.fail(kind, failure)
    return invocation.answer(kind, 200, body)
