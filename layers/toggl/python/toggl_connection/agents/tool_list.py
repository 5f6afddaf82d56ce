"""The actions and queries as tools for AI agents: one list, made from what defines the actions
(their input models and checks) and the queries (their parameters and converters), so that a
new field or parameter shows up on every surface with no second edit. What is written by hand,
what a model needs beyond types (when to use a tool, what each argument means), is in
``tool_texts``.

Three renderings of the one list: MCP ``tools/list``, a Bedrock Agents action group's
``functionSchema`` and an AgentCore Gateway Lambda target's tool definitions."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

from toggl_connection.agents.tool_texts import ARGUMENT_TEXT, DEFAULT_LIMIT, MAX_LIMIT, TEXT
from toggl_connection.calls import actions, queries, query_params, time_entries, validation
from toggl_connection.core import settings

PREFIX = "toggl_"
# Bedrock Agents' limit on a function's description.
BEDROCK_DESCRIPTION_CHARS = 1200
BEDROCK_PARAMETER_CHARS = 500


class Tool(NamedTuple):
    name: str
    operation: str  # the action's or query's name (create-client, time-entries, ...)
    kind: str  # "write", "list" or "single"
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    defaults: Mapping[str, Any]  # tool-level defaults applied before the operation sees the arguments

    @property
    def writes(self) -> bool:
        return self.kind == "write"

    def annotations(self) -> dict[str, Any]:
        if self.writes:
            return {
                "title": self.title,
                "readOnlyHint": False,
                "destructiveHint": self.operation in DESTRUCTIVE,
                "idempotentHint": True,
                "openWorldHint": True,
            }
        return {"title": self.title, "readOnlyHint": True, "openWorldHint": True}


# Writes that change or remove what exists (every other write adds something).
DESTRUCTIVE = frozenset({"update-time-entry", "delete-time-entry"})
# Hidden from agents unless the stack's AgentToolsAllowDelete is true (the HTTP route is IAM's).
DELETES = frozenset({"delete-time-entry"})

# Tool-level defaults: names beside ids by default (the HTTP route keeps Toggl's own default).
TOOL_DEFAULTS: dict[str, dict[str, Any]] = {"time-entries": {"meta": True}, "current-time-entry": {"meta": True}}


# --- types, from the models and converters ------------------------------------------------------
def _check_schema(check: validation.Check | None) -> dict[str, Any]:
    known: dict[Any, dict[str, Any]] = {
        time_entries.rfc3339: {"format": "date-time"},
        time_entries.seconds: {"minimum": 1},
        time_entries.tag_names: {"minItems": 1, "items": {"type": "string", "minLength": 1}},
        time_entries.tag_ids: {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
    }
    if check in known:
        return dict(known[check])
    if check is validation.positive:
        return {"minimum": 1}
    if check is validation.not_negative:
        return {"minimum": 0}
    if check is validation.non_blank:
        return {"minLength": 1}
    if check is validation.emails:
        return {"minItems": 1}
    return {}


def _type_schema(kind: Any) -> dict[str, Any]:
    if kind is bool:
        return {"type": "boolean"}
    if kind is int:
        return {"type": "integer"}
    if kind is float:
        return {"type": "number"}
    if kind is str:
        return {"type": "string"}  # its maxLength: per field, in _action_input
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        return {"type": "array", "items": _type_schema(item)}
    raise TypeError(f"no JSON type for {kind!r}")


def _converter_schema(converter: query_params.Converter) -> dict[str, Any]:
    if isinstance(converter, query_params.one_of):
        return {"type": "string", "enum": list(converter.choices)}
    known: dict[Any, dict[str, Any]] = {
        query_params.integer: {"type": "integer", "minimum": 1},
        query_params.unix_time: {"type": "integer", "minimum": 1},
        query_params.boolean: {"type": "boolean"},
        query_params.active_filter: {"type": "string", "enum": ["true", "false", "both"]},
        query_params.text: {"type": "string", "minLength": 1, "maxLength": query_params.MAX_TEXT},
        query_params.ids: {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
        query_params.day: {"type": "string", "format": "date"},
        query_params.day_or_timestamp: {"type": "string"},
    }
    if converter not in known:
        raise TypeError(f"no JSON type for the query parameter converter {converter!r}")
    return dict(known[converter])


def _described(operation: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    text = ARGUMENT_TEXT.get((operation, name)) or ARGUMENT_TEXT.get(name) or f"Toggl's {name} parameter."
    if "enum" in schema:
        text += f" One of: {', '.join(schema['enum'])}."
    return {"description": text, **schema}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _action_input(action: actions.Action) -> dict[str, Any]:
    model: Any = action.model
    hints = typing.get_type_hints(model)
    checks = actions.CHECKS[model]
    defaults: dict[str, Any] = model._field_defaults
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name in model._fields:
        kind = hints[name]
        optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
        if optional:
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        schema = {**_type_schema(kind), **_check_schema(checks.get(name))}
        if kind is str:
            schema["maxLength"] = validation.text_limit(name)
        elif schema.get("items", {}).get("type") == "string":
            schema["items"] = {**schema["items"], "maxLength": validation.text_limit(name)}
        if defaults.get(name) is not None:
            schema["default"] = defaults[name]
        properties[name] = _described(action.name, name, schema)
        # workspace_id: the stack's DefaultWorkspaceId may stand in, as on the HTTP route.
        if not optional and name not in defaults and name != "workspace_id":
            required.append(name)
    properties["idempotency_key"] = _described(action.name, "idempotency_key", {"type": "string", "minLength": 1})
    return _object(properties, required)


def _is_single(query: queries.Query) -> bool:
    """Whether the query answers one object (``Single``) rather than a list: read from its fetch."""
    returned = typing.get_type_hints(query.fetch).get("return")
    return returned is queries.Single


def _query_input(query: queries.Query, single: bool) -> dict[str, Any]:
    spec = dict(query.params)
    properties: dict[str, Any] = {}
    if query.workspace:
        properties["workspace_id"] = _described(query.name, "workspace_id", {"type": "integer", "minimum": 1})
    for name, converter in spec.items():
        schema = _converter_schema(converter)
        default = TOOL_DEFAULTS.get(query.name, {}).get(name)
        if default is not None:
            schema["default"] = default
        properties[name] = _described(query.name, name, schema)
    if not single:
        properties["limit"] = _described(
            query.name, "limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
        )
        properties["cursor"] = _described(query.name, "cursor", {"type": "string", "minLength": 1})
    return _object(properties, list(query.required))


QUOTA_SCHEMA = {
    "type": "object",
    "description": "Toggl's quota after this call: requests left and seconds until it resets.",
    "properties": {"remaining": {"type": "integer"}, "resets_in": {"type": ["integer", "null"]}},
}
TOGGL_REQUESTS_SCHEMA = {"type": "integer", "description": "Toggl requests this call used."}


def _output_schema(kind: str) -> dict[str, Any]:
    if kind == "write":
        return {
            "type": "object",
            "description": "The Toggl object created (an invitation: Toggl's answer).",
            "properties": {
                "id": {"type": "integer", "description": "Toggl's id of what was created or changed."},
                "found_existing": {"type": "boolean", "description": "true: it existed already; nothing was created."},
                "already_stopped": {"type": "boolean", "description": "true: the entry was stopped already."},
                "deleted": {"type": "boolean", "description": "true: the time entry is deleted."},
                "already_invited": {"type": "boolean", "description": "true: invited earlier; nothing was sent."},
                "running": {"type": "boolean", "description": "A time entry: true while its timer runs."},
                "elapsed_seconds": {"type": "integer", "description": "A running time entry: seconds so far."},
            },
        }
    common = {"toggl_requests": TOGGL_REQUESTS_SCHEMA, "quota": QUOTA_SCHEMA}
    if kind == "single":
        return {
            "type": "object",
            "properties": {"item": {"type": ["object", "null"], "description": "The object, or null."}, **common},
            "required": ["item"],
        }
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}, "description": "The objects, in Toggl's order."},
            "count": {"type": "integer", "description": "How many items this answer holds."},
            "truncated": {"type": "boolean", "description": "true: there are more; call again with next_cursor."},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as cursor to read on; null at the end."},
            "warning": {"type": "string"},
            **common,
        },
        "required": ["items", "count", "truncated", "next_cursor"],
    }


def _describe(operation: str, kind: str) -> tuple[str, str, str]:
    name, title, text, cost = TEXT[operation]
    if kind == "list":
        text += " Returns items, count, truncated and next_cursor (pass it as cursor to read on)."
    return name, title, f"{text} Toggl quota: {cost}."


@cache
def all_tools() -> tuple[Tool, ...]:
    """Every tool, in a stable order: the writes, then the reads, each as their routes list them."""
    found: list[Tool] = []
    for action in actions.ACTIONS.values():
        name, title, text = _describe(action.name, "write")
        found.append(Tool(name, action.name, "write", title, text, _action_input(action), _output_schema("write"), {}))
    for query in queries.QUERIES.values():
        single = _is_single(query)
        kind = "single" if single else "list"
        name, title, text = _describe(query.name, kind)
        found.append(
            Tool(
                name,
                query.name,
                kind,
                title,
                text,
                _query_input(query, single),
                _output_schema(kind),
                TOOL_DEFAULTS.get(query.name, {}),
            )
        )
    return tuple(found)


def allow_delete() -> bool:
    """Whether agents may delete (the stack's AgentToolsAllowDelete)."""
    return settings.getenv("AGENT_TOOLS_ALLOW_DELETE").strip().lower() == "true"


def tools(read_only: bool, allow_deletes: bool | None = None) -> tuple[Tool, ...]:
    """The tools agents are offered: no write in read-only mode; no delete unless allowed
    (``allow_deletes`` None: as the stack says)."""
    deletes = allow_delete() if allow_deletes is None else allow_deletes
    return tuple(
        tool for tool in all_tools() if not (read_only and tool.writes) and (deletes or tool.operation not in DELETES)
    )


def find(name: str, read_only: bool) -> Tool | None:
    """The tool so named, or None (a write tool in read-only mode, or a delete not allowed, is as
    unknown as a made-up name)."""
    return next((tool for tool in tools(read_only) if tool.name == name), None)


# --- the three renderings ----------------------------------------------------------------------
def mcp_tools(read_only: bool, allow_deletes: bool | None = None) -> list[dict[str, Any]]:
    """MCP ``tools/list`` entries."""
    return [
        {
            "name": t.name,
            "title": t.title,
            "description": t.description,
            "inputSchema": t.input_schema,
            "outputSchema": t.output_schema,
            "annotations": t.annotations(),
        }
        for t in tools(read_only, allow_deletes)
    ]


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema in the subset AgentCore Gateway takes: type, description, properties, items, required.
    Nullable types become their non-null type; constraints move into the description."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    result: dict[str, Any] = {"type": kind}
    notes = [schema["description"]] if schema.get("description") else []
    if "default" in schema and "default" not in " ".join(notes).lower():
        notes.append(
            f"Default: {str(schema['default']).lower() if isinstance(schema['default'], bool) else schema['default']}."
        )
    if notes:
        result["description"] = " ".join(notes)
    if "properties" in schema:
        result["properties"] = {k: _plain(v) for k, v in schema["properties"].items()}
    if schema.get("items"):
        result["items"] = _plain(schema["items"])
    elif kind == "array":
        result["items"] = {"type": "string"}
    if schema.get("required"):
        result["required"] = list(schema["required"])
    return result


def agentcore_tools(read_only: bool, allow_deletes: bool | None = None) -> list[dict[str, Any]]:
    """An AgentCore Gateway Lambda target's ``inlinePayload``."""
    return [
        {
            "name": t.name,
            "description": t.description,
            "inputSchema": _plain(t.input_schema),
            "outputSchema": _plain(t.output_schema),
        }
        for t in tools(read_only, allow_deletes)
    ]


def array_example(schema: dict[str, Any]) -> str:
    """How an array argument is written as the string Bedrock passes."""
    return '["ana@example.com"]' if schema.get("items", {}).get("type") == "string" else "[1, 2]"


def _bedrock_parameter(schema: dict[str, Any], required: bool) -> dict[str, Any]:
    text = _plain(schema).get("description", "")
    if schema.get("type") == "array":
        text += f" Give a JSON array, for example {array_example(schema)}."
    return {"type": schema["type"], "description": text.strip()[:BEDROCK_PARAMETER_CHARS], "required": required}


def bedrock_function_schema(read_only: bool, allow_deletes: bool | None = None) -> dict[str, Any]:
    """A Bedrock Agents action group's ``functionSchema``."""
    functions = []
    for t in tools(read_only, allow_deletes):
        required = set(t.input_schema.get("required", []))
        functions.append(
            {
                "name": t.name,
                "description": t.description[:BEDROCK_DESCRIPTION_CHARS],
                "parameters": {
                    name: _bedrock_parameter(schema, name in required)
                    for name, schema in t.input_schema["properties"].items()
                },
                "requireConfirmation": "ENABLED" if t.writes else "DISABLED",
            }
        )
    return {"functions": functions}
