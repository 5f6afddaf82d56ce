"""``make post EVENT=<file>``: send one request to the running local stack, as a real HTTP request.

The file is either an API Gateway event (one of ``events/``) or a raw Toggl webhook body (the
JSON Toggl posts). Webhook requests are signed with the running stack's signing secret; the
samples of ``events/`` are dated now first (as they are, they are replays of 2023). A raw body is
posted as it is, to the route of its event type (or ``/webhooks``). IAM routes are signed with
the local key pair. ``make run`` must be running: it tells where, in ``.local/stack.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from local.commands.demo import LocalClient
from local.generators.sample_events import refreshed
from local.toggl_sandbox import deliveries
from toggl_connection.webhooks.triggers import ANY_EVENT_PATH, TRIGGERS

USAGE = (
    "usage: make post EVENT=<file>, the file an API Gateway event such as events/webhook-ping.json "
    "or a raw Toggl webhook body"
)


class Mistake(Exception):
    pass


def load(argv: list[str]) -> Any:
    if len(argv) != 1 or not argv[0]:
        raise Mistake(USAGE)
    path = Path(argv[0])
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise Mistake(f"{path}: no such file; {USAGE}") from None
    except (ValueError, UnicodeDecodeError, IsADirectoryError):
        raise Mistake(f"{path}: not a JSON file") from None


def route_of(body: dict[str, Any]) -> str:
    """A raw Toggl body's own trigger route, or the any-event route."""
    found = body.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    for trigger in TRIGGERS:
        if (metadata.get("model"), metadata.get("action")) == (trigger.entity, trigger.action):
            return trigger.path
    return ANY_EVENT_PATH


def request_for(document: Any, secret: str) -> tuple[str, str, bytes, dict[str, str], bool]:
    """(method, path with query, body, headers, IAM-signed?) for an event file or a raw body."""
    if isinstance(document, dict) and "httpMethod" in document and "path" in document:
        if str(document["path"]).startswith(ANY_EVENT_PATH):
            document = refreshed(document, secret)
        query = urlencode(document.get("queryStringParameters") or {})
        path = document["path"] + (f"?{query}" if query else "")
        headers = {
            k: v for k, v in (document.get("headers") or {}).items() if k.lower() not in ("host", "content-length")
        }
        body = (document.get("body") or "").encode()
        return document["httpMethod"], path, body, headers, not document["path"].startswith(ANY_EVENT_PATH)
    if isinstance(document, dict) and "event_id" in document and ("payload" in document or "created_at" in document):
        body = deliveries.encode(document)
        return "POST", route_of(document), body, deliveries.signed_headers(body, secret), False
    raise Mistake("not an API Gateway event (httpMethod, path) nor a Toggl webhook body (event_id, payload)")


def main(argv: list[str]) -> int:
    try:
        document = load(argv)
        client = LocalClient.from_state()
        method, path, body, headers, signed = request_for(document, client.state["webhook_secret"])
        try:
            if signed:
                response = client.signed(method, path, body, headers)
            else:
                response = requests.request(method, client.api + path, data=body, headers=headers, timeout=30)
        except requests.ConnectionError:
            raise Mistake(f"make run does not answer at {client.api}: is it still running?") from None
    except Mistake as mistake:
        print(f"make post: {mistake}", file=sys.stderr)
        return 2
    print(f"{method} {path} -> {response.status_code}")
    print(response.text)
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
