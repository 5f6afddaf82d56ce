"""Creates whose answer is lost after Toggl did the work: a 5xx after the write, a connection
dropped after the write. Within one call and across a caller's retry, exactly one object exists,
and the answer says it was found (``200``, ``"found_existing": true``). Real HTTP to the sandbox;
handlers as SAM runs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.toggl_sandbox import Fault, Sandbox
from local.toggl_sandbox.state import Seeded
from tests.connection import Connection, body_of


class Create:
    """One kind of create: its route, a request, and how many such objects Toggl holds."""

    def __init__(self, path: str, request: Callable[[Seeded], dict[str, Any]], count: Callable[[Seeded], int]):
        self.path, self.request, self.count = path, request, count


CREATES = {
    "client": Create(
        "/actions/create-client",
        lambda s: {"workspace_id": s.workspace["id"], "name": "Lost answer Ltd"},
        lambda s: sum(1 for c in s.world.clients.values() if c["name"] == "Lost answer Ltd"),
    ),
    "task": Create(
        "/actions/create-task",
        lambda s: {"workspace_id": s.workspace["id"], "project_id": s.project["id"], "name": "Lost answer task"},
        lambda s: sum(1 for t in s.world.tasks.values() if t["name"] == "Lost answer task"),
    ),
    "member": Create(
        "/actions/add-project-member",
        lambda s: {"workspace_id": s.workspace["id"], "project_id": s.project["id"], "user_id": s.member["id"]},
        lambda s: sum(1 for m in s.world.project_users.values() if m["user_id"] == s.member["id"]),
    ),
}
LOST = {
    "502 after the write": Fault(status=502, times=1, method="POST", after=True),
    "connection dropped after the write": Fault(status=0, drop=True, times=1, method="POST", after=True),
}


@pytest.mark.parametrize("lost", LOST, ids=list(LOST))
@pytest.mark.parametrize("kind", CREATES)
def test_a_lost_answer_is_found_within_the_call(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, kind: str, lost: str
) -> None:
    create = CREATES[kind]
    # Given Toggl does the work and the answer is lost
    fault = LOST[lost]
    toggl.fail(Fault(**{**fault.__dict__}))
    # When the action creates
    response = toggl_connection.post_json(create.path, create.request(seeded))
    # Then it looked once, found what it made, and said so: one object, one create sent
    assert response["statusCode"] == 200, response
    assert body_of(response)["found_existing"] is True
    assert create.count(seeded) == 1
    assert [c.method for c in toggl.requests] == ["POST", "GET"]


@pytest.mark.parametrize("key", [None, "retry-key-1"])
@pytest.mark.parametrize("kind", CREATES)
def test_a_callers_retry_after_an_unknown_outcome_finds_it_and_sends_nothing_again(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, kind: str, key: str | None
) -> None:
    create = CREATES[kind]
    headers = {"Idempotency-Key": key} if key else {}
    # Given the answer is lost and Toggl cannot be asked what happened
    toggl.fail(Fault(status=0, drop=True, times=1, method="POST", after=True))
    toggl.fail(Fault(status=503, times=20, method="GET"))
    first = toggl_connection.post_json(create.path, create.request(seeded), headers)
    assert first["statusCode"] == 502 and body_of(first)["error"] == "outcome_unknown"
    assert create.count(seeded) == 1 and len(toggl.calls("POST")) == 1
    # When Toggl is well again and the caller retries the same request
    toggl.faults.clear()
    again = toggl_connection.post_json(create.path, create.request(seeded), headers)
    # Then the retry looks first, finds it, and does not create a second one
    assert again["statusCode"] == 200 and body_of(again)["found_existing"] is True
    assert create.count(seeded) == 1 and len(toggl.calls("POST")) == 1
    # And the next identical request is an ordinary create again (the memory is spent)
    toggl.requests.clear()
    third = toggl_connection.post_json(create.path, create.request(seeded), {})
    assert [c.method for c in toggl.requests][:1] == ["POST"]
    assert third["statusCode"] in (201, 200, 409)


def test_an_unlost_create_costs_exactly_one_request(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    for create in CREATES.values():
        toggl.requests.clear()
        response = toggl_connection.post_json(create.path, create.request(seeded))
        assert response["statusCode"] == 201
        assert [c.method for c in toggl.requests] == ["POST"]


def test_an_invitation_with_an_unknown_outcome_is_never_sent_again(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    request = {"workspace_id": seeded.workspace["id"], "emails": ["lost@x.example"]}
    toggl.fail(Fault(status=502, times=1, method="POST", after=True))
    first = toggl_connection.post_json("/actions/create-user-invitation", request)
    assert first["statusCode"] == 502 and body_of(first)["error"] == "outcome_unknown"
    sent = len(toggl.calls("POST"))
    # Retries without a key, and with keys of their own, call nobody
    for headers in ({}, {"Idempotency-Key": "new-key-1"}, {"Idempotency-Key": "new-key-2"}):
        again = toggl_connection.post_json("/actions/create-user-invitation", request, headers)
        assert again["statusCode"] == 502 and body_of(again)["error"] == "outcome_unknown"
    assert len(toggl.calls("POST")) == sent == 1
    assert seeded.world.emails_sent == ["lost@x.example"]
