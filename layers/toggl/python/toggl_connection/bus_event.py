"""The event the connection puts on the bus for a Toggl change (the contract's "Events on the
bus"): ``Source`` ``toggl.track``, ``DetailType`` in Title Case, ``Detail`` normalised."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from toggl_connection.envelope import Envelope
from toggl_connection.integers import ascii_int as as_id

SOURCE = "toggl.track"
SECRET_FIELDS = frozenset({"api_token"})


class BusEvent(NamedTuple):
    detail_type: str
    time: datetime
    detail: dict[str, Any]
    dedupe_key: str

    def entry(self, bus_name: str) -> dict[str, Any]:
        """A ``PutEvents`` entry for this event."""
        return {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Time": self.time,
            "Detail": json.dumps(self.detail, separators=(",", ":"), ensure_ascii=False),
            "EventBusName": bus_name,
        }


def detail_type(entity: str, action: str) -> str:
    """``time_entry`` + ``created`` -> ``Time Entry Created``."""
    words = [*entity.split("_"), *action.split("_")]
    return " ".join(word.capitalize() for word in words if word)


def dedupe_key(entity: str, action: str, event_id: int | str, entity_id: int | None) -> str:
    """What "the same event" means. A new workspace is keyed by the workspace itself, so that
    the webhook and the ``/me/workspaces`` poller announcing it publish it once between them."""
    if entity == "workspace" and action == "created" and entity_id is not None:
        return f"workspace-created:{entity_id}"
    return str(event_id)


def without_secrets(value: Any) -> Any:
    """A copy with every ``api_token`` field removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if str(k).lower() not in SECRET_FIELDS}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def _is_id_field(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def with_integer_ids(value: Any) -> Any:
    """A copy where ``id``/``*_id``/``*_ids`` fields sent as digit strings become integers."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if _is_id_field(name) and as_id(item) is not None:
                result[key] = as_id(item)
            elif name.endswith("_ids") and isinstance(item, list):
                result[key] = [as_id(x) if as_id(x) is not None else with_integer_ids(x) for x in item]
            else:
                result[key] = with_integer_ids(item)
        return result
    if isinstance(value, list):
        return [with_integer_ids(item) for item in value]
    return value


def _decoded_request_body(metadata: dict[str, Any]) -> dict[str, Any]:
    body = metadata.get("request_body")
    if isinstance(body, str):
        try:
            return {**metadata, "request_body": json.loads(body)}
        except (ValueError, RecursionError):
            pass  # not JSON: pass it on as Toggl sent it
    return metadata


def from_webhook(envelope: Envelope) -> BusEvent:
    entity, action = envelope.entity, envelope.action
    metadata = with_integer_ids(without_secrets(_decoded_request_body(envelope.metadata)))
    payload = without_secrets(envelope.payload) if isinstance(envelope.payload, dict) else envelope.payload
    payload = with_integer_ids(payload)

    # A deleted entity may come without its id in the payload: Toggl also names it in metadata.
    entity_id = as_id(payload.get("id")) if isinstance(payload, dict) else None
    if entity_id is None:
        entity_id = as_id(metadata.get(f"{entity}_id"))
    workspace_id = as_id(metadata.get("workspace_id"))
    if workspace_id is None and isinstance(payload, dict):
        workspace_id = as_id(payload.get("workspace_id")) or as_id(payload.get("wid"))
    if workspace_id is None and entity == "workspace":
        workspace_id = entity_id

    detail = {
        "event_id": envelope.event_id,
        "origin": "webhook",
        "subscription_id": envelope.subscription_id,
        "workspace_id": workspace_id,
        "entity": entity,
        "action": action,
        "entity_id": entity_id,
        "event_user_id": as_id(metadata.get("event_user_id")),
        "created_at": envelope.created_at,
        "payload": payload,
        "metadata": metadata,
    }
    return BusEvent(
        detail_type=detail_type(entity, action),
        time=envelope.created,
        detail=detail,
        dedupe_key=dedupe_key(entity, action, envelope.event_id, entity_id),
    )


def from_poll(workspace: dict[str, Any], seen_at: datetime) -> BusEvent:
    """``Workspace Created`` for a workspace the ``/me/workspaces`` poller found."""
    workspace_id = as_id(workspace.get("id"))
    created_at = seen_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{seen_at.microsecond // 1000:03d}Z"
    detail = {
        "event_id": f"workspace-created:{workspace_id}",
        "origin": "poll",
        "subscription_id": None,
        "workspace_id": workspace_id,
        "entity": "workspace",
        "action": "created",
        "entity_id": workspace_id,
        "event_user_id": None,
        "created_at": created_at,
        "payload": with_integer_ids(without_secrets(workspace)),
        "metadata": {},
    }
    return BusEvent(
        detail_type=detail_type("workspace", "created"),
        time=seen_at,
        detail=detail,
        dedupe_key=dedupe_key("workspace", "created", str(detail["event_id"]), workspace_id),
    )


def notice(detail_type_: str, detail: dict[str, Any], at: datetime) -> BusEvent:
    """An event about the connection itself (``Subscription Repaired``, ...)."""
    return BusEvent(detail_type=detail_type_, time=at, detail=detail, dedupe_key="")
