"""Catch-up: the changes the webhooks missed, found by reading Toggl and published once.

A subscription can be disabled, unvalidated for a while, or beyond the plan's limits; an outage
can outlast Toggl's redeliveries. Every few minutes this reads what changed since its checkpoint:

- ``GET /api/v9/me/time_entries?since=<unix>``: the token user's time entries, deleted included
  (only those of the stack's workspace, within ``AllowedWorkspaceIds``, are published: what a
  webhook of this stack could have delivered);
- ``GET /api/v9/workspaces/{wid}/projects?since=<unix>``: the workspace's projects, deleted
  included (paged).

It cannot see other users' time entries. A change is one (entity, id, ``at``), whatever path saw
it first: it shares its dedupe records with the webhook route (``event_format.dedupe_key``), so a
change on the bus through one path is never published again by the other. Its type: a
``server_deleted_at`` is ``Deleted``; ``Created`` only when the creation falls inside the window
this run reads, never because a record expired:

- a project by its ``created_at``;
- a time entry (Toggl gives it no creation time) when the catch-up has never seen it (a lasting
  mark per time entry, written once it is on the bus) and its id is above the highest id of the
  baseline's read (ids are not documented to grow: that mark is fixed at the baseline, so one
  odd id later on changes nothing).

Everything else is ``Updated``.

The first run is a baseline: it publishes nothing. The checkpoint moves only after everything
found was published, and never past a list that was cut short; a failed run (EventBridge, quota,
Toggl) is simply done again next time, and what it had published already is a duplicate then. A
change a webhook is publishing at that very moment is left to the webhook. It spends at most two
Toggl requests plus the projects' extra pages, and skips itself while the quota it last saw is
low (``CatchUpSkipped``; every run that reads counts ``CatchUpRan``, and an alarm watches it).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

from toggl_connection.bus import event_format, publisher
from toggl_connection.core import aws_clients, idempotency, records, settings
from toggl_connection.core.documents import with_integer_ids
from toggl_connection.core.errors import (
    DedupeUnavailable,
    DeliveryInProgress,
    PublishFailed,
    TogglFailure,
    TogglQuotaExhausted,
)
from toggl_connection.core.integers import ascii_int
from toggl_connection.core.observability import count, logger
from toggl_connection.core.settings import DEDUPE_SECONDS
from toggl_connection.toggl import paging, whoami
from toggl_connection.toggl.client import MAX_WAIT, V9, Quota, TogglClient, scheduled_client

# One lasting item per time entry the catch-up has seen (no expiry: "seen" must never lapse).
# Read a little before the checkpoint: Toggl's clock and ours may differ. What is read twice is a
# duplicate, never a second event.
OVERLAP_SECONDS = 120
# Leave this many requests of each quota (the /me one and the organization's) to everything else.
QUOTA_RESERVE = 5
MAX_PROJECTS = 5000


class State(NamedTuple):
    checkpoint: int  # Unix seconds: read changes since this moment
    baseline_at: int
    time_entry_high_water: int  # the highest time entry id of the baseline's read (fixed then)
    quota: dict[str, tuple[int, int]]  # scope -> (remaining, Unix time it resets)


class Change(NamedTuple):
    entity: str
    entity_id: int
    action: str
    at: str
    payload: dict[str, Any]
    workspace_id: int | None


# --- state, kept in the shared table -------------------------------------------------------------
def _state_key(workspace_id: int) -> dict[str, Any]:
    return {"id": {"S": records.CATCH_UP_STATE.format(workspace=workspace_id)}}


def load_state(table: str, workspace_id: int) -> State | None:
    item = aws_clients.client("dynamodb").get_item(TableName=table, Key=_state_key(workspace_id), ConsistentRead=True)
    found = item.get("Item")
    if not found:
        return None
    quota = {
        scope: (int(value["L"][0]["N"]), int(value["L"][1]["N"]))
        for scope, value in found.get("quota", {}).get("M", {}).items()
    }
    return State(
        int(found["checkpoint"]["N"]),
        int(found["baseline_at"]["N"]),
        int(found.get("time_entry_high_water", {}).get("N", "0")),
        quota,
    )


def save_state(table: str, workspace_id: int, state: State) -> None:
    item = {
        **_state_key(workspace_id),
        "checkpoint": {"N": str(state.checkpoint)},
        "baseline_at": {"N": str(state.baseline_at)},
        "time_entry_high_water": {"N": str(state.time_entry_high_water)},
        "quota": {
            "M": {scope: {"L": [{"N": str(left)}, {"N": str(until)}]} for scope, (left, until) in state.quota.items()}
        },
    }
    aws_clients.client("dynamodb").put_item(TableName=table, Item=item)


# --- reading Toggl ------------------------------------------------------------------------------
def _observe_quota(toggl: TogglClient, scope: str, quota: dict[str, tuple[int, int]]) -> None:
    q: Quota = toggl.quota
    if q.remaining is not None:
        quota[scope] = (q.remaining, int(time.time()) + (q.resets_in or MAX_WAIT))


def _low_quota(state: State) -> list[str]:
    """The scopes whose quota is below the reserve until a reset still to come. A reset further
    away than Toggl's hour (a state kept before resets were bounded) is not believed."""
    now = time.time()
    return [
        scope for scope, (left, until) in state.quota.items() if left < QUOTA_RESERVE and now < until <= now + MAX_WAIT
    ]


def _time_entries(toggl: TogglClient, since: int, workspace_id: int) -> list[dict[str, Any]]:
    """The token user's entries changed since ``since`` in this stack's workspace: the user's
    entries elsewhere are not this stack's (no webhook of it would deliver them)."""
    data = toggl.get(V9 + "/me/time_entries", {"since": since}).data or []
    return [
        e
        for e in data
        if isinstance(e, dict)
        and ascii_int(e.get("id")) is not None
        and (ascii_int(e.get("workspace_id")) or ascii_int(e.get("wid"))) == workspace_id
    ]


def _projects(toggl: TogglClient, workspace_id: int, since: int) -> paging.Listing:
    path = f"{V9}/workspaces/{workspace_id}/projects"
    listing = paging.bare_pages(toggl, path, {"since": since}, MAX_PROJECTS)
    items = [p for p in listing.items if isinstance(p, dict) and ascii_int(p.get("id")) is not None]
    return listing._replace(items=items)


# --- time entries the catch-up has seen ----------------------------------------------------------
def _seen_key(workspace_id: int, entity_id: int) -> dict[str, Any]:
    return {"id": {"S": records.CATCH_UP_SEEN.format(workspace=workspace_id, entity_id=entity_id)}}


def _seen(table: str, workspace_id: int, entity_id: int) -> bool:
    found = aws_clients.client("dynamodb").get_item(
        TableName=table, Key=_seen_key(workspace_id, entity_id), ProjectionExpression="id"
    )
    return "Item" in found


def _mark_seen(table: str, workspace_id: int, entity_id: int) -> None:
    aws_clients.client("dynamodb").put_item(TableName=table, Item=_seen_key(workspace_id, entity_id))


# --- what a change is ----------------------------------------------------------------------------
class Window(NamedTuple):
    """What one run reads: changes since ``since``, for ``workspace_id``."""

    since: int
    workspace_id: int
    table: str


def classify(entity: str, item: dict[str, Any], state: State, window: Window) -> Change | None:
    """The change ``item`` stands for, or None when the connection already published it.
    Raises ``DeliveryInProgress`` while a webhook is publishing its creation."""
    entity_id = int(item["id"])
    at = str(item.get("at") or item.get("server_deleted_at") or "")
    workspace_id = ascii_int(item.get("workspace_id")) or ascii_int(item.get("wid"))
    if item.get("server_deleted_at"):
        return Change(entity, entity_id, "deleted", at, item, workspace_id)
    created = idempotency.recorded(event_format.dedupe_key(entity, "created", "", entity_id), window.table)
    if created is not None:
        same = event_format.change_moment(created.get("at")) == event_format.change_moment(at)
        return None if same else Change(entity, entity_id, "updated", at, item, workspace_id)
    action = "created" if _created_in(window, entity, item, state) else "updated"
    return Change(entity, entity_id, action, at, item, workspace_id)


def _created_in(window: Window, entity: str, item: dict[str, Any], state: State) -> bool:
    """Whether the entity came into being inside the window this run reads. Never later than
    the dedupe records last: a creation so old that its webhook's record may be gone is not
    called new again."""
    if entity == "project":
        created = event_format.change_moment(item.get("created_at"))
        start = max(window.since, int(time.time()) - DEDUPE_SECONDS)
        return created is not None and created >= start
    entity_id = int(item["id"])
    return entity_id > state.time_entry_high_water and not _seen(window.table, window.workspace_id, entity_id)


def event_for(change: Change) -> event_format.BusEvent:
    moment = event_format.change_moment(change.at)
    when = datetime.fromtimestamp(moment, UTC) if moment is not None else datetime.now(UTC)
    return event_format.change(
        origin="catch-up",
        event_id=f"catch-up:{change.entity}:{change.entity_id}:{moment}",
        entity=change.entity,
        action=change.action,
        entity_id=change.entity_id,
        workspace_id=change.workspace_id,
        time=when,
        created_at=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        payload=with_integer_ids(change.payload),
        at=change.at,
    )


# --- one run -------------------------------------------------------------------------------------
def run(event: Any, context: Any) -> dict[str, Any]:
    """One run: the baseline the first time; then the changes since the checkpoint, each
    published once, and the checkpoint moved on. Skipped without a token, outside the allowed
    workspaces, or while Toggl's quota is low."""
    config = settings.load()
    table, bus = config.require("records_table_name"), config.require("event_bus_name")
    toggl = scheduled_client(config, context, "catch-up")
    if toggl is None:
        return {"status": "skipped", "reason": "no token"}
    workspace_id = whoami.workspace_id(toggl, config.default_workspace_id)
    if config.allowed_workspace_ids and workspace_id not in config.allowed_workspace_ids:
        return _skip_outside_allowed(workspace_id)
    state = load_state(table, workspace_id)
    started = int(time.time())
    if state is None:
        return _baseline(toggl, table, workspace_id, started)
    low = _low_quota(state)
    if low:
        return _skip_low_quota(low)
    window = Window(max(0, state.checkpoint - OVERLAP_SECONDS), workspace_id, table)
    quota = dict(state.quota)
    projects, read, tally = _read_and_publish(toggl, state, window, quota, bus, context)
    checkpoint = _next_checkpoint(state, projects, started)
    save_state(table, workspace_id, state._replace(checkpoint=checkpoint, quota=quota))
    return _report(toggl, window, projects, read, tally)


def _skip_outside_allowed(workspace_id: int) -> dict[str, Any]:
    logger.warning(
        "catch-up skipped: the workspace is outside AllowedWorkspaceIds", extra={"workspace_id": workspace_id}
    )
    count("CatchUpSkipped")
    return {"status": "skipped", "reason": "workspace not allowed"}


def _skip_low_quota(low: list[str]) -> dict[str, Any]:
    logger.info("catch-up skipped: Toggl's quota is low", extra={"scopes": low, "reserve": QUOTA_RESERVE})
    count("CatchUpSkipped")
    return {"status": "skipped", "reason": "quota", "toggl_requests": 0}


def _read_and_publish(
    toggl: TogglClient, state: State, window: Window, quota: dict[str, tuple[int, int]], bus: str, context: Any
) -> tuple[paging.Listing, int, Tally]:
    """The window's changes read from Toggl (``quota`` records what each request left) and each
    published once: the projects' listing, how many changes were read, and the tally. A failure
    keeps the checkpoint where it was (only the quota seen is saved) and is raised."""
    scope = "me"  # the quota the next request counts against
    try:
        entries = _time_entries(toggl, window.since, window.workspace_id)
        _observe_quota(toggl, scope, quota)
        scope = "organization"
        projects = _projects(toggl, window.workspace_id, window.since)
        _observe_quota(toggl, scope, quota)
        found = [("time_entry", e) for e in entries] + [("project", p) for p in projects.items]
        tally = _publish_all(found, state, window, bus, context)
    except (TogglFailure, DedupeUnavailable, PublishFailed) as failure:
        # Nothing is lost: the checkpoint stays, and the next run reads the same changes again.
        if isinstance(failure, TogglQuotaExhausted):
            quota[scope] = (0, int(time.time()) + failure.retry_after)
        save_state(window.table, window.workspace_id, state._replace(quota=quota))
        logger.warning(
            "catch-up did not finish; the next run reads the same changes again",
            extra={"error": failure.code, "reason": failure.message},
        )
        count("CatchUpFailed")
        raise
    return projects, len(found), tally


def _next_checkpoint(state: State, projects: paging.Listing, started: int) -> int:
    """Where the next run reads from: this run's start, or where this one read from when a list
    was cut short (it may have left out changes of any age: read them all again next time)."""
    if projects.truncated:
        logger.warning(
            "catch-up read only part of the projects; the checkpoint stays",
            extra={"read": len(projects.items), "limit": MAX_PROJECTS},
        )
        return state.checkpoint
    return started


def _report(toggl: TogglClient, window: Window, projects: paging.Listing, read: int, tally: Tally) -> dict[str, Any]:
    """The run's result, counted and logged."""
    count("CatchUpPublished", tally.published)
    count("CatchUpRan")
    result = {
        "status": "caught up",
        **tally._asdict(),
        "read": read,
        "truncated": projects.truncated,
        "toggl_requests": toggl.requests_made,
        "since": window.since,
    }
    logger.info("catch-up run", extra=result)
    return result


def _baseline(toggl: TogglClient, table: str, workspace_id: int, started: int) -> dict[str, Any]:
    """The first run: remember which time entries exist (one read of the last week); publish
    nothing."""
    entries = _time_entries(toggl, started - 7 * 24 * 3600, workspace_id)
    quota: dict[str, tuple[int, int]] = {}
    _observe_quota(toggl, "me", quota)
    high = max([0, *(int(e["id"]) for e in entries)])
    for entry in entries:
        _mark_seen(table, workspace_id, int(entry["id"]))
    save_state(table, workspace_id, State(started, started, high, quota))
    count("CatchUpRan")
    logger.info("catch-up baseline", extra={"workspace_id": workspace_id, "time_entry_high_water": high})
    return {"status": "baseline", "toggl_requests": toggl.requests_made}


def _already(at: str) -> Any:
    return lambda: {"published": 0, "at": at}


class Tally(NamedTuple):
    published: int = 0
    duplicates: int = 0
    in_flight: int = 0  # left to the webhook that is publishing them right now


def _publish_all(
    found: list[tuple[str, dict[str, Any]]], state: State, window: Window, bus: str, context: Any
) -> Tally:
    """Each change once, oldest first; nothing from before the baseline. A Created found late
    also stands for its own ``at``, so that the webhook's late Updated of that same state is a
    duplicate. A time entry is marked seen once its change is on the bus."""
    tally = Tally()
    for entity, item in sorted(found, key=lambda f: event_format.change_moment(f[1].get("at")) or 0):
        moment = event_format.change_moment(item.get("at"))
        if moment is not None and moment < state.baseline_at:
            continue  # from before the baseline (read again through the overlap): never published
        try:
            published = _publish_one(entity, item, state, window, bus, context)
        except DeliveryInProgress:
            tally = tally._replace(in_flight=tally.in_flight + 1)
            continue
        if entity == "time_entry":
            _mark_seen(window.table, window.workspace_id, int(item["id"]))
        if published:
            tally = tally._replace(published=tally.published + 1)
        else:
            tally = tally._replace(duplicates=tally.duplicates + 1)
    return tally


def _publish_one(entity: str, item: dict[str, Any], state: State, window: Window, bus: str, context: Any) -> bool:
    """Publish the change ``item`` stands for; False when it was on the bus already."""
    change = classify(entity, item, state, window)
    if change is None:
        return False
    event = event_for(change)
    outcome = idempotency.once(event.dedupe_key, publisher.publishing(event, bus), window.table, context)
    if outcome["duplicate"]:
        return False
    if change.action == "created":
        same_state = event_format.dedupe_key(entity, "updated", "", change.entity_id, change.at)
        idempotency.once(same_state, _already(change.at), window.table, context)
    return True
