"""What a greedy batch or a confused model can send the agent tools, on every surface (MCP over
the local API with SigV4, a Bedrock Agents action group, an AgentCore Gateway target, the HTTP
action routes): batches and protocol versions, answers measured as they are sent, numbers that
are not finite, arguments shaped like events, and what a model reads back."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from mcp_types.jsonrpc import JSONRPCError

from local.toggl_sandbox import Fault, Sandbox
from local.toggl_sandbox.state import Seeded
from tests.connection import Connection, body_of
from tests.e2e.agents.conftest import LATEST, AgentStack, content_of, valid_answer
from tests.e2e.agents.test_agent_events import agentcore_context, bedrock_event, invoke
from toggl_connection.core import aws_clients

MAX_BODY_BYTES = 1_000_000
MAX_TEXT_CHARS = 100_000


def ping(request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "ping"}


def tool_call(request_id: int, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments or {}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def version(value: str) -> dict[str, str]:
    return {"MCP-Protocol-Version": value}


def unknown_outcomes(connection: Connection) -> list[str]:
    """The ids of the records of requests whose outcome stayed unknown."""
    items = aws_clients.client("dynamodb").scan(TableName=connection.stack["IdempotencyTable"]).get("Items", [])
    return [item["id"]["S"] for item in items if "#unknown:" in item["id"]["S"]]


def client_named(seeded: Seeded, name: str) -> bool:
    return any(c["name"] == name for c in seeded.world.clients.values())


# --- B. batches and the protocol version --------------------------------------------------------
@pytest.mark.parametrize("protocol", ["2025-06-18", "2025-11-25"])
def test_a_batch_is_refused_with_one_invalid_request_from_2025_06_18(agents: AgentStack, protocol: str) -> None:
    before = len(agents.toggl.requests)
    response = agents.post([ping(1), tool_call(2, "toggl_list_tags")], version(protocol))
    assert response.status_code == 200
    answer = valid_answer("ping", protocol, response.json())  # one error object, not a list of answers
    assert answer["id"] is None and answer["error"]["code"] == -32600
    assert "batch" in answer["error"]["message"] and len(agents.toggl.requests) == before


@pytest.mark.parametrize("headers", [{}, version("2025-03-26")], ids=["no header", "2025-03-26"])
def test_a_2025_03_26_batch_of_ten_is_served_and_a_longer_one_refused_whole(
    agents: AgentStack, headers: dict[str, str]
) -> None:
    ten = agents.post([ping(n) for n in range(10)], headers)
    assert ten.status_code == 200 and [a["id"] for a in ten.json()] == list(range(10))
    before = len(agents.toggl.requests)
    eleven = agents.post([tool_call(n, "toggl_list_tags") for n in range(11)], headers)
    assert eleven.status_code == 200
    answer = valid_answer("ping", "2025-03-26", eleven.json())
    assert answer["id"] is None and answer["error"]["code"] == -32600 and "10" in answer["error"]["message"]
    assert len(agents.toggl.requests) == before  # none of the eleven ran


@pytest.mark.parametrize("protocol", ["2024-11-05", "2026-07-28", "latest"])
def test_a_request_naming_a_version_the_server_does_not_support_is_400(agents: AgentStack, protocol: str) -> None:
    for message in ({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, ping(4), tool_call(5, "toggl_list_tags")):
        response = agents.post(message, version(protocol))
        assert response.status_code == 400, (protocol, message)
        JSONRPCError.model_validate(response.json())
        assert protocol in response.json()["error"]["message"]
    # server/discover says so too, as "method not found" (modern clients fall back to initialize)
    discover = agents.post({"jsonrpc": "2.0", "id": 6, "method": "server/discover"}, version(protocol))
    assert discover.status_code == 400 and discover.json()["error"]["code"] == -32601
    # initialize is how a client learns the versions: it still negotiates
    initialize = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "initialize",
        "params": {"protocolVersion": protocol, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    answer = agents.post(initialize, version(protocol))
    assert answer.status_code == 200 and answer.json()["result"]["protocolVersion"] == LATEST


# --- C. sizes measured on what is sent ----------------------------------------------------------
# Each character here grows when it is escaped: non-ASCII as \uXXXX (an emoji twice), a quote and a
# backslash once in structuredContent and twice in the text block, a control character as \u0001.
GROWING = '😀é"\\\x01'


def many_clients(seeded: Seeded, count: int, notes: str) -> list[int]:
    ids = []
    for number in range(count):
        ident = seeded.world.next_id()
        seeded.world.clients[ident] = {
            **seeded.client,
            "id": ident,
            "name": f"Escaped {number:03d}",
            "notes": notes,
            "at": "2026-11-02T09:00:00+00:00",
        }
        ids.append(ident)
    return ids


def read_all(agents: AgentStack, arguments: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list tool, page after page; and the largest HTTP body among the pages."""
    items: list[dict[str, Any]] = []
    largest = 0
    while True:
        response = agents.post(tool_call(1, "toggl_list_clients", arguments), version(LATEST))
        largest = max(largest, len(response.content))
        result = response.json()["result"]
        assert result["isError"] is False, result
        (block,) = result["content"]
        assert len(json.dumps(block["text"])) <= MAX_TEXT_CHARS  # the text block as it is sent
        assert json.loads(block["text"]) == result["structuredContent"]
        page = result["structuredContent"]
        items += page["items"]
        if not page["truncated"]:
            return items, largest
        assert page["next_cursor"] and page["count"] == len(page["items"])
        arguments = {**arguments, "cursor": page["next_cursor"]}


def test_an_answer_is_measured_as_it_is_sent_and_cut_at_an_item_boundary(
    agents: AgentStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given sixty clients whose notes grow when escaped
    ids = many_clients(agents.seeded, 60, GROWING * 400)
    # When a model lists them all, as many as it may at once
    items, largest = read_all(agents, {"status": "both", "limit": 500})
    with capsys.disabled():
        print(f"\nlargest MCP answer body for 60 escaped clients: {largest} bytes")
    # Then no body passes 1,000,000 bytes, and every client came once, whole
    assert largest <= MAX_BODY_BYTES
    assert set(ids) <= {c["id"] for c in items} and len(items) == len({c["id"] for c in items})
    assert all(c["notes"] == GROWING * 400 for c in items if c["id"] in ids)


def test_an_item_too_large_for_any_answer_comes_back_omitted_in_its_place(agents: AgentStack) -> None:
    (small,) = many_clients(agents.seeded, 1, "short")
    (huge,) = many_clients(agents.seeded, 1, "x" * 150_000)
    (after,) = many_clients(agents.seeded, 1, "short too")
    items, _ = read_all(agents, {"status": "both", "limit": 500})
    by_id = {c["id"]: c for c in items}
    assert set(by_id) >= {small, huge, after}
    stub = by_id[huge]
    assert stub["omitted"] is True and stub["name"] == "Escaped 000" and stub["reason"].endswith(".")
    assert set(stub) == {"id", "name", "omitted", "reason"}
    assert by_id[after]["notes"] == "short too"


def test_a_batch_whose_answers_pass_a_megabyte_loses_no_answer(agents: AgentStack) -> None:
    # Given clients enough that one list answer is as large as an answer may be
    many_clients(agents.seeded, 60, GROWING * 400)
    # When a 2025-03-26 client sends eight such reads and a write in one batch
    batch = [tool_call(n, "toggl_list_clients", {"status": "both", "limit": 500}) for n in range(8)]
    batch.append(tool_call(8, "toggl_create_client", {"name": "Written in a batch"}))
    response = agents.post(batch)
    # Then the body holds at most 1,000,000 bytes, and an answer for each request, in order
    assert response.status_code == 200 and len(response.content) <= MAX_BODY_BYTES
    answers = response.json()
    assert [a["id"] for a in answers] == list(range(9))
    for answer in answers:
        valid_answer("tools/call", "2025-03-26", answer)
    # each read answered whole-or-cut (a cursor reads on), or refused saying to send fewer at once
    refused = [a for a in answers if "error" in a]
    assert refused, "nine answers this large cannot all fit"
    for answer in refused:
        assert answer["error"]["code"] == -32000 and "fewer" in answer["error"]["message"]
    for answer in answers:
        if "result" in answer and answer["id"] < 8:
            page = answer["result"]["structuredContent"]
            assert page["truncated"] is True and page["next_cursor"]
    # and a write left unanswered was not carried out
    write = answers[8]
    assert ("result" in write) == client_named(agents.seeded, "Written in a batch")


# --- D. numbers are finite, on every surface ----------------------------------------------------
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


@pytest.mark.parametrize("token", NON_FINITE)
def test_a_non_finite_number_in_an_action_route_is_a_422_and_never_reaches_toggl(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, token: str
) -> None:
    wid, pid, uid = seeded.workspace["id"], seeded.project["id"], seeded.member["id"]
    body = f'{{"workspace_id": {wid}, "project_id": {pid}, "user_id": {uid}, "rate": {token}}}'.encode()
    response = toggl_connection.post("/actions/add-project-member", body, {"Content-Type": "application/json"})
    assert response["statusCode"] == 422, response
    assert (body_of(response)["error"], body_of(response)["field"]) == ("validation_failed", "rate")
    assert toggl.requests == [] and unknown_outcomes(toggl_connection) == []


@pytest.mark.parametrize("token", NON_FINITE)
def test_a_non_finite_number_in_mcp_arguments_is_a_validation_failure(agents: AgentStack, token: str) -> None:
    pid, uid = agents.seeded.project["id"], agents.seeded.member["id"]
    body = (
        '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "toggl_add_project_member", '
        f'"arguments": {{"project_id": {pid}, "user_id": {uid}, "labor_cost": {token}}}}}}}'
    ).encode()
    response = agents.send("POST", body, {"MCP-Protocol-Version": LATEST})
    assert response.status_code == 200, response.text
    result = valid_answer("tools/call", LATEST, response.json())["result"]
    error = content_of(result)
    assert result["isError"] is True and (error["error"], error["field"]) == ("validation_failed", "labor_cost")
    assert agents.toggl.requests == [] and unknown_outcomes(agents.connection) == []


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_a_non_finite_bedrock_number_is_a_failure_naming_the_parameter(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, value: str
) -> None:
    parameters = [
        {"name": "workspace_id", "type": "integer", "value": str(seeded.workspace["id"])},
        {"name": "project_id", "type": "integer", "value": str(seeded.project["id"])},
        {"name": "user_id", "type": "integer", "value": str(seeded.member["id"])},
        {"name": "rate", "type": "number", "value": value},
    ]
    answer = invoke(toggl_connection, bedrock_event("toggl_add_project_member", parameters))
    response = answer["response"]["functionResponse"]
    assert response["responseState"] == "FAILURE"
    body = json.loads(response["responseBody"]["TEXT"]["body"])
    assert (body["error"], body["field"]) == ("validation_failed", "rate")
    assert toggl.requests == [] and unknown_outcomes(toggl_connection) == []


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_agentcore_argument_is_a_validation_failure(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, number: float
) -> None:
    arguments = {"project_id": seeded.project["id"], "user_id": seeded.member["id"], "rate": number}
    answer = invoke(
        toggl_connection,
        arguments,
        agentcore_context("toggl_add_project_member"),
        DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"]),
    )
    assert answer["isError"] is True and json.loads(answer["content"][0]["text"])["field"] == "rate"
    assert toggl.requests == [] and unknown_outcomes(toggl_connection) == []


# --- E. tool arguments are arguments -----------------------------------------------------------
INNER_HTTP = {"httpMethod": "POST", "requestContext": {}, "body": json.dumps({"name": "ViaInnerHttp"})}
INNER_EVENTBRIDGE = {"detail-type": "Create", "source": "evil", "detail": {"name": "ViaEventBridge"}}


@pytest.mark.parametrize("arguments", [INNER_HTTP, INNER_EVENTBRIDGE], ids=["http", "eventbridge"])
def test_mcp_arguments_shaped_like_an_event_are_arguments(agents: AgentStack, arguments: dict[str, Any]) -> None:
    result = agents.call("toggl_create_client", arguments)
    error = content_of(result)
    assert result["isError"] is True and error["error"] == "validation_failed"
    assert error["field"] in arguments and "unknown" in error["message"]
    assert not client_named(agents.seeded, "ViaInnerHttp") and not client_named(agents.seeded, "ViaEventBridge")
    assert agents.toggl.requests == []


def test_agentcore_arguments_shaped_like_an_http_event_are_arguments(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    inner = tool_call(1, "toggl_create_client", {"name": "ViaInnerHttp"})
    event = {"httpMethod": "POST", "requestContext": {}, "path": "/mcp", "body": json.dumps(inner)}
    answer = invoke(
        toggl_connection,
        event,
        agentcore_context("toggl_create_client"),
        DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"]),
    )
    assert answer["isError"] is True and json.loads(answer["content"][0]["text"])["error"] == "validation_failed"
    assert not client_named(seeded, "ViaInnerHttp") and toggl.requests == []


@pytest.mark.parametrize(
    "parameters",
    [
        5,
        {"name": "name", "value": "Bad"},
        "name=Bad",
        [{"value": "Bad"}],
        [{"name": 5, "value": "Bad"}],
        [{"name": None, "value": "Bad"}],
        ["name"],
        [{"name": "name", "value": "Bad"}, {"name": "name", "value": "Twice"}],
    ],
    ids=["number", "object", "string", "no name", "number name", "null name", "not objects", "twice"],
)
def test_bedrock_parameters_that_are_not_named_objects_are_a_validation_failure(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, parameters: Any
) -> None:
    event = {**bedrock_event("toggl_create_client", []), "parameters": parameters}
    answer = invoke(toggl_connection, event, DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"]))
    response = answer["response"]["functionResponse"]
    assert response["responseState"] == "FAILURE"
    body = json.loads(response["responseBody"]["TEXT"]["body"])
    assert body["error"] == "validation_failed" and body["field"].startswith("parameters")
    assert body["message"].endswith(".")
    assert toggl.requests == [] and not client_named(seeded, "Bad")


def test_bedrock_parameters_shaped_like_an_eventbridge_event_are_arguments(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    parameters = [
        {"name": "detail-type", "type": "string", "value": "Create"},
        {"name": "source", "type": "string", "value": "evil"},
        {"name": "detail", "type": "string", "value": json.dumps({"name": "ViaEventBridge"})},
    ]
    answer = invoke(
        toggl_connection,
        bedrock_event("toggl_create_client", parameters),
        DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"]),
    )
    response = answer["response"]["functionResponse"]
    body = json.loads(response["responseBody"]["TEXT"]["body"])
    assert response["responseState"] == "FAILURE" and body["error"] == "validation_failed"
    assert "unknown" in body["message"] and toggl.requests == []


# --- F. what a model reads ----------------------------------------------------------------------
def test_a_replayed_write_says_so(agents: AgentStack) -> None:
    arguments = {"name": "Replayed Ltd", "idempotency_key": "replay-1"}
    first = agents.call("toggl_create_client", arguments)["structuredContent"]
    again = agents.call("toggl_create_client", arguments)["structuredContent"]
    assert "replayed" not in first
    assert again["replayed"] is True and again["id"] == first["id"]


def _keys(document: Any) -> set[str]:
    found: set[str] = set()
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found |= set(item)
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return found


def test_a_tool_answer_never_carries_an_invitations_join_link_but_the_route_does(
    agents: AgentStack, toggl_connection: Connection
) -> None:
    result = agents.call("toggl_create_user_invitation", {"emails": ["ana@example.com"]})
    assert result["isError"] is False
    answer = result["structuredContent"]
    assert not {"invite_url", "code"} & _keys(answer)
    (invitation,) = agents.seeded.world.invitations.values()
    text = result["content"][0]["text"]
    assert invitation["invite_url"] not in text and '"code"' not in text and "ana@example.com" in text
    # the HTTP route still answers its IAM caller with Toggl's answer
    route = toggl_connection.post_json(
        "/actions/create-user-invitation",
        {"workspace_id": agents.workspace_id, "emails": ["bo@example.com"]},
    )
    assert route["statusCode"] == 201 and "invite_url" in _keys(body_of(route))


def _sentences(message: str) -> bool:
    return message.endswith(".") and ": must" not in message and ": is " not in message and ". ." not in message


def test_validation_messages_are_whole_sentences_naming_the_field(
    agents: AgentStack, toggl_connection: Connection
) -> None:
    for tool, arguments, field in [
        ("toggl_create_task", {"project_id": agents.seeded.project["id"]}, "name"),
        ("toggl_create_client", {"name": "x", "colour": "red"}, "colour"),
        ("toggl_create_user_invitation", {"emails": ["not-an-address"]}, "emails"),
        ("toggl_list_clients", {"limit": 0}, "limit"),
        ("toggl_list_clients", {"cursor": "forged"}, "cursor"),
    ]:
        error = content_of(agents.call(tool, arguments))
        assert error["field"] == field and _sentences(error["message"]), error
        first, _, hint = error["message"].partition(". ")
        assert first.startswith(field) and hint, error["message"]
    route = body_of(toggl_connection.post_json("/actions/create-client", {"workspace_id": 1}))
    assert route["field"] == "name" and route["message"] == "name is required."


OUTCOME_UNKNOWN = {
    "toggl_create_client": ({"name": "Lost Ltd"}, "toggl_list_clients"),
    "toggl_create_task": ({"name": "Lost task"}, "toggl_list_tasks"),
    "toggl_add_project_member": ({}, "toggl_list_project_members"),
}


@pytest.mark.parametrize("tool", OUTCOME_UNKNOWN)
def test_an_unknown_outcome_names_the_tool_that_shows_whether_it_exists(agents: AgentStack, tool: str) -> None:
    arguments, lookup = OUTCOME_UNKNOWN[tool]
    if tool != "toggl_create_client":
        arguments = {**arguments, "project_id": agents.seeded.project["id"]}
    if tool == "toggl_add_project_member":
        arguments = {**arguments, "user_id": agents.seeded.member["id"]}
    agents.toggl.fail(Fault(status=0, drop=True, times=1, method="POST", after=True))
    agents.toggl.fail(Fault(status=503, times=20, method="GET"))
    error = content_of(agents.call(tool, arguments))
    assert error["error"] == "outcome_unknown" and lookup in error["message"], error
    assert _sentences(error["message"])


def test_an_invitation_with_an_unknown_outcome_names_the_page_that_shows_it(agents: AgentStack) -> None:
    agents.toggl.fail(Fault(status=502, times=1, method="POST", after=True))
    error = content_of(agents.call("toggl_create_user_invitation", {"emails": ["lost@example.com"]}))
    assert error["error"] == "outcome_unknown" and "Members" in error["message"], error
    assert _sentences(error["message"])


def test_a_write_still_in_flight_says_when_to_retry(agents: AgentStack) -> None:
    arguments = {"name": "Slow Ltd", "idempotency_key": "in-flight-1"}
    agents.toggl.fail(Fault(status=0, delay=3.0, times=1, method="POST"))
    first: list[dict[str, Any]] = []
    writer = threading.Thread(target=lambda: first.append(agents.call("toggl_create_client", arguments)))
    writer.start()
    time.sleep(1.0)
    error = content_of(agents.call("toggl_create_client", arguments))
    writer.join()
    assert isinstance(error.get("retry_after_seconds"), int) and error["retry_after_seconds"] > 0, error
    assert "retry_after_seconds" in error["message"] and _sentences(error["message"])
    assert first[0]["isError"] is False
    assert sum(1 for c in agents.seeded.world.clients.values() if c["name"] == "Slow Ltd") == 1
