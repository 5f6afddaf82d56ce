"""Warm costs, measured side by side on moto in server mode (the same endpoint for every side),
call by call in turn so that a noisy machine slows every side alike: one webhook invocation of
ours (signature, parse, dedupe, publish) against a minimal hand-written handler (HMAC, JSON, one
PutEvents) and against the bare exactly-once floor (the same, with the dedupe's claim and "done"
writes in plain boto3); the dedupe's own cost; PutEvents calls per event; Secrets Manager reads
per 1000 invocations."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3

from local.emulator import apigw, template
from local.emulator.lambda_runtime import LambdaContext
from local.toggl_sandbox import deliveries

ROUTE = "/webhooks/time-entry-created"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Logs and EMF metrics go nowhere while timing (both sides alike)."""
    from toggl_connection.core.observability import logger

    sink = io.StringIO()
    logger.registered_handler.setStream(sink)  # type: ignore[attr-defined]
    with contextlib.redirect_stdout(sink):
        yield


def _events(n: int, start: int) -> list[dict[str, Any]]:
    """``n`` new time entries' Created deliveries (each its own entry: one change each)."""
    events = []
    for i in range(n):
        document = deliveries.sample("time-entry-created", start + i)
        document["payload"]["id"] = document["metadata"]["time_entry_id"] = start + i
        body = deliveries.encode(document)
        events.append(apigw.proxy_event("POST", ROUTE, body, deliveries.signed_headers(body), resource=ROUTE))
    return events


def _verified(event: dict[str, Any], secret: bytes) -> Any:
    """The delivery's document if its signature is right, else None: the hand-written sides' check."""
    body = event["body"].encode()
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, event["headers"]["X-Webhook-Signature-256"]):
        return None
    return json.loads(body)


def minimal_handler(bus: str, secret: bytes) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The simplest correct-looking receiver: what a peer without dedupe would write."""
    client = boto3.client("events")

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        document = _verified(event, secret)
        if document is None:
            return {"statusCode": 401}
        client.put_events(
            Entries=[{"Source": "toggl.track", "DetailType": "x", "Detail": json.dumps(document), "EventBusName": bus}]
        )
        return {"statusCode": 200}

    return handle


def floor_handler(bus: str, table: str, secret: bytes) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The bare exactly-once floor: the minimal handler with the calls our dedupe makes on a new
    event, in plain boto3 and nothing else: the claim (an in-progress record, put on condition
    that no live one exists), the PutEvents, the "done" write (the result kept with the record)."""
    from toggl_connection.core.settings import DEDUPE_SECONDS

    dynamodb, events = boto3.client("dynamodb"), boto3.client("events")
    names = {"#id": "id", "#expiry": "expiration", "#status": "status", "#in_progress_expiry": "in_progress_expiration"}
    claim = (
        "attribute_not_exists(#id) OR #expiry < :now OR "
        "(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)"
    )

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        document = _verified(event, secret)
        if document is None:
            return {"statusCode": 401}
        payload = document["payload"]
        # Not the function's key (it hashes the change's identity), but one record per change alike
        key = {"id": {"S": f"toggl-event#time_entry:{payload['id']}:{payload['at']}"}}
        now = time.time()
        expiry = {"N": str(int(now) + DEDUPE_SECONDS)}
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "expiration": expiry,
                "status": {"S": "INPROGRESS"},
                "in_progress_expiration": {"N": str(int(now * 1000) + 60_000)},
            },
            ConditionExpression=claim,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                ":now": {"N": str(int(now))},
                ":now_in_millis": {"N": str(int(now * 1000))},
                ":inprogress": {"S": "INPROGRESS"},
            },
        )
        metadata = document["metadata"]  # the DetailType ours sends: the bus's rules see the same
        detail_type = f"{metadata['model'].replace('_', ' ')} {metadata['action']}".title()
        sent = events.put_events(
            Entries=[
                {
                    "Source": "toggl.track",
                    "DetailType": detail_type,
                    "Detail": json.dumps(document, separators=(",", ":"), ensure_ascii=False),
                    "EventBusName": bus,
                }
            ]
        )
        if sent.get("FailedEntryCount"):  # a refused event is never marked done, as ours does not
            dynamodb.delete_item(TableName=table, Key=key)
            return {"statusCode": 503}
        result = {"published": 1, "at": payload["at"], "event_id": document["event_id"], "duplicate": False}
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #data = :data, #expiry = :expiry, #status = :status",
            ExpressionAttributeNames={"#data": "data", "#expiry": "expiration", "#status": "status"},
            ExpressionAttributeValues={
                ":data": {"S": json.dumps(result)},
                ":expiry": expiry,
                ":status": {"S": "COMPLETED"},
            },
        )
        return {"statusCode": 200}

    return handle


def _check(result: Any) -> None:
    if isinstance(result, dict) and result.get("statusCode") not in (200, None):
        raise RuntimeError(f"benchmark call failed: {result}")


def _side_by_side(sides: list[tuple[Callable[[Any], Any], list[Any]]]) -> list[float]:
    """Each side's median time per call, the sides called in turn (one call of each, then again),
    each step starting with the next side, so that none always follows the same one."""
    samples: list[list[float]] = [[] for _ in sides]
    for i, step in enumerate(zip(*(events for _, events in sides), strict=True)):
        for k in range(len(sides)):
            side = (i + k) % len(sides)
            started = time.perf_counter()
            result = sides[side][0](step[side])
            samples[side].append(time.perf_counter() - started)
            _check(result)
    return [statistics.median(times) for times in samples]


def _per_call(fn: Callable[[Any], Any], events: list[Any]) -> float:
    samples = []
    for event in events:
        started = time.perf_counter()
        result = fn(event)
        samples.append(time.perf_counter() - started)
        _check(result)
    return statistics.median(samples)


def measure(stack_names: dict[str, str], n: int = 150, rounds: int = 6) -> dict[str, Any]:
    from toggl_connection.core import aws_clients, idempotency, secrets

    fn = template.function("TimeEntryCreatedWebhookFunction")
    env = template.environment(fn, stack_names)
    os.environ.update(env)
    handler = _load(fn)
    context = LambdaContext(function_name=fn.logical_id, timeout_seconds=900)
    ours: list[float] = []
    baseline: list[float] = []
    floor: list[float] = []
    dedupe_only: list[float] = []
    secret = deliveries.TEST_SECRET.encode()
    base = minimal_handler(env["EVENT_BUS_NAME"], secret)
    bare = floor_handler(env["EVENT_BUS_NAME"], env["IDEMPOTENCY_TABLE_NAME"], secret)
    with quiet():
        _per_call(lambda e: handler(e, context), _events(20, 10**9))  # warm every side up
        _per_call(base, _events(20, 2 * 10**9))
        _per_call(bare, _events(20, 3 * 10**9))
        for r in range(rounds):
            sides = [
                (lambda e: handler(e, context), _events(n, 10**10 * (r + 1))),
                (base, _events(n, 10**11 * (r + 1))),
                (bare, _events(n, 10**12 * (r + 1))),
            ]
            for times, median in zip((ours, baseline, floor), _side_by_side(sides), strict=True):
                times.append(median)
            keys = [f"bench-{r}-{i}" for i in range(n)]
            dedupe_only.append(
                _per_call(lambda k: idempotency.once(k, lambda: {}, env["IDEMPOTENCY_TABLE_NAME"], context), keys)
            )

        calls = {"PutEvents": 0, "GetSecretValue": 0, "DynamoDBWrite": 0, "DynamoDBRead": 0}

        def counter(name: str) -> Callable[..., None]:
            return lambda **_: calls.__setitem__(name, calls[name] + 1)

        aws_clients.forget_clients()
        secrets.forget_secrets()
        idempotency.forget_stores()
        aws_clients.client("events").meta.events.register("before-call.events.PutEvents", counter("PutEvents"))
        aws_clients.client("secretsmanager").meta.events.register(
            "before-call.secretsmanager.GetSecretValue", counter("GetSecretValue")
        )
        for operation, kind in (
            ("PutItem", "DynamoDBWrite"),
            ("UpdateItem", "DynamoDBWrite"),
            ("DeleteItem", "DynamoDBWrite"),
            ("GetItem", "DynamoDBRead"),
        ):
            aws_clients.client("dynamodb").meta.events.register(f"before-call.dynamodb.{operation}", counter(kind))
        _per_call(lambda e: handler(e, context), _events(1000, 10**13))
    ours_s, base_s, dedupe_s = statistics.median(ours), statistics.median(baseline), statistics.median(dedupe_only)
    floor_s = statistics.median(floor)
    return {
        # Each round's own ratio (its sides timed in the same seconds), the median of those.
        "warm_webhook_floor_ratio": round(statistics.median(o / f for o, f in zip(ours, floor, strict=True)), 3),
        "warm_floor_ms": round(floor_s * 1000, 2),
        "warm_webhook_ratio": round((ours_s - dedupe_s) / base_s, 3),
        "warm_webhook_ratio_with_dedupe": round(ours_s / base_s, 3),
        "warm_webhook_ms": round(ours_s * 1000, 2),
        "warm_minimal_handler_ms": round(base_s * 1000, 2),
        "warm_dedupe_ms": round(dedupe_s * 1000, 2),
        "put_events_per_event": round(calls["PutEvents"] / 1000, 3),
        "webhook_dynamodb_writes_per_event": round(calls["DynamoDBWrite"] / 1000, 3),
        "webhook_dynamodb_reads_per_event": round(calls["DynamoDBRead"] / 1000, 3),
        "secret_fetches_per_1000_invocations": calls["GetSecretValue"],
    }


def _load(fn: template.Function) -> Any:
    import importlib
    import sys

    sys.path.insert(0, str(fn.code_dir))
    return getattr(importlib.import_module(fn.module), fn.attribute)
