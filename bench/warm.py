"""Warm costs, measured side by side on moto in server mode (the same endpoint for both sides):
one webhook invocation of ours (signature, parse, dedupe, publish) against a minimal
hand-written handler (HMAC, JSON, one PutEvents); the dedupe's own cost; PutEvents calls per
event; Secrets Manager reads per 1000 invocations."""

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


def minimal_handler(bus: str, secret: bytes) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The simplest correct-looking receiver: what a peer without dedupe would write."""
    client = boto3.client("events")

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        body = event["body"].encode()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, event["headers"]["X-Webhook-Signature-256"]):
            return {"statusCode": 401}
        document = json.loads(body)
        client.put_events(
            Entries=[{"Source": "toggl.track", "DetailType": "x", "Detail": json.dumps(document), "EventBusName": bus}]
        )
        return {"statusCode": 200}

    return handle


def _per_call(fn: Callable[[Any], Any], events: list[Any]) -> float:
    samples = []
    for event in events:
        started = time.perf_counter()
        result = fn(event)
        samples.append(time.perf_counter() - started)
        if isinstance(result, dict) and result.get("statusCode") not in (200, None):
            raise RuntimeError(f"benchmark call failed: {result}")
    return statistics.median(samples)


def measure(stack_names: dict[str, str], n: int = 300, rounds: int = 3) -> dict[str, Any]:
    from toggl_connection.core import aws_clients, idempotency, secrets

    fn = template.function("TimeEntryCreatedWebhookFunction")
    env = template.environment(fn, stack_names)
    os.environ.update(env)
    handler = _load(fn)
    context = LambdaContext(function_name=fn.logical_id, timeout_seconds=900)
    ours, baseline, dedupe_only = [], [], []
    base = minimal_handler(env["EVENT_BUS_NAME"], deliveries.TEST_SECRET.encode())
    with quiet():
        _per_call(lambda e: handler(e, context), _events(20, 10**9))  # warm both sides up
        _per_call(base, _events(20, 2 * 10**9))
        for r in range(rounds):  # alternate, so that a noisy machine affects both alike
            ours.append(_per_call(lambda e: handler(e, context), _events(n, 10**10 * (r + 1))))
            baseline.append(_per_call(base, _events(n, 10**11 * (r + 1))))
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
        _per_call(lambda e: handler(e, context), _events(1000, 10**12))
    ours_s, base_s, dedupe_s = statistics.median(ours), statistics.median(baseline), statistics.median(dedupe_only)
    return {
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
