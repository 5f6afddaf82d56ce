"""The Model Context Protocol over Streamable HTTP, stateless, with JSON answers (no SSE):
``POST /mcp`` carries one JSON-RPC message (in the 2025-03-26 era, or a batch of up to ten) and
gets the answer in the response, at most ``MAX_ANSWER_BYTES`` as sent.

Written here rather than imported from an SDK: the protocol needed is small (initialize, ping,
tools/list, tools/call) and an SDK would multiply the function's cold start."""

from __future__ import annotations

import json
from typing import Any

from toggl_connection.agents import tool_calls, tool_list, tool_texts
from toggl_connection.core import request_reading, responses, settings
from toggl_connection.core.errors import ConnectionFailure
from toggl_connection.core.observability import logger

# Newest first: a client asking for a version not listed here is offered the newest.
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
SERVER_INFO = {"name": "toggl-track-connection", "title": "Toggl Track Connection", "version": "0.1.0"}
MAX_BODY_BYTES = 1024 * 1024
VERSION_HEADER = "MCP-Protocol-Version"
# From this version on a JSON-RPC batch is no longer part of the protocol.
BATCHLESS_FROM = "2025-06-18"
# Before it, a batch of at most this many messages is served.
MAX_BATCH = 10
# What one answer (a batch's included) holds at most, in bytes as sent.
MAX_ANSWER_BYTES = tool_calls.MAX_BODY_BYTES
# The most an error answer takes (ids are at most MAX_ID_CHARS; what errors repeat is shortened):
# kept free for each later message of a batch, so that each gets an answer.
ERROR_ROOM = 4_000
# A tool call in a batch runs only with at least this much room left for its answer.
TOOL_ROOM = 50_000
MAX_ID_CHARS = 256

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000  # implementation-defined: here, an answer the batch had no room for

NOT_RUN = (
    "Not run: the answers before it in this batch fill the {limit} bytes an answer may hold. Send fewer "
    "requests at once, or this one again on its own."
)
LEFT_OUT = (
    "Left out: its answer would take this batch's answers past the {limit} bytes an answer may hold. Send "
    "fewer requests at once, or this one again on its own."
)
LEFT_OUT_WRITE = (
    "Carried out, but its answer would take this batch's answers past the {limit} bytes an answer may "
    "hold, so it is left out. Do not send it again blindly: sent again with the idempotency_key it had, it "
    "is answered from this attempt and nothing is done twice; without one, look for what it made with "
    "{lookup}. Send fewer requests at once."
)


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_only() -> bool:
    return settings.getenv("AGENT_TOOLS_READ_ONLY").strip().lower() == "true"


def _shown(value: Any) -> str:
    """A value a client sent, as an error message repeats it: quoted, and never long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "\u2026"


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
        raw = request_reading.raw_body(event, MAX_BODY_BYTES)
        message = json.loads(raw)
    except ConnectionFailure as failure:
        return responses.error(failure)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any parser goes
        return responses.json_response(400, _error(None, PARSE_ERROR, "Parse error: the body is not JSON."))
    header = request_reading.header(event, VERSION_HEADER)
    version = header.strip() if header is not None else None
    if version is not None and version not in PROTOCOL_VERSIONS and not _is_initialize(message):
        return _unsupported(version, message)
    if isinstance(message, list):
        return _batch(message, version, context)
    answers = _answers([message], context)
    return responses.json_response(200, answers[0]) if answers else _accepted()


def _is_initialize(message: Any) -> bool:
    return isinstance(message, dict) and message.get("method") == "initialize"


def _unsupported(version: str, message: Any) -> dict[str, Any]:
    """HTTP 400 for a version this server does not speak, as the specification says (initialize
    aside: that is how a client learns the versions). ``server/discover`` says "method not found"
    even so, which is what makes a modern client fall back to initialize."""
    discover = isinstance(message, dict) and message.get("method") == "server/discover"
    error = _error(
        _id_of(message),
        METHOD_NOT_FOUND if discover else INVALID_REQUEST,
        f"Bad Request: unsupported {VERSION_HEADER} {_shown(version)}. This server speaks "
        f"{', '.join(PROTOCOL_VERSIONS)}: send initialize to agree on one.",
    )
    error["error"]["data"] = {"supported": list(PROTOCOL_VERSIONS), "requested": version[:80]}
    return responses.json_response(400, error)


def _batch(messages: list[Any], version: str | None, context: Any) -> dict[str, Any]:
    """A JSON-RPC batch: none from 2025-06-18 on; before it, up to ``MAX_BATCH`` messages."""
    if version is not None and version >= BATCHLESS_FROM:
        refused = f"Invalid Request: protocol version {version} has no batches; send one JSON-RPC message per request."
        return responses.json_response(200, _error(None, INVALID_REQUEST, refused))
    if len(messages) > MAX_BATCH:
        refused = f"Invalid Request: a batch of {len(messages)} messages; send at most {MAX_BATCH} at once."
        return responses.json_response(200, _error(None, INVALID_REQUEST, refused))
    if not messages:
        return responses.json_response(200, [_error(None, INVALID_REQUEST, "Invalid Request: an empty batch.")])
    answers = _answers(messages, context)
    return responses.json_response(200, answers) if answers else _accepted()


def _answers(messages: list[Any], context: Any) -> list[dict[str, Any]]:
    """The answers to ``messages``, in order, together at most ``MAX_ANSWER_BYTES`` as sent. Each
    is given the room the ones before it left (a list is cut to fit it, with a cursor), less what
    the errors of the later ones may take; a tool call without room enough is not run, and an
    answer that does not fit is replaced by an error saying so: none is lost without a word."""
    answers: list[dict[str, Any]] = []
    used = 2 if len(messages) > 1 else 0  # a batch's brackets
    for index, message in enumerate(messages):
        room = MAX_ANSWER_BYTES - used - (len(messages) - index - 1) * ERROR_ROOM - 1
        answer = dispatch(message, context, room)
        if answer is None:
            continue
        size = len(responses.compact(answer))
        if size > room:
            answer = _left_out(message, answer)
            size = len(responses.compact(answer))
        answers.append(answer)
        used += size + 1
    return answers


def _left_out(message: Any, answer: dict[str, Any]) -> dict[str, Any]:
    params = message.get("params") if isinstance(message, dict) else None
    name = params.get("name") if isinstance(params, dict) else None
    tool = tool_list.find(name, read_only()) if isinstance(name, str) else None
    if "result" in answer and tool is not None and tool.writes:
        lookup = tool_calls.LOOK_UP.get(tool.operation, "a toggl_list_* tool")
        return _error(answer.get("id"), SERVER_ERROR, LEFT_OUT_WRITE.format(limit=MAX_ANSWER_BYTES, lookup=lookup))
    return _error(answer.get("id"), SERVER_ERROR, LEFT_OUT.format(limit=MAX_ANSWER_BYTES))


def _accepted() -> dict[str, Any]:
    """What a notification or a client's response gets: 202, no body."""
    return {"statusCode": 202, "headers": {}, "body": "", "isBase64Encoded": False}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _valid_id(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_ID_CHARS
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def dispatch(message: Any, context: Any, room: int = MAX_ANSWER_BYTES) -> dict[str, Any] | None:
    """The answer to one JSON-RPC message; None for a notification or a response. ``room``: the
    bytes its answer may take as sent."""
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
        refused = f"Invalid Request: id must be an integer or a string of at most {MAX_ID_CHARS} characters."
        return _error(None, INVALID_REQUEST, refused)
    envelope = len(responses.compact({"jsonrpc": "2.0", "id": request_id, "result": {}})) - 2
    try:
        result = _call(method, params or {}, context, min(room - envelope, tool_calls.MAX_RESULT_BYTES))
    except RpcError as error:
        return _error(request_id, error.code, error.message)
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _id_of(message: Any) -> Any:
    value = message.get("id") if isinstance(message, dict) else None
    return value if _valid_id(value) else None


def _call(method: str, params: dict[str, Any], context: Any, room: int) -> dict[str, Any]:
    if method == "initialize":
        return initialize(params)
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": tool_list.mcp_tools(read_only())}
    if method == "tools/call":
        return call_tool(params, context, room)
    # server/discover (the 2026 per-request era) included: modern clients fall back to initialize.
    raise RpcError(
        METHOD_NOT_FOUND,
        f"Method not found: {_shown(method)} (this server offers initialize, ping, tools/list, tools/call).",
    )


def initialize(params: dict[str, Any]) -> dict[str, Any]:
    asked = params.get("protocolVersion")
    version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": SERVER_INFO,
        "instructions": tool_texts.instructions(read_only(), tool_list.allow_delete()),
    }


def call_tool(params: dict[str, Any], context: Any, room: int = tool_calls.MAX_RESULT_BYTES) -> dict[str, Any]:
    name, arguments = params.get("name"), params.get("arguments")
    tool = tool_list.find(name, read_only()) if isinstance(name, str) else None
    if tool is None:
        known = ", ".join(t.name for t in tool_list.tools(read_only()))
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {_shown(name)}. Tools: {known}.")
    if arguments is not None and not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: arguments must be an object.")
    if room < TOOL_ROOM:
        raise RpcError(SERVER_ERROR, NOT_RUN.format(limit=MAX_ANSWER_BYTES))
    logger.info("tool call", extra={"tool": tool.name})
    return tool_calls.call(tool, arguments or {}, context, room).mcp()
