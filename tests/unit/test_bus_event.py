"""From Toggl envelope to the contract's event on the bus, without AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.toggl_sandbox import deliveries
from toggl_connection.bus import event_format
from toggl_connection.core.errors import InvalidBody
from toggl_connection.webhooks import envelope


def to_event(document: dict[str, Any]) -> event_format.BusEvent:
    return envelope.bus_event(envelope.parse(deliveries.encode(document)))


def test_the_documented_time_entry_event_becomes_the_contract_detail() -> None:
    # Given the real event shape (docs/toggl-api.md), ids in metadata as digit strings
    document = deliveries.sample("time-entry-created", 8023169274704072, "2023-07-17T11:43:32.827Z")
    # When it is turned into a bus event
    event = to_event(document)
    # Then the detail is the contract's, ids as integers, request_body as an object
    assert event.detail_type == "Time Entry Created"
    assert event.time.isoformat() == "2023-07-17T11:43:32.827000+00:00"
    detail = event.detail
    assert list(detail) == [
        "event_id",
        "origin",
        "subscription_id",
        "workspace_id",
        "entity",
        "action",
        "entity_id",
        "event_user_id",
        "created_at",
        "payload",
        "metadata",
    ]
    assert detail["event_id"] == 8023169274704072
    assert detail["origin"] == "webhook"
    assert detail["subscription_id"] == 10713
    assert detail["workspace_id"] == 7435584
    assert (detail["entity"], detail["action"], detail["entity_id"]) == ("time_entry", "created", 3050537739)
    assert detail["event_user_id"] == 9547721
    assert detail["created_at"] == "2023-07-17T11:43:32.827Z"
    assert detail["payload"] == document["payload"]
    assert detail["metadata"]["time_entry_id"] == 3050537739
    assert detail["metadata"]["workspace_id"] == 7435584
    assert detail["metadata"]["request_body"] == json.loads(document["metadata"]["request_body"])
    assert event.dedupe_key == "change:time_entry:3050537739:created"


def test_integer_ids_give_the_same_detail_as_digit_strings() -> None:
    as_strings = deliveries.sample("project-updated", 77, "2023-07-17T11:43:32.827Z")
    as_integers = json.loads(json.dumps(as_strings))
    for key in ("event_user_id", "model_owner_id", "project_id", "workspace_id"):
        as_integers["metadata"][key] = int(as_integers["metadata"][key])
    as_integers["event_id"] = "77"  # and the other way round
    assert to_event(as_integers).detail == to_event(as_strings).detail


def test_a_deleted_event_without_an_id_in_its_payload_takes_it_from_metadata() -> None:
    document = deliveries.sample("time-entry-deleted", 5, "2023-07-17T11:43:32.827Z")
    assert "id" not in document["payload"]
    assert to_event(document).detail["entity_id"] == 3050537739


def test_a_deleted_event_with_a_null_payload_is_accepted() -> None:
    document = deliveries.sample("project-deleted", 6, "2023-07-17T11:43:32.827Z")
    assert document["payload"] is None
    detail = to_event(document).detail
    assert (detail["entity_id"], detail["payload"], detail["workspace_id"]) == (203881520, None, 7435584)


def test_every_api_token_is_removed_at_any_depth() -> None:
    document = deliveries.sample("workspace-created", 9, "2023-07-17T11:43:32.827Z")
    document["metadata"]["request_body"] = json.dumps({"name": "x", "nested": [{"api_token": "t2"}]})
    document["metadata"]["api_token"] = "t3"
    document["payload"]["settings"] = {"Api_Token": "t4", "keep": 1}
    text = json.dumps(to_event(document).detail)
    assert "api_token" not in text.lower()
    assert "workspace-token-must-not-leak" not in text and "t2" not in text and "t4" not in text
    assert '"keep": 1' in text


def test_workspace_created_is_deduplicated_by_workspace_not_by_event() -> None:
    event = to_event(deliveries.sample("workspace-created", 9, "2023-07-17T11:43:32.827Z"))
    assert event.dedupe_key == "workspace-created:8123456"
    assert event.detail["workspace_id"] == 8123456


def test_request_body_that_is_not_json_is_passed_on_as_text() -> None:
    document = deliveries.sample("project-created", 10, "2023-07-17T11:43:32.827Z")
    document["metadata"]["request_body"] = "name=Website"
    assert to_event(document).detail["metadata"]["request_body"] == "name=Website"


@pytest.mark.parametrize(
    ("entity", "action", "expected"),
    [
        ("time_entry", "created", "Time Entry Created"),
        ("project_user", "deleted", "Project User Deleted"),
        ("client", "updated", "Client Updated"),
        ("workspace", "created", "Workspace Created"),
    ],
)
def test_detail_type_is_title_case(entity: str, action: str, expected: str) -> None:
    assert event_format.detail_type(entity, action) == expected


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "event_id"),
        (b'{"event_id": true, "created_at": "2023-07-17T11:43:32Z"}', "event_id"),
        (b'{"event_id": "12a", "created_at": "2023-07-17T11:43:32Z"}', "event_id"),
        (b'{"event_id": 1}', "created_at"),
        (b'{"event_id": 1, "created_at": "yesterday"}', "RFC 3339"),
        (b'{"event_id": 1, "created_at": "2023-07-17T11:43:32"}', "time zone"),
        (b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": "pong"}', "payload"),
        (b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": {}}', "metadata.model"),
        (b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "metadata": [], "payload": {}}', "metadata"),
        (
            b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": {},'
            b' "metadata": {"model": "time entry", "action": "created"}}',
            "metadata.model",
        ),
        (b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": {}, "subscription_id": "x"}', "subscr"),
        (b"[" * 100000 + b"]" * 100000, "JSON"),
    ],
)
def test_what_is_not_an_envelope_is_refused_with_the_reason(body: bytes, complaint: str) -> None:
    with pytest.raises(InvalidBody, match=complaint):
        envelope.parse(body)


def test_one_change_is_one_key_whichever_path_and_spelling() -> None:
    from toggl_connection.bus.event_format import dedupe_key

    # an update: the entity and its at, written either way, make the key
    assert dedupe_key("project", "updated", 1, 5, "2023-07-17T11:50:00+00:00") == "change:project:5:1689594600"
    assert dedupe_key("project", "updated", 2, 5, "2023-07-17T11:50:00Z") == "change:project:5:1689594600"
    # created and deleted happen once per entity
    assert dedupe_key("time_entry", "created", 1, 7, "2023-07-17T11:50:00Z") == "change:time_entry:7:created"
    assert dedupe_key("time_entry", "deleted", 1, 7, None) == "change:time_entry:7:deleted"
    # without what makes a change, the event's own id
    assert dedupe_key("tag", "updated", 42, 7, None) == "42"
    assert dedupe_key("tag", "updated", 42, None, "2023-07-17T11:50:00Z") == "42"
    assert dedupe_key("tag", "updated", 42, 7, "not a time") == "42"


def test_the_three_paths_write_the_same_detail_keys_in_the_same_order() -> None:
    from datetime import UTC, datetime

    from toggl_connection.upkeep import catch_up, workspace_poller

    webhook = to_event(deliveries.sample("project-updated", 1, "2023-07-17T11:43:32.827Z"))
    polled = workspace_poller.discovered({"id": "42", "name": "New"}, datetime(2024, 5, 1, tzinfo=UTC))
    change = catch_up.Change("project", 7, "updated", "2024-05-01T10:00:00Z", {"id": 7, "workspace_id": "42"}, 42)
    caught = catch_up.event_for(change)
    assert list(polled.detail) == list(webhook.detail) == list(caught.detail)
    assert (polled.detail["origin"], polled.detail["workspace_id"], polled.dedupe_key) == (
        "poll",
        42,
        "workspace-created:42",
    )
    assert polled.detail["created_at"] == "2024-05-01T00:00:00.000Z"
    assert caught.detail["payload"]["workspace_id"] == 42  # ids normalised on every path
    assert caught.dedupe_key == "change:project:7:1714557600"
