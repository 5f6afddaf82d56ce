"""Writes ``events/``: a ready API Gateway REST proxy event for every route of the template,
signed with ``deliveries.TEST_SECRET``. ``python -m local.generators.sample_events`` regenerates them; a test
checks that the checked-in files are what this produces.

The webhook samples are dated 2023 so that the files never change: posted as they are, the
webhook routes acknowledge them as replays (``"status": "expired"``). ``refreshed`` dates one
now and signs it again, as ``make post`` does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from local.emulator import apigw
from local.emulator.template import ROOT
from local.toggl_sandbox import deliveries

EVENTS = ROOT / "events"
CREATED_AT = "2023-07-17T11:43:32.827Z"


def webhook_events() -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = {}
    for number, trigger in enumerate(deliveries.TRIGGERS, start=1):
        body = deliveries.encode(deliveries.sample(trigger, 8023169274704000 + number, CREATED_AT))
        events[f"webhook-{trigger}.json"] = apigw.proxy_event(
            "POST", f"/webhooks/{trigger}", body, deliveries.signed_headers(body)
        )
    # The catch-all route, with an event of a type no dedicated route has.
    tag = deliveries.envelope(
        "tag",
        "created",
        {"id": 18861, "name": "urgent", "workspace_id": deliveries.WORKSPACE_ID},
        8023169274704100,
        18861,
        {"name": "urgent"},
        created_at=CREATED_AT,
    )
    body = deliveries.encode(tag)
    events["webhook-any-event.json"] = apigw.proxy_event("POST", "/webhooks", body, deliveries.signed_headers(body))
    body = deliveries.encode(deliveries.ping("9d3a1b1f-ping-validation-code", CREATED_AT))
    events["webhook-ping.json"] = apigw.proxy_event("POST", "/webhooks", body, deliveries.signed_headers(body))
    return events


CALLER = "arn:aws:iam::123456789012:user/automation"
# The time entry of the webhook samples, and the client the Toggl sandbox seeds (Globex).
TIME_ENTRY_ID = int(deliveries.time_entry()["id"])
SEEDED_CLIENT_ID = 100001
ACTION_REQUESTS = {
    "create-client": {"workspace_id": deliveries.WORKSPACE_ID, "name": "Initech", "notes": "From the CRM"},
    "create-user-invitation": {"workspace_id": deliveries.WORKSPACE_ID, "emails": ["new.hire@example.com"]},
    "add-project-member": {"workspace_id": deliveries.WORKSPACE_ID, "project_id": 203881520, "user_id": 9547721},
    "create-task": {
        "workspace_id": deliveries.WORKSPACE_ID,
        "project_id": 203881520,
        "name": "Design review",
        "estimated_seconds": 7200,
    },
    # Time tracking: a timer started and stopped (the running one), an entry logged, changed and
    # deleted (the entry the webhook samples describe), a project for the seeded client, a tag.
    "start-time-entry": {
        "description": "Write the report",
        "project_id": 203881520,
        "workspace_id": deliveries.WORKSPACE_ID,
    },
    "stop-time-entry": {},
    "create-time-entry": {
        "workspace_id": deliveries.WORKSPACE_ID,
        "start": "2026-12-02T13:00:00Z",
        "duration": 7200,
        "description": "Design review",
        "project_id": 203881520,
    },
    "update-time-entry": {
        "workspace_id": deliveries.WORKSPACE_ID,
        "time_entry_id": TIME_ENTRY_ID,
        "description": "Design review with Ana",
    },
    "delete-time-entry": {"workspace_id": deliveries.WORKSPACE_ID, "time_entry_id": TIME_ENTRY_ID},
    "create-project": {"name": "Mobile app", "client_id": SEEDED_CLIENT_ID, "workspace_id": deliveries.WORKSPACE_ID},
    "create-tag": {"workspace_id": deliveries.WORKSPACE_ID, "name": "meetings"},
}


def action_events() -> dict[str, dict[str, Any]]:
    events = {}
    for name, request in ACTION_REQUESTS.items():
        body = json.dumps(request)
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"example-{name}-1"}
        events[f"action-{name}.json"] = apigw.proxy_event("POST", f"/actions/{name}", body, headers, caller_arn=CALLER)
    return events


WS = deliveries.WORKSPACE_ID
# One example request per query: the events/ files and the README's list are made from these.
QUERY_EXAMPLES: dict[str, dict[str, str]] = {
    "me": {},
    "organizations": {},
    "workspaces": {},
    "workspace": {"workspace_id": str(WS)},
    "projects": {"workspace_id": str(WS), "active": "true", "limit": "500"},
    "clients": {"workspace_id": str(WS), "status": "both"},
    "tasks": {"workspace_id": str(WS), "pid": "203881520", "active": "both"},
    "time-entries": {"start_date": "2026-11-01", "end_date": "2026-11-30"},
    "current-time-entry": {},
    "workspace-users": {"workspace_id": str(WS)},
    "project-members": {"workspace_id": str(WS), "project_ids": "203881520"},
    "tags": {"workspace_id": str(WS)},
    "detailed-report": {"workspace_id": str(WS), "start_date": "2026-11-01", "end_date": "2026-11-30"},
}
# The time tracking queries' examples: events/ has them too. Not in QUERY_EXAMPLES, which the
# demo and the tests ask of the seeded account as it is: it has no time entry to read.
TIME_TRACKING_QUERY_EXAMPLES: dict[str, dict[str, str]] = {
    "time-entry": {"time_entry_id": str(TIME_ENTRY_ID)},
    "summary-report": {"start_date": "2026-12-01", "end_date": "2026-12-31", "grouping": "projects"},
}


def query_events() -> dict[str, dict[str, Any]]:
    return {
        f"query-{name}.json": apigw.proxy_event(
            "GET",
            f"/queries/{name}",
            None,
            {"Accept": "application/json"},
            urlencode(params),
            resource="/queries/{name}",
            caller_arn=CALLER,
        )
        for name, params in {**QUERY_EXAMPLES, **TIME_TRACKING_QUERY_EXAMPLES}.items()
    }


# One JSON-RPC message per sample of the agent tools' route (POST /mcp): the session a client opens.
MCP_MESSAGES: dict[str, dict[str, Any]] = {
    "initialize": {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "example", "version": "1.0"},
        },
    },
    "tools-list": {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    "tools-call": {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "toggl_list_projects", "arguments": {"workspace_id": WS, "active": "true", "limit": 20}},
    },
}


def mcp_events() -> dict[str, dict[str, Any]]:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    return {
        f"mcp-{name}.json": apigw.proxy_event("POST", "/mcp", json.dumps(message), headers, caller_arn=CALLER)
        for name, message in MCP_MESSAGES.items()
    }


def stable(event: dict[str, Any]) -> dict[str, Any]:
    """The event without the per-request ids and clocks API Gateway fills in."""
    context = dict(event["requestContext"])
    context.update(
        extendedRequestId="c0ffee00-0000-4000-8000-000000000000",
        requestId="c0ffee00-0000-4000-8000-000000000000",
        requestTime="17/Jul/2023:11:43:33 +0000",
        requestTimeEpoch=1689594213000,
    )
    return {**event, "requestContext": context}


def all_events() -> dict[str, dict[str, Any]]:
    return {
        name: stable(event)
        for name, event in {**webhook_events(), **action_events(), **query_events(), **mcp_events()}.items()
    }


def refreshed(event: dict[str, Any], secret: str = deliveries.TEST_SECRET) -> dict[str, Any]:
    """A webhook sample dated now and signed with ``secret`` (other events unchanged)."""
    if not str(event.get("path", "")).startswith("/webhooks") or not event.get("body"):
        return event
    document = json.loads(event["body"])
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    document.update({"created_at": now, "timestamp": now} if "timestamp" in document else {"created_at": now})
    body = deliveries.encode(document)
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "x-webhook-signature-256"}
    headers.update(deliveries.signed_headers(body, secret))
    return {
        **event,
        "body": body.decode("utf-8"),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
    }


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2) + "\n"


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    for name, event in all_events().items():
        Path(EVENTS / name).write_text(render(event))
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
