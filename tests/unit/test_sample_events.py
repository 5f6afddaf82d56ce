"""events/ holds what local.generators.sample_events makes: regenerate with `make events` after a change."""

from __future__ import annotations

import json
from typing import Any

from local.emulator import template
from local.emulator.template import ROOT
from local.generators import sample_events
from local.toggl_sandbox import deliveries, state
from toggl_connection.webhooks import signature


def test_checked_in_events_match_the_generator() -> None:
    expected = sample_events.all_events()
    present = {p.name for p in (ROOT / "events").glob("*.json")}
    assert present == set(expected)
    for name, event in expected.items():
        assert (ROOT / "events" / name).read_text() == sample_events.render(event), name


def test_checked_in_events_are_signed_with_the_test_secret() -> None:
    for path in (ROOT / "events").glob("webhook-*.json"):
        event = json.loads(path.read_text())
        body = event["body"].encode()
        digest = signature.parse(event["headers"][signature.HEADER])
        assert signature.matches(body, digest, [deliveries.TEST_SECRET]), path.name
        assert event["requestContext"]["resourcePath"] == event["resource"] == event["path"]


def test_query_events_name_their_query_in_the_path_parameters() -> None:
    for path in (ROOT / "events").glob("query-*.json"):
        event = json.loads(path.read_text())
        assert event["resource"] == "/queries/{name}"
        assert event["pathParameters"] == {"name": path.stem.removeprefix("query-")}


def checked_in() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in (ROOT / "events").glob("*.json")}


# GET and DELETE /mcp answer 405 whatever they are sent: nothing to show with a sample.
WITHOUT_A_SAMPLE = {("GET", "/mcp"), ("DELETE", "/mcp")}


def test_every_route_of_the_template_has_an_event() -> None:
    routes = {(r.method, r.path) for fn in template.functions() for r in fn.routes}
    sampled = {(event["httpMethod"], event["resource"]) for event in checked_in().values()}
    assert routes - WITHOUT_A_SAMPLE <= sampled
    assert sampled <= routes  # and no event for a route the template does not have


TIME_ENTRY_ID = 3050537739  # the entry of the webhook samples
TIME_TRACKING_BODIES = {
    "action-start-time-entry.json": {
        "description": "Write the report",
        "project_id": 203881520,
        "workspace_id": 7435584,
    },
    "action-stop-time-entry.json": {},
    "action-create-time-entry.json": {
        "workspace_id": 7435584,
        "start": "2026-12-02T13:00:00Z",
        "duration": 7200,
        "description": "Design review",
        "project_id": 203881520,
    },
    "action-update-time-entry.json": {
        "workspace_id": 7435584,
        "time_entry_id": TIME_ENTRY_ID,
        "description": "Design review with Ana",
    },
    "action-delete-time-entry.json": {"workspace_id": 7435584, "time_entry_id": TIME_ENTRY_ID},
    "action-create-project.json": {"name": "Mobile app", "client_id": 100001, "workspace_id": 7435584},
    "action-create-tag.json": {"workspace_id": 7435584, "name": "meetings"},
}


def test_the_time_tracking_action_events_are_signed_posts_with_realistic_bodies() -> None:
    events = checked_in()
    for name, body in TIME_TRACKING_BODIES.items():
        event = events[name]
        path = "/actions/" + name.removeprefix("action-").removesuffix(".json")
        assert (event["httpMethod"], event["resource"], event["path"]) == ("POST", path, path), name
        assert json.loads(event["body"]) == body, name
        assert event["headers"]["Content-Type"] == "application/json"
        assert event["headers"]["Idempotency-Key"], name
        assert event["requestContext"]["identity"]["userArn"] == sample_events.CALLER  # an IAM caller


def test_the_time_tracking_query_events_ask_what_the_examples_say() -> None:
    events = checked_in()
    expected = {
        "query-time-entry.json": {"time_entry_id": str(TIME_ENTRY_ID)},
        "query-summary-report.json": {"start_date": "2026-12-01", "end_date": "2026-12-31", "grouping": "projects"},
    }
    for name, params in expected.items():
        event = events[name]
        assert (event["httpMethod"], event["resource"]) == ("GET", "/queries/{name}"), name
        assert event["queryStringParameters"] == params, name
        assert event["requestContext"]["identity"]["userArn"] == sample_events.CALLER


def test_the_samples_ids_are_the_sandboxs_seeded_ones() -> None:
    seeded = state.seed()
    assert (seeded.workspace["id"], seeded.project["id"]) == (7435584, 203881520)
    assert seeded.client["id"] == sample_events.SEEDED_CLIENT_ID == 100001
    assert deliveries.time_entry()["id"] == sample_events.TIME_ENTRY_ID == TIME_ENTRY_ID
