"""Exactly-once bookkeeping on the real DynamoDB API (moto)."""

from __future__ import annotations

import boto3
import pytest

from local.emulator.lambda_runtime import LambdaContext
from tests.connection import Connection
from toggl_connection.core import idempotency
from toggl_connection.core.errors import DeliveryInProgress, PublishFailed


def test_work_runs_once_per_key_and_the_repeat_is_marked(connection: Connection) -> None:
    table = connection.stack["IdempotencyTable"]
    runs: list[int] = []
    context = LambdaContext(function_name="f")

    def work() -> dict[str, int]:
        runs.append(1)
        return {"published": 1}

    first = idempotency.once("k1", work, table, context)
    second = idempotency.once("k1", work, table, context)
    other = idempotency.once("k2", work, table, context)
    assert (first["duplicate"], second["duplicate"], other["duplicate"]) == (False, True, False)
    assert second["published"] == 1 and len(runs) == 2


def test_a_delivery_arriving_while_the_same_event_is_in_flight_is_told_to_retry(connection: Connection) -> None:
    table = connection.stack["IdempotencyTable"]
    context = LambdaContext(function_name="f")
    seen: list[DeliveryInProgress] = []

    def work() -> dict[str, int]:
        # A second delivery of the same event arrives while the first is still publishing.
        try:
            idempotency.once("k3", lambda: {"published": 1}, table, context)
        except DeliveryInProgress as exc:
            seen.append(exc)
        return {"published": 1}

    assert idempotency.once("k3", work, table, context)["duplicate"] is False
    assert len(seen) == 1 and seen[0].status == 503


def test_a_failure_forgets_the_key(connection: Connection) -> None:
    table = connection.stack["IdempotencyTable"]
    context = LambdaContext(function_name="f")

    def fail() -> dict[str, int]:
        raise PublishFailed("no")

    with pytest.raises(PublishFailed):
        idempotency.once("k4", fail, table, context)
    assert boto3.client("dynamodb").scan(TableName=table)["Items"] == []
    assert idempotency.once("k4", lambda: {"published": 1}, table, context)["duplicate"] is False
