"""The same function as a Bedrock Agents action group and as an AgentCore Gateway Lambda target:
the events those services send, invoked as Lambda invokes the handler, answered in their formats."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from local.emulator import lambda_runtime, template
from local.toggl_sandbox.state import Seeded
from tests.connection import Connection


def invoke(connection: Connection, event: Any, client_context: Any = None, **env: str) -> Any:
    fn = template.function("McpFunction")
    return lambda_runtime.invoke(fn, event, {**connection.environment(fn), **env}, client_context=client_context)


def bedrock_event(function: str, parameters: list[dict[str, str]]) -> dict[str, Any]:
    """What a Bedrock agent sends an action group defined by a function schema."""
    return {
        "messageVersion": "1.0",
        "function": function,
        "parameters": parameters,
        "sessionId": "s-1",
        "agent": {"name": "ops-agent", "version": "DRAFT", "id": "AGENT12345", "alias": "TSTALIASID"},
        "actionGroup": "toggl",
        "inputText": "add a task",
        "sessionAttributes": {"team": "ops"},
        "promptSessionAttributes": {},
    }


def test_a_bedrock_function_call_is_answered_in_the_action_group_format(
    toggl_connection: Connection, seeded: Seeded
) -> None:
    wid, pid = str(seeded.workspace["id"]), str(seeded.project["id"])
    answer = invoke(
        toggl_connection,
        bedrock_event(
            "toggl_create_task",
            [
                {"name": "workspace_id", "type": "integer", "value": wid},
                {"name": "project_id", "type": "integer", "value": pid},
                {"name": "name", "type": "string", "value": "From Bedrock"},
                {"name": "active", "type": "boolean", "value": "true"},
            ],
        ),
    )
    assert answer["messageVersion"] == "1.0" and answer["sessionAttributes"] == {"team": "ops"}
    response = answer["response"]
    assert (response["actionGroup"], response["function"]) == ("toggl", "toggl_create_task")
    assert "responseState" not in response["functionResponse"]
    task = json.loads(response["functionResponse"]["responseBody"]["TEXT"]["body"])
    assert task["name"] == "From Bedrock" and task["id"] in seeded.world.tasks


def test_bedrock_arrays_come_as_json_text_and_failures_are_failure(
    toggl_connection: Connection, seeded: Seeded
) -> None:
    wid = str(seeded.workspace["id"])
    answer = invoke(
        toggl_connection,
        bedrock_event(
            "toggl_list_project_members",
            [
                {"name": "workspace_id", "type": "integer", "value": wid},
                {"name": "project_ids", "type": "array", "value": f"[{seeded.project['id']}]"},
            ],
        ),
    )
    members = json.loads(answer["response"]["functionResponse"]["responseBody"]["TEXT"]["body"])
    assert all(m["project_id"] == seeded.project["id"] for m in members["items"])
    refused = invoke(
        toggl_connection,
        bedrock_event("toggl_list_tags", [{"name": "workspace_id", "type": "integer", "value": "999"}]),
        ALLOWED_WORKSPACE_IDS=wid,
    )
    assert refused["response"]["functionResponse"]["responseState"] == "FAILURE"
    body = json.loads(refused["response"]["functionResponse"]["responseBody"]["TEXT"]["body"])
    assert body["error"] == "workspace_not_allowed"
    broken = invoke(
        toggl_connection,
        bedrock_event("toggl_list_project_members", [{"name": "project_ids", "type": "array", "value": "1, 2"}]),
    )
    assert broken["response"]["functionResponse"]["responseState"] == "FAILURE"
    unknown = invoke(toggl_connection, bedrock_event("toggl_create_client", []), AGENT_TOOLS_READ_ONLY="true")
    assert unknown["response"]["functionResponse"]["responseState"] == "FAILURE"
    assert "unknown_tool" in unknown["response"]["functionResponse"]["responseBody"]["TEXT"]["body"]


def test_a_bedrock_array_nested_too_deeply_is_a_failure_that_says_how_to_write_it(
    toggl_connection: Connection, seeded: Seeded
) -> None:
    answer = invoke(
        toggl_connection,
        bedrock_event(
            "toggl_create_user_invitation",
            [
                {"name": "workspace_id", "type": "integer", "value": str(seeded.workspace["id"])},
                {"name": "emails", "type": "array", "value": "[" * 200_000 + "]" * 200_000},
            ],
        ),
    )
    assert answer["response"]["functionResponse"]["responseState"] == "FAILURE"
    body = json.loads(answer["response"]["functionResponse"]["responseBody"]["TEXT"]["body"])
    assert body["error"] == "validation_failed" and '["ana@example.com"]' in body["message"]
    assert seeded.world.emails_sent == []


def agentcore_context(tool: str) -> Any:
    """The client context AgentCore Gateway gives a Lambda target."""
    return SimpleNamespace(
        custom={
            "bedrockAgentCoreGatewayId": "gw-123",
            "bedrockAgentCoreTargetId": "tgt-1",
            "bedrockAgentCoreMessageVersion": "1.0",
            "bedrockAgentCoreToolName": f"toggl___{tool}",
            "bedrockAgentCoreSessionId": "",
        }
    )


def test_an_agentcore_gateway_call_answers_the_tool_result(toggl_connection: Connection, seeded: Seeded) -> None:
    answer = invoke(
        toggl_connection,
        {"name": "From AgentCore"},
        agentcore_context("toggl_create_client"),
        DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"]),
    )
    assert answer["isError"] is False and answer["structuredContent"]["name"] == "From AgentCore"
    assert json.loads(answer["content"][0]["text"]) == answer["structuredContent"]
    failed = invoke(
        toggl_connection,
        {"name": ""},
        agentcore_context("toggl_create_client"),
        DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"]),
    )
    assert failed["isError"] is True and json.loads(failed["content"][0]["text"])["field"] == "name"
    unknown = invoke(toggl_connection, {}, agentcore_context("toggl_drop_database"))
    assert unknown["isError"] is True and json.loads(unknown["content"][0]["text"])["error"] == "unknown_tool"


def test_a_direct_invocation_takes_one_json_rpc_message(toggl_connection: Connection) -> None:
    answer = invoke(toggl_connection, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert len(answer["result"]["tools"]) == 25  # the delete is offered only where the stack allows it


def test_the_sample_mcp_events_are_answered(toggl_connection: Connection, seeded: Seeded) -> None:
    for path in sorted((template.ROOT / "events").glob("mcp-*.json")):
        response = toggl_connection.request(json.loads(path.read_text()))
        assert response["statusCode"] == 200, path.name
        answer = json.loads(response["body"])
        assert "result" in answer and answer["result"].get("isError") is not True, path.name
