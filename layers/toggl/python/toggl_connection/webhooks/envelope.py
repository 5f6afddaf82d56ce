"""Toggl's webhook envelope, read strictly enough to refuse what is not one.

Toggl sends some ids as strings of digits (``"workspace_id": "7435584"``) and others as
integers; everything here accepts both and hands on integers.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, NamedTuple

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
    created_at = document.get("created_at")
    if not isinstance(created_at, str):
        raise InvalidBody("'created_at' is missing or is not a string.")
    try:
        created = datetime.fromisoformat(created_at)
    except ValueError as exc:
        raise InvalidBody("'created_at' is not an RFC 3339 timestamp.") from exc
    if created.tzinfo is None:
        raise InvalidBody("'created_at' has no time zone.")

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
        if payload is not None and not isinstance(payload, dict):
            raise InvalidBody("'payload' must be the string 'ping' or the entity object.")
        for field in ("model", "action"):
            value = metadata.get(field)
            if not isinstance(value, str) or not _NAME.fullmatch(value):
                raise InvalidBody(f"'metadata.{field}' is missing or is not a name like 'time_entry'.")

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
