"""The queries, invoked as SAM invokes them, reading the Toggl sandbox over real HTTP: every
query, Toggl's three paging schemes at their edges, filters, validation and quota."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import Seeded, now
from tests.connection import Connection, body_of


def ask(connection: Connection, query: str, /, **params: Any) -> dict[str, Any]:
    response = connection.get(f"/queries/{query}", urlencode(params))
    assert response["statusCode"] == 200, response
    body: dict[str, Any] = body_of(response)
    return body


def add_projects(seeded: Seeded, n: int) -> None:
    for i in range(n):
        pid = seeded.world.next_id()
        seeded.world.projects[pid] = {
            "id": pid,
            "workspace_id": seeded.workspace["id"],
            "wid": seeded.workspace["id"],
            "name": f"P{i:04}",
            "active": True,
            "client_id": None,
            "at": now(),
        }


def add_tasks(seeded: Seeded, n: int) -> None:
    for i in range(n):
        tid = seeded.world.next_id()
        seeded.world.tasks[tid] = {
            "id": tid,
            "name": f"T{i:04}",
            "project_id": seeded.project["id"],
            "workspace_id": seeded.workspace["id"],
            "active": True,
            "user_id": None,
            "at": now(),
        }


def add_entries(seeded: Seeded, n: int, running: bool = False) -> None:
    for i in range(n):
        eid = seeded.world.next_id()
        seeded.world.time_entries[eid] = {
            "id": eid,
            "workspace_id": seeded.workspace["id"],
            "wid": seeded.workspace["id"],
            "user_id": seeded.owner["id"],
            "uid": seeded.owner["id"],
            "project_id": seeded.project["id"],
            "task_id": None,
            "description": f"E{i}",
            "billable": True,
            "tags": [],
            "tag_ids": [],
            "start": f"2026-11-{1 + i % 28:02}T09:00:00+00:00",
            "stop": None if running else "2026-11-01T10:00:00+00:00",
            "duration": -1 if running else 3600,
            "duronly": True,
            "at": now(),
            "server_deleted_at": None,
        }


def gets(toggl: Sandbox, prefix: str) -> int:
    return len(toggl.calls("GET", prefix))


# --- every query ---------------------------------------------------------------------------
def test_single_object_queries(toggl_connection: Connection, seeded: Seeded) -> None:
    me = ask(toggl_connection, "me")
    assert me["item"]["id"] == seeded.owner["id"] and "api_token" not in me["item"]
    workspace = ask(toggl_connection, "workspace", workspace_id=seeded.workspace["id"])
    assert workspace["item"]["name"] == "Acme Studio" and "api_token" not in workspace["item"]
    assert workspace["toggl_requests"] == 1 and workspace["quota"]["remaining"] >= 0


def test_list_queries_without_paging(toggl_connection: Connection, seeded: Seeded) -> None:
    wid = seeded.workspace["id"]
    organizations = ask(toggl_connection, "organizations")
    assert [o["id"] for o in organizations["items"]] == [seeded.organization["id"]]
    workspaces = ask(toggl_connection, "workspaces")
    assert workspaces["count"] == 1 and "api_token" not in json.dumps(workspaces)
    clients = ask(toggl_connection, "clients", workspace_id=wid)
    assert [c["name"] for c in clients["items"]] == ["Globex"] and clients["truncated"] is False
    users = ask(toggl_connection, "workspace-users", workspace_id=wid)
    assert {u["id"] for u in users["items"]} == {seeded.owner["id"], seeded.member["id"]}
    assert "api_token" not in json.dumps(users)
    members = ask(toggl_connection, "project-members", workspace_id=wid, project_ids=seeded.project["id"])
    assert [m["user_id"] for m in members["items"]] == [seeded.owner["id"]]


def test_time_entries_and_the_running_one(toggl_connection: Connection, seeded: Seeded) -> None:
    nothing = ask(toggl_connection, "current-time-entry")
    assert nothing["item"] is None and nothing["toggl_requests"] == 1  # Toggl sent null
    add_entries(seeded, 3)
    add_entries(seeded, 1, running=True)
    running = ask(toggl_connection, "current-time-entry")
    assert running["item"]["stop"] is None
    entries = ask(toggl_connection, "time-entries", start_date="2026-11-01", end_date="2026-11-30")
    assert entries["count"] == 4


def test_every_query_has_an_event_file_that_works(toggl_connection: Connection, seeded: Seeded) -> None:
    from local.emulator.template import ROOT
    from local.generators.sample_events import QUERY_EXAMPLES

    add_entries(seeded, 2)
    for name in QUERY_EXAMPLES:
        event = json.loads((ROOT / "events" / f"query-{name}.json").read_text())
        response = toggl_connection.request(event)
        assert response["statusCode"] == 200, (name, response)


# --- paging --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "limit", "count", "truncated", "requests"),
    [
        (0, 1000, 0, False, 1),
        (1, 1000, 1, False, 1),
        (200, 1000, 200, False, 2),  # a full page: one more request finds the end
        (201, 1000, 201, False, 2),
        (450, 1000, 450, False, 3),
        (400, 150, 150, True, 1),  # beyond the limit: one page of limit + 1 says so
        (150, 150, 150, False, 1),
    ],
)
def test_projects_page_through_bare_arrays(
    toggl_connection: Connection,
    toggl: Sandbox,
    seeded: Seeded,
    n: int,
    limit: int,
    count: int,
    truncated: bool,
    requests: int,
) -> None:
    seeded.world.projects.clear()
    add_projects(seeded, n)
    body = ask(toggl_connection, "projects", workspace_id=seeded.workspace["id"], limit=limit)
    assert (body["count"], body["truncated"], body["toggl_requests"]) == (count, truncated, requests)
    assert len(body["items"]) == count and len({p["id"] for p in body["items"]}) == count
    assert gets(toggl, "/api/v9/workspaces") == requests


@pytest.mark.parametrize(
    ("n", "limit", "count", "truncated", "requests"),
    [
        (0, 1000, 0, False, 1),
        (1, 1000, 1, False, 1),
        (200, 1000, 200, False, 1),
        (201, 1000, 201, False, 2),
        (30, 10, 10, True, 1),
    ],
)
def test_tasks_page_through_the_total_count_envelope(
    toggl_connection: Connection,
    toggl: Sandbox,
    seeded: Seeded,
    n: int,
    limit: int,
    count: int,
    truncated: bool,
    requests: int,
) -> None:
    add_tasks(seeded, n)
    body = ask(toggl_connection, "tasks", workspace_id=seeded.workspace["id"], limit=limit)
    assert (body["count"], body["truncated"], body["toggl_requests"]) == (count, truncated, requests)


def test_tags_page_like_projects(toggl_connection: Connection, seeded: Seeded) -> None:
    for i in range(205):
        tid = seeded.world.next_id()
        seeded.world.tags[tid] = {"id": tid, "name": f"tag{i}", "workspace_id": seeded.workspace["id"], "at": now()}
    body = ask(toggl_connection, "tags", workspace_id=seeded.workspace["id"])
    assert (body["count"], body["truncated"], body["toggl_requests"]) == (205, False, 2)


@pytest.mark.parametrize(
    ("n", "limit", "count", "truncated", "requests"),
    [
        (0, 1000, 0, False, 1),
        (1, 1000, 1, False, 1),
        (50, 1000, 50, False, 1),
        (51, 1000, 51, False, 2),
        (120, 60, 60, True, 2),
    ],
)
def test_the_detailed_report_follows_its_cursor(
    toggl_connection: Connection,
    toggl: Sandbox,
    seeded: Seeded,
    n: int,
    limit: int,
    count: int,
    truncated: bool,
    requests: int,
) -> None:
    add_entries(seeded, n)
    body = ask(
        toggl_connection, "detailed-report", workspace_id=seeded.workspace["id"], start_date="2026-11-01", limit=limit
    )
    assert (body["count"], body["truncated"], body["toggl_requests"]) == (count, truncated, requests)
    ids = [row["time_entries"][0]["id"] for row in body["items"]]
    assert len(set(ids)) == count
    posts = toggl.calls("POST", "/reports/api/v3")
    if len(posts) > 1:
        assert posts[1].body["first_id"] == ids[50] and posts[1].body["first_row_number"] == 51


def test_a_repeated_report_cursor_stops_and_says_so(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    add_entries(seeded, 120)
    toggl.report_cursor_override = (1, 51)  # Toggl keeps handing out the same cursor
    body = ask(toggl_connection, "detailed-report", workspace_id=seeded.workspace["id"], start_date="2026-11-01")
    assert body["truncated"] is True and "repeated" in body["warning"]
    assert body["toggl_requests"] == 2


# --- filters -------------------------------------------------------------------------------
def test_filters_are_passed_to_toggl_under_their_own_names(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    ask(toggl_connection, "projects", workspace_id=wid, active="both", name="web", client_ids="3,4", billable="true")
    call = toggl.calls("GET", f"/api/v9/workspaces/{wid}/projects")[0]
    assert call.query == {
        "active": ["both"],
        "name": ["web"],
        "client_ids": ["3,4"],
        "billable": ["true"],
        "page": ["1"],
        "per_page": ["200"],
    }
    ask(toggl_connection, "tasks", workspace_id=wid, active="false", pid=seeded.project["id"], search="x")
    call = toggl.calls("GET", f"/api/v9/workspaces/{wid}/tasks")[0]
    assert call.query["active"] == ["false"] and call.query["pid"] == [str(seeded.project["id"])]
    ask(toggl_connection, "time-entries", start_date="2026-11-01", end_date="2026-11-02T00:00:00Z")
    call = toggl.calls("GET", "/api/v9/me/time_entries")[0]
    assert call.query == {"start_date": ["2026-11-01"], "end_date": ["2026-11-02T00:00:00Z"]}
    ask(toggl_connection, "detailed-report", workspace_id=wid, start_date="2026-11-01", project_ids="7,8")
    assert toggl.calls("POST", "/reports")[0].body["project_ids"] == [7, 8]


def test_workspace_id_defaults_to_default_workspace_id(toggl_connection: Connection, seeded: Seeded) -> None:
    body = toggl_connection.invoke(
        "QueryFunction", {"query": "clients", "params": {}}, DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"])
    )
    assert body["count"] == 1


def test_direct_invocation_answers_like_http(toggl_connection: Connection, seeded: Seeded) -> None:
    add_projects(seeded, 3)
    wid = seeded.workspace["id"]
    direct = toggl_connection.invoke("QueryFunction", {"query": "projects", "params": {"workspace_id": wid}})
    http = ask(toggl_connection, "projects", workspace_id=wid)
    assert direct["items"] == http["items"] and direct["count"] == http["count"] == 4


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("nope", {}, "query"),
        ("projects", {"workspace_id": 1, "colour": "red"}, "colour"),
        ("projects", {"workspace_id": "x"}, "workspace_id"),
        ("projects", {"workspace_id": 1, "limit": 0}, "limit"),
        ("projects", {"workspace_id": 1, "limit": 10001}, "limit"),
        ("projects", {"workspace_id": 1, "limit": "many"}, "limit"),
        ("projects", {"workspace_id": 1, "active": "maybe"}, "active"),
        ("projects", {}, "workspace_id"),
        ("time-entries", {"start_date": "2026-11-05", "end_date": "2026-11-01"}, "start_date"),
        ("time-entries", {"start_date": "2026-11-01"}, "end_date"),
        ("time-entries", {"start_date": "2026-13-01", "end_date": "2026-11-01"}, "start_date"),
        ("time-entries", {"start_date": "2026-11-01T00:00:00", "end_date": "2026-11-02"}, "start_date"),
        ("time-entries", {"since": 1700000000, "before": "2026-11-01"}, "since"),
        ("detailed-report", {"workspace_id": 1}, "start_date"),
        ("project-members", {"workspace_id": 1, "project_ids": "1,x"}, "project_ids"),
    ],
)
def test_invalid_parameters_are_422s_that_name_the_parameter_and_cost_no_request(
    toggl_connection: Connection, toggl: Sandbox, name: str, params: dict[str, Any], field: str
) -> None:
    response = toggl_connection.get(f"/queries/{name}", urlencode(params))
    assert response["statusCode"] == 422, response
    assert body_of(response)["field"] == field
    assert toggl.requests == []


def test_limit_10000_is_allowed(toggl_connection: Connection, seeded: Seeded) -> None:
    assert ask(toggl_connection, "projects", workspace_id=seeded.workspace["id"], limit=10000)["count"] == 1


# --- quota ---------------------------------------------------------------------------------
def test_quota_exhausted_part_way_returns_no_half_list(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    add_projects(seeded, 600)
    toggl.quota_per_hour = 2
    response = toggl_connection.get("/queries/projects", urlencode({"workspace_id": seeded.workspace["id"]}))
    assert response["statusCode"] == 429
    body = body_of(response)
    assert body["error"] == "quota_exhausted" and "items" not in body
    assert "after reading 400 item(s) in 2 page(s)" in body["message"]
    assert int(response["headers"]["Retry-After"]) > 0


def test_a_plan_402_and_a_quota_402_are_told_apart(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    from local.toggl_sandbox import Fault

    toggl.fail(Fault(status=402, body="Upgrade to Starter to use this feature", path_prefix="/reports"))
    response = toggl_connection.get(
        "/queries/detailed-report", urlencode({"workspace_id": seeded.workspace["id"], "start_date": "2026-11-01"})
    )
    assert response["statusCode"] == 402 and body_of(response)["error"] == "plan_required"
