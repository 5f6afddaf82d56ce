"""Toggl's webhook envelope, read strictly enough to refuse what is not one, and turned into the
event the bus carries.

Toggl sends some ids as strings of digits (``"workspace_id": "7435584"``) and others as
integers; everything here accepts both and hands on integers.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, NamedTuple

from toggl_connection.bus.event_format import BusEvent, change
from toggl_connection.core.documents import depth, with_integer_ids
from toggl_connection.core.errors import InvalidBody
from toggl_connection.core.integers import ascii_int as as_id

_NAME = re.compile(r"[A-Za-z0-9_]+")


class Envelope(NamedTuple):
    event_id: int
    created_at: str
    created: datetime
    subscription_id: int | None
    metadata: dict[str, Any]
    payload: dict[str, Any] | str | None
    validation_code: str | None
    validation_code_url: str | None = None

    @property
    def is_ping(self) -> bool:
        return self.payload == "ping"

    @property
    def entity(self) -> str:
        return str(self.metadata["model"])

    @property
    def action(self) -> str:
        return str(self.metadata["action"])


def parse(body: bytes) -> Envelope:
    """The envelope in ``body`` (already authenticated), or a 400 that says what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidBody("The body is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise InvalidBody("The body must be a JSON object (a Toggl webhook envelope).")

    event_id = as_id(document.get("event_id"))
    if event_id is None:
        raise InvalidBody("'event_id' is missing or is not a whole number.")
    created_at, created = _created(document.get("created_at"))
    subscription_id = document.get("subscription_id")
    if subscription_id is not None and as_id(subscription_id) is None:
        raise InvalidBody("'subscription_id' is not a whole number.")
    metadata = document.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise InvalidBody("'metadata' must be an object.")
    validation_code = document.get("validation_code")
    if validation_code is not None and not isinstance(validation_code, str):
        raise InvalidBody("'validation_code' must be a string.")
    payload = document.get("payload")
    if payload != "ping":
        _check_change(payload, metadata)

    return Envelope(
        event_id=event_id,
        created_at=created_at,
        created=created,
        subscription_id=as_id(subscription_id),
        metadata=metadata,
        payload=payload,
        validation_code=validation_code,
        validation_code_url=url if isinstance(url := document.get("validation_code_url"), str) else None,
    )


def _created(created_at: Any) -> tuple[str, datetime]:
    """``created_at`` as Toggl wrote it, and as a moment: an RFC 3339 timestamp with its zone."""
    if not isinstance(created_at, str):
        raise InvalidBody("'created_at' is missing or is not a string.")
    try:
        created = datetime.fromisoformat(created_at)
    except ValueError as exc:
        raise InvalidBody("'created_at' is not an RFC 3339 timestamp.") from exc
    if created.tzinfo is None:
        raise InvalidBody("'created_at' has no time zone.")
    return created_at, created


def _check_change(payload: Any, metadata: dict[str, Any]) -> None:
    """A change (not a PING) carries the entity, or nothing, and names its model and action."""
    if payload is not None and not isinstance(payload, dict):
        raise InvalidBody("'payload' must be the string 'ping' or the entity object.")
    for field in ("model", "action"):
        value = metadata.get(field)
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise InvalidBody(f"'metadata.{field}' is missing or is not a name like 'time_entry'.")


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


def bus_event(envelope: Envelope) -> BusEvent:
    """The delivery as the bus carries it: ids made integers, ``api_token`` dropped, the
    ``request_body`` decoded; the entity and workspace found wherever Toggl put them."""
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

    return change(
        origin="webhook",
        event_id=envelope.event_id,
        entity=entity,
        action=action,
        entity_id=entity_id,
        workspace_id=workspace_id,
        time=envelope.created,
        created_at=envelope.created_at,
        payload=payload,
        at=payload.get("at") if isinstance(payload, dict) else None,
        subscription_id=envelope.subscription_id,
        event_user_id=as_id(metadata.get("event_user_id")),
        metadata=metadata,
    )
