"""The three ways an agent reaches the tools, told apart in one place: MCP over HTTP (API
Gateway), a Bedrock Agents action group's function call, and an AgentCore Gateway Lambda
target's call. Each is answered in its own format; the tool call itself is the same."""

from __future__ import annotations

import json
import math
from typing import Any

from toggl_connection.agents import mcp_server, tool_calls, tool_list
from toggl_connection.calls import invocation
from toggl_connection.core.errors import ValidationFailed
from toggl_connection.core.observability import logger

# AgentCore Gateway names the tool "<target>___<tool>" in the Lambda's client context.
AGENTCORE_TOOL_KEY = "bedrockAgentCoreToolName"
AGENTCORE_SEPARATOR = "___"


def _custom(context: Any) -> dict[str, Any]:
    client_context = getattr(context, "client_context", None)
    custom = getattr(client_context, "custom", None)
    return custom if isinstance(custom, dict) else {}


def is_bedrock(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and event.get("messageVersion") == "1.0"
        and "actionGroup" in event
        and ("function" in event)
    )


def handle(event: Any, context: Any) -> Any:
    # AgentCore first, told by its context: its event is the tool's arguments, whatever their shape
    # (an HTTP request's or a Bedrock event's shape is still only arguments).
    if AGENTCORE_TOOL_KEY in _custom(context):
        return agentcore(event, context)
    if invocation.kind_of(event) == "http":
        logger.append_keys(caller=invocation.caller_of(event), surface="mcp")
        return mcp_server.handle_http(event, context)
    if is_bedrock(event):
        return bedrock(event, context)
    # A direct invocation with one JSON-RPC message (tests, scripts): its JSON-RPC answer.
    logger.append_keys(caller="direct", surface="mcp")
    return mcp_server.dispatch(event, context)


# --- Bedrock Agents ------------------------------------------------------------------------------
def _bedrock_value(tool: tool_list.Tool, name: str, value: Any) -> Any:
    """Bedrock passes every value as a string: back to the JSON type the tool's schema says."""
    schema = tool.input_schema["properties"].get(name)
    if schema is None or not isinstance(value, str):
        return value  # an unknown argument: the operation's validation names it
    kind = schema.get("type")
    if kind == "boolean" and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):  # "nan", "inf", "1e999": no number JSON (or Toggl) takes
            raise ValidationFailed(name, invocation.NON_FINITE)
        return number
    if kind == "array":
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            raise ValidationFailed(
                name, f"must be a JSON array, for example {tool_list.array_example(schema)}"
            ) from None
        return parsed
    return value  # integers stay digit strings: the one integer parser reads them


PARAMETER_SHAPE = 'must be a list of {"name", "type", "value"} objects, as Bedrock Agents sends them'


def _bedrock_arguments(tool: tool_list.Tool, parameters: Any) -> dict[str, Any]:
    """The tool's arguments from Bedrock's ``parameters``: a list of objects, each with a string
    ``name`` given once; anything else is refused, never ignored."""
    if parameters is None:
        return {}
    if not isinstance(parameters, list):
        raise ValidationFailed("parameters", PARAMETER_SHAPE)
    arguments: dict[str, Any] = {}
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, dict):
            raise ValidationFailed(f"parameters[{index}]", PARAMETER_SHAPE.replace("a list of", "one of the"))
        name = parameter.get("name")
        if not isinstance(name, str) or not name:
            raise ValidationFailed(f"parameters[{index}].name", "must be the parameter's name, a non-empty string")
        if name in arguments:
            raise ValidationFailed(f"parameters[{index}].name", f"repeats {name!r}: give each parameter once")
        arguments[name] = _bedrock_value(tool, name, parameter.get("value"))
    return arguments


def bedrock(event: dict[str, Any], context: Any) -> dict[str, Any]:
    agent = _attributes(event.get("agent"))
    logger.append_keys(caller=f"bedrock-agent:{agent.get('id', 'unknown')}/{agent.get('alias', '')}", surface="bedrock")
    name = str(event.get("function"))
    tool = tool_list.find(name, mcp_server.read_only())
    if tool is None:
        known = ", ".join(t.name for t in tool_list.tools(mcp_server.read_only()))
        result = tool_calls.ToolResult(
            {"error": "unknown_tool", "message": f"No tool {name[:80]!r} here. Tools: {known}.", "status": 404}, True
        )
    else:
        try:
            result = tool_calls.call(tool, _bedrock_arguments(tool, event.get("parameters")), context)
        except Exception as failure:  # noqa: BLE001 - a FAILURE the agent reads, never an exception
            result = tool_calls.failed(failure, tool)
    function_response: dict[str, Any] = {"responseBody": {"TEXT": {"body": result.text}}}
    if result.is_error:
        function_response["responseState"] = "FAILURE"
    return {
        "messageVersion": "1.0",
        "response": {"actionGroup": event.get("actionGroup"), "function": name, "functionResponse": function_response},
        "sessionAttributes": _attributes(event.get("sessionAttributes")),
        "promptSessionAttributes": _attributes(event.get("promptSessionAttributes")),
    }


def _attributes(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- AgentCore Gateway ---------------------------------------------------------------------------
def agentcore(event: Any, context: Any) -> dict[str, Any]:
    custom = _custom(context)
    logger.append_keys(
        caller=f"agentcore-gateway:{custom.get('bedrockAgentCoreGatewayId', 'unknown')}", surface="agentcore"
    )
    qualified = str(custom.get(AGENTCORE_TOOL_KEY))
    name = qualified.split(AGENTCORE_SEPARATOR, 1)[-1]
    tool = tool_list.find(name, mcp_server.read_only())
    if tool is None:
        return tool_calls.ToolResult(
            {
                "error": "unknown_tool",
                "message": f"No tool {name!r} here: list the gateway's tools again.",
                "status": 404,
            },
            True,
        ).mcp()
    return tool_calls.call(tool, event if event is not None else {}, context).mcp()
