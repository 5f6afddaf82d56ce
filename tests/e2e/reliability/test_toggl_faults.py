"""Toggl misbehaving under the actions and queries: 5xx bursts, 429, quota 402, and answers so
slow they run into the Lambda's timeout. Retries stay bounded and inside the function's time,
the caller gets the right answer, and nothing is created twice."""

from __future__ import annotations

import time

import pytest

from local.toggl_sandbox import Fault, Sandbox
from local.toggl_sandbox.state import Seeded
from tests.connection import Connection
from toggl_connection.core.errors import TogglOutcomeUnknown, TogglQuotaExhausted, TogglUnavailable

TIMEOUT = 5.0  # seconds the function is given, as Lambda would


def clients_query(seeded: Seeded) -> dict[str, object]:
    return {"query": "clients", "params": {"workspace_id": seeded.workspace["id"]}}


def clients_named(seeded: Seeded, name: str) -> int:
    return sum(1 for c in seeded.world.clients.values() if c["name"] == name)


def test_a_create_that_runs_into_the_timeout_is_not_sent_twice(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    # Given Toggl takes longer to answer than the function has
    toggl.fail(Fault(status=0, delay=TIMEOUT + 1, times=1, method="POST"))
    started = time.monotonic()
    # When the action creates a client, Then it answers before its own timeout, saying the
    # outcome is unknown, and does not repeat the POST
    with pytest.raises(TogglOutcomeUnknown):
        toggl_connection.invoke(
            "CreateClientFunction", {"workspace_id": seeded.workspace["id"], "name": "Slow"}, timeout=TIMEOUT
        )
    assert time.monotonic() - started < TIMEOUT
    assert len(toggl.calls("POST")) == 1
    deadline = time.monotonic() + 15
    while clients_named(seeded, "Slow") == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # Toggl finishes the slow request after all: wait for it
    assert clients_named(seeded, "Slow") == 1 and len(toggl.calls("POST")) == 1


def test_a_slow_query_gives_up_inside_the_timeout_with_a_503(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    toggl.fail(Fault(status=0, delay=TIMEOUT + 1, times=10, method="GET"))
    started = time.monotonic()
    with pytest.raises(TogglUnavailable, match="did not answer in time"):
        toggl_connection.invoke("QueryFunction", clients_query(seeded), timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT
    assert len(toggl.calls("GET")) == 1  # no time was left for a second try


def test_a_slow_answer_with_time_to_spare_is_simply_waited_for(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    toggl.fail(Fault(status=0, delay=1.0, times=1, method="GET"))
    body = toggl_connection.invoke("QueryFunction", clients_query(seeded), timeout=TIMEOUT)
    assert body["count"] == 1 and body["toggl_requests"] == 1


def test_a_5xx_burst_during_paging_recovers_and_reads_everything_once(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    from tests.e2e.test_queries import add_projects

    add_projects(seeded, 450)
    toggl.fail(Fault(status=502, times=2, method="GET"))
    body = toggl_connection.invoke(
        "QueryFunction", {"query": "projects", "params": {"workspace_id": seeded.workspace["id"]}}
    )
    assert body["count"] == 451 and len({p["id"] for p in body["items"]}) == 451
    assert body["toggl_requests"] == 3 + 2  # three pages, two of them tried again


def test_a_5xx_burst_on_creates_never_creates_twice(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    # Given two 503s, one before Toggl did anything and one after it added the member
    toggl.fail(Fault(status=503, times=1, method="POST"))
    toggl.fail(Fault(status=503, times=1, method="POST", after=True))
    request = {"workspace_id": wid, "project_id": seeded.project["id"], "user_id": seeded.member["id"]}
    # When the action adds the member, Then the member is added once and the answer says it was found
    member = toggl_connection.invoke("AddProjectMemberFunction", request)
    assert member["user_id"] == seeded.member["id"] and member["found_existing"] is True
    assert sum(1 for m in seeded.world.project_users.values() if m["user_id"] == seeded.member["id"]) == 1
    assert [c.method for c in toggl.requests] == ["POST", "GET", "POST", "GET"]


def test_quota_402_during_a_query_is_not_retried(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    toggl.quota_per_hour = 0
    with pytest.raises(TogglQuotaExhausted) as raised:
        toggl_connection.invoke("QueryFunction", {"query": "tags", "params": {"workspace_id": seeded.workspace["id"]}})
    assert raised.value.retry_after > 0
    assert len(toggl.calls("GET")) == 1


@pytest.mark.parametrize("retry_after", ["inf", "100000000", "nan"])
def test_a_retry_after_beyond_an_hour_is_believed_for_an_hour_and_never_a_500(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, retry_after: str
) -> None:
    for _ in range(2):  # a query, then an action
        toggl.fail(Fault(status=429, times=10, retry_after=retry_after))
    query = toggl_connection.get("/queries/clients", f"workspace_id={seeded.workspace['id']}")
    assert query["statusCode"] == 429 and query["headers"]["Retry-After"] == "3600", query
    action = toggl_connection.post_json(
        "/actions/create-client", {"workspace_id": seeded.workspace["id"], "name": "Later"}
    )
    assert action["statusCode"] == 429 and action["headers"]["Retry-After"] == "3600", action
    assert len(toggl.requests) == 2  # a wait of an hour is not waited for: each gave up at once
