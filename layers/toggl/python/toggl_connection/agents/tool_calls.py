"""One tool call, whichever surface asked (MCP, Bedrock Agents, AgentCore Gateway): the same
validation, guards, safe creates, idempotency and quota handling as the HTTP routes (it goes
through ``actions.act`` and ``queries.ask``), then shaped for a model: lists concise and
resumable (``limit``, ``next_cursor``), answers never longer than ``MAX_ANSWER_CHARS``, errors
that say what to do next."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from toggl_connection.agents import tool_list
from toggl_connection.agents.tool_list import Tool
from toggl_connection.calls import actions, invocation, queries
from toggl_connection.core import responses
from toggl_connection.core.errors import ConnectionFailure, ValidationFailed
from toggl_connection.core.integers import ascii_int
from toggl_connection.core.observability import count_by, logger

MAX_ANSWER_CHARS = 100_000

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


def call(tool: Tool, arguments: Any, context: Any) -> ToolResult:
    """Run ``tool`` with ``arguments``; a failed operation is an error result, never an exception."""
    logger.append_keys(tool=tool.name)
    try:
        if not isinstance(arguments, Mapping):
            raise ValidationFailed("arguments", "must be a JSON object")
        given = {**tool.defaults, **arguments}
        answer = _write(tool, given, context) if tool.writes else _read(tool, given, context)
    except Exception as failure:  # noqa: BLE001 - every failure becomes a result the model can act on
        return failed(failure)
    count_by("ToolCalled", "tool", tool.name)
    return ToolResult(answer, False)


def failed(failure: Exception) -> ToolResult:
    code = failure.code if isinstance(failure, ConnectionFailure) else "internal_error"
    count_by("ToolFailed", "error", code)
    responses.error(failure)  # logged as the HTTP routes log it
    if not isinstance(failure, ConnectionFailure):
        return ToolResult({"error": code, "message": f"Unexpected error. {NEXT_STEP[code]}", "status": 500}, True)
    body = {**failure.body(), "status": failure.status}
    hint = NEXT_STEP.get(code)
    if hint and hint not in body["message"]:
        body["message"] = f"{body['message']} {hint}"
    retry_after = getattr(failure, "retry_after", None)
    if isinstance(retry_after, int):
        body["retry_after_seconds"] = retry_after
    return ToolResult(body, True)


def _write(tool: Tool, given: dict[str, Any], context: Any) -> dict[str, Any]:
    request = invocation.read(given)  # takes idempotency_key out, as a direct invocation's
    body = actions.act(tool.operation, request.payload, request.idempotency_key, context)["body"]
    return body if isinstance(body, dict) else {"result": body}


# --- reads: concise, resumable, bounded ----------------------------------------------------------
def _fingerprint(tool: Tool, given: Mapping[str, Any]) -> str:
    """What a cursor belongs to: this tool with these arguments (the page size aside)."""
    core = {k: v for k, v in given.items() if k not in ("cursor", "limit")}
    return hashlib.sha256(json.dumps([tool.name, core], sort_keys=True, default=str).encode()).hexdigest()[:16]


def cursor_for(tool: Tool, given: Mapping[str, Any], offset: int) -> str:
    raw = json.dumps({"offset": offset, "of": _fingerprint(tool, given)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(tool: Tool, given: Mapping[str, Any]) -> int:
    cursor = given.get("cursor")
    if cursor is None:
        return 0
    wrong = ValidationFailed("cursor", "is not a next_cursor this tool gave: call again without cursor")
    if not isinstance(cursor, str) or len(cursor) > 200:
        raise wrong
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise wrong from None
    offset = ascii_int(decoded.get("offset")) if isinstance(decoded, dict) else None
    if offset is None:
        raise wrong
    if decoded.get("of") != _fingerprint(tool, given):
        raise ValidationFailed(
            "cursor", "belongs to a call with other arguments: repeat that call's arguments, or drop cursor"
        )
    return offset


def _limit(value: Any) -> int:
    if value is None:
        return tool_list.DEFAULT_LIMIT
    number = ascii_int(value)
    if number is None or number < 1:
        raise ValidationFailed("limit", "must be a whole number from 1")
    if number > tool_list.MAX_LIMIT:
        raise ValidationFailed("limit", f"must be at most {tool_list.MAX_LIMIT}: read on with next_cursor")
    return number


def _read(tool: Tool, given: dict[str, Any], context: Any) -> dict[str, Any]:
    if tool.kind == "single":
        extra = sorted({"limit", "cursor"} & set(given))
        if extra:
            raise ValidationFailed(extra[0], "unknown field (this tool answers one object)")
        answer = queries.ask(tool.operation, given, context)
        if len(json.dumps(answer, default=str)) > MAX_ANSWER_CHARS:
            raise ValidationFailed(
                "with_related_data", "makes an answer too long for an agent: use the toggl_list_* tools instead"
            )
        return answer
    limit, offset = _limit(given.get("limit")), _offset(tool, given)
    if offset + limit > queries.MAX_LIMIT:
        raise ValidationFailed("cursor", f"reads past item {queries.MAX_LIMIT}: narrow the call (dates, filters)")
    params = {k: v for k, v in given.items() if k not in ("cursor", "limit")}
    answer = queries.ask(tool.operation, {**params, "limit": offset + limit}, context)
    items = answer["items"][offset:]
    more = bool(answer["truncated"])
    shaped = {
        **answer,
        "items": items,
        "count": len(items),
        "truncated": more,
        "next_cursor": cursor_for(tool, given, offset + len(items)) if more else None,
    }
    return _bounded(tool, given, offset, shaped)


def _bounded(tool: Tool, given: Mapping[str, Any], offset: int, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer cut at an item boundary when its text would pass ``MAX_ANSWER_CHARS``."""
    text = json.dumps(answer, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= MAX_ANSWER_CHARS:
        return answer
    frame = {
        **answer,
        "items": [],
        "next_cursor": cursor_for(tool, given, 10**6),
        "truncated": True,
        "count": 10**6,
        "warning": "Cut to fit an agent's answer: read on with next_cursor.",
    }
    room = MAX_ANSWER_CHARS - len(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))
    kept = 0
    for item in answer["items"]:
        room -= len(json.dumps(item, separators=(",", ":"), ensure_ascii=False)) + 1
        if room < 0:
            break
        kept += 1
    # One item alone larger than an answer: skip it rather than loop on it.
    following = offset + max(kept, 1)
    return {**frame, "items": answer["items"][:kept], "count": kept, "next_cursor": cursor_for(tool, given, following)}
