"""Bad input at the webhook routes over HTTP: a corpus of what goes wrong in the wild, and
property-based fuzzing. Never a 5xx, never a publish, always a clear 4xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.toggl_sandbox import deliveries
from tests.servers import Live
from toggl_connection.webhooks.signature import HEADER, sign

ROUTES = ["/webhooks", "/webhooks/time-entry-created", "/webhooks/workspace-created"]
VALID = deliveries.encode(deliveries.sample("project-created", 1))


def signed(body: bytes) -> dict[str, str]:
    return {HEADER: sign(body, deliveries.TEST_SECRET), "Content-Type": "application/json"}


def deep(levels: int) -> bytes:
    return b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": ' + b"[" * levels + b"]" * levels + b"}"


# (case, body, headers (None: signed properly), expected status)
CORPUS: list[tuple[str, bytes, dict[str, str] | None, int]] = [
    ("empty, unsigned", b"", {"Content-Type": "application/json"}, 401),
    ("empty, signed", b"", signed(b""), 400),
    ("huge", b"{" + b" " * (300 * 1024) + b"}", signed(b"{}"), 413),
    ("truncated JSON", VALID[:-7], signed(VALID[:-7]), 400),
    ("JSON array", b"[1,2,3]", signed(b"[1,2,3]"), 400),
    ("JSON string", b'"ping"', signed(b'"ping"'), 400),
    ("JSON null", b"null", signed(b"null"), 400),
    ("event_id as text", b'{"event_id": "abc", "created_at": "2023-07-17T11:43:32Z", "payload": "ping"}', None, 400),
    ("created_at as number", b'{"event_id": 1, "created_at": 5, "payload": "ping"}', None, 400),
    ("payload as list", b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": [1]}', None, 400),
    (
        "metadata as string",
        b'{"event_id": 1, "created_at": "2023-07-17T11:43:32Z", "payload": {}, "metadata": "x"}',
        None,
        400,
    ),
    ("latin-1 bytes", '{"event_id": 1, "created_at": "é"}'.encode("latin-1"), None, 400),
    ("UTF-16 with BOM", json.dumps({"event_id": 1}).encode("utf-16"), None, 400),
    ("null bytes", b'{"event_id": 1,\x00 "created_at": "2023-07-17T11:43:32Z"}', None, 400),
    ("deep nesting", deep(50_000), None, 400),
    ("signature without scheme", VALID, {HEADER: sign(VALID, deliveries.TEST_SECRET)[7:]}, 401),
    ("two signatures joined", VALID, {HEADER: sign(VALID, "x") + "," + sign(VALID, deliveries.TEST_SECRET)}, 401),
    ("signature of another body", VALID, {HEADER: sign(b"{}", deliveries.TEST_SECRET)}, 401),
    ("signature with another secret", VALID, {HEADER: sign(VALID, "not-the-secret")}, 401),
    ("sha1 signature", VALID, {HEADER: "sha1=" + "a" * 40}, 401),
    ("signature in another header", VALID, {"X-Webhook-Signature": sign(VALID, deliveries.TEST_SECRET)}, 401),
    ("unicode in the signature", VALID, {HEADER: "sha256=" + "é" * 64}, 401),
]


@pytest.mark.parametrize(("name", "body", "headers", "status"), CORPUS, ids=[c[0] for c in CORPUS])
def test_the_bad_input_corpus(live: Live, name: str, body: bytes, headers: dict[str, str] | None, status: int) -> None:
    for route in ROUTES:
        response = requests.post(live.api + route, data=body, headers=headers or signed(body), timeout=30)
        assert response.status_code == status, (name, route, response.text)
        answer = response.json()
        assert set(answer) == {"error", "message"} and answer["message"], answer
    assert live.bus_events() == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2048))
def test_fuzzed_bytes_signed_or_not_are_refused_with_a_4xx(live: Live, body: bytes) -> None:
    for headers in (signed(body), {HEADER: "sha256=" + "0" * 64}):
        response = requests.post(live.api + "/webhooks", data=body, headers=headers, timeout=30)
        assert response.status_code in (400, 401), response.text
        assert set(response.json()) == {"error", "message"}
    assert live.bus_events() == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELDS = {
    "event_id": JSON | st.integers(min_value=0),
    "created_at": JSON | st.just("2023-07-17T11:43:32Z"),
    "payload": JSON | st.just("ping"),
    "metadata": JSON,
    "subscription_id": JSON,
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(envelope=st.fixed_dictionaries({}, optional=FIELDS))
def test_fuzzed_envelopes_never_get_a_5xx_and_only_valid_ones_publish(live: Live, envelope: dict[str, Any]) -> None:
    body = json.dumps(envelope).encode()
    response = requests.post(live.api + "/webhooks", data=body, headers=signed(body), timeout=30)
    assert response.status_code < 500, response.text
    published = live.bus_events()
    if response.status_code == 200:
        # Only a real envelope gets in: an entity event (published once) or a PING (nothing published).
        answer = response.json()
        assert answer.get("status") in ("published", "duplicate", "pong") or "validation_code" in answer
        assert len(published) == (1 if answer.get("status") == "published" else 0)
    else:
        assert response.status_code == 400 and published == []
