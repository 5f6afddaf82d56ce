"""What a replayed delivery, a leaked-and-rotated secret, a pathological document or a failing
dedupe table can do to the webhook routes: nothing lost, nothing doubled, no 5xx for what is on
the bus, no ARN in an answer. The real handlers through template.yaml, on moto in-process."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.toggl_sandbox import deliveries
from tests.connection import Connection, body_of, fresh_containers
from toggl_connection.core import aws_clients


def dated(trigger: str, event_id: int, moment: datetime) -> dict[str, Any]:
    return deliveries.sample(trigger, event_id, moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")


# --- the replay window ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("age", "published"),
    [
        (timedelta(days=365 * 7), False),  # a delivery of 2019, replayed
        (timedelta(days=7, minutes=1), False),  # just past the dedupe window
        (timedelta(days=6, hours=23), True),
        (timedelta(minutes=-4), True),  # a little ahead: clocks differ
        (timedelta(minutes=-10), False),  # far ahead
    ],
)
def test_a_delivery_outside_the_replay_window_is_acknowledged_not_published(
    connection: Connection, capsys: pytest.CaptureFixture[str], age: timedelta, published: bool
) -> None:
    document = dated("project-created", 4100, datetime.now(UTC) - age)
    response = connection.deliver("/webhooks/project-created", document)
    assert response["statusCode"] == 200
    assert body_of(response)["status"] == ("published" if published else "expired")
    assert len(connection.bus_events()) == (1 if published else 0)
    if not published:
        metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
        assert any(m.get("WebhookRejected") and m.get("reason") == "expired" for m in metrics)


# --- a rotated signing secret ------------------------------------------------------------------
def project_created(event_id: int) -> dict[str, Any]:
    """A Project Created delivery for a project of its own (one project is created only once)."""
    document = deliveries.sample("project-created", event_id)
    document["payload"]["id"] = document["metadata"]["project_id"] = event_id
    return document


def rotate(connection: Connection) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=connection.stack["WebhookSigningSecret"], SecretString="rotated-because-it-leaked"
    )
    fresh_containers()


def test_the_previous_secret_is_refused_once_its_grace_has_passed(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    rotate(connection)
    # Within the grace (24 hours by default) a delivery signed with the old secret is accepted
    assert connection.deliver("/webhooks", project_created(4201))["statusCode"] == 200
    # 25 hours after the rotation it is refused, and the new secret still works
    later = time.time() + 25 * 3600
    monkeypatch.setattr(time, "time", lambda: later)  # the layer reads the clock through time.time
    old = connection.deliver("/webhooks", project_created(4202))
    assert old["statusCode"] == 401 and body_of(old)["error"] == "invalid_signature"
    new = connection.deliver("/webhooks", project_created(4203), "rotated-because-it-leaked")
    assert new["statusCode"] == 200
    assert [e["detail"]["event_id"] for e in connection.bus_events()] == [4201, 4203]


def test_with_no_grace_only_the_current_secret_is_accepted(connection: Connection) -> None:
    rotate(connection)
    fn = "ProjectCreatedWebhookFunction"
    body = deliveries.encode(deliveries.sample("project-created", 4204))
    event = connection_event(connection, "/webhooks/project-created", body, deliveries.TEST_SECRET)
    assert connection.invoke(fn, event, PREVIOUS_SECRET_GRACE_HOURS="0")["statusCode"] == 401
    event = connection_event(connection, "/webhooks/project-created", body, "rotated-because-it-leaked")
    assert connection.invoke(fn, event, PREVIOUS_SECRET_GRACE_HOURS="0")["statusCode"] == 200


def connection_event(connection: Connection, path: str, body: bytes, secret: str) -> dict[str, Any]:
    from local.emulator import apigw

    return apigw.proxy_event("POST", path, body, deliveries.signed_headers(body, secret))


# --- documents no walker can fail on -------------------------------------------------------------
def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_5000_deep_request_body_is_left_out_and_the_event_published(connection: Connection) -> None:
    document = deliveries.sample("time-entry-updated", 4301)
    document["metadata"]["request_body"] = json.dumps({"description": json.loads(nested(5000))})
    response = connection.deliver("/webhooks/time-entry-updated", document)
    assert response["statusCode"] == 200 and body_of(response)["status"] == "published"
    (event,) = connection.bus_events()
    assert event["detail"]["metadata"]["request_body_omitted"] is True
    assert "request_body" not in event["detail"]["metadata"]
    assert event["detail"]["payload"]["description"] == "renamed"


def test_a_request_body_too_deep_for_the_json_decoder_is_left_out_too(connection: Connection) -> None:
    document = deliveries.sample("time-entry-updated", 4302)
    document["metadata"]["request_body"] = nested(60000)  # the decoder itself gives up on this
    response = connection.deliver("/webhooks/time-entry-updated", document)
    assert response["statusCode"] == 200
    (event,) = connection.bus_events()
    assert event["detail"]["metadata"]["request_body_omitted"] is True


def test_a_5000_deep_payload_is_published_whole(connection: Connection) -> None:
    document = deliveries.sample("project-updated", 4303)
    document["payload"]["custom"] = json.loads(nested(5000))
    document["payload"]["custom_api_token"] = "kept"  # only a field named api_token is removed
    document["payload"]["deep"] = {"api_token": "dropped", "client_ids": ["1", "2"]}
    response = connection.deliver("/webhooks/project-updated", document)
    assert response["statusCode"] == 200
    (event,) = connection.bus_events()
    depth, value = 0, event["detail"]["payload"]["custom"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == 4999  # the innermost list is empty
    assert event["detail"]["payload"]["deep"] == {"client_ids": [1, 2]}


# --- "on the bus" means 2xx ----------------------------------------------------------------------
def fail_done_writes(times: int) -> list[int]:
    """The dedupe table refuses the next ``times`` "done" writes (Powertools' UpdateItem)."""
    failures: list[int] = []

    def refuse(**_: Any) -> None:
        if len(failures) < times:
            failures.append(1)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, "UpdateItem"
            )

    aws_clients.client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", refuse)
    return failures


def test_a_done_write_that_fails_after_the_publish_is_retried_and_the_answer_is_2xx(connection: Connection) -> None:
    # Given the "done" write fails twice after the event is on the bus
    document = deliveries.sample("project-updated", 4401)
    failures = fail_done_writes(2)
    # When Toggl delivers it, Then the answer is 2xx and the event is on the bus once
    response = connection.deliver("/webhooks/project-updated", document)
    assert response["statusCode"] == 200 and body_of(response)["status"] == "published"
    assert len(failures) == 2
    # And Toggl's redelivery is a duplicate: the retried write landed
    again = connection.deliver("/webhooks/project-updated", document)
    assert again["statusCode"] == 200 and body_of(again)["status"] == "duplicate"
    assert [e["detail"]["event_id"] for e in connection.bus_events()] == [4401]


def test_a_done_write_that_never_lands_is_logged_and_counted_never_a_5xx(
    connection: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    document = deliveries.sample("project-updated", 4402)
    fail_done_writes(100)
    response = connection.deliver("/webhooks/project-updated", document)
    assert response["statusCode"] == 200 and body_of(response)["status"] == "published"
    out = capsys.readouterr().out
    assert "dedupe record not written after a successful publish" in out
    assert any('"DedupeRecordFailed"' in line for line in out.splitlines() if '"_aws"' in line)
    # A redelivery while the record is still in progress is told to come back: not published again
    again = connection.deliver("/webhooks/project-updated", document)
    assert again["statusCode"] == 503 and body_of(again)["error"] == "delivery_in_progress"
    assert [e["detail"]["event_id"] for e in connection.bus_events()] == [4402]


# --- what an unauthenticated caller may read ----------------------------------------------------
def test_error_answers_on_the_public_routes_never_carry_an_arn(connection: Connection) -> None:
    secret_id = connection.stack["WebhookSigningSecret"]
    boto3.client("secretsmanager").delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
    fresh_containers()
    response = connection.deliver("/webhooks/project-created", deliveries.sample("project-created", 4501))
    assert response["statusCode"] == 503 and body_of(response)["error"] == "secret_unavailable"
    assert "arn:" not in response["body"] and secret_id not in response["body"]
    unconfigured = connection.invoke(
        "ProjectCreatedWebhookFunction",
        connection_event(connection, "/webhooks/project-created", b"{}", "x"),
        WEBHOOK_SECRET_ID="",
    )
    assert unconfigured["statusCode"] == 500 and "arn:" not in unconfigured["body"]


def test_event_ids_in_other_scripts_are_not_numbers(connection: Connection) -> None:
    for event_id in ("١٢", "²", "12a"):
        document = {**deliveries.sample("project-created", 1), "event_id": event_id}
        response = connection.deliver("/webhooks/project-created", document)
        assert response["statusCode"] == 400, event_id
    assert connection.bus_events() == []


def test_the_one_named_fault_a_done_write_that_never_lands_then_a_late_redelivery(connection: Connection) -> None:
    """docs/triggers.md, "Exactly once, and its one exception": when the "done" write never lands, a
    redelivery after the record's in-progress time has run out is published again."""
    document = deliveries.sample("project-updated", 4403)
    fn = "ProjectUpdatedWebhookFunction"
    body = deliveries.encode(document)
    event = connection_event(connection, "/webhooks/project-updated", body, deliveries.TEST_SECRET)
    fail_done_writes(100)
    # a function with two seconds left: its in-progress record lasts that long
    assert json.loads(connection.invoke(fn, event, timeout=2.0)["body"])["status"] == "published"
    deadline = time.monotonic() + 10
    while (again := connection.invoke(fn, event))["statusCode"] == 503 and time.monotonic() < deadline:
        time.sleep(0.2)  # "delivery in progress" until the record's time runs out
    assert json.loads(again["body"])["status"] == "published"
    assert [e["detail"]["event_id"] for e in connection.bus_events()] == [4403, 4403]


# --- no string breaks a delivery -----------------------------------------------------------------
LONE_SURROGATE, NUL = "\ud800", "\x00"


@pytest.mark.parametrize("character", [LONE_SURROGATE, NUL], ids=["lone surrogate", "NUL"])
def test_a_lone_surrogate_or_nul_anywhere_in_a_signed_delivery_never_gives_a_5xx(
    connection: Connection, character: str
) -> None:
    # Given a signed delivery with the character in its payload, its request body and a key
    document = deliveries.sample("time-entry-updated", 4601)
    document["payload"]["description"] = f"before{character}after"
    document["payload"][f"odd{character}key"] = character
    document["metadata"]["request_body"] = json.dumps({"description": f"x{character}y"})
    # When Toggl delivers it (json.dumps writes the character as a JSON escape, as Toggl would)
    response = connection.deliver("/webhooks/time-entry-updated", document)
    # Then it is published, the character replaced, and a redelivery is a duplicate
    assert response["statusCode"] == 200, response
    assert body_of(response)["status"] == "published"
    (event,) = connection.bus_events()
    assert event["detail"]["payload"]["description"] == "before\ufffdafter"
    assert event["detail"]["metadata"]["request_body"] == {"description": "x\ufffdy"}
    assert event["detail"]["payload"]["odd\ufffdkey"] == "\ufffd"
    again = connection.deliver("/webhooks/time-entry-updated", document)
    assert again["statusCode"] == 200 and body_of(again)["status"] == "duplicate"
    assert connection.bus_events() == []


# --- two edits in one second ---------------------------------------------------------------------
def test_two_events_for_one_time_entry_in_one_second_are_both_published_and_redeliveries_are_not(
    connection: Connection,
) -> None:
    # Given two distinct events (two event ids) for one time entry, both with the same `at`
    first = deliveries.sample("time-entry-updated", 4701)
    second = deliveries.sample("time-entry-updated", 4702)
    second["payload"]["description"] = "the final state"
    assert first["payload"]["id"] == second["payload"]["id"] and first["payload"]["at"] == second["payload"]["at"]
    # When Toggl delivers both, Then both are on the bus: the final state is not lost
    for document in (first, second):
        response = connection.deliver("/webhooks/time-entry-updated", document)
        assert body_of(response)["status"] == "published", document["event_id"]
    events = connection.bus_events()
    assert [e["detail"]["event_id"] for e in events] == [4701, 4702]
    assert events[-1]["detail"]["payload"]["description"] == "the final state"
    # And a redelivery of either is a duplicate
    for document in (second, first):
        response = connection.deliver("/webhooks/time-entry-updated", document)
        assert body_of(response)["status"] == "duplicate", document["event_id"]
    assert connection.bus_events() == []
