"""The webhook routes over real HTTP, with EventBridge, DynamoDB and Secrets Manager served by
moto in server mode."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import requests

from local.emulator.provision import TAP_RULE
from local.emulator.template import ROOT
from local.generators.sample_events import refreshed
from local.toggl_sandbox import deliveries
from tests.servers import Live


def test_every_checked_in_event_is_published_once_over_http(live: Live) -> None:
    # Given the signed events of events/, posted as Toggl would post them
    paths = sorted((ROOT / "events").glob("webhook-*.json"))
    events = [refreshed(json.loads(Path(path).read_text())) for path in paths]
    for path, event in zip(paths, events, strict=True):
        response = live.post(event["path"], event["body"].encode(), event["headers"])
        assert response.status_code == 200, (path.name, response.text)
    # When the same deliveries come again
    for event in events:
        again = live.post(event["path"], event["body"].encode(), event["headers"])
        assert again.status_code == 200
    # Then each entity event is on the bus exactly once (the PING is not an event)
    published = live.bus_events()
    ids = sorted(e["detail"]["event_id"] for e in published)
    assert len(ids) == len(set(ids)) == len(paths) - 1
    assert {e["source"] for e in published} == {"toggl.track"}


def test_refusals_over_http_are_json_and_publish_nothing(live: Live) -> None:
    body = deliveries.encode(deliveries.sample("project-created", 501))
    unsigned = live.post("/webhooks/project-created", body, {"Content-Type": "application/json"})
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "invalid_signature"
    not_json = b"\xff\xfe not utf-8 and not json"
    signed_garbage = live.post("/webhooks", not_json, deliveries.signed_headers(not_json))
    assert signed_garbage.status_code == 400 and signed_garbage.json()["error"] == "invalid_body"
    huge = b"{" + b" " * (256 * 1024) + b"}"
    assert live.post("/webhooks", huge, deliveries.signed_headers(huge)).status_code == 413
    assert live.bus_events() == []


def test_unknown_routes_get_api_gateways_answer(live: Live) -> None:
    response = requests.get(live.api + "/webhooks/nothing-here", timeout=10)
    assert response.status_code == 403


def test_a_publish_failure_is_redelivered_and_then_published_once(live: Live) -> None:
    events = boto3.client("events")
    bus = live.stack["EventBus"]
    targets = events.list_targets_by_rule(Rule=TAP_RULE, EventBusName=bus)["Targets"]
    events.remove_targets(Rule=TAP_RULE, EventBusName=bus, Ids=["tap"])
    events.delete_rule(Name=TAP_RULE, EventBusName=bus)
    events.delete_event_bus(Name=bus)
    document = deliveries.sample("time-entry-deleted", 502)
    failed = live.deliver("/webhooks/time-entry-deleted", document)
    assert failed.status_code == 503
    events.create_event_bus(Name=bus)
    events.put_rule(Name=TAP_RULE, EventBusName=bus, EventPattern=json.dumps({"source": ["toggl.track"]}))
    events.put_targets(Rule=TAP_RULE, EventBusName=bus, Targets=targets)
    assert live.deliver("/webhooks/time-entry-deleted", document).status_code == 200
    assert live.deliver("/webhooks/time-entry-deleted", document).json()["status"] == "duplicate"
    assert [e["detail"]["entity_id"] for e in live.bus_events()] == [3050537739]
