"""``Workspace Created`` that never misses: a subscription lives inside one workspace, so Toggl
may never deliver a new workspace through one. The poller reads ``GET /me/workspaces`` (mind the
30/hour user quota: it makes one request per run), remembers the ids it has seen, treats its
first run as the baseline, and publishes each new workspace once. It shares its dedupe key with
the webhook route, so a workspace announced by both is published once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from toggl_connection.bus import event_format, publisher
from toggl_connection.core import aws_clients, idempotency, records, settings
from toggl_connection.core.documents import with_integer_ids
from toggl_connection.core.integers import ascii_int as as_id
from toggl_connection.core.observability import count, logger
from toggl_connection.toggl.client import V9, scheduled_client


def _seen(table: str) -> set[int] | None:
    item = aws_clients.client("dynamodb").get_item(
        TableName=table, Key={"id": {"S": records.WORKSPACE_POLLER_SEEN}}, ConsistentRead=True
    )
    if "Item" not in item:
        return None
    return {int(n) for n in item["Item"].get("workspace_ids", {}).get("NS", [])}


def _remember(table: str, ids: set[int]) -> None:
    if not ids:
        aws_clients.client("dynamodb").put_item(TableName=table, Item={"id": {"S": records.WORKSPACE_POLLER_SEEN}})
        return
    aws_clients.client("dynamodb").update_item(
        TableName=table,
        Key={"id": {"S": records.WORKSPACE_POLLER_SEEN}},
        UpdateExpression="ADD workspace_ids :ids",
        ExpressionAttributeValues={":ids": {"NS": [str(i) for i in sorted(ids)]}},
    )


def discovered(workspace: dict[str, Any], seen_at: datetime) -> event_format.BusEvent:
    """``Workspace Created`` for a workspace the poller found."""
    workspace_id = as_id(workspace.get("id"))
    return event_format.change(
        origin="poll",
        event_id=f"workspace-created:{workspace_id}",
        entity="workspace",
        action="created",
        entity_id=workspace_id,
        workspace_id=workspace_id,
        time=seen_at,
        created_at=seen_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{seen_at.microsecond // 1000:03d}Z",
        payload=with_integer_ids(workspace),
    )


def poll(event: Any, context: Any) -> dict[str, Any]:
    config = settings.load()
    table, bus = config.require("records_table_name"), config.require("event_bus_name")
    toggl = scheduled_client(config, context, "workspace poll")
    if toggl is None:
        return {"status": "skipped"}
    workspaces = [w for w in toggl.get(f"{V9}/me/workspaces").data or [] if isinstance(w, dict) and "id" in w]
    current = {int(w["id"]): w for w in workspaces}
    seen = _seen(table)
    if seen is None:
        _remember(table, set(current))
        logger.info("workspace poller baseline", extra={"workspaces": len(current)})
        return {"status": "baseline", "workspaces": len(current)}
    new = sorted(set(current) - seen)
    published = duplicates = 0
    for workspace_id in new:
        event_ = discovered(current[workspace_id], datetime.now(UTC))
        outcome = idempotency.once(event_.dedupe_key, publisher.publishing(event_, bus), table, context)
        published += 0 if outcome["duplicate"] else 1
        duplicates += 1 if outcome["duplicate"] else 0
        _remember(table, {workspace_id})  # only once it is on the bus (or already was)
    count("WorkspacesDiscovered", published)
    return {"status": "polled", "new": new, "published": published, "duplicates": duplicates}
