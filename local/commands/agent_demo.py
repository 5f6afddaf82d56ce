"""``make agent-demo`` (with ``make run`` running): what an AI agent's session with the connection
looks like over MCP, request by request: it discovers the tools, reads, writes, and is refused a
write the stack does not allow; asked to track time, it starts and stops a timer, logs, fixes and
deletes an entry and reads the last seven days' summary; the events it caused are shown from the bus.
Requests are SigV4-signed with the local key pair, as an MCP client behind ``mcp-proxy-for-aws``
signs them for a deployed stack."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import requests

from local.emulator.sigv4 import LocalCredentials
from local.emulator.template import ROOT

UNKNOWN_TOOL = -32602  # JSON-RPC's "invalid params": MCP's answer to a tool it does not offer


class Session:
    def __init__(self, api: str, credentials: LocalCredentials, out: TextIO) -> None:
        self.url = api.rstrip("/") + "/mcp"
        self.credentials = credentials
        self.out = out
        self.next_id = 0

    def rpc(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        }
        signed = self.credentials.sign("POST", self.url, body, headers)
        answer: dict[str, Any] = requests.post(self.url, data=body, headers=signed, timeout=60).json()
        return answer

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        print(f"\n-> tools/call {tool} {json.dumps(arguments)}", file=self.out)
        answer = self.rpc("tools/call", {"name": tool, "arguments": arguments})
        if "error" in answer:  # a tool this stack does not offer is a JSON-RPC error, not a result
            code = "unknown_tool" if answer["error"]["code"] == UNKNOWN_TOOL else "rpc_error"
            failure = {"error": code, "message": answer["error"]["message"]}
            answer = {"result": {"isError": True, "content": [{"type": "text", "text": json.dumps(failure)}]}}
        result: dict[str, Any] = answer["result"]
        text = result["content"][0]["text"]
        label = "<- ERROR" if result["isError"] else "<-"
        print(f"{label} {text if len(text) < 400 else text[:400] + ' ...'}", file=self.out)
        return result


def session(api: str, credentials: LocalCredentials, project_id: int, out: TextIO) -> list[dict[str, Any]]:
    """The demo session; the tool results it got, in order."""
    agent = Session(api, credentials, out)
    hello = agent.rpc(
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "agent-demo", "version": "1.0"}},
    )["result"]
    print(f"connected: {hello['serverInfo']['name']}, protocol {hello['protocolVersion']}", file=out)
    tools = agent.rpc("tools/list")["result"]["tools"]
    print(f"{len(tools)} tools:", file=out)
    for tool in tools:
        kind = "read " if tool["annotations"]["readOnlyHint"] else "WRITE"
        print(f"  {kind} {tool['name']:<32} {tool['title']}", file=out)
    return [
        agent.call("toggl_list_workspaces", {}),
        agent.call("toggl_list_projects", {"active": "true", "limit": 5}),
        agent.call(
            "toggl_create_task",
            {"project_id": project_id, "name": "Agent demo: review the brief", "idempotency_key": "agent-demo-task"},
        ),
        *track_time(agent, project_id, out),
        agent.call("toggl_create_user_invitation", {"emails": ["new.admin@example.com"], "admin": True}),
    ]


def track_time(agent: Session, project_id: int, out: TextIO) -> list[dict[str, Any]]:
    """What an agent asked to track time does: start a timer, stop it, log two hours, fix the
    description, delete the entry (a tool offered only where the stack allows agents to delete),
    and read the last seven days' hours per project."""
    print("\n-- tracking time --", file=out)
    started = agent.call("toggl_start_time_entry", {"description": "Write the report", "project_id": project_id})
    stopped = agent.call("toggl_stop_time_entry", {})
    three_hours_ago = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    logged = agent.call(
        "toggl_create_time_entry",
        {"start": three_hours_ago, "duration": 7200, "description": "Design review", "project_id": project_id},
    )
    entry_id = logged.get("structuredContent", {}).get("id")
    fixed = agent.call("toggl_update_time_entry", {"time_entry_id": entry_id, "description": "Design review with Ana"})
    deleted = agent.call("toggl_delete_time_entry", {"time_entry_id": entry_id})
    today = datetime.now(UTC).date()
    # Seven days (both ends count): the entry logged three hours ago is in them at any hour
    week = {"start_date": str(today - timedelta(days=6)), "end_date": str(today)}
    summary = agent.call("toggl_get_summary_report", week)
    return [started, stopped, logged, fixed, deleted, summary]


def main() -> int:
    path = Path(os.environ.get("TOGGL_LOCAL_DIR", str(ROOT / ".local"))) / "stack.json"
    if not path.exists():
        print("No local stack is running: start it with make run (in another terminal).", file=sys.stderr)
        return 1
    state = json.loads(path.read_text())
    credentials = LocalCredentials(state["access_key_id"], state["secret_access_key"], state["region"])
    offset = Path(state["events"]).stat().st_size
    results = session(state["api"], credentials, int(state["project_id"]), sys.stdout)
    deleted = results[-3]
    if deleted["isError"]:
        # The stack does not let agents delete (AgentToolsAllowDelete): its operator can, over IAM.
        entry_id = results[-5]["structuredContent"]["id"]
        print(
            "\ntoggl_delete_time_entry is not offered to agents here (AgentToolsAllowDelete is false); the "
            f"operator deletes entry {entry_id} over the IAM-signed route instead:",
            file=sys.stdout,
        )
        body = json.dumps({"time_entry_id": entry_id}).encode()
        url = state["api"] + "/actions/delete-time-entry"
        answer = requests.post(
            url,
            data=body,
            headers=credentials.sign("POST", url, body, {"Content-Type": "application/json"}),
            timeout=60,
        )
        print(f"  POST /actions/delete-time-entry -> {answer.status_code} {answer.text}")
    refused = json.loads(results[-1]["content"][0]["text"])
    print(f"\nThe last write was refused ({refused['error']}): the stack's AllowAdminInvitations is false.")
    print("\nThe events the session caused on the bus:")
    for event in _events_since(state["events"], offset):
        d = event["detail"]
        print(f"  {event['detail-type']:<20} entity_id={d['entity_id']:<10} origin={d['origin']}")
    return 0


def _events_since(path: str, offset: int, wait: float = 10.0) -> list[dict[str, Any]]:
    """The bus events make run wrote since ``offset``, once the webhooks had a moment to arrive."""
    import time

    deadline = time.monotonic() + wait
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        with open(path) as found:
            found.seek(offset)
            events = [json.loads(line) for line in found if line.strip()]
        if sum(e["detail-type"].startswith("Time Entry") for e in events) >= 5:
            break
        time.sleep(0.5)
    return events


if __name__ == "__main__":
    sys.exit(main())
