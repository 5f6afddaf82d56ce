"""The one tool list and its three renderings (MCP, Bedrock Agents, AgentCore Gateway): names,
order, annotations, arguments derived from the actions' models and the queries' parameters,
and each platform's constraints. No servers: the layer and the command line only."""

from __future__ import annotations

import io
import json
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest

from toggl_connection.agents import tool_list, tool_texts
from toggl_connection.calls import actions, queries, query_params
from toggl_connection_cli import cli

WRITES = [
    "toggl_create_client",
    "toggl_create_user_invitation",
    "toggl_add_project_member",
    "toggl_create_task",
    "toggl_start_time_entry",
    "toggl_stop_time_entry",
    "toggl_create_time_entry",
    "toggl_update_time_entry",
    "toggl_delete_time_entry",
    "toggl_create_project",
    "toggl_create_tag",
]
# Listed only when the stack's AgentToolsAllowDelete is true.
DELETES = ["toggl_delete_time_entry"]
DESTRUCTIVE = {"toggl_update_time_entry", "toggl_delete_time_entry"}
LISTED_WRITES = [name for name in WRITES if name not in DELETES]
READS = [
    "toggl_get_me",
    "toggl_list_organizations",
    "toggl_list_workspaces",
    "toggl_get_workspace",
    "toggl_list_projects",
    "toggl_list_clients",
    "toggl_list_tasks",
    "toggl_list_time_entries",
    "toggl_get_current_time_entry",
    "toggl_get_time_entry",
    "toggl_list_workspace_users",
    "toggl_list_project_members",
    "toggl_list_tags",
    "toggl_get_detailed_report",
    "toggl_get_summary_report",
]
SINGLE = {"toggl_get_me", "toggl_get_workspace", "toggl_get_current_time_entry", "toggl_get_time_entry"}


def schema_of(fmt: str, read_only: bool = False, allow_delete: bool = True) -> Any:
    out = io.StringIO()
    options = [*(["--read-only"] if read_only else []), *(["--allow-delete"] if allow_delete else [])]
    assert cli.run(["agent-schema", "--format", fmt, *options], out) == 0
    return json.loads(out.getvalue())


def test_the_twenty_six_tools_in_a_stable_order_writes_first() -> None:
    listed = [t["name"] for t in schema_of("mcp")["tools"]]
    assert listed == WRITES + READS
    assert listed == [t["name"] for t in schema_of("mcp")["tools"]]  # the same order every time


def test_the_delete_is_listed_only_when_the_stack_allows_it_on_every_surface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_TOOLS_ALLOW_DELETE", raising=False)
    assert [t["name"] for t in schema_of("mcp", allow_delete=False)["tools"]] == LISTED_WRITES + READS
    assert [f["name"] for f in schema_of("bedrock", allow_delete=False)["functions"]] == LISTED_WRITES + READS
    assert [t["name"] for t in schema_of("agentcore", allow_delete=False)] == LISTED_WRITES + READS
    assert tool_list.find("toggl_delete_time_entry", read_only=False) is None
    monkeypatch.setenv("AGENT_TOOLS_ALLOW_DELETE", "true")
    found = tool_list.find("toggl_delete_time_entry", read_only=False)
    assert found is not None and found.operation == "delete-time-entry"
    assert tool_list.find("toggl_delete_time_entry", read_only=True) is None  # read-only still wins


def test_read_only_lists_the_reads_only_on_every_surface() -> None:
    assert [t["name"] for t in schema_of("mcp", read_only=True)["tools"]] == READS
    assert [f["name"] for f in schema_of("bedrock", read_only=True)["functions"]] == READS
    assert [t["name"] for t in schema_of("agentcore", read_only=True)] == READS


def test_annotations_say_what_each_tool_does_to_the_world() -> None:
    for tool in schema_of("mcp")["tools"]:
        notes = tool["annotations"]
        if tool["name"] in WRITES:
            assert notes | {"title": None} == {
                "title": None,
                "readOnlyHint": False,
                "destructiveHint": tool["name"] in DESTRUCTIVE,
                "idempotentHint": True,
                "openWorldHint": True,
            }
        else:
            assert notes | {"title": None} == {"title": None, "readOnlyHint": True, "openWorldHint": True}


def test_every_tool_has_a_closed_input_schema_an_output_schema_and_a_description_for_a_model() -> None:
    for tool in schema_of("mcp")["tools"]:
        schema = tool["inputSchema"]
        assert schema["type"] == "object" and schema["additionalProperties"] is False, tool["name"]
        assert tool["outputSchema"]["type"] == "object"
        assert len(tool["description"]) > 60 and "Toggl quota:" in tool["description"]
        if "workspace_id" in schema["properties"]:
            assert "toggl_list_workspaces" in schema["properties"]["workspace_id"]["description"]
            assert "workspace_id" not in schema.get("required", [])  # DefaultWorkspaceId may stand in
        for name, argument in schema["properties"].items():
            assert argument.get("description"), (tool["name"], name)
        lists = tool["name"] not in WRITES and tool["name"] not in SINGLE
        assert ("limit" in schema["properties"]) is lists and ("cursor" in schema["properties"]) is lists
        if lists:
            assert schema["properties"]["limit"]["default"] == 50 and schema["properties"]["limit"]["maximum"] == 500
            assert tool["outputSchema"]["required"] == ["items", "count", "truncated", "next_cursor"]
        assert ("idempotency_key" in schema["properties"]) is (tool["name"] in WRITES)


def _json_type(kind: Any) -> str:
    if isinstance(kind, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is list:
        return "array"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}[kind]


def test_arguments_are_the_actions_fields_with_their_types_required_ones_and_defaults() -> None:
    tools = {t["name"]: t["inputSchema"] for t in schema_of("mcp")["tools"]}
    for action in actions.ACTIONS.values():
        model: Any = action.model
        schema = tools["toggl_" + action.name.replace("-", "_")]
        hints = typing.get_type_hints(model)
        assert list(schema["properties"]) == [*model._fields, "idempotency_key"]
        for field in model._fields:
            assert schema["properties"][field]["type"] == _json_type(hints[field]), field
            if model._field_defaults.get(field) is not None:
                assert schema["properties"][field]["default"] == model._field_defaults[field]
        required = [
            f
            for f in model._fields
            if f not in model._field_defaults and f != "workspace_id" and not isinstance(hints[f], types.UnionType)
        ]
        assert schema.get("required", []) == required


def test_arguments_are_the_queries_parameters_with_json_types() -> None:
    by_operation = {t.operation: t for t in tool_list.all_tools()}
    for query in queries.QUERIES.values():
        properties = by_operation[query.name].input_schema["properties"]
        for name, converter in query.params.items():
            kind = properties[name]["type"]
            if converter is query_params.ids:
                assert kind == "array" and properties[name]["items"]["type"] == "integer"
            elif converter in (query_params.integer, query_params.unix_time):
                assert kind == "integer"
            elif converter is query_params.boolean:
                assert kind == "boolean"
            elif isinstance(converter, query_params.one_of):
                assert properties[name]["enum"] == list(converter.choices)
            else:
                assert kind == "string"
        assert ("workspace_id" in properties) is query.workspace


@pytest.fixture
def new_parameter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A parameter added to the tags query, and nothing else edited."""
    tags = queries.QUERIES["tags"]
    monkeypatch.setitem(queries.QUERIES, "tags", tags._replace(params={**tags.params, "tag_ids": query_params.ids}))
    tool_list.all_tools.cache_clear()
    yield
    tool_list.all_tools.cache_clear()


def test_a_new_query_parameter_appears_on_every_surface_without_a_second_edit(new_parameter: None) -> None:
    mcp = {t["name"]: t for t in schema_of("mcp")["tools"]}["toggl_list_tags"]
    bedrock = {f["name"]: f for f in schema_of("bedrock")["functions"]}["toggl_list_tags"]
    agentcore = {t["name"]: t for t in schema_of("agentcore")}["toggl_list_tags"]
    assert mcp["inputSchema"]["properties"]["tag_ids"]["items"]["type"] == "integer"
    assert bedrock["parameters"]["tag_ids"]["type"] == "array"
    assert agentcore["inputSchema"]["properties"]["tag_ids"] == {
        "type": "array",
        "description": "Only those with these tag ids.",
        "items": {"type": "integer"},
    }


def test_a_converter_without_a_json_type_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    tags = queries.QUERIES["tags"]
    monkeypatch.setitem(queries.QUERIES, "tags", tags._replace(params={"odd": lambda name, value: value}))
    tool_list.all_tools.cache_clear()
    try:
        with pytest.raises(TypeError, match="no JSON type"):
            tool_list.all_tools()
    finally:
        tool_list.all_tools.cache_clear()


BEDROCK_NAME = re.compile(r"([0-9a-zA-Z][_-]?){1,100}")


def test_the_bedrock_function_schema_keeps_bedrocks_rules() -> None:
    functions = schema_of("bedrock")["functions"]
    assert [f["name"] for f in functions] == WRITES + READS
    for function in functions:
        assert BEDROCK_NAME.fullmatch(function["name"])
        assert 0 < len(function["description"]) <= 1200
        assert function["requireConfirmation"] == ("ENABLED" if function["name"] in WRITES else "DISABLED")
        for name, parameter in function["parameters"].items():
            assert BEDROCK_NAME.fullmatch(name)
            assert parameter["type"] in ("string", "number", "integer", "boolean", "array")
            assert isinstance(parameter["required"], bool) and 0 < len(parameter["description"]) <= 500
    create_task = next(f for f in functions if f["name"] == "toggl_create_task")["parameters"]
    assert create_task["project_id"]["required"] and not create_task["workspace_id"]["required"]


PLAIN_KEYS = {"type", "description", "properties", "items", "required"}


def _walk(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield where, schema
    for name, inner in (schema.get("properties") or {}).items():
        yield from _walk(inner, f"{where}.{name}")
    if "items" in schema:
        yield from _walk(schema["items"], f"{where}[]")


def test_the_agentcore_definitions_use_only_the_schema_subset_the_gateway_takes() -> None:
    definitions = schema_of("agentcore")
    assert [d["name"] for d in definitions] == WRITES + READS
    for definition in definitions:
        assert set(definition) == {"name", "description", "inputSchema", "outputSchema"}
        for part in ("inputSchema", "outputSchema"):
            for where, schema in _walk(definition[part], f"{definition['name']}.{part}"):
                assert set(schema) <= PLAIN_KEYS, where
                assert isinstance(schema["type"], str), where  # no type lists, no anyOf
                assert schema.get("items") != {}, where
                assert "default" not in schema, where


def test_mcp_format_is_the_tools_list_result() -> None:
    assert schema_of("mcp") == {"tools": tool_list.mcp_tools(read_only=False, allow_deletes=True)}


def test_agent_schema_needs_neither_aws_nor_toggl(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOGGL_API_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "STACK_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENT_TOOLS_READ_ONLY", "true")
    monkeypatch.delenv("AGENT_TOOLS_ALLOW_DELETE", raising=False)
    out = io.StringIO()
    assert cli.run(["agent-schema", "--format", "bedrock"], out) == 0
    assert [f["name"] for f in json.loads(out.getvalue())["functions"]] == READS


def test_the_readmes_tools_table_lists_every_tool_its_route_and_its_quota_cost() -> None:
    from tests.unit.test_readme import page, table_after

    rows = table_after("| tool | route it stands for |", page("agents"))
    assert [row[0].strip("`") for row in rows] == WRITES + READS
    assert [row[0].strip("`") for row in rows if "**destructive**" in row[3]] == sorted(DESTRUCTIVE, reverse=True)
    for row, tool in zip(rows, tool_list.all_tools(), strict=True):
        kind = "actions" if tool.writes else "queries"
        assert row[1].strip("`").endswith(f"/{kind}/{tool.operation}"), row
        assert row[3].startswith("write") is tool.writes, row
        assert row[4] == tool_texts.TEXT[tool.operation][3], row
        assert f"Toggl quota: {row[4]}." in tool.description


@pytest.mark.parametrize(("read_only", "allow_deletes"), [(False, True), (False, False), (True, False), (True, True)])
def test_the_servers_instructions_name_only_the_kinds_of_tools_it_offers(read_only: bool, allow_deletes: bool) -> None:
    offered = tool_list.tools(read_only, allow_deletes)
    said = tool_texts.instructions(read_only, allow_deletes)
    assert ("delete" in said) == any(t.name == "toggl_delete_time_entry" for t in offered)
    assert ("create" in said and "start and stop" in said) == any(t.writes for t in offered)
    assert ("idempotency_key" in said) == any("idempotency_key" in t.input_schema["properties"] for t in offered)
    assert "toggl_list_workspaces" in said and all(n in said for n in ("projects", "time entries", "reports"))
