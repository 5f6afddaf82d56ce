"""``make agent-demo`` (with ``make run`` running): what an AI agent's session with the connection
looks like over MCP, request by request: it discovers the tools, reads, writes, and is refused a
write the stack does not allow. Requests are SigV4-signed with the local key pair, as an MCP
client behind ``mcp-proxy-for-aws`` signs them for a deployed stack."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import requests

from local.sigv4 import LocalCredentials
from local.template import ROOT


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
        result: dict[str, Any] = self.rpc("tools/call", {"name": tool, "arguments": arguments})["result"]
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
        agent.call("toggl_create_user_invitation", {"emails": ["new.admin@example.com"], "admin": True}),
    ]


def main() -> int:
    path = Path(os.environ.get("TOGGL_LOCAL_DIR", str(ROOT / ".local"))) / "stack.json"
    if not path.exists():
        print("No local stack is running: start it with make run (in another terminal).", file=sys.stderr)
        return 1
    state = json.loads(path.read_text())
    credentials = LocalCredentials(state["access_key_id"], state["secret_access_key"], state["region"])
    results = session(state["api"], credentials, int(state["project_id"]), sys.stdout)
    refused = json.loads(results[-1]["content"][0]["text"])
    print(f"\nThe last write was refused ({refused['error']}): the stack's AllowAdminInvitations is false.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
