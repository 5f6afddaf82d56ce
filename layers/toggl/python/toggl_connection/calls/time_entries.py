"""The time-tracking actions: start and stop a timer, log a finished entry, change and delete an
entry. What each takes (Toggl's field names), the rules Toggl would apply, checked before a
request is spent, and the one Toggl call each makes.

Toggl stops the running timer when another one starts, so a start sent twice stops the timer it
started first: a start (and a finished entry) whose answer was lost is looked for before it is
sent again (``find_started``, ``find_logged``). Stop, update and delete are safe to repeat by
nature; the client repeats them itself after a lost answer, and what a repeat answers (an entry
already stopped, an entry already gone) is read as done."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from toggl_connection.calls import guards
from toggl_connection.calls.validation import Check, positive
from toggl_connection.calls.writes import CLOCK_SKEW_SECONDS, Outcome, changed_since, given
from toggl_connection.core import settings
from toggl_connection.core.errors import (
    NoRunningTimeEntry,
    TogglFailure,
    TogglNotFound,
    TogglOutcomeUnknown,
    TogglUnavailable,
    ValidationFailed,
)
from toggl_connection.toggl.client import V9, TogglClient

# Every entry this connection creates says so (Toggl asks each app to name itself).
CREATED_WITH = "toggl-track-connection"
# The fields of a time entry a request may set, besides its times.
ENTRY_FIELDS = ("description", "project_id", "task_id", "tags", "tag_ids", "billable")
ALREADY_STOPPED = 409  # Toggl's "Time entry already stopped"


# --- inputs --------------------------------------------------------------------------------
class StartTimeEntry(NamedTuple):
    workspace_id: int
    description: str | None = None
    project_id: int | None = None
    task_id: int | None = None
    tags: list[str] | None = None
    tag_ids: list[int] | None = None
    billable: bool | None = None
    start: str | None = None  # default: now


class StopTimeEntry(NamedTuple):
    time_entry_id: int | None = None  # default: the running entry
    workspace_id: int | None = None


class CreateTimeEntry(NamedTuple):
    workspace_id: int
    start: str
    duration: int | None = None
    stop: str | None = None
    description: str | None = None
    project_id: int | None = None
    task_id: int | None = None
    tags: list[str] | None = None
    tag_ids: list[int] | None = None
    billable: bool | None = None


class UpdateTimeEntry(NamedTuple):
    workspace_id: int
    time_entry_id: int
    description: str | None = None
    project_id: int | None = None
    task_id: int | None = None
    tags: list[str] | None = None
    tag_ids: list[int] | None = None
    billable: bool | None = None
    start: str | None = None
    stop: str | None = None
    duration: int | None = None


class DeleteTimeEntry(NamedTuple):
    workspace_id: int
    time_entry_id: int


# --- times ---------------------------------------------------------------------------------
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIME_EXAMPLE = "2026-12-03T14:30:00Z or 2026-12-03T15:30:00+01:00"


def moment(value: str) -> datetime | None:
    """An RFC 3339 time with a time zone as an instant in UTC, to the second (Toggl keeps whole
    seconds); None when ``value`` is not one."""
    text = value.strip()
    if len(text) < 20 or text[10] not in "Tt":
        return None
    try:
        parsed = datetime.fromisoformat(text[:10] + "T" + text[11:])
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed.astimezone(UTC).replace(microsecond=0)


def utc(value: str) -> str:
    """A checked time as Toggl takes it: UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    parsed = moment(value)
    assert parsed is not None, "checked before"
    return parsed.strftime(TIME_FORMAT)


def now() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def rfc3339(value: Any) -> str | None:
    if isinstance(value, str) and moment(value) is None:
        return f"must be an RFC 3339 time with a time zone, for example {TIME_EXAMPLE}"
    return None


def tag_names(value: Any) -> str | None:
    if isinstance(value, list) and any(isinstance(v, str) and not v.strip() for v in value):
        return "must list tag names that are not blank"
    return None


def tag_ids(value: Any) -> str | None:
    if isinstance(value, list) and any(isinstance(v, int) and v <= 0 for v in value):
        return "must list tag ids greater than 0"
    return None


def seconds(value: Any) -> str | None:
    if isinstance(value, int) and value <= 0:
        return "must be a whole number of seconds greater than 0 (a running timer is started with start-time-entry)"
    return None


_ENTRY_CHECKS: dict[str, Check] = {
    "workspace_id": positive,
    "project_id": positive,
    "task_id": positive,
    "tags": tag_names,
    "tag_ids": tag_ids,
}
_TIMES: dict[str, Check] = {"start": rfc3339, "stop": rfc3339, "duration": seconds}
CHECKS: dict[type, dict[str, Check]] = {
    StartTimeEntry: {**_ENTRY_CHECKS, "start": rfc3339},
    StopTimeEntry: {"workspace_id": positive, "time_entry_id": positive},
    CreateTimeEntry: {**_ENTRY_CHECKS, **_TIMES},
    UpdateTimeEntry: {**_ENTRY_CHECKS, **_TIMES, "time_entry_id": positive},
    DeleteTimeEntry: {"workspace_id": positive, "time_entry_id": positive},
}


def refuse_finished(payload: Mapping[str, Any]) -> None:
    """A start is a running timer: a stop or a duration belongs to a finished entry."""
    for name in ("stop", "duration"):
        if name in payload:
            raise ValidationFailed(
                name,
                "is not taken when starting a timer (it runs until stopped): to log a finished entry, use "
                "create-time-entry (the toggl_create_time_entry tool)",
            )


def _times_agree(start: str | None, stop: str | None, duration: int | None) -> None:
    """Toggl's rule for the times of one entry: ``stop`` after ``start``, and ``start + duration ==
    stop`` when all three are given."""
    if start is None or stop is None:
        return
    begun, ended = moment(start), moment(stop)
    assert begun is not None and ended is not None
    apart = int((ended - begun).total_seconds())
    if apart <= 0:
        raise ValidationFailed("stop", "must be after start")
    if duration is not None and duration != apart:
        raise ValidationFailed(
            "duration",
            f"disagrees with start and stop, which are {apart} seconds apart: give duration or stop, or make "
            "them agree",
        )


def check_finished(item: CreateTimeEntry) -> None:
    if item.duration is None and item.stop is None:
        raise ValidationFailed("duration", "is required (seconds, greater than 0), or give stop")
    _times_agree(item.start, item.stop, item.duration)


def check_update(item: UpdateTimeEntry) -> None:
    if not given(item, *ENTRY_FIELDS, "start", "stop", "duration"):
        raise ValidationFailed(
            "body", f"changes nothing: give at least one of {', '.join((*ENTRY_FIELDS, 'start', 'stop', 'duration'))}"
        )
    _times_agree(item.start, item.stop, item.duration)


# --- what is sent --------------------------------------------------------------------------
def _entries(workspace_id: int) -> str:
    return f"{V9}/workspaces/{workspace_id}/time_entries"


def _new_entry(workspace_id: int, item: Any, start: str) -> dict[str, Any]:
    """The body of a time-entry create: who made it, the workspace (in the body as in the path),
    the start in UTC, the fields given. Nothing Toggl calls legacy (wid, pid, tid, duronly)."""
    return {"created_with": CREATED_WITH, "workspace_id": workspace_id, "start": start, **given(item, *ENTRY_FIELDS)}


def start_entry(toggl: TogglClient, item: StartTimeEntry) -> Any:
    body = {**_new_entry(item.workspace_id, item, utc(item.start) if item.start else now()), "duration": -1}
    return toggl.post(_entries(item.workspace_id), body).data


def _duration(item: CreateTimeEntry) -> int:
    if item.duration is not None:
        return item.duration
    begun, ended = moment(item.start), moment(str(item.stop))
    assert begun is not None and ended is not None
    return int((ended - begun).total_seconds())


def log_entry(toggl: TogglClient, item: CreateTimeEntry) -> Any:
    body = {**_new_entry(item.workspace_id, item, utc(item.start)), "duration": _duration(item)}
    if item.stop is not None:
        body["stop"] = utc(item.stop)
    return toggl.post(_entries(item.workspace_id), body).data


# --- finding what a lost create made ---------------------------------------------------------
def _recent(toggl: TogglClient, since: float) -> list[dict[str, Any]]:
    """The token user's entries changed since ``since`` (clock skew allowed), deleted ones left out."""
    entries = toggl.get(f"{V9}/me/time_entries", {"since": int(since) - CLOCK_SKEW_SECONDS}).data
    return [e for e in entries or [] if isinstance(e, dict) and not e.get("server_deleted_at")]


def _same_fields(entry: dict[str, Any], item: Any) -> bool:
    """Whether ``entry`` has every field the request set (tags in any order)."""
    for name, value in given(item, *ENTRY_FIELDS).items():
        found = entry.get(name)
        if name in ("tags", "tag_ids"):
            if sorted(found or []) != sorted(value):
                return False
        elif found != value:
            return False
    return bool(entry.get("workspace_id") == item.workspace_id)


def _started(entry: dict[str, Any]) -> datetime | None:
    return moment(entry["start"]) if isinstance(entry.get("start"), str) else None


def find_started(toggl: TogglClient, item: StartTimeEntry, since: float | None) -> Any:
    """The timer a lost start made: the user's entry with the request's fields, started at the
    request's ``start`` (or, without one, no earlier than the first attempt) and made since then.
    The earliest such entry: a timer started later by another request is never taken for it,
    even when that one is the one running now (it stopped this one)."""
    if since is None:
        return None
    wanted = moment(item.start) if item.start else None
    earliest = datetime.fromtimestamp(since - CLOCK_SKEW_SECONDS, UTC)
    candidates = [
        (started, entry)
        for entry in _recent(toggl, since)
        if (started := _started(entry)) is not None
        and (started == wanted if wanted else started >= earliest)
        and _same_fields(entry, item)
        and changed_since(entry, since)
    ]
    return min(candidates, key=lambda pair: pair[0])[1] if candidates else None


def find_logged(toggl: TogglClient, item: CreateTimeEntry, since: float | None) -> Any:
    """The finished entry a lost create made: same start, same duration, same fields."""
    if since is None:
        return None
    start, duration = moment(item.start), _duration(item)
    return next(
        (
            entry
            for entry in _recent(toggl, since)
            if _started(entry) == start
            and entry.get("duration") == duration
            and _same_fields(entry, item)
            and changed_since(entry, since)
        ),
        None,
    )


# --- stop, update, delete: safe to repeat --------------------------------------------------
def _running(toggl: TogglClient) -> dict[str, Any] | None:
    """The token user's running entry: Toggl answers ``null`` (seen) or 404 (documented) when none runs."""
    try:
        entry = toggl.get(f"{V9}/me/time_entries/current").data
    except TogglNotFound:
        return None
    return entry if isinstance(entry, dict) else None


def _to_stop(toggl: TogglClient, item: StopTimeEntry) -> tuple[int, int]:
    """The entry to stop and its workspace: the one named, or the one running."""
    if item.time_entry_id is not None:
        workspace_id = item.workspace_id or settings.load().default_workspace_id
        if workspace_id is None:
            raise ValidationFailed(
                "workspace_id", "is required with time_entry_id (or set the stack's DefaultWorkspaceId)"
            )
        return item.time_entry_id, workspace_id
    running = _running(toggl)
    if running is None:
        raise NoRunningTimeEntry("No timer is running for the token's user, so there is nothing to stop.")
    if item.workspace_id is not None and running.get("workspace_id") != item.workspace_id:
        raise NoRunningTimeEntry(
            f"No timer is running in workspace {item.workspace_id}; the one running is in workspace "
            f"{running.get('workspace_id')}: leave workspace_id out to stop it."
        )
    return int(running["id"]), int(running["workspace_id"])


def stop_entry(toggl: TogglClient, item: StopTimeEntry, first_attempt: float | None) -> Outcome:
    entry_id, workspace_id = _to_stop(toggl, item)
    guards.workspace_allowed(settings.load(), workspace_id)
    try:
        # Stopping twice stops once: the client may repeat it after a lost answer.
        stopped = toggl.request("PATCH", f"{_entries(workspace_id)}/{entry_id}/stop", repeatable=True).data
    except TogglFailure as failure:
        if failure.toggl_status != ALREADY_STOPPED:
            raise
        entry = toggl.get(f"{V9}/me/time_entries/{entry_id}").data
        return Outcome(200, {**(entry if isinstance(entry, dict) else {"id": entry_id}), "already_stopped": True})
    return Outcome(200, stopped)


def update_entry(toggl: TogglClient, item: UpdateTimeEntry, first_attempt: float | None) -> Outcome:
    body = given(item, *ENTRY_FIELDS, "duration")
    body.update({name: utc(value) for name, value in given(item, "start", "stop").items()})
    return Outcome(200, toggl.put(f"{_entries(item.workspace_id)}/{item.time_entry_id}", body).data)


def delete_entry(toggl: TogglClient, item: DeleteTimeEntry, first_attempt: float | None) -> Outcome:
    """Delete the entry. A 404 after a DELETE of this request whose outcome was unknown (this
    call's own repeat, or a caller's retry: ``first_attempt``) is that delete, done."""
    done = Outcome(200, {"deleted": True, "time_entry_id": item.time_entry_id})
    try:
        toggl.delete(f"{_entries(item.workspace_id)}/{item.time_entry_id}")
    except TogglNotFound as failure:
        if first_attempt is not None or failure.after_unknown_outcome:
            return done
        raise
    except TogglUnavailable as failure:
        if not failure.after_unknown_outcome:
            raise
        # Remembered by the caller (actions): a retry of this request that meets a 404 is done.
        raise TogglOutcomeUnknown(
            f"Toggl failed while deleting time entry {item.time_entry_id} and may have deleted it. Deleting is "
            "safe to repeat: send the same request again; it answers deleted: true once the entry is gone.",
            failure.request_id,
            failure.toggl_status,
        ) from None
    return done
