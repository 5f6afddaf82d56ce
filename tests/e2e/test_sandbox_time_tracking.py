"""The sandbox's time tracking, over real HTTP, in both readings of everything Toggl's documents
leave open (``Behaviour()`` and ``STRICT``): time entries created, started, stopped, updated,
deleted and read; one running entry per user; projects and tags created; the Reports summary.
(The ``toggl_as_documented`` fixture judges every answer; the assertions say what was asked.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from local.toggl_sandbox import Sandbox, documented
from local.toggl_sandbox import webhooks as sandbox_webhooks
from local.toggl_sandbox.behaviour import STRICT, Behaviour
from local.toggl_sandbox.server import UNDOCUMENTED
from local.toggl_sandbox.state import Seeded
from tests.conftest import CANARY_TOKEN
from tests.e2e.test_sandbox_fidelity import Receiver

CONNECTION = documented.CONNECTION_AGENT + "0.0-test"
MEMBER_TOKEN = "sandbox-member-token"


@pytest.fixture(params=[Behaviour(), STRICT], ids=["default", "strict"])
def behaviour(request: pytest.FixtureRequest) -> Behaviour:
    result: Behaviour = request.param
    return result


class Toggl:
    """Calls to the sandbox: as a person in Toggl's app (the default), or as the connection."""

    def __init__(self, sandbox: Sandbox, seeded: Seeded) -> None:
        self.sandbox, self.seeded = sandbox, seeded
        self.wid = seeded.workspace["id"]
        self.ws = f"/api/v9/workspaces/{self.wid}"
        self.changes: list[tuple[str, str, int, str]] = []
        sandbox.observers.append(self._observe)

    def _observe(self, _: Any, model: str, action: str, entity: dict[str, Any], *rest: Any) -> None:
        self.changes.append((model, action, int(entity["id"]), rest[-1].method))

    def response(
        self, method: str, path: str, body: Any = None, token: str = CANARY_TOKEN, agent: str = "", **query: Any
    ) -> requests.Response:
        headers = {"User-Agent": agent} if agent else {}
        return requests.request(
            method,
            self.sandbox.url + path,
            json=body,
            params=query or None,
            headers=headers,
            auth=(token, "api_token"),
            timeout=30,
        )

    def __call__(self, method: str, path: str, body: Any = None, **options: Any) -> tuple[int, Any]:
        response = self.response(method, path, body, **options)
        return response.status_code, response.json() if response.content else None

    def entry(self, token: str = CANARY_TOKEN, **fields: Any) -> dict[str, Any]:
        """A time entry made as Toggl's app makes one (all three required fields sent)."""
        sent = {"workspace_id": self.wid, "created_with": "test", "start": _ago(hours=3), **fields}
        status, made = self("POST", self.ws + "/time_entries", sent, token=token)
        assert status == 200, made
        return dict(made)

    def get(self, ident: int, **query: Any) -> dict[str, Any]:
        status, found = self("GET", f"/api/v9/me/time_entries/{ident}", **query)
        assert status == 200, found
        return dict(found)

    @property
    def strict(self) -> bool:
        return self.sandbox.behaviour is STRICT


@pytest.fixture
def tt(toggl: Sandbox, seeded: Seeded) -> Toggl:
    return Toggl(toggl, seeded)


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- create ------------------------------------------------------------------------------------
def test_a_create_keeps_start_in_utc_whole_seconds_and_answers_a_flat_documented_entry(tt: Toggl) -> None:
    made = tt.entry(start="2026-11-02T10:18:20.257412+01:00", duration=3600, description="Design")
    assert (made["start"], made["stop"], made["duration"]) == ("2026-11-02T09:18:20Z", "2026-11-02T10:18:20Z", 3600)
    assert made["workspace_id"] == tt.wid and made["user_id"] == tt.seeded.owner["id"] and "data" not in made
    assert set(made) <= documented.TIME_ENTRY
    assert (made["tags"], made["tag_ids"]) == (None, None)  # none sent: null in the create's answer
    assert (tt.get(made["id"])["tags"], tt.get(made["id"])["tag_ids"]) == ([], [])  # and [] when read
    assert ("time_entry", "created", made["id"], "POST") in tt.changes


def test_neither_stop_nor_duration_is_a_zero_length_entry_not_a_timer(tt: Toggl) -> None:
    made = tt.entry(start="2026-11-02T09:00:00Z")
    assert (made["duration"], made["stop"]) == (0, made["start"])
    assert tt("GET", "/api/v9/me/time_entries/current") == (
        (404, "Resource can not be found") if tt.strict else (200, None)
    )


def test_stop_and_duration_must_agree_and_stop_alone_gives_the_duration(tt: Toggl) -> None:
    start = "2026-11-02T09:00:00Z"
    agreeing = tt.entry(start=start, stop="2026-11-02T10:00:00Z", duration=3600)
    assert (agreeing["stop"], agreeing["duration"]) == ("2026-11-02T10:00:00Z", 3600)
    alone = tt.entry(start=start, stop="2026-11-02T09:30:00+00:00")
    assert (alone["stop"], alone["duration"]) == ("2026-11-02T09:30:00Z", 1800)
    before = len(tt.sandbox.world.time_entries)
    for wrong in ({"stop": "2026-11-02T10:00:00Z", "duration": 60}, {"stop": "2026-11-02T08:00:00Z"}):
        status, text = tt("POST", tt.ws + "/time_entries", {"workspace_id": tt.wid, "start": start, **wrong})
        assert status == 400 and isinstance(text, str), wrong
    assert len(tt.sandbox.world.time_entries) == before


def test_a_negative_duration_is_a_running_timer_read_as_minus_its_start(tt: Toggl) -> None:
    start = _ago(minutes=5)
    made = tt.entry(start=start, duration=-1, stop=None)
    assert (made["duration"], made["stop"]) == (-1, None)  # the create's answer echoes what was sent
    epoch = int(_time(start).timestamp())
    assert tt.get(made["id"])["duration"] == -epoch
    status, current = tt("GET", "/api/v9/me/time_entries/current")
    assert status == 200 and (current["id"], current["duration"]) == (made["id"], -epoch)


def test_start_date_gives_the_date_of_start(tt: Toggl) -> None:
    made = tt.entry(start="2026-11-02T09:00:00Z", start_date="2026-11-05", duration=60)
    assert (made["start"], made["stop"]) == ("2026-11-05T09:00:00Z", "2026-11-05T09:01:00Z")


def test_the_workspace_in_the_body_must_be_the_paths(tt: Toggl) -> None:
    status, text = tt("POST", tt.ws + "/time_entries", {"workspace_id": tt.wid + 1, "duration": 60})
    assert status == 400 and "workspace" in text
    status, text = tt("POST", tt.ws + "/time_entries", {"workspace_id": str(tt.wid), "duration": 60})
    assert (status, text) == (400, 'Unexpected "workspace_id" type string')
    assert tt.sandbox.world.time_entries == {}


@pytest.mark.parametrize(
    ("left_out", "strict_text"),
    [
        ("workspace_id", "wid is required for time entry creation"),
        ("created_with", "created_with needs to be provided an a valid string"),
        ("start", "start is required for time entry creation"),
    ],
)
def test_a_create_without_a_required_field(tt: Toggl, left_out: str, strict_text: str) -> None:
    sent = {"workspace_id": tt.wid, "created_with": "toggl-track-connection", "start": _ago(hours=1), "duration": 60}
    sent.pop(left_out)
    # From the connection: filled in by default, refused by the strict reading
    status, answer = tt("POST", tt.ws + "/time_entries", sent, agent=CONNECTION)
    if tt.strict:
        assert (status, answer) == (400, strict_text)
    else:
        assert status == 200 and answer["workspace_id"] == tt.wid and answer["start"]
    # From a person in Toggl's app: always taken (Toggl's own apps send all three)
    assert tt("POST", tt.ws + "/time_entries", sent)[0] == 200
    assert tt.sandbox.undocumented == []  # a documented request, and documented (or played) answers


def test_the_connections_requests_are_held_to_the_documents(tt: Toggl) -> None:
    documented_body = {
        "workspace_id": tt.wid,
        "created_with": "toggl-track-connection",
        "start": "2026-11-02T09:00:00Z",
        "duration": -1,
        "description": "x",
        "tags": ["a"],
        "tag_ids": [],
        "billable": False,
        "project_id": tt.seeded.project["id"],
        "task_id": None,
    }
    assert tt("POST", tt.ws + "/time_entries", documented_body, agent=CONNECTION, meta="true")[0] == 200
    assert tt.sandbox.undocumented == []
    tt("POST", tt.ws + "/time_entries", {**documented_body, "colour": "red"}, agent=CONNECTION, duronly="true")
    tt("GET", "/api/v9/me/time_entries/abc", agent=CONNECTION)
    assert tt.sandbox.undocumented == [
        "request: POST /api/v9/workspaces/{workspace_id}/time_entries: query parameter 'duronly' is not documented",
        "request: POST /api/v9/workspaces/{workspace_id}/time_entries: body field 'colour' is not documented",
        "request: GET /api/v9/me/time_entries/{time_entry_id}: path parameter time_entry_id='abc' is not a whole "
        "number",
    ]
    UNDOCUMENTED.clear()  # caught on purpose


# --- one running entry per user ----------------------------------------------------------------
def test_a_start_stops_the_running_entry_at_the_servers_time_not_at_the_new_start(tt: Toggl) -> None:
    first = tt.entry(start=_ago(hours=2), duration=-1, description="first")
    members = tt.entry(token=MEMBER_TOKEN, start=_ago(hours=2), duration=-1, description="another user's")
    sent_at = datetime.now(UTC).replace(microsecond=0)
    second = tt.entry(start=_ago(hours=1), duration=-1, description="second")
    answered_at = datetime.now(UTC)
    stopped = tt.get(first["id"])
    assert sent_at <= _time(stopped["stop"]) <= answered_at  # the server's time of the new request
    assert stopped["stop"] != second["start"]  # not the new entry's start: the two overlap
    assert stopped["duration"] == int((_time(stopped["stop"]) - _time(stopped["start"])).total_seconds())
    assert tt("GET", "/api/v9/me/time_entries/current")[1]["id"] == second["id"]
    assert tt("GET", "/api/v9/me/time_entries/current", token=MEMBER_TOKEN)[1]["id"] == members["id"]


def test_a_finished_entry_leaves_the_running_one_alone(tt: Toggl) -> None:
    running = tt.entry(start=_ago(hours=2), duration=-1)
    tt.entry(start=_ago(hours=5), duration=600)
    assert tt.get(running["id"])["stop"] is None


@pytest.fixture
def receiver(tt: Toggl) -> Iterator[Receiver]:
    """A webhook subscription to every time entry event, with a URL that records deliveries."""
    url = Receiver().start()
    subscription = {
        "url_callback": url.url,
        "event_filters": [{"entity": "time_entry", "action": "*"}],
        "enabled": True,
        "description": "time tracking",
        "secret": "s",
    }
    assert tt("POST", f"/webhooks/api/v1/subscriptions/{tt.wid}", subscription)[0] == 200
    yield url
    url.stop()


def delivered(tt: Toggl, receiver: Receiver) -> list[tuple[str, int, str]]:
    sandbox_webhooks.wait_for_deliveries(tt.sandbox)
    events = [d for d in receiver.seen if d.get("payload") != "ping"]
    return [
        (e["metadata"]["action"], int(e["metadata"]["time_entry_id"]), e["metadata"]["request_type"]) for e in events
    ]


def test_whether_the_automatic_stop_delivers_an_updated_webhook(tt: Toggl, receiver: Receiver) -> None:
    first = tt.entry(start=_ago(hours=2), duration=-1)
    second = tt.entry(start=_ago(hours=1), duration=-1)
    events = delivered(tt, receiver)
    expected = [("created", first["id"], "POST"), ("created", second["id"], "POST")]
    if tt.sandbox.behaviour.auto_stop_webhook == "updated":
        expected.append(("updated", first["id"], "POST"))  # caused by the second entry's POST
    assert sorted(events) == sorted(expected)
    assert tt.get(first["id"])["stop"] is not None  # stopped in both readings


# --- stop --------------------------------------------------------------------------------------
def test_a_stop_stops_now_and_a_second_stop_is_409_or_the_entry_as_it_is(tt: Toggl, receiver: Receiver) -> None:
    made = tt.entry(start=_ago(minutes=30), duration=-1)
    path = f"{tt.ws}/time_entries/{made['id']}/stop"
    sent_at = datetime.now(UTC).replace(microsecond=0)
    status, stopped = tt("PATCH", path)
    assert status == 200 and sent_at <= _time(stopped["stop"]) <= datetime.now(UTC)
    assert stopped["duration"] == int((_time(stopped["stop"]) - _time(made["start"])).total_seconds()) >= 1800
    assert (stopped["tags"], stopped["tag_ids"]) == ([], [])
    assert delivered(tt, receiver) == [("created", made["id"], "POST"), ("updated", made["id"], "PATCH")]
    again = tt("PATCH", path)
    assert again == (
        (200, stopped) if tt.sandbox.behaviour.second_stop == "200" else (409, "Time entry already stopped")
    )
    assert tt.get(made["id"]) == stopped and len(delivered(tt, receiver)) == 2  # unchanged, nothing announced
    assert tt("PATCH", f"{tt.ws}/time_entries/12345/stop") == (404, "Time entry not found")
    assert tt("PATCH", f"{tt.ws}/time_entries/abc/stop") == (400, "Invalid or missing time_entry_id")


def test_a_finished_entry_is_already_stopped(tt: Toggl) -> None:
    made = tt.entry(duration=60)
    status, _ = tt("PATCH", f"{tt.ws}/time_entries/{made['id']}/stop")
    assert status == (200 if tt.strict else 409)


# --- update ------------------------------------------------------------------------------------
def test_an_update_changes_only_what_it_sends(tt: Toggl) -> None:
    project = tt.seeded.project["id"]
    made = tt.entry(start="2026-11-02T09:00:00Z", duration=3600, description="a", project_id=project, tags=["x"])
    status, changed = tt("PUT", f"{tt.ws}/time_entries/{made['id']}", {"description": "b"})
    assert status == 200 and changed["description"] == "b"
    kept = ("start", "stop", "duration", "project_id", "tags", "tag_ids", "billable", "workspace_id", "user_id")
    assert {k: changed[k] for k in kept} == {k: made[k] for k in kept}
    assert ("time_entry", "updated", made["id"], "PUT") in tt.changes
    status, changed = tt("PUT", f"{tt.ws}/time_entries/{made['id']}", {"project_id": None, "billable": True})
    assert (changed["project_id"], changed["billable"], changed["description"]) == (None, True, "b")


def test_an_update_keeps_start_stop_and_duration_consistent(tt: Toggl) -> None:
    made = tt.entry(start="2026-11-02T09:00:00Z", duration=3600)
    path = f"{tt.ws}/time_entries/{made['id']}"

    def times(change: dict[str, Any]) -> tuple[str, str, int]:
        status, entry = tt("PUT", path, change)
        assert status == 200, entry
        return entry["start"], entry["stop"], entry["duration"]

    assert times({"stop": "2026-11-02T09:30:00Z"}) == ("2026-11-02T09:00:00Z", "2026-11-02T09:30:00Z", 1800)
    assert times({"duration": 600}) == ("2026-11-02T09:00:00Z", "2026-11-02T09:10:00Z", 600)
    moved = times({"start": "2026-11-02T08:00:00+00:00"})
    if tt.sandbox.behaviour.start_moved == "keeps-stop":
        assert moved == ("2026-11-02T08:00:00Z", "2026-11-02T09:10:00Z", 4200)
    else:
        assert moved == ("2026-11-02T08:00:00Z", "2026-11-02T08:10:00Z", 600)
    status, _ = tt("PUT", path, {"stop": "2026-11-02T12:00:00Z", "duration": 5})
    assert status == 400
    assert tt.get(made["id"])["start"] == "2026-11-02T08:00:00Z"  # the refused update changed nothing


def test_an_update_can_start_an_entry_again_which_stops_the_running_one(tt: Toggl) -> None:
    running = tt.entry(start=_ago(hours=1), duration=-1)
    finished = tt.entry(start=_ago(hours=3), duration=60)
    status, again = tt("PUT", f"{tt.ws}/time_entries/{finished['id']}", {"duration": -1})
    assert status == 200 and again["stop"] is None and again["duration"] < 0
    assert tt.get(running["id"])["stop"] is not None


def test_an_update_replaces_adds_or_deletes_tags(tt: Toggl) -> None:
    made = tt.entry(duration=60, tags=["a", "b"])
    path = f"{tt.ws}/time_entries/{made['id']}"
    assert tt("PUT", path, {"tags": ["c"]})[1]["tags"] == ["c"]
    assert tt("PUT", path, {"tags": ["a"], "tag_action": "add"})[1]["tags"] == ["c", "a"]
    status, entry = tt("PUT", path, {"tags": ["c"], "tag_action": "delete"})
    assert (
        status == 200
        and entry["tags"] == ["a"]
        and entry["tag_ids"] == [t["id"] for t in tt("GET", tt.ws + "/tags")[1] if t["name"] == "a"]
    )


def test_an_update_of_an_unknown_entry_is_404(tt: Toggl) -> None:
    status, text = tt("PUT", f"{tt.ws}/time_entries/12345", {"description": "x"})
    assert (status, text) == (404, "Time entry not found")


# --- delete ------------------------------------------------------------------------------------
def test_a_delete_answers_200_with_no_body_and_keeps_the_tombstone(tt: Toggl) -> None:
    since = int(datetime.now(UTC).timestamp()) - 1
    made = tt.entry(duration=60)
    response = tt.response("DELETE", f"{tt.ws}/time_entries/{made['id']}")
    assert (response.status_code, response.content, response.headers["Content-Length"]) == (200, b"", "0")
    assert ("time_entry", "deleted", made["id"], "DELETE") in tt.changes
    status, changed = tt("GET", "/api/v9/me/time_entries", since=str(since))
    assert status == 200
    (tombstone,) = [e for e in changed if e["id"] == made["id"]]
    assert tombstone["server_deleted_at"] is not None
    assert tt("GET", "/api/v9/me/time_entries", start_date="2026-01-01", end_date="2030-01-01")[1] == []


def test_a_delete_of_a_deleted_or_unknown_entry(tt: Toggl) -> None:
    made = tt.entry(duration=60)
    tt("DELETE", f"{tt.ws}/time_entries/{made['id']}")
    for ident in (made["id"], 12345):
        response = tt.response("DELETE", f"{tt.ws}/time_entries/{ident}")
        if tt.sandbox.behaviour.delete_missing == "200":
            assert (response.status_code, response.content) == (200, b"")
        else:
            assert (response.status_code, response.json()) == (404, "Time entry not found")
    assert sum(1 for c in tt.changes if c[1] == "deleted") == 1


def test_a_deleted_entry_read_by_id(tt: Toggl) -> None:
    made = tt.entry(duration=60)
    tt("DELETE", f"{tt.ws}/time_entries/{made['id']}")
    status, found = tt("GET", f"/api/v9/me/time_entries/{made['id']}")
    if tt.sandbox.behaviour.deleted_entry_read == "entry":
        assert status == 200 and found["id"] == made["id"] and found["server_deleted_at"] is not None
    else:
        assert (status, found) == (404, "Resource can not be found")


# --- reads -------------------------------------------------------------------------------------
def test_an_entry_read_by_id_with_meta_and_only_the_users_own(tt: Toggl) -> None:
    project = tt.seeded.project
    made = tt.entry(duration=60, project_id=project["id"])
    plain = tt.get(made["id"])
    assert "project_name" not in plain and plain["project_id"] == project["id"]
    named = tt.get(made["id"], meta="true")
    assert (named["project_name"], named["client_name"]) == (project["name"], tt.seeded.client["name"])
    assert named["client_id"] == tt.seeded.client["id"] and named["user_name"] == tt.seeded.owner["fullname"]
    assert tt("GET", f"/api/v9/me/time_entries/{made['id']}", token=MEMBER_TOKEN) == (404, "Resource can not be found")
    assert tt("GET", "/api/v9/me/time_entries/12345") == (404, "Resource can not be found")


def test_the_list_reads_by_dates_and_since_newest_first(tt: Toggl) -> None:
    early = tt.entry(start="2026-11-02T09:00:00Z", duration=60)
    late = tt.entry(start="2026-11-03T09:00:00+01:00", duration=60)
    tt.entry(start="2026-12-01T09:00:00Z", duration=60)
    listed = tt("GET", "/api/v9/me/time_entries", start_date="2026-11-01", end_date="2026-11-30")[1]
    assert [e["id"] for e in listed] == [late["id"], early["id"]]
    assert (
        tt("GET", "/api/v9/me/time_entries", start_date="2026-11-01", end_date="2026-11-30", token=MEMBER_TOKEN)[1]
        == []
    )
    assert len(tt("GET", "/api/v9/me/time_entries", since="0")[1]) == 3


def test_tags_named_on_an_entry_are_made_when_missing_and_tag_ids_are_kept(tt: Toggl) -> None:
    status, existing = tt("POST", tt.ws + "/tags", {"name": "existing"})
    assert status == 200
    existing_id = (existing[0] if tt.strict else existing)["id"]
    made = tt.entry(duration=60, tags=["new", "existing"])
    tags = {t["name"]: t["id"] for t in tt("GET", tt.ws + "/tags")[1]}
    assert set(tags) == {"existing", "new"}
    assert (made["tags"], made["tag_ids"]) == (["new", "existing"], [tags["new"], existing_id])
    assert ("tag", "created", tags["new"], "POST") in tt.changes
    by_id = tt.entry(duration=60, tag_ids=[existing_id])
    assert (by_id["tags"], by_id["tag_ids"]) == (["existing"], [existing_id])


# --- projects ----------------------------------------------------------------------------------
def test_a_project_is_created_with_the_fields_sent(tt: Toggl) -> None:
    client = tt.seeded.client["id"]
    sent = {
        "name": "Launch",
        "client_id": client,
        "active": True,
        "is_private": False,
        "billable": True,
        "color": "#c9806b",
        "estimated_hours": 10,
        "template": False,
    }
    status, project = tt("POST", tt.ws + "/projects", sent, agent=CONNECTION)
    assert status == 200 and tt.sandbox.undocumented == []
    assert {k: project[k] for k in sent} == sent and set(project) <= documented.PROJECT
    assert (project["workspace_id"], project["estimated_seconds"], project["client_name"]) == (
        tt.wid,
        36000,
        tt.seeded.client["name"],
    )
    assert ("project", "created", project["id"], "POST") in tt.changes
    assert tt("POST", tt.ws + "/projects", {"name": "  "}) == (400, "project name must not be empty")


def test_a_second_project_of_the_same_name(tt: Toggl) -> None:
    client = tt.seeded.client["id"]
    status, archived = tt("POST", tt.ws + "/projects", {"name": "Twice", "client_id": client, "active": False})
    assert status == 200 and archived["active"] is False
    again = tt("POST", tt.ws + "/projects", {"name": "twice", "client_id": client})
    if tt.sandbox.behaviour.duplicate_project_names == "refused":
        assert again == (400, "Name has already been taken")  # the archived one counts
    else:
        assert again[0] == 200
    assert tt("POST", tt.ws + "/projects", {"name": "Twice"})[0] == 200  # no client: another name space


# --- tags --------------------------------------------------------------------------------------
def test_a_tag_is_created_once(tt: Toggl) -> None:
    status, answer = tt("POST", tt.ws + "/tags", {"name": " Urgent "}, agent=CONNECTION)
    assert status == 200 and tt.sandbox.undocumented == []
    if tt.sandbox.behaviour.tag_answer == "array":
        assert isinstance(answer, list) and len(answer) == 1
        (tag,) = answer
    else:
        tag = answer
    assert (tag["name"], tag["workspace_id"], tag["creator_id"]) == ("Urgent", tt.wid, tt.seeded.owner["id"])
    assert set(tag) <= documented.TAG
    assert tt("POST", tt.ws + "/tags", {"name": "Urgent"}) == (400, "a tag with the name 'Urgent' already exists")
    assert tt("POST", tt.ws + "/tags", {"name": ""}) == (400, "tag name can't be blank")
    assert tt("POST", tt.ws + "/tags", ["Urgent"]) == (400, "Invalid JSON input")
    assert [t["name"] for t in tt("GET", tt.ws + "/tags")[1]] == ["Urgent"]


# --- the Reports summary -----------------------------------------------------------------------
SUMMARY = "/reports/api/v3/workspace/{wid}/summary/time_entries"


@pytest.fixture
def tracked(tt: Toggl) -> dict[str, Any]:
    """Finished entries of two users on two projects (one of a client) and none, over three
    days; a running one; one outside the range; one in another workspace."""
    world, seeded = tt.sandbox.world, tt.seeded
    website = seeded.project["id"]
    status, internal = tt("POST", tt.ws + "/projects", {"name": "Internal"})
    assert status == 200
    entries = {
        "design": tt.entry(start="2026-11-01T00:00:00Z", duration=3600, description="Design", project_id=website),
        "design again": tt.entry(start="2026-11-02T09:00:00Z", duration=600, description="Design", project_id=website),
        "review": tt.entry(start="2026-11-03T23:59:59Z", duration=60, description="Review", project_id=internal["id"]),
        "member": tt.entry(
            token=MEMBER_TOKEN, start="2026-11-02T10:00:00Z", duration=1200, description="Code", project_id=website
        ),
        "no project": tt.entry(start="2026-11-02T11:00:00Z", duration=30, description="Mail", tags=["admin"]),
        "outside": tt.entry(start="2026-11-04T00:00:00Z", duration=999, project_id=website),
        "running": tt.entry(start=_ago(minutes=1), duration=-1, project_id=website),
    }
    other = world.add_workspace(seeded.organization["id"], "Elsewhere")
    world.workspace_users[other["id"]].add(seeded.owner["id"])
    sent = {"workspace_id": other["id"], "start": "2026-11-02T09:00:00Z", "duration": 5000}
    assert tt("POST", f"/api/v9/workspaces/{other['id']}/time_entries", sent)[0] == 200
    return {"entries": entries, "website": website, "internal": internal["id"]}


def summary(tt: Toggl, **body: Any) -> tuple[int, Any]:
    sent = {"start_date": "2026-11-01", "end_date": "2026-11-03", **body}
    response = tt.response("POST", SUMMARY.format(wid=tt.wid), sent, agent=CONNECTION)
    assert tt.sandbox.undocumented == []
    if response.status_code == 200:
        assert response.headers["X-Range-Start"] == sent["start_date"]
        assert response.headers["X-Grouping"] == body.get("grouping", "projects")
    return response.status_code, response.json()


def _full(tt: Toggl, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The groups as the default reading gives them, from what this reading gave (``sparse``
    leaves out titles and null ids)."""
    if tt.sandbox.behaviour.summary_fields == "full":
        return groups
    assert all("title" not in s for g in groups for s in g["sub_groups"])
    assert all(g.get("id", 1) is not None and all(s.get("id", 1) is not None for s in g["sub_groups"]) for g in groups)
    return [{"id": g.get("id"), "sub_groups": [{"id": s.get("id"), **s} for s in g["sub_groups"]]} for g in groups]


def _seconds(groups: list[dict[str, Any]]) -> dict[Any, dict[Any, int]]:
    return {g["id"]: {s.get("title", s["id"]): s["seconds"] for s in g["sub_groups"]} for g in groups}


def test_the_summary_groups_by_project_and_time_entries_in_seconds(tt: Toggl, tracked: dict[str, Any]) -> None:
    status, report = summary(tt)
    assert status == 200 and set(report) == {"groups"}
    groups = _full(tt, report["groups"])
    assert [g["id"] for g in groups] == [None, *sorted([tracked["website"], tracked["internal"]])]
    seconds = {g["id"]: sum(s["seconds"] for s in g["sub_groups"]) for g in groups}
    assert seconds == {None: 30, tracked["website"]: 3600 + 600 + 1200, tracked["internal"]: 60}
    if tt.sandbox.behaviour.summary_fields == "full":
        assert _seconds(groups)[tracked["website"]] == {"Code": 1200, "Design": 4200}
        assert all(s["id"] is None for g in groups for s in g["sub_groups"])


def test_the_summary_by_client_and_by_user(tt: Toggl, tracked: dict[str, Any]) -> None:
    owner, member, client = tt.seeded.owner, tt.seeded.member, tt.seeded.client
    status, report = summary(tt, grouping="clients", sub_grouping="projects")
    groups = _full(tt, report["groups"])
    assert [g["id"] for g in groups] == [None, client["id"]]
    assert [(s["id"], s["seconds"]) for s in groups[1]["sub_groups"]] == [(tracked["website"], 5400)]
    status, report = summary(tt, grouping="users", sub_grouping="clients")
    groups = _full(tt, report["groups"])
    assert {g["id"]: sum(s["seconds"] for s in g["sub_groups"]) for g in groups} == {
        owner["id"]: 3600 + 600 + 60 + 30,
        member["id"]: 1200,
    }
    status, report = summary(tt, sub_grouping="users")
    assert status == 200
    website = next(g for g in _full(tt, report["groups"]) if g["id"] == tracked["website"])
    expected = {owner["id"]: (owner["fullname"], 4200), member["id"]: (member["fullname"], 1200)}
    assert {s["id"]: (s.get("title", expected[s["id"]][0]), s["seconds"]) for s in website["sub_groups"]} == expected


def test_the_summary_filters(tt: Toggl, tracked: dict[str, Any]) -> None:
    def total(**filters: Any) -> int:
        status, report = summary(tt, **filters)
        assert status == 200, report
        return sum(s["seconds"] for g in report["groups"] for s in g["sub_groups"])

    assert total() == 5490
    assert total(project_ids=[tracked["internal"]]) == 60
    assert total(project_ids=[None]) == 30
    assert total(client_ids=[tt.seeded.client["id"]]) == 5400
    assert total(user_ids=[tt.seeded.member["id"]]) == 1200
    assert total(tag_ids=[None]) == 5460
    assert total(description="desi") == 4200
    assert total(billable=True) == 0
    assert total(start_date="2026-11-03", end_date="2026-11-03") == 60  # one day: both ends included


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"sub_grouping": "clients"}, "Invalid 'sub_grouping' value, allowed values are: 'time_entries, tasks, users'"),
        (
            {"grouping": "clients", "sub_grouping": "tasks"},
            "Invalid 'sub_grouping' value, allowed values are: 'time_entries, projects, users'",
        ),
        (
            {"grouping": "users", "sub_grouping": "users"},
            "Invalid 'sub_grouping' value, allowed values are: 'time_entries, projects, clients'",
        ),
        ({"grouping": "tags"}, "Invalid 'grouping' value, allowed values are: 'projects, clients, users'"),
        ({"start_date": "2026-11-04"}, "Invalid 'end_date' value, allowed values are: 'a date not before start_date'"),
        ({"end_date": None}, "Invalid 'end_date' value, allowed values are: 'YYYY-MM-DD'"),
        ({"project_ids": "1"}, "Invalid 'project_ids' value, allowed values are: 'a list of ids'"),
    ],
)
def test_the_summary_refuses_what_is_not_allowed(tt: Toggl, body: dict[str, Any], text: str) -> None:
    sent = {k: v for k, v in {"start_date": "2026-11-01", "end_date": "2026-11-03", **body}.items() if v is not None}
    assert tt("POST", SUMMARY.format(wid=tt.wid), sent) == (400, text)


def test_the_summary_of_every_allowed_pair_answers(tt: Toggl, tracked: dict[str, Any]) -> None:
    from local.toggl_sandbox.reports import GROUPINGS

    for grouping, subs in GROUPINGS.items():
        for sub in subs:
            status, report = summary(tt, grouping=grouping, sub_grouping=sub)
            assert status == 200 and sum(s["seconds"] for g in report["groups"] for s in g["sub_groups"]) == 5490


def test_the_summary_of_an_empty_body_and_the_billable_filter_on_free(tt: Toggl) -> None:
    assert tt("POST", SUMMARY.format(wid=tt.wid), {}) == (400, "At least one parameter must be set")
    tt.seeded.organization["plan"] = "free"
    tt.seeded.workspace["premium"] = False
    sent = {"start_date": "2026-11-01", "end_date": "2026-11-03", "billable": True}
    assert tt("POST", SUMMARY.format(wid=tt.wid), sent) == (402, "Workspace needs to have this feature enabled")
    assert tt("POST", SUMMARY.format(wid=999), sent) == (403, "Workspace not found/accessible")


# --- quota -------------------------------------------------------------------------------------
def test_workspace_writes_count_against_the_organization_and_me_reads_against_the_user(tt: Toggl) -> None:
    made = tt.entry(duration=60)
    tt("PATCH", f"{tt.ws}/time_entries/{made['id']}/stop")
    tt.get(made["id"])
    tt("POST", SUMMARY.format(wid=tt.wid), {"start_date": "2026-11-01", "end_date": "2026-11-03"})
    spent = {q["scope"]: q["used"] for q in tt.sandbox.quota_used()}
    assert spent == {f"org:{tt.seeded.organization['id']}": 3, "me": 1}
