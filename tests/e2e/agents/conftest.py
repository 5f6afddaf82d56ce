"""The agent tools against the local stack: the API on loopback with SigV4 on its IAM routes (as
``make run`` serves it), the real handlers, moto in-process, the Toggl sandbox. Every JSON-RPC
answer the tests read is checked against the MCP schema of its protocol version, with the wire
types the official SDK ships (``mcp_types``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from mcp_types import methods
from mcp_types.jsonrpc import JSONRPCError, JSONRPCResponse

from local.emulator.api_server import ApiServer
from local.emulator.sigv4 import LocalCredentials
from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import Seeded
from tests.connection import Connection

PROTOCOL_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
LATEST = "2025-11-25"


def valid_answer(method: str, version: str, answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` when it is a JSON-RPC response or error as MCP ``version`` defines them."""
    if "error" in answer:
        JSONRPCError.model_validate(answer)
    else:
        JSONRPCResponse.model_validate(answer)
        methods.validate_server_result(method, version, answer["result"])
    return answer


@dataclass
class AgentStack:
    api: str
    credentials: LocalCredentials
    connection: Connection
    toggl: Sandbox
    seeded: Seeded
    env: dict[str, str] = field(default_factory=dict)  # more environment for the functions, per test

    @property
    def url(self) -> str:
        return self.api + "/mcp"

    @property
    def workspace_id(self) -> int:
        return int(self.seeded.workspace["id"])

    def send(
        self, method: str, body: bytes = b"", headers: dict[str, str] | None = None, sign: bool = True
    ) -> requests.Response:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **(headers or {}),
        }
        if sign:
            headers = self.credentials.sign(method, self.url, body, headers)
        return requests.request(method, self.url, data=body, headers=headers, timeout=60)

    def post(self, message: Any, headers: dict[str, str] | None = None) -> requests.Response:
        return self.send("POST", json.dumps(message).encode(), headers)

    def rpc(self, method: str, params: dict[str, Any] | None = None, version: str = LATEST) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method}
        if params is not None:
            message["params"] = params
        response = self.post(message, {"MCP-Protocol-Version": version})
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        return valid_answer(method, version, response.json())

    def call(self, tool: str, arguments: dict[str, Any] | None = None, version: str = LATEST) -> dict[str, Any]:
        """A tools/call result, whose text block must hold the same JSON as structuredContent."""
        result: dict[str, Any] = self.rpc("tools/call", {"name": tool, "arguments": arguments or {}}, version)["result"]
        (block,) = result["content"]
        assert block["type"] == "text"
        if not result["isError"]:
            assert json.loads(block["text"]) == result["structuredContent"]
        return result


def content_of(result: dict[str, Any]) -> Any:
    return json.loads(result["content"][0]["text"])


@pytest.fixture
def agents(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> Iterator[AgentStack]:
    credentials = LocalCredentials("AKIDLOCALAGENTS", "local-agents-secret", "us-east-1")
    extra: dict[str, str] = {"DEFAULT_WORKSPACE_ID": str(seeded.workspace["id"])}

    def environment(fn: Any) -> dict[str, str]:
        return {**toggl_connection.environment(fn), **extra}

    server = ApiServer(environment, port=0, authenticate=credentials.verify, caller_arn=credentials.caller_arn)
    server.start()
    yield AgentStack(server.url, credentials, toggl_connection, toggl, seeded, extra)
    server.stop()
