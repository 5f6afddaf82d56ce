"""Catch-up: the changes the webhooks missed, found by reading Toggl and published once.

A subscription can be disabled, unvalidated for a while, or beyond the plan's limits; an outage
can outlast Toggl's redeliveries. Every few minutes this reads what changed since its checkpoint:

- ``GET /api/v9/me/time_entries?since=<unix>``: the token user's time entries, deleted included;
- ``GET /api/v9/workspaces/{wid}/projects?since=<unix>``: the workspace's projects, deleted
  included (paged).

It cannot see other users' time entries. A change is one (entity, id, ``at``), whatever path saw
it first: it shares its dedupe records with the webhook route (``bus_event.dedupe_key``), so a
change on the bus through one path is never published again by the other. Its type: a
``server_deleted_at`` is ``Deleted``; an entity the connection has seen before is ``Updated``;
what is new is ``Created`` (a project by its ``created_at``; a time entry by its id, above the
highest the catch-up had seen, as Toggl hands ids out in increasing order).

The first run is a baseline: it publishes nothing. The checkpoint moves only after everything
found was published; a failed run (EventBridge, quota, Toggl) is simply done again next time,
and what it had published already is a duplicate then. It spends at most two Toggl requests plus
the projects' extra pages, and skips itself while the quota it last saw is low.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

from toggl_connection import aws_clients, bus_event, dedupe, paging, publisher, settings, whoami
from toggl_connection.errors import (
    DedupeUnavailable,
    PublishFailed,
    TogglFailure,
    TogglQuotaExhausted,
)
from toggl_connection.integers import ascii_int
from toggl_connection.observability import count, logger
from toggl_connection.toggl_api import Quota, TogglClient, scheduled_client

STATE_KEY = "catch-up#state:{workspace}"
V9 = "/api/v9"
# Read a little before the checkpoint: Toggl's clock and ours may differ. What is read twice is a
# duplicate, never a second event.
OVERLAP_SECONDS = 120
# Leave this many requests of each quota (the /me one and the organization's) to everything else.
QUOTA_RESERVE = 5
MAX_PROJECTS = 5000


class State(NamedTuple):
    checkpoint: int  # Unix seconds: read changes since this moment
    baseline_at: int
    time_entry_high_water: int  # the highest time entry id seen so far
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
    return {"id": {"S": STATE_KEY.format(workspace=workspace_id)}}


def load_state(table: str, workspace_id: int) -> State | None:
    item = aws_clients.client("dynamodb").get_item(TableName=table, Key=_state_key(workspace_id), ConsistentRead=True)
    found = item.get("Item")
    if not found:
        return None
    quota = {
        scope: (int(value["L"][0]["N"]), int(value["L"][1]["N"]))
        for scope, value in found.get("quota", {}).get("M", {}).items()
    }
    return State(int(found["checkpoint"]["N"]), int(found["baseline_at"]["N"]),
                 int(found.get("time_entry_high_water", {}).get("N", "0")), quota)  # fmt: skip


def save_state(table: str, workspace_id: int, state: State) -> None:
    item = {
        **_state_key(workspace_id),
        "checkpoint": {"N": str(state.checkpoint)},
        "baseline_at": {"N": str(state.baseline_at)},
        "time_entry_high_water": {"N": str(state.time_entry_high_water)},
        "quota": {"M": {scope: {"L": [{"N": str(left)}, {"N": str(until)}]} for scope, (left, until) in
                        state.quota.items()}},
    }  # fmt: skip
    aws_clients.client("dynamodb").put_item(TableName=table, Item=item)


# --- reading Toggl ------------------------------------------------------------------------------
def _observe_quota(toggl: TogglClient, scope: str, quota: dict[str, tuple[int, int]]) -> None:
    q: Quota = toggl.quota
    if q.remaining is not None:
        quota[scope] = (q.remaining, int(time.time()) + (q.resets_in or 3600))


def _low_quota(state: State) -> list[str]:
    now = time.time()
    return [scope for scope, (left, until) in state.quota.items() if left < QUOTA_RESERVE and until > now]


def _time_entries(toggl: TogglClient, since: int) -> list[dict[str, Any]]:
    data = toggl.get(V9 + "/me/time_entries", {"since": since}).data or []
    return [e for e in data if isinstance(e, dict) and ascii_int(e.get("id")) is not None]


def _projects(toggl: TogglClient, workspace_id: int, since: int) -> list[dict[str, Any]]:
    path = f"{V9}/workspaces/{workspace_id}/projects"
    listing = paging.bare_pages(toggl, path, {"since": since}, MAX_PROJECTS)
    return [p for p in listing.items if isinstance(p, dict) and ascii_int(p.get("id")) is not None]


# --- what a change is ----------------------------------------------------------------------------
def classify(entity: str, item: dict[str, Any], state: State, table: str) -> Change | None:
    """The change ``item`` stands for, or None when the connection already published it."""
    entity_id = int(item["id"])
    at = str(item.get("at") or item.get("server_deleted_at") or "")
    workspace_id = ascii_int(item.get("workspace_id")) or ascii_int(item.get("wid"))
    if item.get("server_deleted_at"):
        return Change(entity, entity_id, "deleted", at, item, workspace_id)
    created = dedupe.recorded(bus_event.dedupe_key(entity, "created", "", entity_id), table)
    if created is not None:
        same = bus_event.change_moment(created.get("at")) == bus_event.change_moment(at)
        return None if same else Change(entity, entity_id, "updated", at, item, workspace_id)
    return Change(entity, entity_id, "created" if _new(entity, item, state) else "updated", at, item, workspace_id)


def _new(entity: str, item: dict[str, Any], state: State) -> bool:
    """Whether an entity no record speaks of came into being after the baseline."""
    if entity == "project":
        created = bus_event.change_moment(item.get("created_at"))
        return created is None or created >= state.baseline_at
    return int(item["id"]) > state.time_entry_high_water


def event_for(change: Change) -> bus_event.BusEvent:
    moment = bus_event.change_moment(change.at)
    when = datetime.fromtimestamp(moment, UTC) if moment is not None else datetime.now(UTC)
    detail = {
        "event_id": f"catch-up:{change.entity}:{change.entity_id}:{moment}",
        "origin": "catch-up",
        "subscription_id": None,
        "workspace_id": change.workspace_id,
        "entity": change.entity,
        "action": change.action,
        "entity_id": change.entity_id,
        "event_user_id": None,
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "payload": bus_event.with_integer_ids(change.payload),
        "metadata": {},
    }
    key = bus_event.dedupe_key(change.entity, change.action, detail["event_id"], change.entity_id, change.at)
    return bus_event.BusEvent(bus_event.detail_type(change.entity, change.action), when, detail, key)


# --- one run -------------------------------------------------------------------------------------
def run(event: Any, context: Any) -> dict[str, Any]:
    config = settings.load()
    table, bus = config.require("idempotency_table_name"), config.require("event_bus_name")
    toggl = scheduled_client(config, context, "catch-up")
    if toggl is None:
        return {"status": "skipped", "reason": "no token"}
    workspace_id = whoami.workspace_id(toggl, config.default_workspace_id)
    state = load_state(table, workspace_id)
    started = int(time.time())
    if state is None:
        return _baseline(toggl, table, workspace_id, started)
    low = _low_quota(state)
    if low:
        logger.info("catch-up skipped: Toggl's quota is low", extra={"scopes": low, "reserve": QUOTA_RESERVE})
        count("CatchUpSkipped")
        return {"status": "skipped", "reason": "quota", "toggl_requests": 0}
    since = max(0, state.checkpoint - OVERLAP_SECONDS)
    quota = dict(state.quota)
    scope = "me"  # the quota the next request counts against
    try:
        entries = _time_entries(toggl, since)
        _observe_quota(toggl, scope, quota)
        scope = "organization"
        projects = _projects(toggl, workspace_id, since)
        _observe_quota(toggl, scope, quota)
        found = [("time_entry", e) for e in entries] + [("project", p) for p in projects]
        published, duplicates = _publish_all(found, state, table, bus, context)
    except (TogglFailure, DedupeUnavailable, PublishFailed) as failure:
        # Nothing is lost: the checkpoint stays, and the next run reads the same changes again.
        if isinstance(failure, TogglQuotaExhausted):
            quota[scope] = (0, int(time.time()) + failure.retry_after)
        save_state(table, workspace_id, state._replace(quota=quota))
        logger.warning("catch-up did not finish; the next run reads the same changes again",
                       extra={"error": failure.code, "reason": failure.message})  # fmt: skip
        count("CatchUpFailed")
        raise
    high = max([state.time_entry_high_water, *(int(e["id"]) for e in entries)])
    save_state(table, workspace_id, State(started, state.baseline_at, high, quota))
    count("CatchUpPublished", published)
    result = {"status": "caught up", "published": published, "duplicates": duplicates, "read": len(found),
              "toggl_requests": toggl.requests_made, "since": since}  # fmt: skip
    logger.info("catch-up run", extra=result)
    return result


def _baseline(toggl: TogglClient, table: str, workspace_id: int, started: int) -> dict[str, Any]:
    """The first run: remember where the time entries are (one read of the last week); publish
    nothing."""
    entries = _time_entries(toggl, started - 7 * 24 * 3600)
    quota: dict[str, tuple[int, int]] = {}
    _observe_quota(toggl, "me", quota)
    high = max([0, *(int(e["id"]) for e in entries)])
    save_state(table, workspace_id, State(started, started, high, quota))
    logger.info("catch-up baseline", extra={"workspace_id": workspace_id, "time_entry_high_water": high})
    return {"status": "baseline", "toggl_requests": toggl.requests_made}


def _already(at: str) -> Any:
    return lambda: {"published": 0, "at": at}


def _publish_all(
    found: list[tuple[str, dict[str, Any]]], state: State, table: str, bus: str, context: Any
) -> tuple[int, int]:
    """Each change once, oldest first; nothing from before the baseline. A Created found late
    also stands for its own ``at``, so that the webhook's late Updated of that same state is a
    duplicate."""
    published = duplicates = 0
    for entity, item in sorted(found, key=lambda f: bus_event.change_moment(f[1].get("at")) or 0):
        moment = bus_event.change_moment(item.get("at"))
        if moment is not None and moment < state.baseline_at:
            continue  # from before the baseline (read again through the overlap): never published
        change = classify(entity, item, state, table)
        if change is None:
            duplicates += 1
            continue
        event = event_for(change)
        outcome = dedupe.once(event.dedupe_key, publisher.publishing(event, bus), table, context)
        if outcome["duplicate"]:
            duplicates += 1
            continue
        published += 1
        if change.action == "created":
            same_state = bus_event.dedupe_key(entity, "updated", "", change.entity_id, change.at)
            dedupe.once(same_state, _already(change.at), table, context)
    return published, duplicates
