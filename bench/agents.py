"""The agent tools function, warm, through its real handler with API Gateway events for
``POST /mcp``: the time of a ``tools/list`` and of one tool call, and the Toggl requests each
tool call makes on the happy path (a warm container: lookups cached) against the sandbox."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.toggl_requests import time_entry
from local.emulator import apigw, template
from local.emulator.lambda_runtime import LambdaContext
from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import Seeded, seed

# Happy-path arguments of each tool (the i-th call).
ARGUMENTS: dict[str, Callable[[int, Seeded], dict[str, Any]]] = {
    "toggl_create_client": lambda i, s: {"name": f"bench client {i}"},
    "toggl_create_user_invitation": lambda i, s: {"emails": [f"bench{i}@example.com"]},
    "toggl_add_project_member": lambda i, s: {"project_id": s.project["id"], "user_id": _new_member(s, i)},
    "toggl_create_task": lambda i, s: {"project_id": s.project["id"], "name": f"bench task {i}"},
    "toggl_get_detailed_report": lambda i, s: {"start_date": "2026-11-01", "end_date": "2026-11-30"},
    "toggl_stop_time_entry": lambda i, s: {"time_entry_id": time_entry(s, running=True)},
    "toggl_create_time_entry": lambda i, s: {"start": f"2026-12-0{i + 1}T13:00:00Z", "duration": 7200},
    "toggl_update_time_entry": lambda i, s: {"time_entry_id": time_entry(s), "description": f"bench {i}"},
    "toggl_delete_time_entry": lambda i, s: {"time_entry_id": time_entry(s)},
    "toggl_create_project": lambda i, s: {"name": f"bench project {i}"},
    "toggl_create_tag": lambda i, s: {"name": f"bench tag {i}"},
    "toggl_get_time_entry": lambda i, s: {"time_entry_id": time_entry(s)},
    "toggl_get_summary_report": lambda i, s: {"start_date": "2026-11-01", "end_date": "2026-11-30"},
}


def _no_arguments(i: int, seeded: Seeded) -> dict[str, Any]:
    return {}


def _new_member(seeded: Seeded, i: int) -> int:
    user = seeded.world.add_user(f"agent{i}@acme.example", f"Agent {i}", f"agent-user-{i}", [seeded.workspace["id"]])
    return int(user["id"])


def _event(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": 1, "method": method, **({"params": params} if params else {})}
    headers = {"Content-Type": "application/json", "MCP-Protocol-Version": "2025-11-25"}
    return apigw.proxy_event("POST", "/mcp", json.dumps(message), headers, caller_arn="arn:aws:iam::1:user/bench")


def _report_pages(handler: Any, sandbox: Sandbox, seeded: Seeded) -> tuple[int, int]:
    """Every page of a 260-row detailed report read at ``limit=50``: the Toggl requests that took,
    and the largest answer body (bytes) among those pages and a batch of long lists."""
    seeded.world.time_entries.clear()  # the report holds these 260 rows, no more
    for _ in range(260):
        time_entry(seeded)
    arguments: dict[str, Any] = {"start_date": "2026-12-01", "end_date": "2026-12-31", "limit": 50}
    before, largest = len(sandbox.requests), 0
    while True:
        answer = handler(
            _event("tools/call", {"name": "toggl_get_detailed_report", "arguments": arguments}),
            LambdaContext(function_name="McpFunction", timeout_seconds=30),
        )
        largest = max(largest, len(answer["body"].encode()))
        cursor = json.loads(answer["body"])["result"]["structuredContent"]["next_cursor"]
        if cursor is None:
            break
        arguments = {**arguments, "cursor": cursor}
    spent = len(sandbox.requests) - before
    for _ in range(60):  # clients with long notes, read ten times in one batch (2025-03-26: no header)
        ident = seeded.world.next_id()
        seeded.world.clients[ident] = {**seeded.client, "id": ident, "notes": "\u00e9" * 2000}
    read = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "toggl_list_clients", "arguments": {}}}
    batch = [{**read, "id": i} for i in range(10)]
    event = apigw.proxy_event("POST", "/mcp", json.dumps(batch), {"Content-Type": "application/json"})
    body = handler(event, LambdaContext(function_name="McpFunction", timeout_seconds=30))["body"]
    return spent, max(largest, len(body.encode()))


def _ms(handler: Any, event: dict[str, Any], n: int) -> float:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        handler(event, LambdaContext(function_name="McpFunction", timeout_seconds=30))
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1000, 2)


def measure(stack_names: dict[str, str], token: str) -> dict[str, Any]:
    from bench.warm import _load, quiet
    from toggl_connection.agents import tool_list

    seeded = seed(token=token, plan="premium")
    sandbox = Sandbox(seeded.world, quota_per_hour=10**6, user_quota_per_hour=10**6).start()
    per_tool: dict[str, int] = {}
    try:
        names = {**stack_names, "TogglApiUrl": sandbox.url, "DefaultWorkspaceId": str(seeded.workspace["id"])}
        fn = template.function("McpFunction")
        # Every tool is measured, the delete too (a stack that allows agents to delete).
        os.environ.update({**template.environment(fn, names), "AGENT_TOOLS_ALLOW_DELETE": "true"})
        handler = _load(fn)
        with quiet():
            before = len(sandbox.requests)
            list_ms = _ms(handler, _event("tools/list"), 200)
            list_requests = len(sandbox.requests) - before
            for tool in tool_list.all_tools():
                arguments = ARGUMENTS.get(tool.name, _no_arguments)
                for i in range(2):  # the second call: a warm container's
                    before = len(sandbox.requests)
                    answer = handler(
                        _event("tools/call", {"name": tool.name, "arguments": arguments(i, seeded)}),
                        LambdaContext(function_name="McpFunction", timeout_seconds=30),
                    )
                    assert '"isError":false' in answer["body"], (tool.name, answer["body"][:300])
                    per_tool[tool.name] = len(sandbox.requests) - before
            call_ms = _ms(handler, _event("tools/call", {"name": "toggl_list_projects", "arguments": {}}), 50)
            report_requests, largest = _report_pages(handler, sandbox, seeded)
    finally:
        sandbox.stop()
    return {
        "mcp_toggl_requests_260_row_report_at_limit_50": report_requests,
        "mcp_largest_answer_bytes": largest,
        "mcp_tools_list_warm_ms": list_ms,
        "mcp_tool_call_warm_ms": call_ms,
        "mcp_toggl_requests_tools_list": list_requests,
        "mcp_toggl_requests_per_tool_call_max": max(per_tool.values()),
        "mcp_toggl_requests_per_tool_call": per_tool,
    }
