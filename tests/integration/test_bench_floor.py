"""``make bench`` compares the warm webhook with a bare exactly-once floor written in plain boto3.
The comparison means something only while the floor does the same AWS work as the function: the
same calls in the same order on a new event, a claim that really refuses a second claim, and the
same record left behind. These tests hold the floor to that."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError

from bench import warm
from local.toggl_sandbox import deliveries
from tests.connection import Connection


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS operation made while the test runs, by name, in order."""
    calls: list[str] = []
    make_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def recorded(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return make_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recorded)
    yield calls


def _delivery(entry_id: int) -> dict[str, Any]:
    document = deliveries.sample("time-entry-created", entry_id)
    document["payload"]["id"] = document["metadata"]["time_entry_id"] = entry_id
    return document


def _floor(connection: Connection) -> Any:
    return warm.floor_handler(
        connection.stack["EventBus"], connection.stack["IdempotencyTable"], deliveries.TEST_SECRET.encode()
    )


def _event(document: dict[str, Any]) -> dict[str, Any]:
    body = deliveries.encode(document)
    return {"body": body.decode(), "headers": deliveries.signed_headers(body)}


def test_the_floor_makes_the_calls_the_webhook_makes_on_a_new_event(
    connection: Connection, aws_calls: list[str]
) -> None:
    connection.deliver(warm.ROUTE, _delivery(1))  # the function's first call also reads its secret
    aws_calls.clear()
    assert connection.deliver(warm.ROUTE, _delivery(2))["statusCode"] == 200
    ours = list(aws_calls)
    aws_calls.clear()
    assert _floor(connection)(_event(_delivery(3)))["statusCode"] == 200
    assert aws_calls == ours == ["PutItem", "PutEvents", "UpdateItem"]


def test_the_floor_leaves_the_record_the_webhook_leaves(connection: Connection) -> None:
    connection.deliver(warm.ROUTE, _delivery(4))
    _floor(connection)(_event(_delivery(5)))
    items = boto3.client("dynamodb").scan(TableName=connection.stack["IdempotencyTable"])["Items"]
    shapes = {frozenset(item) for item in items}
    statuses = {item["status"]["S"] for item in items}
    assert len(items) == 2 and len(shapes) == 1 and statuses == {"COMPLETED"}


def test_the_floors_claim_refuses_a_second_claim_of_the_same_event(connection: Connection) -> None:
    floor = _floor(connection)
    floor(_event(_delivery(6)))
    with pytest.raises(ClientError) as refused:
        floor(_event(_delivery(6)))
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert len(connection.bus_events(wait=True)) == 1


def test_the_floor_marks_nothing_done_when_its_event_is_refused(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the function's publisher does: an entry EventBridge refuses is not "done", the claim goes."""
    make_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def refusing(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "PutEvents":  # the fault: EventBridge takes the call and refuses the entry
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "no"}]}
        return make_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing)
    assert _floor(connection)(_event(_delivery(7)))["statusCode"] == 503
    assert boto3.client("dynamodb").scan(TableName=connection.stack["IdempotencyTable"])["Items"] == []
