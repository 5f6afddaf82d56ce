"""Toggl webhook deliveries shaped like the real ones (see docs/toggl-api.md): ids in
``metadata`` as digit strings, ``request_body`` as a JSON-encoded string, signed bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from toggl_connection.webhooks.signature import HEADER, sign

# The secret the checked-in events/ are signed with (named in the README).
TEST_SECRET = "toggl-connection-test-secret"
WORKSPACE_ID = 7435584
USER_ID = 9547721
SUBSCRIPTION_ID = 10713


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(
    model: str,
    action: str,
    payload: dict[str, Any] | None,
    event_id: int,
    entity_id: int,
    request_body: dict[str, Any] | None = None,
    path: str | None = None,
    created_at: str | None = None,
    workspace_id: int = WORKSPACE_ID,
    user_id: int = USER_ID,
    subscription_id: int = SUBSCRIPTION_ID,
    url_callback: str = "https://example.com/webhooks",
) -> dict[str, Any]:
    created_at = created_at or _now()
    method = {"created": "POST", "updated": "PUT", "deleted": "DELETE"}.get(action, "POST")
    return {
        "event_id": event_id,
        "created_at": created_at,
        "creator_id": user_id,
        "metadata": {
            "action": action,
            "event_user_id": str(user_id),
            "model": model,
            "model_owner_id": str(user_id),
            "path": path or f"/api/v9/workspaces/{workspace_id}/{model}s",
            "request_body": json.dumps(request_body or {}, separators=(",", ":")),
            "request_type": method,
            f"{model}_id": str(entity_id),
            "workspace_id": str(workspace_id),
        },
        "payload": payload,
        "subscription_id": subscription_id,
        "timestamp": created_at,
        "url_callback": url_callback,
    }


def time_entry(entry_id: int = 3050537739, description: str = "test", **changes: Any) -> dict[str, Any]:
    entry = {
        "at": "2023-07-17T11:43:32+00:00",
        "billable": False,
        "description": description,
        "duration": -1689594212,
        "duronly": True,
        "id": entry_id,
        "project_id": None,
        "server_deleted_at": None,
        "start": "2023-07-17T11:43:32Z",
        "stop": None,
        "tag_ids": None,
        "tags": [],
        "task_id": None,
        "uid": USER_ID,
        "user_id": USER_ID,
        "wid": WORKSPACE_ID,
        "workspace_id": WORKSPACE_ID,
    }
    entry.update(changes)
    return entry


def project(project_id: int = 203881520, name: str = "Website", **changes: Any) -> dict[str, Any]:
    item = {
        "active": True,
        "at": "2023-07-17T11:50:00+00:00",
        "billable": False,
        "client_id": None,
        "color": "#0b83d9",
        "id": project_id,
        "is_private": True,
        "name": name,
        "workspace_id": WORKSPACE_ID,
    }
    item.update(changes)
    return item


def sample(trigger: str, event_id: int, created_at: str | None = None) -> dict[str, Any]:
    """A realistic delivery for each trigger route name (``time-entry-created``, ...)."""
    return SAMPLES[trigger](event_id, created_at)


def _time_entry_created(event_id: int, created_at: str | None) -> dict[str, Any]:
    entry = time_entry()
    return envelope(
        "time_entry",
        "created",
        entry,
        event_id,
        entry["id"],
        {
            "billable": False,
            "description": "test",
            "duration": -1,
            "start": "2023-07-17T11:43:32.445Z",
            "workspace_id": WORKSPACE_ID,
        },
        path=f"/api/v9/workspaces/{WORKSPACE_ID}/time_entries",
        created_at=created_at,
    )


def _time_entry_updated(event_id: int, created_at: str | None) -> dict[str, Any]:
    entry = time_entry()
    return envelope(
        "time_entry",
        "updated",
        time_entry(description="renamed", stop="2023-07-17T12:43:32Z", duration=3600),
        event_id,
        entry["id"],
        {"description": "renamed"},
        path=f"/api/v9/workspaces/{WORKSPACE_ID}/time_entries/{entry['id']}",
        created_at=created_at,
    )


def _time_entry_deleted(event_id: int, created_at: str | None) -> dict[str, Any]:
    entry = time_entry()
    # What a deleted entity's payload holds is not documented: assume the least, no id.
    return envelope(
        "time_entry",
        "deleted",
        {"server_deleted_at": "2023-07-17T13:00:00Z"},
        event_id,
        entry["id"],
        path=f"/api/v9/workspaces/{WORKSPACE_ID}/time_entries/{entry['id']}",
        created_at=created_at,
    )


def _project_created(event_id: int, created_at: str | None) -> dict[str, Any]:
    proj = project()
    return envelope("project", "created", proj, event_id, proj["id"], {"name": "Website"}, created_at=created_at)


def _project_updated(event_id: int, created_at: str | None) -> dict[str, Any]:
    proj = project()
    return envelope(
        "project",
        "updated",
        project(name="Website v2"),
        event_id,
        proj["id"],
        {"name": "Website v2"},
        path=f"/api/v9/workspaces/{WORKSPACE_ID}/projects/{proj['id']}",
        created_at=created_at,
    )


def _project_deleted(event_id: int, created_at: str | None) -> dict[str, Any]:
    proj = project()
    return envelope(
        "project",
        "deleted",
        None,
        event_id,
        proj["id"],
        path=f"/api/v9/workspaces/{WORKSPACE_ID}/projects/{proj['id']}",
        created_at=created_at,
    )


def _workspace_created(event_id: int, created_at: str | None) -> dict[str, Any]:
    return envelope(
        "workspace",
        "created",
        {
            "id": 8123456,
            "name": "New workspace",
            "organization_id": 7000001,
            "api_token": "workspace-token-must-not-leak",
        },
        event_id,
        8123456,
        {"name": "New workspace"},
        path="/api/v9/organizations/7000001/workspaces",
        workspace_id=8123456,
        created_at=created_at,
    )


# The sample delivery of each trigger route name.
SAMPLES: dict[str, Callable[[int, str | None], dict[str, Any]]] = {
    "time-entry-created": _time_entry_created,
    "time-entry-updated": _time_entry_updated,
    "time-entry-deleted": _time_entry_deleted,
    "project-created": _project_created,
    "project-updated": _project_updated,
    "project-deleted": _project_deleted,
    "workspace-created": _workspace_created,
}
TRIGGERS = tuple(SAMPLES)


def ping(
    validation_code: str | None = None,
    created_at: str | None = None,
    user_id: int = USER_ID,
    subscription_id: int = SUBSCRIPTION_ID,
    workspace_id: int = WORKSPACE_ID,
    url_callback: str = "https://example.com/webhooks",
    api_url: str = "https://api.track.toggl.com",
) -> dict[str, Any]:
    created_at = created_at or _now()
    body: dict[str, Any] = {
        "event_id": 0,
        "created_at": created_at,
        "creator_id": user_id,
        "metadata": {"request_type": "POST", "event_user_id": user_id},
        "payload": "ping",
        "subscription_id": subscription_id,
        "timestamp": created_at,
        "url_callback": url_callback,
    }
    if validation_code is not None:
        body["validation_code"] = validation_code
        body["validation_code_url"] = (
            f"{api_url}/webhooks/api/v1/validate/{workspace_id}/{subscription_id}/{validation_code}"
        )
    return body


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def signed_headers(body: bytes, secret: str = TEST_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Toggl-Webhooks",
        HEADER: sign(body, secret),
    }
