"""Puts events on the connection's EventBridge bus: batches of ten (the ``PutEvents`` limit),
and a loud failure when EventBridge refuses any entry, so nothing is acknowledged unpublished."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from toggl_connection.bus.event_format import BusEvent
from toggl_connection.core import aws_clients
from toggl_connection.core.errors import PublishFailed
from toggl_connection.core.observability import logger

BATCH_SIZE = 10
# EventBridge's limit for one entry (Time, Source, DetailType, Detail and Resources, in bytes).
MAX_ENTRY_BYTES = 256 * 1024


def entry_size(entry: dict[str, Any]) -> int:
    size = 14  # the Time field counts as 14 bytes
    for field in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(field, "")).encode("utf-8"))
    return size


def _fitted(event: BusEvent, bus_name: str) -> dict[str, Any]:
    """The entry, without the metadata's copy of the request body if that is what makes it too
    large: the payload already holds the entity, and an entry over the limit would never land."""
    entry = event.entry(bus_name)
    if entry_size(entry) <= MAX_ENTRY_BYTES:
        return entry
    metadata = {k: v for k, v in event.detail.get("metadata", {}).items() if k != "request_body"}
    smaller = BusEvent(
        detail_type=event.detail_type,
        time=event.time,
        detail={**event.detail, "metadata": {**metadata, "request_body_omitted": True}},
        dedupe_key=event.dedupe_key,
    )
    logger.warning("event too large for EventBridge; request_body omitted", extra={"size": entry_size(entry)})
    return smaller.entry(bus_name)


def publishing(event: BusEvent, bus_name: str) -> Callable[[], dict[str, Any]]:
    """The work of publishing one event, as the dedupe runs it: its result, kept with the dedupe
    record, holds the entity's ``at`` (the catch-up compares it with what Toggl shows now) and
    the event's id (a second webhook event of the same second is told from a redelivery by it)."""
    payload = event.detail.get("payload")
    at = payload.get("at") if isinstance(payload, dict) else None
    return lambda: {"published": publish([event], bus_name), "at": at, "event_id": event.detail.get("event_id")}


def publish(events: Sequence[BusEvent], bus_name: str) -> int:
    """Publish every event or raise ``PublishFailed``. Returns the number of ``PutEvents`` calls."""
    client = aws_clients.client("events")
    calls = 0
    for start in range(0, len(events), BATCH_SIZE):
        entries = [_fitted(event, bus_name) for event in events[start : start + BATCH_SIZE]]
        try:
            result = client.put_events(Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise PublishFailed(f"EventBridge did not accept the event ({type(exc).__name__}).") from exc
        calls += 1
        if result.get("FailedEntryCount"):
            codes = sorted({e.get("ErrorCode", "?") for e in result.get("Entries", []) if e.get("ErrorCode")})
            raise PublishFailed(f"EventBridge refused {result['FailedEntryCount']} event(s): {', '.join(codes)}.")
    return calls
