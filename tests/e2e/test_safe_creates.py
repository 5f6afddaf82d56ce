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


# --- found_existing means "what this request made" -------------------------------------------------
def an_old_inactive_task(seeded: Seeded, name: str) -> dict[str, Any]:
    """A task of that name made long ago, done since (inactive), without the new request's fields."""
    task = {
        "id": seeded.world.next_id(),
        "name": name,
        "project_id": seeded.project["id"],
        "workspace_id": seeded.workspace["id"],
        "active": False,
        "estimated_seconds": 0,
        "user_id": None,
        "external_reference": "crm-1",
        "at": "2026-01-05T09:00:00+00:00",
        "tracked_seconds": 0,
    }
    seeded.world.tasks[task["id"]] = task
    return task


@pytest.mark.parametrize("lost", LOST, ids=list(LOST))
def test_a_lost_answer_is_never_answered_with_an_old_inactive_task_of_the_same_name(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, lost: str
) -> None:
    old = an_old_inactive_task(seeded, "Review")
    request = {
        "workspace_id": seeded.workspace["id"],
        "project_id": seeded.project["id"],
        "name": "Review",
        "external_reference": "crm-2",
        "estimated_seconds": 3600,
    }
    # Given Toggl does the work and the answer is lost
    toggl.fail(Fault(**{**LOST[lost].__dict__}))
    response = toggl_connection.post_json("/actions/create-task", request)
    # Then the answer is the task this request made, never the old one
    made = [t for t in seeded.world.tasks.values() if t["external_reference"] == "crm-2"]
    assert len(made) == 1
    assert response["statusCode"] == 200 and body_of(response)["found_existing"] is True
    assert body_of(response)["id"] == made[0]["id"] != old["id"]


def test_a_create_that_never_reached_toggl_is_sent_again_despite_an_old_task_of_the_same_name(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    old = an_old_inactive_task(seeded, "Review")
    request = {
        "workspace_id": seeded.workspace["id"],
        "project_id": seeded.project["id"],
        "name": "Review",
        "external_reference": "crm-2",
        "estimated_seconds": 3600,
    }
    # Given Toggl fails the create before doing it (a 502 whose outcome the connection cannot know)
    toggl.fail(Fault(status=502, times=1, method="POST"))
    response = toggl_connection.post_json("/actions/create-task", request)
    # Then the lookup finds nothing of this request's, and the create is sent again: one new task
    assert response["statusCode"] == 201, response
    made = [t for t in seeded.world.tasks.values() if t["external_reference"] == "crm-2"]
    assert len(made) == 1 and body_of(response)["id"] == made[0]["id"] != old["id"]
    assert [c.method for c in toggl.requests] == ["POST", "GET", "POST"]


def test_a_lost_client_create_is_not_answered_with_an_archived_client_of_that_name(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    archived = {
        "id": seeded.world.next_id(),
        "wid": seeded.workspace["id"],
        "name": "Acme",
        "archived": True,
        "at": "2026-01-05T09:00:00+00:00",
    }
    seeded.world.clients[archived["id"]] = archived
    toggl.fail(Fault(status=502, times=1, method="POST"))
    response = toggl_connection.post_json(
        "/actions/create-client", {"workspace_id": seeded.workspace["id"], "name": "Acme"}
    )
    assert response["statusCode"] in (201, 409), response  # sent again: Toggl decides about the name
    assert body_of(response).get("id") != archived["id"]


# --- the store of unknown outcomes, unreadable -----------------------------------------------------
def test_an_unreadable_record_of_unknown_outcomes_is_a_retryable_503_and_is_not_remembered(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    from botocore.exceptions import ClientError

    from toggl_connection.core import aws_clients

    request = {"workspace_id": seeded.workspace["id"], "emails": ["throttled@x.example"]}
    refused: list[int] = []

    def throttle_the_first_read(**_: Any) -> None:
        if not refused:
            refused.append(1)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, "GetItem"
            )

    # Given DynamoDB throttles the read of the unknown-outcome record once
    dynamodb = aws_clients.client("dynamodb")
    dynamodb.meta.events.register("before-call.dynamodb.GetItem", throttle_the_first_read, unique_id="throttle")
    try:
        first = toggl_connection.post_json("/actions/create-user-invitation", request)
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.GetItem", unique_id="throttle")
    # Then the caller is told to retry, and Toggl received nothing
    assert refused and first["statusCode"] == 503, first
    assert "Retry-After" in first["headers"] or body_of(first)["error"] == "dedupe_unavailable"
    assert seeded.world.emails_sent == []
    # And the retry sends the invitation, once
    again = toggl_connection.post_json("/actions/create-user-invitation", request)
    assert again["statusCode"] == 201, again
    assert seeded.world.emails_sent == ["throttled@x.example"]


# --- an invitation is the same invitation whatever key it carries ------------------------------------
def test_the_same_invitation_is_sent_once_across_keys_and_again_only_with_resend(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    request = {"workspace_id": wid, "emails": ["ana@example.com"]}
    # Given an agent that makes up a new key (or drops it) after each answer it did not see
    answers = [
        toggl_connection.post_json("/actions/create-user-invitation", request, headers)
        for headers in ({"Idempotency-Key": "inv-1"}, {"Idempotency-Key": "inv-2"}, {})
    ]
    # Then one e-mail was sent, and the repeats answer the first result, marked as such
    assert seeded.world.emails_sent == ["ana@example.com"]
    assert [a["statusCode"] for a in answers] == [201, 201, 201]
    first, *repeats = (body_of(a) for a in answers)
    assert "already_invited" not in first
    for repeat in repeats:
        assert repeat["already_invited"] is True
        assert repeat["data"][0]["invitation_id"] == first["data"][0]["invitation_id"]
    assert [a["headers"].get("Idempotent-Replayed") for a in answers] == [None, "true", "true"]
    # The same set of addresses in another order and case is the same invitation
    shuffled = {"workspace_id": wid, "emails": ["ANA@example.com"], "skip_email": False}
    assert body_of(toggl_connection.post_json("/actions/create-user-invitation", shuffled))["already_invited"] is True
    assert len(toggl.calls("POST", "/api/v9/organizations")) == 1
    # When it is sent again on purpose
    again = toggl_connection.post_json("/actions/create-user-invitation", {**request, "resend": True})
    # Then it is sent
    assert again["statusCode"] == 201 and "already_invited" not in body_of(again)
    assert seeded.world.emails_sent == ["ana@example.com", "ana@example.com"]
    assert "resend" not in toggl.calls("POST", "/api/v9/organizations")[-1].body


def test_another_invitation_of_the_same_addresses_as_admin_is_another_invitation(
    toggl_connection: Connection, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    toggl_connection.post_json("/actions/create-user-invitation", {"workspace_id": wid, "emails": ["bo@example.com"]})
    admin = toggl_connection.invoke(
        "CreateUserInvitationFunction",
        {"workspace_id": wid, "emails": ["bo@example.com"], "admin": True},
        ALLOW_ADMIN_INVITATIONS="true",
    )
    assert "already_invited" not in admin
    assert seeded.world.emails_sent == ["bo@example.com", "bo@example.com"]
