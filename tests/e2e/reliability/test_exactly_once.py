"""Nothing lost, nothing doubled, under load and faults: 1,000 deliveries from 16 concurrent
senders through the local API over HTTP, a quarter of them redelivered and out of order, with
10% of PutEvents calls failing in front of the emulated EventBridge, 5% of the dedupe "done"
writes refused once after a successful publish, and every failed delivery delivered again as
Toggl would. Mixed in: replays of old deliveries (never published), deliveries whose request
body nests thousands of levels deep (published, the body left out) and deliveries carrying lone
UTF-16 surrogates and NUL characters (published, those characters replaced)."""

from __future__ import annotations

import json
import os
import queue
import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.emulator import template
from local.emulator.api_server import ApiServer
from local.emulator.provision import drain, provision
from local.toggl_sandbox import deliveries
from tests.e2e.reliability.fault_proxy import FaultyAws
from toggl_connection.webhooks.triggers import TRIGGERS

UNIQUE = int(os.environ.get("RELIABILITY_UNIQUE", "1000"))
REDELIVERED = UNIQUE // 4
SENDERS = 16
MAX_ATTEMPTS = 30


@pytest.fixture
def stack(moto_url: str, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    # Thousands of invocations: keep their logs to warnings and their EMF metrics off.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    from toggl_connection.core.observability import logger

    level = logger.log_level
    logger.setLevel("WARNING")
    stack = provision(webhook_secret=deliveries.TEST_SECRET)
    proxy = FaultyAws(moto_url, failure_rate=0.10, done_write_failure_rate=0.05)
    # The functions reach EventBridge and DynamoDB through the proxy; Secrets Manager goes to moto.
    base = {
        **aws_env,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ENDPOINT_URL_EVENTS": proxy.url,
        "AWS_ENDPOINT_URL_DYNAMODB": proxy.url,
    }

    def environment(fn: template.Function) -> dict[str, str]:
        return {**base, **template.environment(fn, stack.names)}

    server = ApiServer(environment, port=0).start()
    yield {"api": server.url, "stack": stack, "proxy": proxy}
    server.stop()
    proxy.stop()
    logger.setLevel(level)


DEEP_EVERY = 50  # one delivery in 50 has a request body nested 5,000 levels deep
ODD_EVERY = 7  # one in 7 carries a lone surrogate or a NUL (in turn) in its payload and request body
ODD = ("\ud800", "\x00")
REPLAYS = 100  # signed deliveries of 2019, replayed


def _deliveries() -> list[tuple[str, bytes, int]]:
    """(path, body, event_id): every trigger, on its own route and on the any-event route."""
    made = []
    for i in range(UNIQUE):
        trigger = TRIGGERS[i % len(TRIGGERS)]
        event_id, entity_id = 9_000_000_000 + i, 500_000 + i  # a new workspace each, too
        document = deliveries.envelope(
            trigger.entity,
            trigger.action,
            {"id": entity_id, "name": f"n{i}"},
            event_id,
            entity_id,
            workspace_id=entity_id if trigger.entity == "workspace" else deliveries.WORKSPACE_ID,
        )
        if i % DEEP_EVERY == 0:
            document["metadata"]["request_body"] = "[" * 5000 + "]" * 5000
        elif i % ODD_EVERY == 0:
            odd = ODD[i // ODD_EVERY % 2]
            document["payload"]["name"] = f"n{odd}{i}"
            document["metadata"]["request_body"] = json.dumps({"name": f"n{odd}"})  # as JSON escapes
        path = trigger.path if i % 3 else "/webhooks"
        made.append((path, deliveries.encode(document), event_id))
    return made


def _replays() -> list[tuple[str, bytes, int]]:
    made = []
    for i in range(REPLAYS):
        document = deliveries.sample("project-updated", 8_000_000_000 + i, "2019-03-01T10:00:00.000Z")
        made.append(("/webhooks/project-updated", deliveries.encode(document), 8_000_000_000 + i))
    return made


def test_every_unique_event_is_on_the_bus_exactly_once(stack: dict[str, Any]) -> None:
    # Given 2,000 deliveries, a quarter of them twice, shuffled
    originals = _deliveries()
    rng = random.Random(11)
    work = originals + rng.sample(originals, REDELIVERED) + _replays()
    rng.shuffle(work)
    pending: queue.Queue[tuple[str, bytes, int, int]] = queue.Queue()
    for path, body, event_id in work:
        pending.put((path, body, event_id, 1))
    statuses: Counter[int] = Counter()
    gave_up: list[int] = []
    lock = threading.Lock()

    # When 16 senders post them, redelivering whatever was not acknowledged, as Toggl does
    def sender() -> None:
        session = requests.Session()
        while True:
            try:
                path, body, event_id, attempt = pending.get_nowait()
            except queue.Empty:
                return
            response = session.post(stack["api"] + path, data=body, headers=deliveries.signed_headers(body), timeout=60)
            with lock:
                statuses[response.status_code] += 1
            if response.status_code != 200:
                if attempt >= MAX_ATTEMPTS:
                    gave_up.append(event_id)
                else:
                    pending.put((path, body, event_id, attempt + 1))

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    # Then every delivery was acknowledged in the end, and every unique event is on the bus once
    assert gave_up == []
    assert set(statuses) <= {200, 503}, statuses
    assert stack["proxy"].failed > 0 and statuses[503] > 0  # the faults really happened
    assert stack["proxy"].done_writes_refused > 0
    published = drain(stack["stack"].tap_queue_url)
    on_bus = Counter(event["detail"]["event_id"] for event in published)
    assert sorted(on_bus) == sorted(event_id for _, _, event_id in originals)  # no replay among them
    assert max(on_bus.values()) == 1
    omitted = {e["detail"]["event_id"] for e in published if e["detail"]["metadata"].get("request_body_omitted")}
    assert omitted == {event_id for i, (_, _, event_id) in enumerate(originals) if i % DEEP_EVERY == 0}
    replaced = {e["detail"]["event_id"] for e in published if "\ufffd" in e["detail"]["payload"].get("name", "")}
    assert replaced == {
        event_id for i, (_, _, event_id) in enumerate(originals) if i % ODD_EVERY == 0 and i % DEEP_EVERY != 0
    }
    print(
        f"\n{sum(statuses.values())} requests: {dict(statuses)}; PutEvents calls {stack['proxy'].put_events}, "
        f"{stack['proxy'].failed} failed by injection; {stack['proxy'].done_writes_refused} done writes refused "
        f"once; {REPLAYS} replays acknowledged, none published"
    )
