"""The event the connection puts on the bus for a Toggl change (the contract's "Events on the
bus"): ``Source`` ``toggl.track``, ``DetailType`` in Title Case, ``Detail`` normalised."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

SOURCE = "toggl.track"


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


def change_moment(value: Any) -> int | None:
    """An entity's ``at`` as Unix seconds, however Toggl wrote it (``Z`` or ``+00:00``)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return int(moment.timestamp()) if moment.tzinfo is not None else None


def dedupe_key(entity: str, action: str, event_id: int | str, entity_id: int | None, at: Any = None) -> str:
    """What "the same change" means, for every path that publishes one (webhook, poller,
    catch-up): an entity is created once and deleted once, and in between each ``at`` of it is
    one change. A new workspace is keyed by the workspace itself (the webhook and the poller
    announce it). Without an id (or, for an update, an ``at``), the event's own id decides."""
    if entity == "workspace" and action == "created" and entity_id is not None:
        return f"workspace-created:{entity_id}"
    if entity_id is not None and action in ("created", "deleted"):
        return f"change:{entity}:{entity_id}:{action}"
    moment = change_moment(at)
    if entity_id is not None and moment is not None:
        return f"change:{entity}:{entity_id}:{moment}"
    return str(event_id)


def change(
    *,
    origin: str,
    event_id: int | str,
    entity: str,
    action: str,
    entity_id: int | None,
    workspace_id: int | None,
    time: datetime,
    created_at: str,
    payload: Any,
    at: Any = None,
    subscription_id: int | None = None,
    event_user_id: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> BusEvent:
    """A Toggl change as the bus carries it, whichever path found it (webhook, poll, catch-up):
    the contract's eleven detail keys, in its order, and the dedupe key the paths share.
    ``payload`` and ``metadata`` are passed already normalised."""
    detail = {
        "event_id": event_id,
        "origin": origin,
        "subscription_id": subscription_id,
        "workspace_id": workspace_id,
        "entity": entity,
        "action": action,
        "entity_id": entity_id,
        "event_user_id": event_user_id,
        "created_at": created_at,
        "payload": payload,
        "metadata": metadata if metadata is not None else {},
    }
    return BusEvent(detail_type(entity, action), time, detail, dedupe_key(entity, action, event_id, entity_id, at))


def notice(detail_type_: str, detail: dict[str, Any], at: datetime) -> BusEvent:
    """An event about the connection itself (``Subscription Repaired``, ...)."""
    return BusEvent(detail_type=detail_type_, time=at, detail=detail, dedupe_key="")
