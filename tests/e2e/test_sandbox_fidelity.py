"""The sandbox held to Toggl's documents: every endpoint the connection uses is called, in its
successes and its documented refusals, under both readings of what the documents leave open, and
every answer has documented fields, status codes and error texts. (The ``toggl_as_documented``
fixture judges each answer; the assertions here say what was asked and got.)"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from local.toggl_sandbox import Sandbox, documented
from local.toggl_sandbox import webhooks as sandbox_webhooks
from local.toggl_sandbox.behaviour import STRICT, Behaviour
from local.toggl_sandbox.state import Seeded
from local.toggl_sandbox.track import FREE_ACTIVE_USER_LIMIT
from tests.conftest import CANARY_TOKEN


@pytest.fixture(params=[Behaviour(), STRICT], ids=["default", "strict"])
def behaviour(request: pytest.FixtureRequest) -> Behaviour:
    result: Behaviour = request.param
    return result


class Caller:
    def __init__(self, toggl: Sandbox) -> None:
        self.toggl = toggl

    def __call__(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any, Any]:
        response = requests.request(
            method, self.toggl.url + path, json=body, params=query or None, auth=(CANARY_TOKEN, "api_token"), timeout=30
        )
        return response.status_code, response.json() if response.content else None, response.headers


@pytest.fixture
def call(toggl: Sandbox) -> Caller:
    return Caller(toggl)


def track_endpoints(call: Caller, toggl: Sandbox, seeded: Seeded) -> None:
    wid, pid, member = seeded.workspace["id"], seeded.project["id"], seeded.member["id"]
    ws = f"/api/v9/workspaces/{wid}"
    assert call("GET", "/api/v9/me")[0] == 200
    status, orgs, _ = call("GET", "/api/v9/me/organizations")
    assert status == 200 and orgs[0]["pricing_plan_name"] == "Premium" and "plan" not in orgs[0]
    assert call("GET", "/api/v9/me/workspaces")[0] == 200
    assert call("GET", ws)[1]["organization_id"] == seeded.organization["id"]
    assert call("GET", "/api/v9/workspaces/99")[:2] == (403, "User does not have access to this resource.")
    assert call("GET", ws + "/projects", per_page=1)[0] == 200
    assert call("GET", ws + "/clients", status="both")[0] == 200
    assert call("POST", ws + "/clients", {"name": "Fidelity"})[0] == 200
    assert call("POST", ws + "/clients", {"name": " "})[:2] == (400, "Client name cannot be empty")
    assert call("POST", ws + "/clients", {"name": "x" * 101})[1].startswith("Client name maximum length is")
    assert set(call("GET", ws + "/tasks")[1]) >= {"data", "total_count"}
    assert call("POST", ws + f"/projects/{pid}/tasks", {"name": "Fidelity"})[0] == 200
    assert call("POST", ws + "/projects/77/tasks", {"name": "x"})[:2] == (400, "Project not found/accessible")
    assert [t["name"] for t in call("GET", ws + f"/projects/{pid}/tasks")[1]] == ["Fidelity"]
    assert call("GET", ws + "/projects/77/tasks")[:2] == (400, "Invalid project_id")
    member_body = {"project_id": pid, "user_id": member}
    assert call("POST", ws + "/project_users", member_body)[0] == 200
    assert call("POST", ws + "/project_users", member_body)[:2] == (400, "Project user already exists")
    assert call("POST", ws + "/project_users", {"project_id": 77, "user_id": member})[:2] == (400, "Invalid project_id")
    assert call("GET", ws + "/project_users", project_ids=str(pid))[0] == 200
    users = call("GET", ws + "/users")[1]
    assert {"role", "is_admin", "is_active", "inactive"} <= set(users[0]) and "api_token" not in users[0]
    assert call("GET", ws + "/tags")[0] == 200
    assert call("GET", "/api/v9/me/time_entries", since="0")[0] == 200
    nothing = call("GET", "/api/v9/me/time_entries/current")
    assert nothing[:2] == ((404, "Resource can not be found") if toggl.behaviour is STRICT else (200, None))
    org = f"/api/v9/organizations/{seeded.organization['id']}/invitations"
    status, invited, _ = call("POST", org, {"emails": ["f@x.example"], "workspaces": [{"workspace_id": wid}]})
    assert status == 200 and set(invited) == {"data", "invitations", "messages"}
    assert invited["data"][0]["workspaces"] == [{"user_id": None, "workspace_id": wid, "workspace_user_id": None}]
    assert call("POST", org, {"emails": ["nope"], "workspaces": [{"workspace_id": wid}]})[:2] == (
        400,
        "Invalid e-mail: 'nope'",
    )


def webhooks_endpoints(call: Caller, toggl: Sandbox, seeded: Seeded) -> None:
    wid = seeded.workspace["id"]
    hooks = "/webhooks/api/v1"
    listing = call("GET", hooks + "/event_filters")[1]
    assert ("created" in listing["workspace"]) is toggl.behaviour.offers_workspace_created
    assert call("GET", hooks + f"/limits/{wid}")[1] == {"max_webhooks": 3, "max_events_per_webhook": 12}
    receiver = Receiver().start()
    try:
        sub = {
            "url_callback": receiver.url,
            "event_filters": [{"entity": "project", "action": "*"}],
            "enabled": True,
            "description": "fidelity",
            "secret": "s",
        }
        status, created, _ = call("POST", hooks + f"/subscriptions/{wid}", sub)
        assert status == 200 and created["validated_at"]
        sid = created["subscription_id"]
        refusals = {
            "Subscription description must not be empty": {**sub, "description": ""},
            f"Subscription description 'fidelity' is already in use for workspace {wid}": sub,
            "The list of event filters must not be empty": {**sub, "description": "b", "event_filters": []},
            "The following event filter appears more than once for your subscription: project/*": {
                **sub,
                "description": "c",
                "event_filters": [{"entity": "project", "action": "*"}] * 2,
            },
            "The value 'pro-ject' for the filter entity can only contain letters, numbers and '_' or be '*' to "
            "match all entities": {**sub, "description": "d", "event_filters": [{"entity": "pro-ject", "action": "*"}]},
        }
        for text, body in refusals.items():
            assert call("POST", hooks + f"/subscriptions/{wid}", body)[:2] == (400, text)
        many = [
            {"entity": e, "action": a}
            for e in ("client", "project", "tag", "task", "time_entry")
            for a in ("created", "updated", "deleted")
        ]
        too_many = {**sub, "description": "e", "event_filters": many}
        assert call("POST", hooks + f"/subscriptions/{wid}", too_many)[:2] == (
            400,
            "The limit of 12 event filters for your subscription has been exceeded as you're trying to set 15 filters",
        )
        for n in (2, 3):
            assert call("POST", hooks + f"/subscriptions/{wid}", {**sub, "description": f"n{n}"})[0] == 200
        assert call("POST", hooks + f"/subscriptions/{wid}", {**sub, "description": "n4"})[:2] == (
            400,
            f"User {seeded.owner['id']} already reached the limit of 3 enabled subscriptions for workspace {wid}",
        )
        assert call("PATCH", hooks + f"/subscriptions/{wid}/{sid}", {"enabled": False})[1]["enabled"] is False
        assert call("POST", hooks + f"/subscriptions/{wid}", {**sub, "description": "n4"})[0] == 200  # room again
        assert call("PUT", hooks + f"/subscriptions/{wid}/{sid}", {**sub, "enabled": False})[0] == 200
        assert call("PUT", hooks + f"/subscriptions/{wid}/1", sub)[:2] == (
            404,
            f"subscription 1 for workspace {wid} was not found",
        )
        assert call("POST", hooks + f"/ping/{wid}/{sid}")[:2] == (200, {"status": "ok"})
        assert call("GET", hooks + f"/validate/{wid}/{sid}/wrong")[:2] == (
            400,
            f"subscription {sid} has already been validated",
        )
        sandbox_webhooks.state(toggl).subscriptions[sid]["validated_at"] = None
        assert call("GET", hooks + f"/validate/{wid}/{sid}/wrong")[:2] == (
            400,
            f"subscription {sid} for workspace {wid} and validation code 'wrong' was not found",
        )
        assert call("GET", hooks + f"/subscriptions/{wid}")[0] == 200
        assert call("DELETE", hooks + f"/subscriptions/{wid}/{sid}")[0] == 200
        assert receiver.seen  # the PINGs arrived
    finally:
        receiver.stop()


def reports_endpoint(call: Caller, toggl: Sandbox, seeded: Seeded) -> None:
    path = f"/reports/api/v3/workspace/{seeded.workspace['id']}/search/time_entries"
    status, rows, _ = call("POST", path, {"start_date": "2026-11-01", "end_date": "2026-11-30"})
    assert status == 200 and rows == []
    assert call("POST", path, {})[:2] == (400, "At least one parameter must be set")
    assert call("POST", path, {"start_date": "2026-11-01T00:00:00Z"})[:2] == (
        400,
        "Invalid 'start_date' value, allowed values are: 'YYYY-MM-DD'",
    )


def time_tracking_endpoints(call: Caller, toggl: Sandbox, seeded: Seeded) -> None:
    wid, strict = seeded.workspace["id"], toggl.behaviour is STRICT
    ws = f"/api/v9/workspaces/{wid}"
    sent = {"workspace_id": wid, "created_with": "fidelity", "start": "2026-11-02T09:00:00Z"}
    status, entry, _ = call("POST", ws + "/time_entries", {**sent, "duration": -1, "tags": ["fidelity"]}, meta="true")
    assert status == 200 and entry["stop"] is None and entry["tags"] == ["fidelity"]
    eid = entry["id"]
    assert call("GET", f"/api/v9/me/time_entries/{eid}", meta="true", include_sharing="true")[1]["id"] == eid
    assert call("GET", "/api/v9/me/time_entries/1")[:2] == (404, "Resource can not be found")
    status, stopped, _ = call("PATCH", f"{ws}/time_entries/{eid}/stop")
    assert status == 200 and stopped["stop"] is not None and stopped["duration"] >= 0
    again = call("PATCH", f"{ws}/time_entries/{eid}/stop")[:2]
    assert again == ((200, stopped) if strict else (409, "Time entry already stopped"))
    assert call("PATCH", f"{ws}/time_entries/1/stop")[:2] == (404, "Time entry not found")
    assert call("PATCH", f"{ws}/time_entries/x/stop")[:2] == (400, "Invalid or missing time_entry_id")
    renamed = call("PUT", f"{ws}/time_entries/{eid}", {"description": "renamed"}, meta="true", include_sharing="true")
    assert renamed[1]["description"] == "renamed"
    assert call("DELETE", f"{ws}/time_entries/{eid}")[:2] == (200, None)
    project = {"name": "Fidelity", "client_id": seeded.client["id"], "active": True, "is_private": False}
    status, made, _ = call("POST", ws + "/projects", {**project, "color": "#c9806b", "billable": True})
    assert status == 200 and made["client_id"] == seeded.client["id"] and made["is_private"] is False
    status, tag, _ = call("POST", ws + "/tags", {"name": "Fidelity"})
    assert status == 200 and (tag[0] if strict else tag)["name"] == "Fidelity"
    assert call("POST", ws + "/tags", {"name": " "})[:2] == (400, "tag name can't be blank")
    assert call("POST", ws + "/tags", {"name": "Fidelity"})[:2] == (
        400,
        "a tag with the name 'Fidelity' already exists",
    )
    summary = f"/reports/api/v3/workspace/{wid}/summary/time_entries"
    status, report, _ = call("POST", summary, {"start_date": "2026-11-01", "end_date": "2026-11-30"})
    assert status == 200 and report == {"groups": []}
    assert call("POST", summary, {})[:2] == (400, "At least one parameter must be set")
    assert call("POST", summary, {"start_date": "2026-11-01", "end_date": "2026-11-30", "sub_grouping": "clients"})[
        :2
    ] == (400, "Invalid 'sub_grouping' value, allowed values are: 'time_entries, tasks, users'")


def test_the_sandbox_answers_every_endpoint_as_documented(call: Caller, toggl: Sandbox, seeded: Seeded) -> None:
    # When every endpoint the connection uses is called, in success and in documented refusal
    track_endpoints(call, toggl, seeded)
    webhooks_endpoints(call, toggl, seeded)
    reports_endpoint(call, toggl, seeded)
    time_tracking_endpoints(call, toggl, seeded)
    # Then none was left out (and toggl_as_documented found every answer documented)
    called = {(f[0].method, f[0].path) for r in toggl.requests if (f := documented.endpoint(r.method, r.path))}
    assert [f"{e.method} {e.path}" for e in documented.ENDPOINTS if (e.method, e.path) not in called] == []
    assert not toggl.undocumented


def test_invitations_and_subscriptions_are_refused_check_by_check_in_order(
    call: Caller, toggl: Sandbox, seeded: Seeded
) -> None:
    # Given bodies each wrong in one more way than the check before it catches
    oid, wid = seeded.organization["id"], seeded.workspace["id"]
    invitations, elsewhere = f"/api/v9/organizations/{oid}/invitations", "/api/v9/organizations/999999/invitations"
    some = [{"workspace_id": wid}]
    refused_invitations = [
        (elsewhere, ["not an object"], (400, "Invalid JSON input")),
        (elsewhere, {"emails": [], "workspaces": []}, (403, "Forbidden")),
        (invitations, {"emails": [], "workspaces": []}, (400, "at least one email is required")),
        (invitations, {"emails": ["a@x.example", "nope"], "workspaces": []}, (400, "Invalid e-mail: 'nope'")),
        (invitations, {"emails": ["a@x.example"], "workspaces": []}, (400, "at least one workspace is required")),
        (invitations, {"emails": ["a@x.example"], "workspaces": [*some, "x"]}, (400, "invalid workspace ID")),
        (
            invitations,
            {"emails": ["a@x.example"], "workspaces": [{"workspace_id": 999999}]},
            (400, "invalid workspace ID"),
        ),
    ]
    # When each is sent, Then the first check it fails answers, and nothing is invited
    for path, body, answer in refused_invitations:
        assert call("POST", path, body)[:2] == answer, body
    assert toggl.world.invitations == {} and toggl.world.emails_sent == []

    # Given a Free organization with room for exactly ``room`` more active users
    toggl.world.organizations[oid]["plan"] = "free"
    room = FREE_ACTIVE_USER_LIMIT - call("GET", "/api/v9/me/organizations")[1][0]["user_count"]
    assert room >= 1
    addresses = [f"u{n}@x.example" for n in range(room + 1)]
    # When one address too many is invited, Then the limit refuses it; the room itself is invited
    assert call("POST", invitations, {"emails": addresses, "workspaces": some})[:2] == (
        400,
        f"Active user limit is {FREE_ACTIVE_USER_LIMIT}. Upgrade to add more active users",
    )
    assert toggl.world.invitations == {}
    assert call("POST", invitations, {"emails": addresses[:room], "workspaces": some, "skip_email": True})[0] == 200
    assert len(toggl.world.invitations) == room and toggl.world.emails_sent == []

    hooks = f"/webhooks/api/v1/subscriptions/{wid}"
    project = {"entity": "project", "action": "*"}
    sub = {"url_callback": "http://127.0.0.1:9/hook", "event_filters": [project], "description": "r", "secret": "s"}
    many = [{"entity": e, "action": a} for e in ("client", "tag", "task", "time_entry") for a in ("created", "updated")]
    refused_subscriptions = [
        (
            {**sub, "url_callback": "ftp://x", "description": ""},
            "URL endpoint ftp://x request failed with error: invalid URL",
        ),
        ({**sub, "description": " ", "event_filters": []}, "Subscription description must not be empty"),
        ({**sub, "event_filters": []}, "The list of event filters must not be empty"),
        (
            {**sub, "event_filters": ["project"]},
            "The entity field for each subscription event filter must be non-empty",
        ),
        (
            {**sub, "event_filters": [{"entity": "project"}]},
            "The action field for each subscription event filter must be non-empty",
        ),
        (
            {**sub, "event_filters": [{"entity": "project", "action": "up-dated"}]},
            "The value 'up-dated' for the filter action can only contain letters, numbers and '_' or be '*' to match "
            "all actions",
        ),
        # each filter checked whole before the next: the repeat is found before the empty entity after it
        (
            {**sub, "event_filters": [project, project, {"entity": ""}]},
            "The following event filter appears more than once for your subscription: project/*",
        ),
        # every filter checked before they are counted: 13 is over the plan's limit, yet the repeat is said
        (
            {**sub, "event_filters": [*many, *many[:5]]},
            "The following event filter appears more than once for your subscription: client/created",
        ),
    ]
    for body, text in refused_subscriptions:
        assert call("POST", hooks, body)[:2] == (400, text), body
    assert call("GET", hooks)[1] == []


class Receiver:
    """A webhook URL that answers every PING 200 with its validation code."""

    def __init__(self) -> None:
        from local.emulator.loopback import LoopbackServer

        outer = self
        self.seen: list[dict[str, Any]] = []

        class Server(LoopbackServer):
            def serve(self, request: Any) -> None:
                import json

                document = json.loads(request.rfile.read(int(request.headers["Content-Length"])))
                outer.seen.append(document)
                data = json.dumps({"validation_code": document.get("validation_code")}).encode()
                request.send_response(200)
                request.send_header("Content-Length", str(len(data)))
                request.end_headers()
                request.wfile.write(data)

        self.server = Server()
        self.url = ""

    def start(self) -> Receiver:
        self.server.start()
        self.url = self.server.url + "/webhooks"
        return self

    def stop(self) -> None:
        self.server.stop()


def test_an_undocumented_request_is_caught_and_said(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    from local.toggl_sandbox.server import UNDOCUMENTED
    from toggl_connection.toggl.client import TogglClient

    sandbox = Sandbox(seeded.world, quota_per_hour=100, report_undocumented=True).start()
    try:
        # the connection's client asking for a filter Toggl does not document (it once did)
        TogglClient(sandbox.url, CANARY_TOKEN).get(f"/api/v9/workspaces/{seeded.workspace['id']}/tasks", {"user_id": 1})
    finally:
        sandbox.stop()
    assert sandbox.undocumented == [
        "request: GET /api/v9/workspaces/{workspace_id}/tasks: query parameter 'user_id' is not documented"
    ]
    assert "toggl sandbox: undocumented request:" in capsys.readouterr().err
    assert sandbox.undocumented == UNDOCUMENTED
    UNDOCUMENTED.clear()  # caught on purpose: the fixture that fails every test on it has nothing to say
