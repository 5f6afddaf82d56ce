"""events/ holds what local.sample_events makes: regenerate with `make events` after a change."""

from __future__ import annotations

import json

from local import deliveries, sample_events
from local.template import ROOT
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
