"""Track API v9 time entries: the reads (list, current, by id) and the writes (create or start,
stop, update, delete), with one running entry per user, as Toggl's documents, its engineers and
recorded traffic describe them.

- ``start`` is kept in UTC, whole seconds (``2026-11-02T09:00:00Z``); an offset is converted.
- A negative ``duration`` is a running entry (``stop`` null); reads give its duration as minus
  the start's Unix time, the create answer echoes what was sent. ``duration`` without ``stop``
  sets ``stop`` to ``start + duration``; both sent must agree; neither gives a zero-length entry.
- Starting an entry stops the user's running one at the server's time of the request, not at
  the new entry's ``start`` (recorded: the two overlap).
- ``tags`` are names; a name the workspace lacks becomes a new tag. ``tag_ids`` are kept.

What the documents leave open (a second stop, a missing or deleted id, a start moved, whether
the automatic stop is announced) is played as ``behaviour`` says; refusals the documents do not
give are ``played``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from local.toggl_sandbox.documented import V9
from local.toggl_sandbox.server import Reply, Request, TogglError, route
from local.toggl_sandbox.state import now
from local.toggl_sandbox.track import body, new_tag, tag_named, workspace
from local.toggl_sandbox.track_reads import changed_since

# Where decreasing time entry ids start (Behaviour.time_entry_ids).
DECREASING_FROM = 9 * 10**15
ENTRY = V9 + "/workspaces/{workspace_id}/time_entries/{time_entry_id}"
LEGACY = {"wid": "workspace_id", "pid": "project_id", "tid": "task_id", "uid": "user_id"}
LEGACY_OF = {new: old for old, new in LEGACY.items()}
APP = "Toggl Track (sandbox)"  # what a person's app sends as created_with


# --- times ---------------------------------------------------------------------------------
def parse_time(value: Any, field: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset; without one, UTC), or a date (its midnight, UTC)."""
    if not isinstance(value, str):
        raise TogglError(400, f"Invalid {field}", played=True)
    try:
        moment = datetime.fromisoformat(value if "T" in value else value + "T00:00:00+00:00")
    except ValueError as exc:
        raise TogglError(400, f"Invalid {field}", played=True) from exc
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def server_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def running(entry: dict[str, Any]) -> bool:
    return entry.get("stop") is None and int(entry.get("duration") or 0) < 0


def _inconsistent() -> TogglError:
    return TogglError(400, "stop and duration do not agree: start + duration must equal stop", played=True)


def _before_start() -> TogglError:
    return TogglError(400, "stop must not be before start", played=True)


def _integer(data: dict[str, Any], name: str) -> int | None:
    """An integer field or None; Toggl's body decoder refuses another type (third parties quote
    ``Unexpected "workspace_id" type string``)."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "string" if isinstance(value, str) else type(value).__name__
        raise TogglError(400, f'Unexpected "{name}" type {kind}', played=True)
    return value


def _started(data: dict[str, Any], fallback: datetime) -> datetime:
    """``start`` (or ``fallback``) in whole UTC seconds, its date replaced by ``start_date``'s."""
    start = parse_time(data["start"], "start").replace(microsecond=0) if data.get("start") else fallback
    if data.get("start_date"):
        day = parse_time(data["start_date"], "start_date")
        start = start.replace(year=day.year, month=day.month, day=day.day)
    return start


def finished_at(start: datetime, stop: Any, duration: int | None) -> tuple[datetime | None, int]:
    """``(stop, duration)`` for an entry from ``start``, as sent: running when the duration is
    negative; otherwise each of stop and duration gives the other, and both must agree."""
    stop_at = parse_time(stop, "stop").replace(microsecond=0) if stop is not None else None
    if duration is not None and duration < 0:
        if stop_at is not None:
            raise _inconsistent()
        return None, duration
    if duration is not None:
        if stop_at is not None and stop_at != start + timedelta(seconds=duration):
            raise _inconsistent()
        return start + timedelta(seconds=duration), duration
    if stop_at is None:
        return start, 0
    if stop_at < start:
        raise _before_start()
    return stop_at, int((stop_at - start).total_seconds())


def _set_times(entry: dict[str, Any], start: datetime, stop: datetime | None, duration: int) -> None:
    entry["start"] = utc(start)
    entry["stop"] = utc(stop) if stop is not None else None
    entry["duration"] = -int(start.timestamp()) if stop is None else duration


def finish(entry: dict[str, Any], moment: datetime) -> None:
    """Stop a running entry at ``moment`` (never before its start)."""
    start = parse_time(entry["start"], "start")
    stop = max(moment, start)
    _set_times(entry, start, stop, int((stop - start).total_seconds()))
    entry["at"] = now()


def stop_running(req: Request, user_id: int, keep: int | None = None) -> None:
    """One running entry per user: stop the user's running ones (but ``keep``) now, at the
    server's time of this request; announced as ``behaviour.auto_stop_webhook`` says."""
    moment = server_now()
    for entry in list(req.world.time_entries.values()):
        if entry["user_id"] == user_id and entry["id"] != keep and running(entry):
            finish(entry, moment)
            if req.sandbox.behaviour.auto_stop_webhook == "updated":
                req.sandbox.emit("time_entry", "updated", entry, entry["workspace_id"], req)


# --- what is answered ----------------------------------------------------------------------
def view(req: Request, entry: dict[str, Any], fresh: bool = False) -> dict[str, Any]:
    """The entry as Toggl answers it: a running one's duration is minus its start's Unix time;
    tags are null in a create's answer when none were given, ``[]`` in every other answer; with
    ``meta=true`` the names of its project, client, task and user."""
    shown = dict(entry)
    if running(shown):
        shown["duration"] = -int(parse_time(shown["start"], "start").timestamp())
    if not fresh:
        shown["tags"] = shown.get("tags") or []
        shown["tag_ids"] = shown.get("tag_ids") or []
    if str(req.param("meta") or "").lower() == "true":
        shown.update(with_names(req, shown))
    return shown


def with_names(req: Request, entry: dict[str, Any]) -> dict[str, Any]:
    """``meta=true``: the names (and a few fields) of the entry's project, client, task and user."""
    project = req.world.projects.get(entry.get("project_id") or 0) or {}
    client = req.world.clients.get(project.get("client_id") or 0) or {}
    task = req.world.tasks.get(entry.get("task_id") or 0) or {}
    user = req.world.users.get(entry.get("user_id") or 0) or {}
    names = {
        "project_name": project.get("name"),
        "project_color": project.get("color"),
        "project_active": project.get("active"),
        "project_billable": project.get("billable"),
        "client_id": project.get("client_id"),
        "client_name": client.get("name"),
        "task_name": task.get("name"),
        "user_name": user.get("fullname"),
    }
    return {k: v for k, v in names.items() if v is not None}


# --- tags ----------------------------------------------------------------------------------
def _tag_names(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    if value is not None and not isinstance(value, list):
        raise TogglError(400, f"Invalid {name}", played=True)
    return list(value or [])


def resolve_tags(req: Request, ws: dict[str, Any], data: dict[str, Any]) -> tuple[list[str], list[int]]:
    """The tags named in ``tags`` (a name the workspace lacks is made a tag) and given in
    ``tag_ids``, as (names, ids), each once."""
    named = [n.strip() for n in _tag_names(data, "tags") if isinstance(n, str) and n.strip()]
    tags = [tag_named(req, ws, name) or new_tag(req, ws, name) for name in dict.fromkeys(named)]
    ids = [t["id"] for t in tags]
    more = [i for i in _tag_names(data, "tag_ids") if isinstance(i, int) and not isinstance(i, bool) and i not in ids]
    names = [t["name"] for t in tags] + [req.world.tags[i]["name"] for i in more if i in req.world.tags]
    return list(dict.fromkeys(names)), list(dict.fromkeys(ids + more))


def _retag(req: Request, ws: dict[str, Any], entry: dict[str, Any], data: dict[str, Any]) -> None:
    """An update's ``tags`` / ``tag_ids``: replace them, or with ``tag_action`` add or delete them."""
    if "tags" not in data and "tag_ids" not in data:
        return
    names, ids = resolve_tags(req, ws, data)
    old_names, old_ids = list(entry.get("tags") or []), list(entry.get("tag_ids") or [])
    action = data.get("tag_action")
    if action == "add":
        names, ids = list(dict.fromkeys(old_names + names)), list(dict.fromkeys(old_ids + ids))
    elif action == "delete":
        names, ids = [n for n in old_names if n not in names], [i for i in old_ids if i not in ids]
    entry["tags"], entry["tag_ids"] = names, ids


# --- create --------------------------------------------------------------------------------
def _as_sent(req: Request, ws: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The body with legacy names read as the current ones, checked for what a create needs: the
    path's workspace, ``created_with`` and ``start`` (filled in or refused: ``behaviour``)."""
    sent = {**{new: data[old] for old, new in LEGACY.items() if old in data and new not in data}, **data}
    refuse = req.by_connection and req.sandbox.behaviour.missing_create_fields == "refused"
    wid = _integer(sent, "workspace_id")
    if wid is None and refuse:
        raise TogglError(400, "wid is required for time entry creation", played=True)  # third parties quote it
    if wid is not None and wid != ws["id"]:
        raise TogglError(400, "workspace_id in the body is not the workspace of the path", played=True)
    created_with = sent.get("created_with")
    if not (isinstance(created_with, str) and created_with.strip()) and refuse:
        raise TogglError(400, "created_with needs to be provided an a valid string", played=True)  # Toggl's v8 text
    if not sent.get("start") and refuse:
        raise TogglError(400, "start is required for time entry creation", played=True)
    return {**sent, "workspace_id": ws["id"], "created_with": created_with or APP}


def _user_of(req: Request, ws: dict[str, Any], data: dict[str, Any]) -> int:
    """Whose entry it is: ``user_id`` (a user of the workspace) or the caller."""
    user_id = _integer(data, "user_id")
    if user_id is None:
        return int(req.user["id"])
    if not req.world.can_see(user_id, ws["id"]):
        raise req.refused(403, "Forbidden")
    return user_id


def _new_id(req: Request) -> int:
    ident = req.world.next_id()
    return DECREASING_FROM - ident if req.sandbox.behaviour.time_entry_ids == "decreasing" else ident


@route("POST", V9 + "/workspaces/{workspace_id}/time_entries")
def create_time_entry(req: Request) -> Any:
    ws = workspace(req)
    data = _as_sent(req, ws, body(req))
    start = _started(data, server_now())
    duration = _integer(data, "duration")
    stop, duration = finished_at(start, data.get("stop"), duration)
    user_id = _user_of(req, ws, data)
    given_tags = "tags" in data or "tag_ids" in data
    names, tag_ids = resolve_tags(req, ws, data)
    entry: dict[str, Any] = {
        "id": _new_id(req),
        "workspace_id": ws["id"],
        "wid": ws["id"],
        "user_id": user_id,
        "uid": user_id,
        "project_id": _integer(data, "project_id"),
        "pid": _integer(data, "project_id"),
        "task_id": _integer(data, "task_id"),
        "tid": _integer(data, "task_id"),
        "description": data.get("description"),
        "billable": data.get("billable") is True,
        "tags": names if given_tags else None,
        "tag_ids": tag_ids if given_tags else None,
        "duronly": True,
        "at": now(),
        "server_deleted_at": None,
    }
    _set_times(entry, start, stop, duration)
    if stop is None:
        stop_running(req, user_id)
    req.world.time_entries[entry["id"]] = entry
    req.sandbox.emit("time_entry", "created", entry, ws["id"], req)
    answer = view(req, entry, fresh=True)
    if stop is None:
        answer["duration"] = duration  # the create answer echoes the negative duration sent
    return answer


# --- stop, update, delete ------------------------------------------------------------------
def ident(req: Request) -> int | None:
    """The path's ``time_entry_id`` when it is a whole number (ASCII digits)."""
    raw = req.args["time_entry_id"]
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _entry(req: Request, ws: dict[str, Any], status: int, message: str, played: bool) -> dict[str, Any]:
    entry = req.world.time_entries.get(ident(req) or 0)
    if entry is None or entry["workspace_id"] != ws["id"]:
        raise TogglError(status, message, played=played)
    return entry


@route("PATCH", ENTRY + "/stop")
def stop_time_entry(req: Request) -> Any:
    ws = workspace(req)
    if ident(req) is None:
        raise TogglError(400, "Invalid or missing time_entry_id")
    entry = _entry(req, ws, 404, "Time entry not found", played=False)
    if not running(entry):
        if req.sandbox.behaviour.second_stop == "409":
            raise TogglError(409, "Time entry already stopped")
        return view(req, entry)
    finish(entry, server_now())
    req.sandbox.emit("time_entry", "updated", entry, ws["id"], req)
    return view(req, entry)


def _retime(req: Request, entry: dict[str, Any], data: dict[str, Any]) -> bool:
    """An update's ``start`` / ``stop`` / ``duration``: only what was sent changes, and the three
    stay consistent (``behaviour.start_moved`` when only the start of a finished entry moves).
    True when this makes a finished entry run again."""
    if not {"start", "start_date", "stop", "duration"} & set(data):
        return False
    old_start = parse_time(entry["start"], "start")
    start = _started(data, old_start)
    if "stop" in data or "duration" in data:
        stop, duration = _new_end(data, start)
    elif running(entry):
        stop, duration = None, -1
    elif req.sandbox.behaviour.start_moved == "keeps-duration":
        stop, duration = start + timedelta(seconds=int(entry["duration"])), int(entry["duration"])
    else:
        stop, duration = finished_at(start, entry["stop"], None)
    restarted = stop is None and not running(entry)
    _set_times(entry, start, stop, duration)
    return restarted


def _new_end(data: dict[str, Any], start: datetime) -> tuple[datetime | None, int]:
    duration = _integer(data, "duration")
    if "stop" in data and data["stop"] is None and duration is None:
        return None, -1  # stop set to null: running again
    return finished_at(start, data.get("stop"), duration)


UPDATABLE = ("description", "billable", "expense_ids")


@route("PUT", ENTRY)
def update_time_entry(req: Request) -> Any:
    ws = workspace(req)
    entry = _entry(req, ws, 404, "Time entry not found", played=True)  # the document gives no 404 here
    sent = body(req)
    data = {**{new: sent[old] for old, new in LEGACY.items() if old in sent and new not in sent}, **sent}
    wid = _integer(data, "workspace_id")
    if wid is not None and wid != ws["id"]:
        raise TogglError(400, "workspace_id in the body is not the workspace of the path", played=True)
    changed = dict(entry)
    for name in ("project_id", "task_id"):
        if name in data:
            changed[name] = changed[LEGACY_OF[name]] = _integer(data, name)
    restarted = _retime(req, changed, data)
    _retag(req, ws, changed, data)
    changed.update({k: data[k] for k in UPDATABLE if k in data})
    if restarted:
        stop_running(req, entry["user_id"], keep=entry["id"])
    entry.update(changed, at=now())
    req.sandbox.emit("time_entry", "updated", entry, ws["id"], req)
    return view(req, entry)


@route("DELETE", ENTRY)
def delete_time_entry(req: Request) -> Any:
    ws = workspace(req)
    entry = req.world.time_entries.get(ident(req) or 0)
    if entry is None or entry["workspace_id"] != ws["id"]:
        if req.sandbox.behaviour.delete_missing == "404":
            raise TogglError(404, "Time entry not found", played=True)  # the document lists only 200
        return Reply(200, None, empty=True)
    tombstone = req.world.delete("time_entry", req.world.time_entries, entry["id"])
    req.sandbox.emit(
        "time_entry", "deleted", {"id": entry["id"], "server_deleted_at": tombstone["server_deleted_at"]}, ws["id"], req
    )
    return Reply(200, None, empty=True)  # "Returns only status code": no body at all


# --- reads ---------------------------------------------------------------------------------
@route("GET", V9 + "/me/time_entries")
def my_time_entries(req: Request) -> Any:
    since, before = req.param("since"), req.param("before")
    start, end = req.param("start_date"), req.param("end_date")
    if since and before:
        raise TogglError(400, "'since' and 'before' can not be present simultaneously", played=True)  # recorded
    if bool(start) != bool(end):
        raise TogglError(400, "start_date and end_date must both be set", played=True)
    entries = list(req.world.time_entries.values())
    if start and end:
        lo, hi = parse_time(start, "start_date"), parse_time(end, "end_date")
        entries = [e for e in entries if lo <= parse_time(e["start"], "start") < hi]
    if before:
        limit = parse_time(before, "before")
        entries = [e for e in entries if parse_time(e["start"], "start") < limit]
    if since is not None:
        if not since.isdigit():
            raise TogglError(400, "Invalid since", played=True)
        entries = changed_since(req, "time_entry", entries, float(since))
    mine = [view(req, e) for e in entries if e["user_id"] == req.user["id"]]
    return sorted(mine, key=lambda e: parse_time(e["start"], "start"), reverse=True)


@route("GET", V9 + "/me/time_entries/current")
def current_time_entry(req: Request) -> Any:
    mine = [e for e in req.world.time_entries.values() if e["user_id"] == req.user["id"] and running(e)]
    if not mine and req.sandbox.behaviour.no_running_entry == "404":
        raise TogglError(404, "Resource can not be found")
    return view(req, mine[0]) if mine else None


@route("GET", V9 + "/me/time_entries/{time_entry_id}")
def time_entry_by_id(req: Request) -> Any:
    number = ident(req) or 0
    entry = req.world.time_entries.get(number)
    if entry is None and req.sandbox.behaviour.deleted_entry_read == "entry":
        entry = req.world.deleted.get("time_entry", {}).get(number)
    if entry is None or entry["user_id"] != req.user["id"]:
        raise TogglError(404, "Resource can not be found")
    return view(req, entry)
