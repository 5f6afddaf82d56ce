"""One tool call, whichever surface asked (MCP, Bedrock Agents, AgentCore Gateway): the same
validation, guards, safe creates, idempotency and quota handling as the HTTP routes (it goes
through ``actions.act`` and ``queries.ask``), then shaped for a model: lists concise and
resumable (``limit``, ``next_cursor``), answers measured as they are sent (a text block of at most
``MAX_TEXT_CHARS``, a result of at most the room it is given), errors that say what to do next."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from toggl_connection.agents import tool_texts
from toggl_connection.agents.tool_list import Tool
from toggl_connection.calls import actions, invocation, queries, time_entries
from toggl_connection.core import responses
from toggl_connection.core.errors import ConnectionFailure, ValidationFailed
from toggl_connection.core.integers import ascii_int
from toggl_connection.core.observability import count_by, logger
from toggl_connection.toggl import paging

# A result's text block, counted as the answer carries it (escaped, ASCII only: a quote is two
# characters, an emoji twelve).
MAX_TEXT_CHARS = 100_000
# One HTTP answer holds at most this many bytes; a result alone, the JSON-RPC envelope aside, this.
MAX_BODY_BYTES = 1_000_000
MAX_RESULT_BYTES = MAX_BODY_BYTES - 2_000
# A write still in flight (the same idempotency_key): when to look again.
IN_FLIGHT_RETRY_SECONDS = 10

# What a model should do after each kind of failure (appended to the message).
NEXT_STEP = {
    "validation_failed": "Correct that argument (the tool's inputSchema says what it takes) and call again.",
    "workspace_not_allowed": "Call toggl_list_workspaces for the workspaces this connection may use.",
    "not_found": "Check the ids: the toggl_list_* tools list what exists.",
    "already_exists": "It exists already: look it up with a toggl_list_* tool instead of creating it.",
    "quota_exhausted": "Toggl's hourly quota is used up: wait retry_after_seconds before calling Toggl again.",
    "toggl_unavailable": "Toggl did not answer: retry in a minute (a write with the same idempotency_key).",
    "outcome_unknown": "Do not retry blindly: check with a toggl_list_* tool whether it was done.",
    "plan_required": "This needs a paid Toggl plan: do not retry.",
    "token_rejected": "The connection's Toggl token is refused: tell whoever runs it; do not retry.",
    "idempotency_key_reused": "Use a new idempotency_key for a different request.",
    "secret_unavailable": "Retry in a minute.",
    "dedupe_unavailable": "Retry in a minute with the same idempotency_key.",
    "internal_error": "Retry once; if it fails again, tell whoever runs the connection.",
}
# The tool that shows whether a write whose outcome is unknown took effect, by operation.
LOOK_UP = {
    "create-client": "toggl_list_clients",
    "create-task": "toggl_list_tasks",
    "add-project-member": "toggl_list_project_members",
    "create-project": "toggl_list_projects",
    "create-tag": "toggl_list_tags",
    "start-time-entry": "toggl_get_current_time_entry",
    "stop-time-entry": "toggl_get_current_time_entry",
    "create-time-entry": "toggl_list_time_entries",
    "update-time-entry": "toggl_list_time_entries",
    "delete-time-entry": "toggl_list_time_entries",
}
INVITATION_UNKNOWN = (
    "Do not send it again: look on the Members page of Toggl Track's web app (its Show Invited users filter "
    "lists pending invitations) whether it was sent."
)
IN_FLIGHT = (
    "A call with this idempotency_key is still being carried out: call again in retry_after_seconds ({seconds} "
    "seconds) with the same idempotency_key, which answers with its result; a new key could do it twice."
)
# Bearer join links in an invitation's answer: never shown to a model (the HTTP route keeps them).
JOIN_LINKS = frozenset({"invite_url", "code"})


class ToolResult(NamedTuple):
    content: dict[str, Any]  # the structured answer, or the error body
    is_error: bool

    @property
    def text(self) -> str:
        return json.dumps(self.content, separators=(",", ":"), ensure_ascii=False)

    def mcp(self) -> dict[str, Any]:
        """An MCP ``CallToolResult`` (also what an AgentCore Gateway Lambda target answers)."""
        result: dict[str, Any] = {"content": [{"type": "text", "text": self.text}], "isError": self.is_error}
        if not self.is_error:
            result["structuredContent"] = self.content
        return result


def call(tool: Tool, arguments: Any, context: Any, room: int = MAX_RESULT_BYTES) -> ToolResult:
    """Run ``tool`` with ``arguments``; a failed operation is an error result, never an exception.
    ``room``: the bytes the result may take as sent (a list is cut to fit it)."""
    logger.append_keys(tool=tool.name)
    try:
        if not isinstance(arguments, Mapping):
            raise ValidationFailed("arguments", "must be a JSON object")
        invocation.finite(dict(arguments))
        given = {**tool.defaults, **arguments}
        answer = _write(tool, given, context) if tool.writes else _read(tool, given, context, room)
    except Exception as failure:  # noqa: BLE001 - every failure becomes a result the model can act on
        return failed(failure, tool)
    count_by("ToolCalled", "tool", tool.name)
    return ToolResult(answer, False)


def _whole(message: str) -> str:
    """``message`` ending as a sentence does, so that a next step after it reads as one more."""
    message = message.strip()
    return message if message.endswith((".", "!", "?")) else f"{message}."


def next_step(code: str, tool: Tool | None) -> str | None:
    """What to do after a failure ``code`` of ``tool``: for an unknown outcome, where to look."""
    if code == "outcome_unknown" and tool is not None:
        if tool.operation == "create-user-invitation":
            return INVITATION_UNKNOWN
        lookup = LOOK_UP.get(tool.operation)
        if lookup and tool.operation in actions.ACTIONS and not actions.ACTIONS[tool.operation].once_only:
            # A retry of the same call looks for what the lost one did before it does anything.
            return (
                "Calling again with the same arguments is safe: it first looks for what this call did and answers "
                f"that (found_existing: true), so nothing is done twice; {lookup} shows it too."
            )
        if lookup:
            return (
                f"Do not send it again blindly: call {lookup} to see whether it exists, and send it again (with "
                "the same idempotency_key) only if it does not."
            )
    return NEXT_STEP.get(code)


def failed(failure: Exception, tool: Tool | None = None) -> ToolResult:
    code = failure.code if isinstance(failure, ConnectionFailure) else "internal_error"
    count_by("ToolFailed", "error", code)
    responses.error(failure)  # logged as the HTTP routes log it
    if not isinstance(failure, ConnectionFailure):
        return ToolResult({"error": code, "message": f"Unexpected error. {NEXT_STEP[code]}", "status": 500}, True)
    body = {**failure.body(), "status": failure.status}
    message = _whole(str(body["message"]))
    if code == "delivery_in_progress":
        message = IN_FLIGHT.format(seconds=IN_FLIGHT_RETRY_SECONDS)
        body["retry_after_seconds"] = IN_FLIGHT_RETRY_SECONDS
    hint = next_step(code, tool)
    if hint and hint not in message:
        message = f"{message} {hint}"
    body["message"] = message
    retry_after = getattr(failure, "retry_after", None)
    if isinstance(retry_after, int):
        body["retry_after_seconds"] = retry_after
    return ToolResult(body, True)


def _write(tool: Tool, given: dict[str, Any], context: Any) -> dict[str, Any]:
    """The arguments are the action's input as they are (never read as an HTTP or EventBridge
    event, whatever their shape), but for ``idempotency_key``, taken out by name."""
    payload = dict(given)
    key = invocation.idempotency_key(payload.pop(invocation.IDEMPOTENCY_FIELD, None))
    outcome = actions.act(tool.operation, payload, key, context)
    body = outcome["body"]
    answer: dict[str, Any] = body if isinstance(body, dict) else {"result": body}
    hidden = JOIN_LINKS if tool.operation == "create-user-invitation" else frozenset({"invite_url"})
    answer = _without(answer, hidden)
    if outcome.get("duplicate"):
        answer = {**answer, "replayed": True}  # answered from an earlier attempt: nothing done now
    return explained(answer) if tool.operation in TIME_ENTRIES else answer


# The operations whose answers are time entries (the item, or the items, of a read).
TIME_ENTRIES = frozenset(
    {
        "time-entries",
        "current-time-entry",
        "time-entry",
        "start-time-entry",
        "stop-time-entry",
        "create-time-entry",
        "update-time-entry",
    }
)


def explained(entry: Any) -> Any:
    """A time entry as a model should read it: ``running`` says whether the timer runs, and a
    running one's ``elapsed_seconds`` how long so far (Toggl's ``duration`` of a running entry is
    a negative number, minus the start's Unix time; it stays beside them)."""
    if not isinstance(entry, dict) or "duration" not in entry:
        return entry
    duration = entry.get("duration")
    running = entry.get("stop") is None and isinstance(duration, int) and duration < 0
    explained_entry = {**entry, "running": running}
    started = time_entries.moment(entry["start"]) if running and isinstance(entry.get("start"), str) else None
    if started is not None:
        explained_entry["elapsed_seconds"] = max(0, int(time.time() - started.timestamp()))
    return explained_entry


def _without(document: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    """A copy of ``document`` without ``keys`` at any depth (walked without recursion)."""
    top: dict[str, Any] = {}
    stack: list[tuple[Any, Any, Any]] = [(document, top, "document")]
    while stack:
        value, parent, slot = stack.pop()
        if isinstance(value, dict):
            copy: dict[str, Any] = {key: None for key in value if key not in keys}
            stack.extend((value[key], copy, key) for key in copy)
            value = copy
        elif isinstance(value, list):
            items: list[Any] = [None] * len(value)
            stack.extend((item, items, index) for index, item in enumerate(value))
            value = items
        parent[slot] = value
    result: dict[str, Any] = top["document"]
    return result


# --- reads: concise, resumable, bounded ----------------------------------------------------------
def _fingerprint(tool: Tool, given: Mapping[str, Any]) -> str:
    """What a cursor belongs to: this tool with these arguments (the page size aside)."""
    core = {k: v for k, v in given.items() if k not in ("cursor", "limit")}
    return hashlib.sha256(json.dumps([tool.name, core], sort_keys=True, default=str).encode()).hexdigest()[:16]


def cursor_for(tool: Tool, given: Mapping[str, Any], at: paging.Position) -> str:
    """A cursor for reading on from ``at``: Toggl's own position (the page, or the report's cursor,
    and the items of it already read), so the next page costs only the Toggl pages it needs."""
    raw = json.dumps({"p": at.page, "s": at.skip, "of": _fingerprint(tool, given)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _page_key(value: Any) -> bool:
    """Whether ``value`` is a page as the readers write them: none, [number, size], or a cursor."""
    if value is None:
        return True
    if isinstance(value, list):
        return len(value) == 2 and all(ascii_int(v) is not None and ascii_int(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and set(value) <= set(paging.CURSOR_HEADERS) and all(ascii_int(v) for v in value.values())
    return False


def _position(tool: Tool, given: Mapping[str, Any]) -> paging.Position | None:
    cursor = given.get("cursor")
    if cursor is None:
        return None
    wrong = ValidationFailed("cursor", "is not a next_cursor this tool gave: call again without cursor")
    if not isinstance(cursor, str) or len(cursor) > 400:
        raise wrong
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise wrong from None
    skip = ascii_int(decoded.get("s")) if isinstance(decoded, dict) else None
    if skip is None or not _page_key(decoded.get("p")):
        raise wrong
    if decoded.get("of") != _fingerprint(tool, given):
        raise ValidationFailed(
            "cursor", "belongs to a call with other arguments: repeat that call's arguments, or drop cursor"
        )
    return paging.Position(decoded["p"], skip)


def _limit(value: Any) -> int:
    if value is None:
        return tool_texts.DEFAULT_LIMIT
    number = ascii_int(value)
    if number is None or number < 1:
        raise ValidationFailed("limit", "must be a whole number from 1")
    if number > tool_texts.MAX_LIMIT:
        raise ValidationFailed("limit", f"must be at most {tool_texts.MAX_LIMIT}: read on with next_cursor")
    return number


def _text_chars(document: Any) -> int:
    """How many characters ``document``'s text block takes in the answer, as sent."""
    return len(json.dumps(ToolResult(document, False).text))


def _read(tool: Tool, given: dict[str, Any], context: Any, room: int) -> dict[str, Any]:
    if tool.kind == "single":
        extra = sorted({"limit", "cursor"} & set(given))
        if extra:
            raise ValidationFailed(extra[0], "unknown field (this tool answers one object)")
        answer = queries.ask(tool.operation, given, context)
        if tool.operation in TIME_ENTRIES:
            answer = {**answer, "item": explained(answer.get("item"))}
        if _text_chars(answer) > MAX_TEXT_CHARS:
            raise ValidationFailed(
                "with_related_data", "makes an answer too long for an agent: use the toggl_list_* tools instead"
            )
        return answer
    limit, start = _limit(given.get("limit")), _position(tool, given)
    params = {k: v for k, v in given.items() if k not in ("cursor", "limit")}
    answer, listing = queries.read(tool.operation, {**params, "limit": limit}, context, start, resumable=True)
    assert isinstance(listing, paging.Listing)
    if tool.operation in TIME_ENTRIES:
        answer = {**answer, "items": [explained(item) for item in answer["items"]]}
    more = bool(answer["truncated"]) and listing.resume is not None
    shaped = {
        **answer,
        "truncated": bool(answer["truncated"]),
        "next_cursor": cursor_for(tool, given, listing.resume) if more and listing.resume else None,
    }
    return _bounded(tool, given, listing, shaped, room)


CUT = "Cut to fit an agent's answer: read on with next_cursor."
OMITTED = "Items too long for any answer are listed as omitted, with their id and name."


def _cost(document: dict[str, Any]) -> tuple[int, int]:
    """A list answer's text block in characters and its whole result in bytes, as sent."""
    result = ToolResult(document, False)
    return len(json.dumps(result.text)), len(responses.compact(result.mcp()))


def _item_cost(item: Any) -> tuple[int, int]:
    """What one more item adds: characters to the text block, bytes to the result (structuredContent
    and the text block both carry it), each with its comma."""
    chars = len(json.dumps(json.dumps(item, separators=(",", ":"), ensure_ascii=False))) - 1
    return chars, len(responses.compact(item)) + 1 + chars


def _omitted(item: Any, chars: int) -> dict[str, Any]:
    """What stands in for an item that no answer can hold."""
    fields = item if isinstance(item, dict) else {}
    name = next((fields[k] for k in ("name", "description") if isinstance(fields.get(k), str)), None)
    return {
        "id": fields.get("id"),
        "name": name if name is None or len(name) <= 200 else name[:199] + "\u2026",
        "omitted": True,
        "reason": (
            f"This item alone is longer than an answer may be ({chars} characters as sent, at most "
            f"{MAX_TEXT_CHARS}): look at it in Toggl, or narrow the call."
        ),
    }


def _bounded(
    tool: Tool, given: Mapping[str, Any], listing: paging.Listing, answer: dict[str, Any], room: int
) -> dict[str, Any]:
    """The answer within ``MAX_TEXT_CHARS`` (its text block) and ``room`` (the whole result, in
    bytes), both measured as sent: cut at an item boundary with a cursor, and an item too large
    for any answer in its place as ``{"id", "name", "omitted": true, "reason"}``."""
    chars, size = _cost(answer)
    if chars <= MAX_TEXT_CHARS and size <= room:
        return answer
    frame = {
        **answer,
        "items": [],
        "next_cursor": cursor_for(tool, given, paging.Position({"first_id": 2**62, "first_row_number": 2**62}, 10**6)),
        "truncated": True,
        "count": 10**6,
        "warning": max(CUT, OMITTED, key=len),
    }
    frame_chars, frame_bytes = _cost(frame)
    chars_left, bytes_left = MAX_TEXT_CHARS - frame_chars, room - frame_bytes
    kept: list[Any] = []
    omitted = False
    for item in answer["items"]:
        item_chars, item_bytes = _item_cost(item)
        if item_chars > MAX_TEXT_CHARS - frame_chars or item_bytes > MAX_RESULT_BYTES - frame_bytes:
            item = _omitted(item, item_chars)  # no page could hold it: never skipped silently
            item_chars, item_bytes = _item_cost(item)
            omitted = True
        if item_chars > chars_left or item_bytes > bytes_left:
            break
        kept.append(item)
        chars_left, bytes_left = chars_left - item_chars, bytes_left - item_bytes
    if len(kept) == len(answer["items"]):  # all there once the oversized ones stand in
        return {**answer, "items": kept, "count": len(kept), "warning": OMITTED} if omitted else answer
    # The next read starts at the first item left out (its position in Toggl's paging).
    following = listing.positions[len(kept)] if len(kept) < len(listing.positions) else listing.resume
    return {
        **frame,
        "items": kept,
        "count": len(kept),
        "next_cursor": cursor_for(tool, given, following) if following is not None else None,
        "warning": CUT,
    }
