"""Every webhook behaviour of docs/design.md's numbered list ("A webhook delivery, in this order"),
through the real handlers as SAM invokes them (handler and environment from template.yaml, API
Gateway REST proxy events) on moto."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from local.emulator import template
from local.emulator.provision import TAP_RULE
from local.toggl_sandbox import deliveries
from tests.connection import Connection, body_of, fresh_containers
from toggl_connection.core import aws_clients
from toggl_connection.webhooks.signature import HEADER, sign

ROUTES = {
    "/webhooks/time-entry-created": "Time Entry Created",
    "/webhooks/time-entry-updated": "Time Entry Updated",
    "/webhooks/time-entry-deleted": "Time Entry Deleted",
    "/webhooks/project-created": "Project Created",
    "/webhooks/project-updated": "Project Updated",
    "/webhooks/project-deleted": "Project Deleted",
    "/webhooks/workspace-created": "Workspace Created",
}


def put_events_calls() -> list[int]:
    """Counts PutEvents calls made through the layer's EventBridge client."""
    calls: list[int] = []
    aws_clients.client("events").meta.events.register(
        "before-call.events.PutEvents", lambda **_: calls.append(1), unique_id="count-put-events"
    )
    return calls


@pytest.mark.parametrize(("path", "detail_type"), ROUTES.items())
def test_each_trigger_route_publishes_its_event_once(connection: Connection, path: str, detail_type: str) -> None:
    # Given a signed delivery of the route's own type
    trigger = path.rsplit("/", 1)[1]
    document = deliveries.sample(trigger, 1000 + len(path))
    calls = put_events_calls()
    # When Toggl posts it
    response = connection.deliver(path, document)
    # Then it is acknowledged and on the bus exactly once, with one PutEvents call
    assert response["statusCode"] == 200, response
    assert body_of(response) == {"status": "published", "event_id": document["event_id"], "detail_type": detail_type}
    events = connection.bus_events()
    assert [(e["source"], e["detail-type"], e["detail"]["event_id"]) for e in events] == [
        ("toggl.track", detail_type, document["event_id"])
    ]
    assert events[0]["time"] == document["created_at"][:19] + "Z"
    assert len(calls) == 1


def test_the_any_event_route_publishes_any_type(connection: Connection) -> None:
    tag = deliveries.envelope("tag", "deleted", {"id": 5, "name": "x"}, 424242, 5)
    response = connection.deliver("/webhooks", tag)
    assert response["statusCode"] == 200
    assert [e["detail-type"] for e in connection.bus_events()] == ["Tag Deleted"]


# 1. size
def test_a_body_over_256_kib_is_refused_with_413_and_nothing_published(connection: Connection) -> None:
    document = deliveries.sample("time-entry-created", 11)
    document["payload"]["description"] = "x" * (256 * 1024)
    response = connection.deliver("/webhooks/time-entry-created", document)
    assert response["statusCode"] == 413
    assert body_of(response)["error"] == "payload_too_large"
    assert connection.bus_events() == []


def test_a_base64_body_over_256_kib_is_refused_with_413(connection: Connection) -> None:
    body = deliveries.encode({"padding": "x" * (256 * 1024)})
    response = connection.post("/webhooks", body, deliveries.signed_headers(body), binary=True)
    assert response["statusCode"] == 413


def test_a_body_of_exactly_256_kib_is_accepted(connection: Connection) -> None:
    document = deliveries.sample("time-entry-created", 12)
    document["payload"]["description"] = ""
    room = 256 * 1024 - len(deliveries.encode(document))
    document["payload"]["description"] = "x" * room
    assert len(deliveries.encode(document)) == 256 * 1024
    response = connection.deliver("/webhooks/time-entry-created", document)
    assert response["statusCode"] == 200, response
    (event,) = connection.bus_events()
    assert len(event["detail"]["payload"]["description"]) == room


# 2. signature
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {HEADER: ""},
        {HEADER: "sha256=not-hex"},
        {HEADER: "sha1=" + "0" * 64},
        {HEADER: "sha256=" + "0" * 64},
    ],
    ids=["missing", "empty", "not-hex", "wrong-scheme", "wrong-digest"],
)
def test_missing_malformed_or_wrong_signatures_get_401_and_nothing_is_published(
    connection: Connection, headers: dict[str, str]
) -> None:
    body = deliveries.encode(deliveries.sample("project-created", 13))
    response = connection.post("/webhooks/project-created", body, {"Content-Type": "application/json", **headers})
    assert response["statusCode"] == 401
    assert body_of(response)["error"] == "invalid_signature"
    assert connection.bus_events() == []


def test_a_signature_made_with_another_secret_gets_401(connection: Connection) -> None:
    response = connection.deliver("/webhooks/project-created", deliveries.sample("project-created", 14), "not-ours")
    assert response["statusCode"] == 401
    assert connection.bus_events() == []


def test_a_tampered_body_gets_401(connection: Connection) -> None:
    body = deliveries.encode(deliveries.sample("project-created", 15))
    headers = deliveries.signed_headers(body)
    response = connection.post("/webhooks/project-created", body.replace(b"Website", b"Webs1te"), headers)
    assert response["statusCode"] == 401


def test_the_signature_is_checked_before_the_body_is_parsed(connection: Connection) -> None:
    response = connection.post("/webhooks", b"not json at all", {HEADER: "sha256=" + "1" * 64})
    assert response["statusCode"] == 401


@pytest.mark.parametrize("name", ["x-webhook-signature-256", "X-WEBHOOK-SIGNATURE-256", "X-Webhook-Signature-256"])
def test_the_signature_header_is_found_in_any_letter_case(connection: Connection, name: str) -> None:
    body = deliveries.encode(deliveries.sample("project-created", 16))
    response = connection.post("/webhooks/project-created", body, {name: sign(body, deliveries.TEST_SECRET)})
    assert response["statusCode"] == 200


def test_a_header_only_in_multi_value_headers_is_found(connection: Connection) -> None:
    from local.emulator import apigw

    body = deliveries.encode(deliveries.sample("project-created", 17))
    event = apigw.proxy_event("POST", "/webhooks/project-created", body)
    event["multiValueHeaders"] = {"x-webhook-signature-256": [sign(body, deliveries.TEST_SECRET)]}
    assert connection.request(event)["statusCode"] == 200


def test_a_base64_encoded_body_is_decoded_before_the_signature_check(connection: Connection) -> None:
    body = deliveries.encode(deliveries.sample("project-updated", 18))
    response = connection.post("/webhooks/project-updated", body, deliveries.signed_headers(body), binary=True)
    assert response["statusCode"] == 200
    assert [e["detail"]["event_id"] for e in connection.bus_events()] == [18]


def test_invalid_base64_is_a_400_not_a_crash(connection: Connection) -> None:
    from local.emulator import apigw

    event = apigw.proxy_event("POST", "/webhooks", "%%%not base64%%%", {HEADER: "sha256=" + "1" * 64})
    event["isBase64Encoded"] = True
    assert connection.request(event)["statusCode"] == 400


# 3. signed but not an envelope
@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'"ping"', b"{}", b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": {}}'],
)
def test_signed_bodies_that_are_not_envelopes_get_400(connection: Connection, body: bytes) -> None:
    response = connection.post("/webhooks", body, deliveries.signed_headers(body))
    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "invalid_body"
    assert body_of(response)["message"]
    assert connection.bus_events() == []


# 4. PING
def test_a_ping_with_a_validation_code_echoes_it(connection: Connection) -> None:
    response = connection.deliver("/webhooks/time-entry-created", deliveries.ping("code-1234"))
    assert response["statusCode"] == 200
    assert body_of(response) == {"validation_code": "code-1234"}
    assert connection.bus_events() == []


def test_a_ping_without_a_validation_code_gets_200(connection: Connection) -> None:
    response = connection.deliver("/webhooks", deliveries.ping())
    assert response["statusCode"] == 200
    assert "validation_code" not in body_of(response)
    assert connection.bus_events() == []


def test_an_unsigned_ping_is_refused(connection: Connection) -> None:
    body = deliveries.encode(deliveries.ping("code-1234"))
    assert connection.post("/webhooks", body, {"Content-Type": "application/json"})["statusCode"] == 401


# 5. dedupe
def test_a_redelivered_event_is_acknowledged_but_not_published_again(connection: Connection) -> None:
    document = deliveries.sample("time-entry-updated", 19)
    first = connection.deliver("/webhooks/time-entry-updated", document)
    second = connection.deliver("/webhooks/time-entry-updated", document)
    assert (first["statusCode"], second["statusCode"]) == (200, 200)
    assert body_of(second)["status"] == "duplicate"
    assert len(connection.bus_events()) == 1


def test_an_event_sent_to_two_routes_is_published_once(connection: Connection) -> None:
    document = deliveries.sample("project-deleted", 20)
    assert connection.deliver("/webhooks/project-deleted", document)["statusCode"] == 200
    assert body_of(connection.deliver("/webhooks", document))["status"] == "duplicate"
    assert len(connection.bus_events()) == 1


def test_the_dedupe_record_lasts_seven_days(connection: Connection) -> None:
    connection.deliver("/webhooks/project-created", deliveries.sample("project-created", 21))
    table = connection.stack["IdempotencyTable"]
    (item,) = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert item["status"]["S"] == "COMPLETED"
    import time

    assert abs(int(item["expiration"]["N"]) - (time.time() + 7 * 86400)) < 60


# 6. publishing fails
def test_a_failed_publish_answers_5xx_and_the_redelivery_publishes(connection: Connection) -> None:
    # Given the bus is gone (EventBridge refuses the event)
    events = boto3.client("events")
    bus = connection.stack["EventBus"]
    events.remove_targets(Rule=TAP_RULE, EventBusName=bus, Ids=["tap"])
    events.delete_rule(Name=TAP_RULE, EventBusName=bus)
    events.delete_event_bus(Name=bus)
    document = deliveries.sample("time-entry-created", 22)
    # When Toggl delivers, it is told to deliver again
    failed = connection.deliver("/webhooks/time-entry-created", document)
    assert failed["statusCode"] == 503
    assert body_of(failed)["error"] == "publish_failed"
    # And nothing was remembered as done
    assert boto3.client("dynamodb").scan(TableName=connection.stack["IdempotencyTable"])["Items"] == []
    # When the bus is back and Toggl redelivers
    events.create_event_bus(Name=bus)
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=connection.stack.tap_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events.put_rule(Name=TAP_RULE, EventBusName=bus, EventPattern=json.dumps({"source": ["toggl.track"]}))
    events.put_targets(Rule=TAP_RULE, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    again = connection.deliver("/webhooks/time-entry-created", document)
    # Then it is published, once
    assert again["statusCode"] == 200 and body_of(again)["status"] == "published"
    assert [e["detail"]["event_id"] for e in connection.bus_events()] == [22]


def test_failed_entries_in_a_put_events_answer_are_a_5xx(connection: Connection) -> None:
    # Fault injection at the SDK boundary: EventBridge answers 200 but refuses the entry.
    def refuse(parsed: dict[str, Any], **_: Any) -> None:
        parsed["FailedEntryCount"] = 1
        parsed["Entries"] = [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]

    aws_clients.client("events").meta.events.register("after-call.events.PutEvents", refuse, unique_id="refuse")
    document = deliveries.sample("project-updated", 23)
    response = connection.deliver("/webhooks/project-updated", document)
    assert response["statusCode"] == 503
    assert "InternalFailure" in body_of(response)["message"]
    aws_clients.client("events").meta.events.unregister("after-call.events.PutEvents", unique_id="refuse")
    assert body_of(connection.deliver("/webhooks/project-updated", document))["status"] == "published"


# 7. misrouted
def test_an_event_on_another_types_route_is_published_under_its_true_type_with_a_warning(
    connection: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    document = deliveries.sample("project-created", 24)
    response = connection.deliver("/webhooks/time-entry-created", document)
    assert response["statusCode"] == 200
    assert [e["detail-type"] for e in connection.bus_events()] == ["Project Created"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    warnings = [line for line in lines if line.get("level") == "WARNING"]
    assert warnings and warnings[0]["route_detail_type"] == "Time Entry Created"
    assert any("WebhookMisrouted" in line for line in lines)


# rotation
def test_during_a_rotation_the_previous_secret_is_still_accepted(connection: Connection) -> None:
    # Given the function has read the secret, and then it is rotated
    assert connection.deliver("/webhooks", deliveries.sample("project-created", 25))["statusCode"] == 200
    boto3.client("secretsmanager").put_secret_value(
        SecretId=connection.stack["WebhookSigningSecret"], SecretString="the-new-secret"
    )
    fresh_containers()  # a new container reads both versions
    # Then deliveries signed with either version are accepted, and others are not
    assert connection.deliver("/webhooks", deliveries.sample("project-created", 26))["statusCode"] == 200
    assert (
        connection.deliver("/webhooks", deliveries.sample("project-created", 27), "the-new-secret")["statusCode"] == 200
    )
    assert connection.deliver("/webhooks", deliveries.sample("project-created", 28), "neither")["statusCode"] == 401


def test_a_warm_container_picks_up_a_rotated_secret(connection: Connection) -> None:
    assert connection.deliver("/webhooks", deliveries.sample("project-created", 29))["statusCode"] == 200
    boto3.client("secretsmanager").put_secret_value(
        SecretId=connection.stack["WebhookSigningSecret"], SecretString="rotated-while-warm"
    )
    # The cached value is stale; a mismatch makes the function look again (rate limited).
    response = connection.deliver("/webhooks", deliveries.sample("project-created", 30), "rotated-while-warm")
    assert response["statusCode"] == 200


# observability and secrecy
def test_logs_carry_the_event_but_never_the_secret_the_signature_or_tokens(
    connection: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    document = deliveries.sample("workspace-created", 31)
    body = deliveries.encode(document)
    headers = deliveries.signed_headers(body)
    assert connection.post("/webhooks/workspace-created", body, headers)["statusCode"] == 200
    connection.post("/webhooks/workspace-created", body, {HEADER: "sha256=" + "2" * 64})
    out = capsys.readouterr().out
    published = [json.loads(line) for line in out.splitlines() if '"event published"' in line]
    assert published and published[0]["event_id"] == 31 and published[0]["entity"] == "workspace"
    for secret in (deliveries.TEST_SECRET, headers[HEADER], "workspace-token-must-not-leak", "2" * 64):
        assert secret not in out
    assert "workspace-token-must-not-leak" not in json.dumps(connection.bus_events())
    assert '"WebhookPublished"' in out and '"reason":"invalid_signature"' in out


def test_every_response_is_json_with_error_and_message_when_it_fails(connection: Connection) -> None:
    for response in (
        connection.post("/webhooks", b"{}", {}),
        connection.post("/webhooks", b"{}", deliveries.signed_headers(b"{}")),
    ):
        assert response["headers"]["Content-Type"] == "application/json"
        assert set(body_of(response)) == {"error", "message"}


def test_a_missing_secret_is_a_5xx_so_toggl_retries(connection: Connection) -> None:
    boto3.client("secretsmanager").delete_secret(
        SecretId=connection.stack["WebhookSigningSecret"], ForceDeleteWithoutRecovery=True
    )
    response = connection.deliver("/webhooks", deliveries.sample("project-created", 32))
    assert response["statusCode"] == 503
    assert body_of(response)["error"] == "secret_unavailable"
    assert deliveries.TEST_SECRET not in response["body"]


def test_the_checked_in_events_are_replays_until_refreshed_then_what_the_routes_accept(
    connection: Connection,
) -> None:
    from local.generators.sample_events import refreshed

    names = sorted(p.name for p in (template.ROOT / "events").glob("webhook-*.json"))
    # Posted as they are (dated 2023), they are acknowledged as replays and publish nothing
    for name in names:
        event = json.loads((template.ROOT / "events" / name).read_text())
        response = connection.request(event)
        assert response["statusCode"] == 200, (name, response)
        assert body_of(response).get("status") == "expired" or "validation_code" in body_of(response)
    assert connection.bus_events() == []
    # Dated now and signed again, each is published
    for name in names:
        event = refreshed(json.loads((template.ROOT / "events" / name).read_text()))
        assert connection.request(event)["statusCode"] == 200
    detail_types = sorted(e["detail-type"] for e in connection.bus_events())
    assert detail_types == sorted([*ROUTES.values(), "Tag Created"])


def test_base64_helper_round_trip_is_exact() -> None:
    body = deliveries.encode(deliveries.sample("project-created", 1))
    assert base64.b64decode(base64.b64encode(body)) == body
