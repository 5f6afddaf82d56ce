"""The time-tracking tools on the three agent surfaces: MCP through the local API with SigV4 (the
official Python and TypeScript SDKs among its clients), Bedrock Agents and AgentCore Gateway
events as Lambda delivers them. The delete is offered only where the stack allows it; read-only
mode offers no write at all."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client

from local.toggl_sandbox import Fault
from tests.e2e.agents.conftest import AgentStack, content_of
from tests.e2e.agents.test_agent_events import agentcore_context, bedrock_event, invoke
from tests.e2e.agents.test_clients import SigV4

NODE_DIR = Path(__file__).parent / "node"
TIME_WRITES = [
    "toggl_start_time_entry",
    "toggl_stop_time_entry",
    "toggl_create_time_entry",
    "toggl_update_time_entry",
    "toggl_delete_time_entry",
    "toggl_create_project",
    "toggl_create_tag",
]
TIME_READS = ["toggl_get_time_entry", "toggl_get_summary_report"]


def running(agents: AgentStack) -> list[dict[str, Any]]:
    return [e for e in agents.seeded.world.time_entries.values() if e.get("stop") is None]


def listed(agents: AgentStack) -> list[str]:
    return [t["name"] for t in agents.rpc("tools/list")["result"]["tools"]]


# --- which tools are offered ----------------------------------------------------------------------
def test_the_delete_is_neither_listed_nor_callable_unless_the_stack_allows_it_over_mcp(agents: AgentStack) -> None:
    entry = agents.call("toggl_create_time_entry", {"start": "2026-12-02T09:00:00Z", "duration": 60})
    entry_id = entry["structuredContent"]["id"]
    # Given the default stack (AgentToolsAllowDelete false)
    tools = listed(agents)
    assert set(TIME_WRITES) - set(tools) == {"toggl_delete_time_entry"} and set(TIME_READS) <= set(tools)
    refused = agents.rpc("tools/call", {"name": "toggl_delete_time_entry", "arguments": {"time_entry_id": entry_id}})
    assert refused["error"]["code"] == -32602 and entry_id in agents.seeded.world.time_entries
    # When the stack allows agents to delete
    agents.env["AGENT_TOOLS_ALLOW_DELETE"] = "true"
    assert "toggl_delete_time_entry" in listed(agents)
    deleted = agents.call("toggl_delete_time_entry", {"time_entry_id": entry_id})
    assert deleted["structuredContent"] == {"deleted": True, "time_entry_id": entry_id}
    assert entry_id not in agents.seeded.world.time_entries
    # And read-only still wins over it
    agents.env["AGENT_TOOLS_READ_ONLY"] = "true"
    assert not set(TIME_WRITES) & set(listed(agents)) and set(TIME_READS) <= set(listed(agents))


def test_the_delete_is_refused_over_bedrock_and_agentcore_unless_allowed(agents: AgentStack) -> None:
    connection, wid = agents.connection, str(agents.workspace_id)
    entry = agents.call("toggl_create_time_entry", {"start": "2026-12-02T09:00:00Z", "duration": 60})
    entry_id = entry["structuredContent"]["id"]
    event = bedrock_event(
        "toggl_delete_time_entry", [{"name": "time_entry_id", "type": "integer", "value": str(entry_id)}]
    )
    refused = invoke(connection, event, DEFAULT_WORKSPACE_ID=wid)
    assert refused["response"]["functionResponse"]["responseState"] == "FAILURE"
    body = json.loads(refused["response"]["functionResponse"]["responseBody"]["TEXT"]["body"])
    assert body["error"] == "unknown_tool"
    gateway = invoke(connection, {"time_entry_id": entry_id}, agentcore_context("toggl_delete_time_entry"))
    assert gateway["isError"] is True and content_of(gateway)["error"] == "unknown_tool"
    assert entry_id in agents.seeded.world.time_entries
    # Allowed: each surface deletes
    allowed = invoke(connection, event, DEFAULT_WORKSPACE_ID=wid, AGENT_TOOLS_ALLOW_DELETE="true")
    assert "responseState" not in allowed["response"]["functionResponse"]
    assert entry_id not in agents.seeded.world.time_entries
    other = agents.call("toggl_create_time_entry", {"start": "2026-12-02T11:00:00Z", "duration": 60})
    other_id = other["structuredContent"]["id"]
    gone = invoke(
        connection,
        {"time_entry_id": other_id},
        agentcore_context("toggl_delete_time_entry"),
        DEFAULT_WORKSPACE_ID=wid,
        AGENT_TOOLS_ALLOW_DELETE="true",
    )
    assert gone["isError"] is False and gone["structuredContent"] == {"deleted": True, "time_entry_id": other_id}
    assert other_id not in agents.seeded.world.time_entries


def test_read_only_refuses_every_time_tracking_write_on_all_three_surfaces(agents: AgentStack) -> None:
    agents.env["AGENT_TOOLS_READ_ONLY"] = "true"
    for tool in TIME_WRITES:
        answer = agents.rpc("tools/call", {"name": tool, "arguments": {}})
        assert answer["error"]["code"] == -32602, tool
        bedrock = invoke(agents.connection, bedrock_event(tool, []), AGENT_TOOLS_READ_ONLY="true")
        assert bedrock["response"]["functionResponse"]["responseState"] == "FAILURE", tool
        gateway = invoke(agents.connection, {}, agentcore_context(tool), AGENT_TOOLS_READ_ONLY="true")
        assert content_of(gateway)["error"] == "unknown_tool", tool
    assert agents.toggl.requests == [] and agents.seeded.world.time_entries == {}


# --- tracking time over the three surfaces -----------------------------------------------------------
def test_bedrock_starts_and_stops_a_timer_with_values_as_strings(agents: AgentStack) -> None:
    wid, project = str(agents.workspace_id), str(agents.seeded.project["id"])
    start = bedrock_event(
        "toggl_start_time_entry",
        [
            {"name": "description", "type": "string", "value": "From Bedrock"},
            {"name": "project_id", "type": "integer", "value": project},
            {"name": "tags", "type": "array", "value": '["meetings"]'},
            {"name": "billable", "type": "boolean", "value": "false"},
        ],
    )
    answer = invoke(agents.connection, start, DEFAULT_WORKSPACE_ID=wid)
    started = json.loads(answer["response"]["functionResponse"]["responseBody"]["TEXT"]["body"])
    assert started["description"] == "From Bedrock" and started["duration"] < 0
    assert [e["id"] for e in running(agents)] == [started["id"]]
    stop = invoke(agents.connection, bedrock_event("toggl_stop_time_entry", []), DEFAULT_WORKSPACE_ID=wid)
    stopped = json.loads(stop["response"]["functionResponse"]["responseBody"]["TEXT"]["body"])
    assert stopped["id"] == started["id"] and stopped["duration"] >= 0 and running(agents) == []


def test_agentcore_logs_an_entry_and_a_refusal_names_the_field(agents: AgentStack) -> None:
    wid = str(agents.workspace_id)
    logged = invoke(
        agents.connection,
        {"start": "2026-12-02T13:00:00+01:00", "duration": 7200, "description": "From AgentCore"},
        agentcore_context("toggl_create_time_entry"),
        DEFAULT_WORKSPACE_ID=wid,
    )
    assert logged["isError"] is False and logged["structuredContent"]["duration"] == 7200
    refused = invoke(
        agents.connection,
        {"start": "2026-12-02T13:00:00", "duration": 7200},
        agentcore_context("toggl_create_time_entry"),
        DEFAULT_WORKSPACE_ID=wid,
    )
    assert refused["isError"] is True and content_of(refused)["field"] == "start"
    assert "time zone" in content_of(refused)["message"]


def test_every_new_tool_keeps_to_the_allowed_workspaces(agents: AgentStack) -> None:
    agents.env["ALLOWED_WORKSPACE_IDS"] = "1"
    agents.env["AGENT_TOOLS_ALLOW_DELETE"] = "true"
    calls: dict[str, dict[str, Any]] = {
        "toggl_start_time_entry": {},
        "toggl_stop_time_entry": {"time_entry_id": 5},
        "toggl_create_time_entry": {"start": "2026-12-02T13:00:00Z", "duration": 60},
        "toggl_update_time_entry": {"time_entry_id": 5, "description": "x"},
        "toggl_delete_time_entry": {"time_entry_id": 5},
        "toggl_create_project": {"name": "Elsewhere"},
        "toggl_create_tag": {"name": "elsewhere"},
        "toggl_get_summary_report": {"start_date": "2026-11-01", "end_date": "2026-11-30"},
    }
    for tool, arguments in calls.items():
        result = agents.call(tool, arguments)
        assert result["isError"] is True and content_of(result)["error"] == "workspace_not_allowed", tool
    assert agents.toggl.requests == []


def test_a_start_whose_answer_is_lost_is_found_not_started_twice(agents: AgentStack) -> None:
    agents.toggl.fail(Fault(status=502, times=1, method="POST", after=True))
    result = agents.call("toggl_start_time_entry", {"description": "Lost over MCP", "idempotency_key": "lost-1"})
    assert result["isError"] is False and result["structuredContent"]["found_existing"] is True
    (timer,) = running(agents)
    assert timer["id"] == result["structuredContent"]["id"] and len(agents.seeded.world.time_entries) == 1


def test_the_summary_tool_answers_named_groups_and_the_total(agents: AgentStack) -> None:
    project = agents.seeded.project["id"]
    agents.call("toggl_create_time_entry", {"start": "2026-11-03T09:00:00Z", "duration": 3600, "project_id": project})
    result = agents.call("toggl_get_summary_report", {"start_date": "2026-11-01", "end_date": "2026-11-30"})
    answer = result["structuredContent"]
    assert answer["items"][0]["name"] == "Website" and answer["items"][0]["seconds"] == 3600
    assert answer["total_seconds"] == 3600 and answer["next_cursor"] is None
    refused = agents.call(
        "toggl_get_summary_report",
        {"start_date": "2026-11-01", "end_date": "2026-11-30", "grouping": "users", "sub_grouping": "users"},
    )
    assert refused["isError"] is True and content_of(refused)["field"] == "sub_grouping"


# --- real MCP clients ---------------------------------------------------------------------------------
async def _python_timer(agents: AgentStack, mode: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    http = httpx2.AsyncClient(auth=SigV4(agents.credentials), timeout=60)
    async with http, Client(streamable_http_client(agents.url, http_client=http), mode=mode) as client:
        start = await client.call_tool(
            "toggl_start_time_entry",
            {"description": f"From Python {mode}", "project_id": int(agents.seeded.project["id"])},
        )
        seen["start"] = (start.is_error, start.structured_content)
        stop = await client.call_tool("toggl_stop_time_entry", {})
        seen["stop"] = (stop.is_error, stop.structured_content)
    return seen


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_the_python_sdk_starts_and_stops_a_timer(agents: AgentStack, mode: str) -> None:
    seen = anyio.run(_python_timer, agents, mode)
    assert seen["start"][0] is False and seen["start"][1]["duration"] < 0
    assert seen["stop"][0] is False and seen["stop"][1]["id"] == seen["start"][1]["id"]
    assert seen["stop"][1]["duration"] >= 0 and running(agents) == []


def test_the_typescript_sdk_starts_and_stops_a_timer(agents: AgentStack) -> None:
    done = subprocess.run(
        [
            "node",
            "timer_client.mjs",
            agents.url,
            agents.credentials.access_key_id,
            agents.credentials.secret_access_key,
            agents.credentials.region,
            str(agents.seeded.project["id"]),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    annotations = {t["name"]: t["annotations"] for t in seen["tools"]}
    assert annotations["toggl_update_time_entry"]["destructiveHint"] is True
    assert annotations["toggl_start_time_entry"]["destructiveHint"] is False
    assert "toggl_delete_time_entry" not in annotations
    started = seen["start"]["structuredContent"]
    assert seen["start"]["isError"] is False and started["duration"] < 0
    assert seen["current"]["structuredContent"]["item"]["id"] == started["id"]
    assert (
        seen["stop"]["structuredContent"]["id"] == started["id"] and seen["stop"]["structuredContent"]["duration"] >= 0
    )
    again = seen["again"]["structuredContent"]
    assert seen["again"]["isError"] is False and again["stop"] == seen["stop"]["structuredContent"]["stop"]
    assert running(agents) == []


# --- what a model reads of a time entry -----------------------------------------------------------
def test_every_time_entry_an_agent_reads_says_whether_it_runs_and_for_how_long(agents: AgentStack) -> None:
    project = agents.seeded.project
    start = "2026-12-03T08:00:00Z"
    started = agents.call("toggl_start_time_entry", {"project_id": project["id"], "start": start})
    timer = started["structuredContent"]
    assert timer["running"] is True and timer["elapsed_seconds"] > 0 and timer["duration"] < 0
    current = agents.call("toggl_get_current_time_entry")["structuredContent"]["item"]
    assert current["running"] is True and abs(current["elapsed_seconds"] - timer["elapsed_seconds"]) < 60
    # with the project's and its client's names, as the list carries them
    assert current["project_name"] == "Website" and current["client_name"] == agents.seeded.client["name"]
    listed = agents.call("toggl_list_time_entries", {"since": 1})["structuredContent"]["items"]
    assert [e["running"] for e in listed if e["id"] == timer["id"]] == [True]
    stopped = agents.call("toggl_stop_time_entry")["structuredContent"]
    assert stopped["running"] is False and "elapsed_seconds" not in stopped
    one = agents.call("toggl_get_time_entry", {"time_entry_id": timer["id"]})["structuredContent"]["item"]
    assert one["running"] is False and one["duration"] >= 0


def test_the_running_entrys_names_cost_their_listings_once_in_a_while(agents: AgentStack) -> None:
    agents.call("toggl_start_time_entry", {"project_id": agents.seeded.project["id"]})
    before = len(agents.toggl.requests)
    agents.call("toggl_get_current_time_entry")
    first = len(agents.toggl.requests) - before
    before = len(agents.toggl.requests)
    agents.call("toggl_get_current_time_entry")
    assert first == 3 and len(agents.toggl.requests) - before == 1  # the names are kept
