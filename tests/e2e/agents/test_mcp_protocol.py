"""The MCP server on ``/mcp`` as a client meets it over HTTP, through the local API with SigV4:
Streamable HTTP with JSON answers, stateless, the JSON-RPC error classes, version negotiation.
Every answer is checked against the MCP schema of its protocol version (see conftest)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.agents.conftest import LATEST, PROTOCOL_VERSIONS, AgentStack, valid_answer

INITIALIZE = {"capabilities": {}, "clientInfo": {"name": "tests", "version": "1.0.0"}}


@pytest.mark.parametrize("version", PROTOCOL_VERSIONS)
def test_initialize_answers_the_clients_version_when_supported(agents: AgentStack, version: str) -> None:
    result = agents.rpc("initialize", {**INITIALIZE, "protocolVersion": version}, version)["result"]
    assert result["protocolVersion"] == version
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["serverInfo"]["name"] == "toggl-track-connection"
    assert "toggl_list_workspaces" in result["instructions"]


def test_initialize_offers_the_newest_version_for_one_it_does_not_know(agents: AgentStack) -> None:
    result = agents.rpc("initialize", {**INITIALIZE, "protocolVersion": "2024-11-05"})["result"]
    assert result["protocolVersion"] == LATEST


def test_stateless_no_session_is_given_and_a_clients_session_id_is_ignored(agents: AgentStack) -> None:
    first = agents.post(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {**INITIALIZE, "protocolVersion": LATEST}}
    )
    assert first.status_code == 200 and "mcp-session-id" not in {k.lower() for k in first.headers}
    later = agents.post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, {"Mcp-Session-Id": "made-up-by-client"})
    assert later.status_code == 200 and len(later.json()["result"]["tools"]) == 25


@pytest.mark.parametrize("version", PROTOCOL_VERSIONS)
def test_ping_and_tools_list_are_valid_in_every_version(agents: AgentStack, version: str) -> None:
    assert agents.rpc("ping", None, version)["result"] == {}
    tools = agents.rpc("tools/list", {}, version)["result"]["tools"]
    assert [t["name"] for t in tools][:2] == ["toggl_create_client", "toggl_create_user_invitation"]


def test_notifications_and_client_responses_get_202_and_no_body(agents: AgentStack) -> None:
    for message in (
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}},
        {"jsonrpc": "2.0", "id": 9, "result": {}},
        {"jsonrpc": "2.0", "id": 9, "error": {"code": -32000, "message": "client side"}},
    ):
        response = agents.post(message)
        assert (response.status_code, response.content) == (202, b""), message


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_answer_405(agents: AgentStack, method: str) -> None:
    response = agents.send(method)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


def test_a_body_that_is_not_json_is_400_with_a_parse_error_and_a_null_id(agents: AgentStack) -> None:
    response = agents.send("POST", b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert response.status_code == 400
    answer = valid_answer("ping", LATEST, response.json())
    assert answer["id"] is None and answer["error"]["code"] == -32700


def test_a_body_nested_deeper_than_any_parser_goes_is_a_parse_error_too(agents: AgentStack) -> None:
    response = agents.send(
        "POST",
        b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}}",
    )
    assert response.status_code == 400
    answer = valid_answer("ping", LATEST, response.json())
    assert answer["id"] is None and answer["error"]["code"] == -32700


@pytest.mark.parametrize(
    "message",
    [
        [],
        "ping",
        42,
        {"id": 1, "method": "ping"},
        {"jsonrpc": "1.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": True, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]},
        {"jsonrpc": "2.0", "id": 1},
    ],
)
def test_json_that_is_not_a_json_rpc_request_is_invalid_request_on_200(agents: AgentStack, message: object) -> None:
    response = agents.post(message)
    assert response.status_code == 200
    answers = response.json()
    for answer in answers if isinstance(answers, list) else [answers]:
        assert valid_answer("ping", LATEST, answer)["error"]["code"] == -32600


def test_unknown_methods_and_server_discover_are_method_not_found(agents: AgentStack) -> None:
    for method in ("resources/list", "prompts/list", "server/discover", "no/such"):
        answer = agents.rpc(method, {})
        assert answer["error"]["code"] == -32601 and answer["id"] == 7, method


def test_an_unknown_tool_is_invalid_params(agents: AgentStack) -> None:
    answer = agents.rpc("tools/call", {"name": "toggl_delete_everything", "arguments": {}})
    assert answer["error"]["code"] == -32602 and "toggl_list_workspaces" in answer["error"]["message"]
    answer = agents.rpc("tools/call", {"name": "toggl_list_tags", "arguments": [1]})
    assert answer["error"]["code"] == -32602


def test_a_batch_is_answered_request_by_request(agents: AgentStack) -> None:
    response = agents.post(
        [
            {"jsonrpc": "2.0", "id": "a", "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": "b", "method": "nope"},
        ]
    )
    assert [(a["id"], "result" in a) for a in response.json()] == [("a", True), ("b", False)]


def test_an_unsigned_request_never_reaches_the_function(agents: AgentStack) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
    response = agents.send("POST", body, sign=False)
    assert response.status_code == 403 and response.json() == {"message": "Missing Authentication Token"}


def test_tools_list_spends_no_toggl_request(agents: AgentStack) -> None:
    before = len(agents.toggl.requests)
    agents.rpc("tools/list", {})
    agents.rpc("initialize", {**INITIALIZE, "protocolVersion": LATEST})
    assert len(agents.toggl.requests) == before
