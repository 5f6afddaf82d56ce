"""The event the connection puts on the bus for a Toggl change (the contract's "Events on the
bus"): ``Source`` ``toggl.track``, ``DetailType`` in Title Case, ``Detail`` normalised."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from toggl_connection.core.integers import ascii_int as as_id
from toggl_connection.core.text import writable
from toggl_connection.webhooks.envelope import Envelope

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


def _rebuild(value: Any, integer_ids: bool) -> Any:
    """A copy of a JSON document without any ``api_token`` field, every string ``writable`` and,
    with ``integer_ids``, ``id``/``*_id``/``*_ids`` digit strings as integers. Iterative: any
    depth is fine."""
    holder: list[Any] = [None]
    pending: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
    while pending:
        source, parent, slot = pending.pop()
        if isinstance(source, dict):
            copy: dict[Any, Any] = {}
            parent[slot] = copy
            for original, item in source.items():
                key = name = writable(str(original))
                if name.lower() in SECRET_FIELDS:
                    continue
                if integer_ids and _is_id_field(name) and as_id(item) is not None:
                    copy[key] = as_id(item)
                elif integer_ids and name.endswith("_ids") and isinstance(item, list):
                    copy[key] = [as_id(x) if as_id(x) is not None else None for x in item]
                    pending += [(x, copy[key], i) for i, x in enumerate(item) if as_id(x) is None]
                else:
                    copy[key] = None
                    pending.append((item, copy, key))
        elif isinstance(source, list):
            items: list[Any] = [None] * len(source)
            parent[slot] = items
            pending += [(item, items, i) for i, item in enumerate(source)]
        else:
            parent[slot] = writable(source) if isinstance(source, str) else source
    return holder[0]


def without_secrets(value: Any) -> Any:
    """A copy with every ``api_token`` field removed, at any depth."""
    return _rebuild(value, integer_ids=False)


def _is_id_field(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def with_integer_ids(value: Any) -> Any:
    """A copy without ``api_token`` fields where ``id``/``*_id``/``*_ids`` fields sent as digit
    strings are integers."""
    return _rebuild(value, integer_ids=True)


def depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests (counted without recursion, up to ``limit`` + 1)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            pending += [(child, level + 1) for child in children]
    return deepest


# Toggl's request bodies are a few levels deep; a deeper one is left out rather than carried.
MAX_REQUEST_BODY_DEPTH = 32


def _decoded_request_body(metadata: dict[str, Any]) -> dict[str, Any]:
    """``request_body`` decoded to an object when it is JSON; left out, and said so, when it
    cannot be decoded or walked safely (any depth, any size): the event is never lost for it."""
    body = metadata.get("request_body")
    if not isinstance(body, str):
        return metadata
    try:
        decoded = json.loads(body)
    except ValueError:
        return metadata  # not JSON: passed on as Toggl sent it
    except (RecursionError, MemoryError):
        decoded = None
        too_deep = True
    else:
        too_deep = depth(decoded, MAX_REQUEST_BODY_DEPTH) > MAX_REQUEST_BODY_DEPTH
    if too_deep:
        rest = {k: v for k, v in metadata.items() if k != "request_body"}
        return {**rest, "request_body_omitted": True}
    return {**metadata, "request_body": decoded}


def from_webhook(envelope: Envelope) -> BusEvent:
    entity, action = envelope.entity, envelope.action
    metadata = with_integer_ids(_decoded_request_body(envelope.metadata))
    payload = with_integer_ids(envelope.payload)

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
        dedupe_key=dedupe_key(
            entity, action, envelope.event_id, entity_id, payload.get("at") if isinstance(payload, dict) else None
        ),
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
        "payload": with_integer_ids(workspace),
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
