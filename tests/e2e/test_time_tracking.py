"""Tracking time through the actions: start and stop a timer, log a finished entry, change and
delete it, create projects and tags, read one entry and the summary. Real handlers as SAM runs
them, real HTTP to the Toggl sandbox (strict about what Toggl documents), moto in-process."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from local.toggl_sandbox import Fault, Sandbox, deliveries
from local.toggl_sandbox.behaviour import STRICT, Behaviour
from local.toggl_sandbox.state import Seeded
from tests.connection import Connection, body_of
from tests.servers import Hooked

V9 = "/api/v9"


@pytest.fixture(params=["default", "strict"])
def behaviour(request: pytest.FixtureRequest) -> Behaviour:
    """Every test twice: the sandbox's default reading of what Toggl leaves open, and the other
    one (``STRICT``: create fields refused when missing, a second stop answered 200, a delete of
    an unknown id 200, tags answered as an array, sparse summaries, ...)."""
    return STRICT if request.param == "strict" else Behaviour()


def act(connection: Connection, action: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return connection.post_json(f"/actions/{action}", body, headers)


def entries(seeded: Seeded) -> list[dict[str, Any]]:
    return list(seeded.world.time_entries.values())


def running(seeded: Seeded) -> list[dict[str, Any]]:
    return [e for e in entries(seeded) if e.get("stop") is None and e["duration"] < 0]


def sent(toggl: Sandbox, method: str, suffix: str = "/time_entries") -> list[Any]:
    return [r.body for r in toggl.calls(method) if r.path.endswith(suffix)]


def at(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- what is sent ----------------------------------------------------------------------------------
def test_a_start_sends_a_running_entry_in_utc_naming_the_connection(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid, pid = seeded.workspace["id"], seeded.project["id"]
    # When a timer is started with a start in another time zone
    response = act(
        toggl_connection,
        "start-time-entry",
        {
            "workspace_id": wid,
            "description": "Write the report",
            "project_id": pid,
            "start": "2026-12-03T15:04:05.678+01:00",
        },
    )
    # Then Toggl got one create, in UTC to the second, with the workspace in the body and no legacy field
    assert response["statusCode"] == 201, response
    (body,) = sent(toggl, "POST")
    assert body == {
        "created_with": "toggl-track-connection",
        "workspace_id": wid,
        "start": "2026-12-03T14:04:05Z",
        "duration": -1,
        "description": "Write the report",
        "project_id": pid,
    }
    entry = body_of(response)
    assert entry["duration"] < 0 and entry["stop"] is None and entry["project_id"] == pid
    assert len(toggl.requests) == 1


def test_a_start_without_start_starts_now(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    response = act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"]})
    assert response["statusCode"] == 201
    (body,) = sent(toggl, "POST")
    started = datetime.strptime(body["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= started <= datetime.now(UTC)


def test_a_start_stops_the_timer_that_runs(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    wid = seeded.workspace["id"]
    first = body_of(act(toggl_connection, "start-time-entry", {"workspace_id": wid, "description": "first"}))
    second = body_of(act(toggl_connection, "start-time-entry", {"workspace_id": wid, "description": "second"}))
    assert [e["id"] for e in running(seeded)] == [second["id"]]
    stopped = seeded.world.time_entries[first["id"]]
    assert stopped["stop"] is not None and stopped["duration"] >= 0


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ({"duration": 7200}, {"duration": 7200}),
        ({"stop": "2026-12-02T15:00:00Z"}, {"duration": 7200, "stop": "2026-12-02T15:00:00Z"}),
        ({"duration": 7200, "stop": "2026-12-02T16:00:00+01:00"}, {"duration": 7200, "stop": "2026-12-02T15:00:00Z"}),
    ],
    ids=["duration", "stop", "both agreeing"],
)
def test_a_finished_entry_is_logged_with_its_times_in_utc(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, times: dict[str, Any], expected: dict[str, Any]
) -> None:
    wid = seeded.workspace["id"]
    request = {"workspace_id": wid, "start": "2026-12-02T13:00:00Z", "description": "Design review", **times}
    response = act(toggl_connection, "create-time-entry", request)
    assert response["statusCode"] == 201, response
    (body,) = sent(toggl, "POST")
    assert body == {
        "created_with": "toggl-track-connection",
        "workspace_id": wid,
        "start": "2026-12-02T13:00:00Z",
        "description": "Design review",
        **expected,
    }
    entry = body_of(response)
    assert entry["duration"] == 7200 and entry["stop"] is not None
    assert running(seeded) == []


def test_logging_a_finished_entry_leaves_the_running_timer_alone(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    timer = body_of(act(toggl_connection, "start-time-entry", {"workspace_id": wid}))
    act(toggl_connection, "create-time-entry", {"workspace_id": wid, "start": at(30), "duration": 600})
    assert [e["id"] for e in running(seeded)] == [timer["id"]]


# --- refused before any request ------------------------------------------------------------------------
REFUSALS: dict[str, tuple[str, dict[str, Any], str]] = {
    "a start with stop": ("start-time-entry", {"stop": "2026-12-02T15:00:00Z"}, "stop"),
    "a start with duration": ("start-time-entry", {"duration": 60}, "duration"),
    "a start without a time zone": ("start-time-entry", {"start": "2026-12-02T13:00:00"}, "start"),
    "a start that is only a date": ("start-time-entry", {"start": "2026-12-02"}, "start"),
    "a blank tag": ("start-time-entry", {"tags": ["ok", " "]}, "tags"),
    "a tag id of 0": ("start-time-entry", {"tag_ids": [0]}, "tag_ids"),
    "a duration of 0": ("create-time-entry", {"start": "2026-12-02T13:00:00Z", "duration": 0}, "duration"),
    "a negative duration": ("create-time-entry", {"start": "2026-12-02T13:00:00Z", "duration": -1}, "duration"),
    "a duration that is not whole": (
        "create-time-entry",
        {"start": "2026-12-02T13:00:00Z", "duration": 1.5},
        "duration",
    ),
    "neither duration nor stop": ("create-time-entry", {"start": "2026-12-02T13:00:00Z"}, "duration"),
    "no start": ("create-time-entry", {"duration": 60}, "start"),
    "stop before start": (
        "create-time-entry",
        {"start": "2026-12-02T13:00:00Z", "stop": "2026-12-02T12:00:00Z"},
        "stop",
    ),
    "stop at start": ("create-time-entry", {"start": "2026-12-02T13:00:00Z", "stop": "2026-12-02T13:00:00Z"}, "stop"),
    "start + duration != stop": (
        "create-time-entry",
        {"start": "2026-12-02T13:00:00Z", "stop": "2026-12-02T14:00:00Z", "duration": 600},
        "duration",
    ),
    "a stop without a time zone": (
        "create-time-entry",
        {"start": "2026-12-02T13:00:00Z", "stop": "2026-12-02 14:00"},
        "stop",
    ),
    "an update of nothing": ("update-time-entry", {"time_entry_id": 5}, "body"),
    "an update without an id": ("update-time-entry", {"description": "x"}, "time_entry_id"),
    "an update with stop before start": (
        "update-time-entry",
        {"time_entry_id": 5, "start": "2026-12-02T13:00:00Z", "stop": "2026-12-02T12:59:59Z"},
        "stop",
    ),
    "a delete without an id": ("delete-time-entry", {}, "time_entry_id"),
    "a stop of entry 0": ("stop-time-entry", {"time_entry_id": 0}, "time_entry_id"),
    "a project without a name": ("create-project", {"name": "  "}, "name"),
    "a tag without a name": ("create-tag", {}, "name"),
    "an unknown field": ("create-tag", {"name": "x", "color": "red"}, "color"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_what_toggl_would_refuse_is_a_422_naming_the_field_and_toggl_is_not_called(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, case: str
) -> None:
    action, body, field = REFUSALS[case]
    response = act(toggl_connection, action, {"workspace_id": seeded.workspace["id"], **body})
    assert response["statusCode"] == 422, response
    answer = body_of(response)
    assert answer["error"] == "validation_failed" and answer["field"] == field, answer
    assert toggl.requests == []


def test_a_start_with_a_duration_points_at_the_action_for_finished_entries(
    toggl_connection: Connection, seeded: Seeded
) -> None:
    response = act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"], "duration": 60})
    assert "create-time-entry" in body_of(response)["message"]


# --- stop ---------------------------------------------------------------------------------------------
def test_a_stop_without_an_id_stops_the_running_entry_in_two_requests(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    timer = body_of(act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"]}))
    toggl.requests.clear()
    response = act(toggl_connection, "stop-time-entry", {})
    assert response["statusCode"] == 200, response
    stopped = body_of(response)
    assert stopped["id"] == timer["id"] and stopped["stop"] is not None and stopped["duration"] >= 0
    assert [(r.method, r.path) for r in toggl.requests] == [
        ("GET", V9 + "/me/time_entries/current"),
        ("PATCH", f"{V9}/workspaces/{seeded.workspace['id']}/time_entries/{timer['id']}/stop"),
    ]
    assert running(seeded) == []


def test_a_stop_of_a_named_entry_costs_one_request(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    timer = body_of(act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"]}))
    toggl.requests.clear()
    response = act(
        toggl_connection, "stop-time-entry", {"workspace_id": seeded.workspace["id"], "time_entry_id": timer["id"]}
    )
    assert response["statusCode"] == 200 and "already_stopped" not in body_of(response)
    assert [r.method for r in toggl.requests] == ["PATCH"]


def test_a_stop_with_nothing_running_is_a_404_no_running_time_entry(
    toggl_connection: Connection, toggl: Sandbox
) -> None:
    response = act(toggl_connection, "stop-time-entry", {})
    assert response["statusCode"] == 404
    assert body_of(response)["error"] == "no_running_time_entry"
    assert [r.method for r in toggl.requests] == ["GET"]


def test_a_second_stop_answers_the_entry_already_stopped(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    timer = body_of(act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"]}))
    first = body_of(
        act(toggl_connection, "stop-time-entry", {"workspace_id": seeded.workspace["id"], "time_entry_id": timer["id"]})
    )
    again = act(
        toggl_connection, "stop-time-entry", {"workspace_id": seeded.workspace["id"], "time_entry_id": timer["id"]}
    )
    assert again["statusCode"] == 200, again
    answer = body_of(again)
    assert answer["id"] == timer["id"] and answer["stop"] == first["stop"]
    if toggl.calls("PATCH")[-1].status == 409:  # Toggl's documented answer to a second stop
        assert answer["already_stopped"] is True


def test_a_stop_whose_answer_is_lost_is_repeated_and_stops_once(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    timer = body_of(act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"]}))
    toggl.fail(Fault(status=502, times=1, method="PATCH", after=True))
    response = act(
        toggl_connection, "stop-time-entry", {"workspace_id": seeded.workspace["id"], "time_entry_id": timer["id"]}
    )
    assert response["statusCode"] == 200, response
    assert body_of(response)["id"] == timer["id"] and running(seeded) == []
    assert len(toggl.calls("PATCH")) == 2


def test_a_stop_of_a_timer_in_another_workspace_than_named_stops_nothing(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"]})
    response = act(toggl_connection, "stop-time-entry", {"workspace_id": 99})
    assert response["statusCode"] == 404 and body_of(response)["error"] == "no_running_time_entry"
    assert toggl.calls("PATCH") == [] and len(running(seeded)) == 1


# --- update and delete --------------------------------------------------------------------------------
def test_an_update_sends_only_the_fields_given(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    wid = seeded.workspace["id"]
    logged = body_of(
        act(
            toggl_connection,
            "create-time-entry",
            {"workspace_id": wid, "start": at(3), "duration": 3600, "description": "old"},
        )
    )
    toggl.requests.clear()
    response = act(
        toggl_connection,
        "update-time-entry",
        {
            "workspace_id": wid,
            "time_entry_id": logged["id"],
            "description": "Design review with Ana",
            "tags": ["meetings"],
        },
    )
    assert response["statusCode"] == 200, response
    ((method, path, body),) = [(r.method, r.path, r.body) for r in toggl.requests]
    assert (method, path) == ("PUT", f"{V9}/workspaces/{wid}/time_entries/{logged['id']}")
    assert body == {"description": "Design review with Ana", "tags": ["meetings"]}
    changed = body_of(response)
    assert changed["description"] == "Design review with Ana" and changed["duration"] == 3600


def test_an_update_of_times_sends_them_in_utc(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    wid = seeded.workspace["id"]
    logged = body_of(act(toggl_connection, "create-time-entry", {"workspace_id": wid, "start": at(3), "duration": 60}))
    toggl.requests.clear()
    act(
        toggl_connection,
        "update-time-entry",
        {
            "workspace_id": wid,
            "time_entry_id": logged["id"],
            "start": "2026-12-01T10:00:00+02:00",
            "stop": "2026-12-01T09:30:00Z",
        },
    )
    assert [r.body for r in toggl.requests] == [{"start": "2026-12-01T08:00:00Z", "stop": "2026-12-01T09:30:00Z"}]


def test_a_delete_answers_deleted_and_an_unknown_id_is_a_404(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    logged = body_of(act(toggl_connection, "create-time-entry", {"workspace_id": wid, "start": at(3), "duration": 60}))
    response = act(toggl_connection, "delete-time-entry", {"workspace_id": wid, "time_entry_id": logged["id"]})
    assert response["statusCode"] == 200
    assert body_of(response) == {"deleted": True, "time_entry_id": logged["id"]}
    assert logged["id"] not in seeded.world.time_entries
    unknown = act(toggl_connection, "delete-time-entry", {"workspace_id": wid, "time_entry_id": 123456789})
    if toggl.calls("DELETE")[-1].status == 404:
        assert unknown["statusCode"] == 404 and body_of(unknown)["error"] == "not_found"
    else:  # a Toggl that answers 200 for an id it does not know: nothing is there, as asked
        assert body_of(unknown)["deleted"] is True


def test_a_delete_whose_answer_is_lost_is_done_when_the_repeat_finds_nothing(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    logged = body_of(act(toggl_connection, "create-time-entry", {"workspace_id": wid, "start": at(3), "duration": 60}))
    # Given Toggl deletes the entry and the answer is lost
    toggl.fail(Fault(status=502, times=1, method="DELETE", after=True))
    response = act(toggl_connection, "delete-time-entry", {"workspace_id": wid, "time_entry_id": logged["id"]})
    # Then the client's own repeat meets "not found", which is that delete, done
    assert response["statusCode"] == 200, response
    assert body_of(response) == {"deleted": True, "time_entry_id": logged["id"]}
    assert len(toggl.calls("DELETE")) == 2


def test_a_callers_retry_of_a_delete_whose_outcome_stayed_unknown_is_done(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    logged = body_of(act(toggl_connection, "create-time-entry", {"workspace_id": wid, "start": at(3), "duration": 60}))
    request = {"workspace_id": wid, "time_entry_id": logged["id"]}
    # Given Toggl deletes it, then fails every repeat within the call
    toggl.fail(Fault(status=502, times=1, method="DELETE", after=True))
    toggl.fail(Fault(status=503, times=10, method="DELETE"))
    first = act(toggl_connection, "delete-time-entry", request)
    assert first["statusCode"] == 502 and body_of(first)["error"] == "outcome_unknown"
    assert "send the same request again" in body_of(first)["message"]
    # When the caller retries once Toggl is well
    toggl.faults.clear()
    again = act(toggl_connection, "delete-time-entry", request)
    # Then that delete is done, not "not found"
    assert again["statusCode"] == 200 and body_of(again) == {"deleted": True, "time_entry_id": logged["id"]}
    # And a later delete of the same id that was never in doubt is a 404 again (the memory is spent)
    later = act(toggl_connection, "delete-time-entry", request)
    if toggl.calls("DELETE")[-1].status == 404:
        assert later["statusCode"] == 404


# --- lost answers: looked for, never made twice ------------------------------------------------------
LOST = {
    "502 after the write": Fault(status=502, times=1, method="POST", after=True),
    "connection dropped after the write": Fault(status=0, drop=True, times=1, method="POST", after=True),
}
CREATES: dict[str, tuple[str, Any, Any]] = {
    "start": (
        "start-time-entry",
        lambda s: {"workspace_id": s.workspace["id"], "description": "Lost start", "project_id": s.project["id"]},
        lambda s: [e for e in s.world.time_entries.values() if e["description"] == "Lost start"],
    ),
    "finished entry": (
        "create-time-entry",
        lambda s: {"workspace_id": s.workspace["id"], "description": "Lost log", "start": at(5), "duration": 900},
        lambda s: [e for e in s.world.time_entries.values() if e["description"] == "Lost log"],
    ),
    "project": (
        "create-project",
        lambda s: {"workspace_id": s.workspace["id"], "name": "Lost project", "client_id": s.client["id"]},
        lambda s: [p for p in s.world.projects.values() if p["name"] == "Lost project"],
    ),
    "tag": (
        "create-tag",
        lambda s: {"workspace_id": s.workspace["id"], "name": "lost-tag"},
        lambda s: [t for t in s.world.tags.values() if t["name"] == "lost-tag"],
    ),
}


@pytest.mark.parametrize("lost", LOST, ids=list(LOST))
@pytest.mark.parametrize("kind", CREATES)
def test_a_lost_answer_is_found_within_the_call_and_one_object_exists(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, kind: str, lost: str
) -> None:
    action, request, made = CREATES[kind]
    toggl.fail(Fault(**{**LOST[lost].__dict__}))
    response = act(toggl_connection, action, request(seeded))
    assert response["statusCode"] == 200, response
    answer = body_of(response)
    assert answer["found_existing"] is True
    (only,) = made(seeded)
    assert answer["id"] == only["id"]
    assert [r.method for r in toggl.requests] == ["POST", "GET"]


@pytest.mark.parametrize("key", [None, "retry-key-1"])
@pytest.mark.parametrize("kind", CREATES)
def test_a_callers_retry_after_an_unknown_outcome_finds_it_and_sends_nothing_again(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, kind: str, key: str | None
) -> None:
    action, request, made = CREATES[kind]
    headers = {"Idempotency-Key": key} if key else {}
    body = request(seeded)
    # Given the answer is lost and Toggl cannot be asked what happened
    toggl.fail(Fault(status=0, drop=True, times=1, method="POST", after=True))
    toggl.fail(Fault(status=503, times=20, method="GET"))
    first = act(toggl_connection, action, body, headers)
    assert first["statusCode"] == 502 and body_of(first)["error"] == "outcome_unknown", first
    # When Toggl is well again and the caller retries the same request
    toggl.faults.clear()
    again = act(toggl_connection, action, body, headers)
    # Then the retry looks first and finds it: one object, one create sent
    assert again["statusCode"] == 200 and body_of(again)["found_existing"] is True, again
    assert len(made(seeded)) == 1 and len(toggl.calls("POST")) == 1


def test_a_retried_start_never_stops_the_timer_it_started(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    request = {"workspace_id": seeded.workspace["id"], "description": "Only once"}
    toggl.fail(Fault(status=0, drop=True, times=1, method="POST", after=True))
    toggl.fail(Fault(status=503, times=20, method="GET"))
    assert act(toggl_connection, "start-time-entry", request)["statusCode"] == 502
    toggl.faults.clear()
    again = act(toggl_connection, "start-time-entry", request)
    # One timer, still running, answered as the one the first attempt started
    (timer,) = running(seeded)
    assert body_of(again)["id"] == timer["id"] and len(entries(seeded)) == 1


def test_a_retried_start_never_takes_a_later_timer_for_its_own(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    request = {"workspace_id": wid, "description": "Standup"}
    # Given a start whose outcome stayed unknown
    toggl.fail(Fault(status=0, drop=True, times=1, method="POST", after=True))
    toggl.fail(Fault(status=503, times=20, method="GET"))
    assert act(toggl_connection, "start-time-entry", request)["statusCode"] == 502
    toggl.faults.clear()
    (lost,) = entries(seeded)
    # And someone started a timer with the same fields in Toggl's app since, which stopped the first
    time.sleep(1.1)  # a second later: Toggl's times have whole seconds
    other = requests.post(
        f"{toggl.url}{V9}/workspaces/{wid}/time_entries",
        json={"description": "Standup", "duration": -1},
        auth=(seeded.token, "api_token"),
        timeout=30,
    ).json()
    assert other["id"] != lost["id"] and [e["id"] for e in running(seeded)] == [other["id"]]
    # When the caller retries the first request
    again = act(toggl_connection, "start-time-entry", request)
    # Then it answers the timer it started (stopped by now), not the later one, and starts nothing
    assert again["statusCode"] == 200 and body_of(again)["found_existing"] is True
    assert body_of(again)["id"] == lost["id"]
    assert len(entries(seeded)) == 2 and [e["id"] for e in running(seeded)] == [other["id"]]


def test_a_lost_finished_entry_is_not_taken_for_an_older_one_with_the_same_fields(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    request = {"workspace_id": wid, "description": "Daily", "start": at(30), "duration": 900}
    # An entry with the same fields, made long before (its "at" is old)
    first = body_of(act(toggl_connection, "create-time-entry", request))
    seeded.world.time_entries[first["id"]]["at"] = "2026-01-05T09:00:00+00:00"
    toggl.requests.clear()
    toggl.fail(Fault(status=503, times=1, method="POST"))  # refused before the write: nothing made
    response = act(toggl_connection, "create-time-entry", request)
    # The look finds nothing of this request's, so the create is sent again: two entries, as asked
    assert response["statusCode"] == 201, response
    assert len([e for e in entries(seeded) if e["description"] == "Daily"]) == 2


def test_each_create_costs_one_request_when_nothing_is_lost(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    for kind, (action, request, _) in CREATES.items():
        toggl.requests.clear()
        response = act(toggl_connection, action, request(seeded))
        assert response["statusCode"] == 201, (kind, response)
        assert [r.method for r in toggl.requests] == ["POST"], kind


def test_a_tag_that_exists_is_a_409_already_exists(toggl_connection: Connection, seeded: Seeded) -> None:
    wid = seeded.workspace["id"]
    assert act(toggl_connection, "create-tag", {"workspace_id": wid, "name": "meetings"})["statusCode"] == 201
    again = act(toggl_connection, "create-tag", {"workspace_id": wid, "name": "meetings"})
    assert again["statusCode"] == 409 and body_of(again)["error"] == "already_exists"


def test_a_project_is_created_with_the_fields_given(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    request = {"workspace_id": wid, "name": "Mobile app", "client_id": seeded.client["id"], "is_private": False}
    response = act(toggl_connection, "create-project", request)
    assert response["statusCode"] == 201
    assert sent(toggl, "POST", "/projects") == [
        {"name": "Mobile app", "client_id": seeded.client["id"], "is_private": False}
    ]
    assert body_of(response)["name"] == "Mobile app"


# --- the stack's limits ---------------------------------------------------------------------------------
NEW_ACTIONS: dict[str, dict[str, Any]] = {
    "StartTimeEntryFunction": {"description": "x"},
    "StopTimeEntryFunction": {"time_entry_id": 5},
    "CreateTimeEntryFunction": {"start": "2026-12-02T13:00:00Z", "duration": 60},
    "UpdateTimeEntryFunction": {"time_entry_id": 5, "description": "x"},
    "DeleteTimeEntryFunction": {"time_entry_id": 5},
    "CreateProjectFunction": {"name": "Elsewhere"},
    "CreateTagFunction": {"name": "elsewhere"},
}


@pytest.mark.parametrize("function", NEW_ACTIONS)
def test_every_time_tracking_action_keeps_to_the_allowed_workspaces(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, function: str
) -> None:
    from toggl_connection.core.errors import WorkspaceNotAllowed

    event = {"workspace_id": seeded.workspace["id"], **NEW_ACTIONS[function]}
    with pytest.raises(WorkspaceNotAllowed):
        toggl_connection.invoke(function, event, ALLOWED_WORKSPACE_IDS="1,2")
    assert toggl.requests == []


def test_a_stop_of_the_running_entry_keeps_to_the_allowed_workspaces(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    from toggl_connection.core.errors import WorkspaceNotAllowed

    act(toggl_connection, "start-time-entry", {"workspace_id": seeded.workspace["id"]})
    toggl.requests.clear()
    # The running entry's workspace is learnt from Toggl (one read), and refused before any write
    with pytest.raises(WorkspaceNotAllowed):
        toggl_connection.invoke("StopTimeEntryFunction", {}, ALLOWED_WORKSPACE_IDS="1,2")
    assert [r.method for r in toggl.requests] == ["GET"] and len(running(seeded)) == 1


def test_the_actions_take_a_direct_invocation_and_an_eventbridge_event(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    started = toggl_connection.invoke("StartTimeEntryFunction", {"workspace_id": wid, "description": "direct"})
    assert started["description"] == "direct" and started["duration"] < 0
    rule = {"id": "evt-1", "source": "my.app", "detail-type": "Work Started", "detail": {"workspace_id": wid}}
    stopped = toggl_connection.invoke("StopTimeEntryFunction", rule)
    assert stopped["id"] == started["id"] and stopped["duration"] >= 0
    # The rule's redelivery (same event id) is answered from the first time: no second stop sent
    patches = len(toggl.calls("PATCH"))
    assert toggl_connection.invoke("StopTimeEntryFunction", rule)["id"] == started["id"]
    assert len(toggl.calls("PATCH")) == patches


# --- queries ----------------------------------------------------------------------------------------------
def test_one_time_entry_is_read_by_id(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    wid = seeded.workspace["id"]
    logged = body_of(act(toggl_connection, "create-time-entry", {"workspace_id": wid, "start": at(3), "duration": 60}))
    toggl.requests.clear()
    answer = body_of(toggl_connection.get("/queries/time-entry", f"time_entry_id={logged['id']}"))
    assert answer["item"]["id"] == logged["id"] and answer["toggl_requests"] == 1
    assert [r.path for r in toggl.requests] == [f"{V9}/me/time_entries/{logged['id']}"]
    missing = toggl_connection.get("/queries/time-entry", "")
    assert missing["statusCode"] == 422 and body_of(missing)["field"] == "time_entry_id"


def _log(
    connection: Connection, seeded: Seeded, day: str, seconds: int, description: str, project: bool = True
) -> None:
    body: dict[str, Any] = {"workspace_id": seeded.workspace["id"], "start": f"{day}T09:00:00Z", "duration": seconds}
    body["description"] = description
    if project:
        body["project_id"] = seeded.project["id"]
    assert act(connection, "create-time-entry", body)["statusCode"] == 201


def test_the_summary_names_each_project_and_totals_the_period(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    _log(toggl_connection, seeded, "2026-11-03", 7200, "Design review")
    _log(toggl_connection, seeded, "2026-11-04", 1800, "Write the report")
    _log(toggl_connection, seeded, "2026-11-05", 600, "Email", project=False)
    _log(toggl_connection, seeded, "2026-10-30", 999, "Before the period")
    toggl.requests.clear()
    wid = seeded.workspace["id"]
    response = toggl_connection.get(
        "/queries/summary-report", f"workspace_id={wid}&start_date=2026-11-01&end_date=2026-11-30"
    )
    assert response["statusCode"] == 200, response
    answer = body_of(response)
    by_id = {item["id"]: item for item in answer["items"]}
    assert by_id[seeded.project["id"]]["name"] == "Website" and by_id[seeded.project["id"]]["seconds"] == 9000
    assert answer["total_seconds"] == 9600 and answer["count"] == len(answer["items"]) and not answer["truncated"]
    # One report request, one listing of the projects for their names
    assert [r.method for r in toggl.requests] == ["POST", "GET"]
    # The names are kept: the same summary again costs the report only
    toggl.requests.clear()
    toggl_connection.get("/queries/summary-report", f"workspace_id={wid}&start_date=2026-11-01&end_date=2026-11-30")
    assert [r.method for r in toggl.requests] == ["POST"]


def test_the_summary_limit_cuts_the_groups_not_the_total(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    _log(toggl_connection, seeded, "2026-11-03", 7200, "With project")
    _log(toggl_connection, seeded, "2026-11-05", 600, "Without", project=False)
    wid = seeded.workspace["id"]
    answer = body_of(
        toggl_connection.get(
            "/queries/summary-report", f"workspace_id={wid}&start_date=2026-11-01&end_date=2026-11-30&limit=1"
        )
    )
    assert answer["count"] == 1 and answer["truncated"] is True and answer["total_seconds"] == 7800


SUMMARY_REFUSALS = {
    "no start_date": ("end_date=2026-11-30", "start_date"),
    "no end_date": ("start_date=2026-11-01", "end_date"),
    "367 days": ("start_date=2025-11-01&end_date=2026-11-02", "end_date"),
    "start after end": ("start_date=2026-11-02&end_date=2026-11-01", "start_date"),
    "a timestamp": ("start_date=2026-11-01T00:00:00Z&end_date=2026-11-30", "start_date"),
    "an unknown grouping": ("start_date=2026-11-01&end_date=2026-11-30&grouping=tags", "grouping"),
    "the same grouping twice": (
        "start_date=2026-11-01&end_date=2026-11-30&grouping=users&sub_grouping=users",
        "sub_grouping",
    ),
    "a pair Toggl does not offer": (
        "start_date=2026-11-01&end_date=2026-11-30&grouping=projects&sub_grouping=clients",
        "sub_grouping",
    ),
}


@pytest.mark.parametrize("case", SUMMARY_REFUSALS, ids=list(SUMMARY_REFUSALS))
def test_a_summary_toggl_would_refuse_is_a_422_and_toggl_is_not_called(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, case: str
) -> None:
    query, field = SUMMARY_REFUSALS[case]
    response = toggl_connection.get("/queries/summary-report", f"workspace_id={seeded.workspace['id']}&{query}")
    assert response["statusCode"] == 422, response
    assert body_of(response)["field"] == field
    assert toggl.requests == []


def test_a_summary_of_366_days_is_taken(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    response = toggl_connection.get(
        "/queries/summary-report", f"workspace_id={seeded.workspace['id']}&start_date=2024-01-01&end_date=2024-12-31"
    )
    assert response["statusCode"] == 200 and body_of(response)["total_seconds"] == 0


def test_a_deleted_entry_read_by_id_is_not_found_or_says_it_is_deleted(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    logged = body_of(act(toggl_connection, "create-time-entry", {"workspace_id": wid, "start": at(3), "duration": 60}))
    act(toggl_connection, "delete-time-entry", {"workspace_id": wid, "time_entry_id": logged["id"]})
    response = toggl_connection.get("/queries/time-entry", f"time_entry_id={logged['id']}")
    if toggl.behaviour.deleted_entry_read == "404":
        assert response["statusCode"] == 404 and body_of(response)["error"] == "not_found"
    else:
        assert body_of(response)["item"]["server_deleted_at"] is not None


def test_a_project_name_toggl_refuses_as_taken_is_a_409(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    request = {"workspace_id": seeded.workspace["id"], "name": "Website", "client_id": seeded.client["id"]}
    response = act(toggl_connection, "create-project", request)
    if toggl.behaviour.duplicate_project_names == "refused":
        assert response["statusCode"] == 409 and body_of(response)["error"] == "already_exists"
    else:  # a Toggl that takes a second project of the same name: created, never "found"
        assert response["statusCode"] == 201 and "found_existing" not in body_of(response)


# --- on the bus: through Toggl's webhooks, once -----------------------------------------------------
def test_each_write_reaches_the_bus_once_as_toggls_webhook(hooked: Hooked) -> None:
    from tests.e2e.test_subscriptions import client

    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    wid = hooked.seeded.workspace["id"]
    connection = hooked.connection
    # When a timer is started, another one started (Toggl stops the first), the second stopped,
    # and an entry logged, changed and deleted
    first = body_of(act(connection, "start-time-entry", {"workspace_id": wid, "description": "first"}))
    second = body_of(act(connection, "start-time-entry", {"workspace_id": wid, "description": "second"}))
    act(connection, "stop-time-entry", {})
    logged = body_of(act(connection, "create-time-entry", {"workspace_id": wid, "start": at(4), "duration": 600}))
    act(connection, "update-time-entry", {"workspace_id": wid, "time_entry_id": logged["id"], "description": "fixed"})
    act(connection, "delete-time-entry", {"workspace_id": wid, "time_entry_id": logged["id"]})
    hooked.settle()
    published = connection.bus_events(wait=True)
    events = [(e["detail-type"], e["detail"]["entity_id"]) for e in published]
    # Then each is one event, through the webhooks; the automatic stop of the first timer is an
    # event only where Toggl announces it
    expected = [
        ("Time Entry Created", first["id"]),
        ("Time Entry Created", second["id"]),
        ("Time Entry Updated", second["id"]),
        ("Time Entry Created", logged["id"]),
        ("Time Entry Updated", logged["id"]),
        ("Time Entry Deleted", logged["id"]),
    ]
    if hooked.toggl.behaviour.auto_stop_webhook == "updated":
        expected.insert(1, ("Time Entry Updated", first["id"]))
    assert sorted(events, key=str) == sorted(expected, key=str)
    assert {e["detail"]["origin"] for e in published} == {"webhook"}
