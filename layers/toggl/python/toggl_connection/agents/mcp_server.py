"""The Model Context Protocol over Streamable HTTP, stateless, with JSON answers (no SSE):
``POST /mcp`` carries one JSON-RPC message (or a batch) and gets the answer in the response.

Written here rather than imported from an SDK: the protocol needed is small (initialize, ping,
tools/list, tools/call) and an SDK would multiply the function's cold start."""

from __future__ import annotations

import json
from typing import Any

from toggl_connection.agents import tool_calls, tool_list
from toggl_connection.core import responses, settings
from toggl_connection.core.errors import ConnectionFailure
from toggl_connection.core.observability import logger

# Newest first: a client asking for a version not listed here is offered the newest.
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
SERVER_INFO = {"name": "toggl-track-connection", "title": "Toggl Track Connection", "version": "0.1.0"}
INSTRUCTIONS = (
    "Tools for one Toggl Track account: read workspaces, projects, clients, tasks, time entries, users, tags and "
    "reports; create clients, tasks, invitations and project memberships. Toggl allows few requests per hour: "
    "prefer one precise call (filters, dates, limit) over many, and read quota.remaining in answers. Call "
    "toggl_list_workspaces first when you need a workspace id. Writes take an idempotency_key: reuse it when "
    "you retry."
)
MAX_BODY_BYTES = 1024 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_only() -> bool:
    return settings.getenv("AGENT_TOOLS_READ_ONLY").strip().lower() == "true"


def handle_http(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One API Gateway request to ``/mcp``."""
    if event.get("httpMethod") != "POST":
        # No server-to-client stream (GET) and no session to end (DELETE): stateless, JSON only.
        return responses.json_response(
            405,
            {"error": "method_not_allowed", "message": "POST JSON-RPC messages to /mcp; no SSE stream, no sessions."},
            {"Allow": "POST"},
        )
    try:
        raw = responses.raw_body(event, MAX_BODY_BYTES)
        message = json.loads(raw)
    except ConnectionFailure as failure:
        return responses.error(failure)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any parser goes
        return responses.json_response(400, _error(None, PARSE_ERROR, "Parse error: the body is not JSON."))
    if isinstance(message, list):
        answers = [answer for item in message if (answer := dispatch(item, context)) is not None]
        if not message:
            answers = [_error(None, INVALID_REQUEST, "Invalid Request: an empty batch.")]
        return responses.json_response(200, answers) if answers else _accepted()
    answer = dispatch(message, context)
    return responses.json_response(200, answer) if answer is not None else _accepted()


def _accepted() -> dict[str, Any]:
    """What a notification or a client's response gets: 202, no body."""
    return {"statusCode": 202, "headers": {}, "body": "", "isBase64Encoded": False}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def dispatch(message: Any, context: Any) -> dict[str, Any] | None:
    """The answer to one JSON-RPC message; None for a notification or a response."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return _error(
            _id_of(message), INVALID_REQUEST, 'Invalid Request: send a JSON-RPC 2.0 object ("jsonrpc": "2.0").'
        )
    if "method" not in message:
        if "id" in message and ("result" in message or "error" in message):
            return None  # a response to a request we never send: nothing to do
        return _error(_id_of(message), INVALID_REQUEST, "Invalid Request: no method.")
    method, params = message["method"], message.get("params")
    if not isinstance(method, str) or (params is not None and not isinstance(params, dict)):
        return _error(_id_of(message), INVALID_REQUEST, "Invalid Request: method must be a string, params an object.")
    if "id" not in message:
        return None  # a notification (initialized, cancelled, ...): acknowledged, no answer
    request_id = message["id"]
    if not _valid_id(request_id):
        return _error(None, INVALID_REQUEST, "Invalid Request: id must be a string or an integer.")
    try:
        result = _call(method, params or {}, context)
    except RpcError as error:
        return _error(request_id, error.code, error.message)
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _id_of(message: Any) -> Any:
    value = message.get("id") if isinstance(message, dict) else None
    return value if _valid_id(value) else None


def _call(method: str, params: dict[str, Any], context: Any) -> dict[str, Any]:
    if method == "initialize":
        return initialize(params)
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": tool_list.mcp_tools(read_only())}
    if method == "tools/call":
        return call_tool(params, context)
    # server/discover (the 2026 per-request era) included: modern clients fall back to initialize.
    raise RpcError(
        METHOD_NOT_FOUND, f"Method not found: {method} (this server offers initialize, ping, tools/list, tools/call)."
    )


def initialize(params: dict[str, Any]) -> dict[str, Any]:
    asked = params.get("protocolVersion")
    version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": SERVER_INFO,
        "instructions": INSTRUCTIONS,
    }


def call_tool(params: dict[str, Any], context: Any) -> dict[str, Any]:
    name, arguments = params.get("name"), params.get("arguments")
    tool = tool_list.find(name, read_only()) if isinstance(name, str) else None
    if tool is None:
        known = ", ".join(t.name for t in tool_list.tools(read_only()))
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {name!r}. Tools: {known}.")
    if arguments is not None and not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: arguments must be an object.")
    logger.info("tool call", extra={"tool": tool.name})
    return tool_calls.call(tool, arguments or {}, context).mcp()
