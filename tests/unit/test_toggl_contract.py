"""The contract table of Toggl's documented API: that its checks catch what they must, that the
connection relies only on documented fields, and that docs/toggl-api.md carries it."""

from __future__ import annotations

from typing import Any

import pytest

from local.generators import docs_table
from local.toggl_sandbox import documented
from local.toggl_sandbox.documented import answer_problems, request_problems

WS = "/api/v9/workspaces/7435584"


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", WS + "/tasks", {"pid": ["1"], "active": ["both"], "page": ["1"], "per_page": ["200"]}, None),
        ("POST", WS + "/clients", {}, {"name": "Initech", "notes": "n", "external_reference": "crm-7"}),
        (
            "POST",
            "/api/v9/organizations/7000001/invitations",
            {},
            {"emails": ["a@x.example"], "workspaces": [{"workspace_id": 7435584, "admin": False}]},
        ),
        (
            "POST",
            "/webhooks/api/v1/subscriptions/7435584",
            {},
            {
                "url_callback": "https://x/webhooks",
                "event_filters": [{"entity": "project", "action": "*"}],
                "enabled": True,
                "description": "s: all events",
                "secret": "s",
            },
        ),
        (
            "POST",
            "/reports/api/v3/workspace/7435584/search/time_entries",
            {},
            {"start_date": "2026-11-01", "end_date": "2026-11-30", "page_size": 50, "first_id": 3},
        ),
        ("GET", "/webhooks/api/v1/validate/7435584/10713/abc", {}, None),
    ],
)
def test_documented_requests_pass(method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
    assert request_problems(method, path, query, body) == []


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "problem"),
    [
        ("GET", WS + "/tasks", {"user_id": ["5"]}, None, "query parameter 'user_id' is not documented"),
        ("GET", WS + "/everything", {}, None, "not a documented endpoint"),
        ("DELETE", WS + "/clients", {}, None, "not a documented endpoint"),
        ("POST", WS + "/clients", {}, {"name": "x", "colour": "red"}, "body field 'colour' is not documented"),
        (
            "POST",
            "/api/v9/organizations/1/invitations",
            {},
            {"emails": ["a@x.example"], "workspaces": [{"workspace_id": 1, "owner": True}]},
            "field workspaces[].'owner' is not documented",
        ),
        (
            "POST",
            "/reports/api/v3/workspace/1/search/time_entries",
            {},
            {"start_date": "2026-11-01T00:00:00Z"},
            "is not a date (YYYY-MM-DD)",
        ),
        ("GET", "/api/v9/workspaces/١٢/clients", {}, None, "is not a whole number"),
        ("GET", "/webhooks/api/v1/event_filters", {}, {"x": 1}, "sends a body"),
    ],
)
def test_what_the_documents_do_not_describe_is_caught(
    method: str, path: str, query: dict[str, list[str]], body: Any, problem: str
) -> None:
    problems = request_problems(method, path, query, body)
    assert problems and any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("method", "path", "status", "payload", "problem"),
    [
        ("GET", "/api/v9/me/organizations", 200, [{"id": 1, "plan": "free"}], "field 'plan' is not documented"),
        ("GET", WS + "/users", 200, [{"id": 1, "api_token": "t"}], "field 'api_token' is not documented"),
        (
            "POST",
            "/api/v9/organizations/1/invitations",
            200,
            {"data": [{"email": "a@x", "workspaces": [{"workspace_id": 1, "admin": False}]}]},
            "field data.workspaces[].'admin' is not documented",
        ),
        ("GET", "/webhooks/api/v1/validate/1/2/c", 404, "Invalid validation code", "status not documented"),
        ("POST", WS + "/clients", 400, "Client with this name already exists", "is not one the documents give"),
        ("GET", WS + "/tasks", 200, [{"id": 1}], "documented as an object"),
    ],
)
def test_answers_the_documents_do_not_describe_are_caught(
    method: str, path: str, status: int, payload: Any, problem: str
) -> None:
    problems = answer_problems(method, path, status, payload)
    assert any(problem in p for p in problems), problems


def test_documented_answers_and_the_undocumented_statuses_pass() -> None:
    assert answer_problems("POST", WS + "/clients", 400, "Client name maximum length is 100") == []
    assert (
        answer_problems(
            "GET",
            "/webhooks/api/v1/validate/1/2/c",
            400,
            "subscription 2 for workspace 1 and validation code 'c' was not found",
        )
        == []
    )
    for status in (401, 402, 429, 500, 503):  # left out of every document: the sandbox's plays
        assert answer_problems("POST", WS + "/clients", status, "anything") == []


def test_the_connection_relies_only_on_documented_answer_fields() -> None:
    for endpoint in documented.ENDPOINTS:
        if endpoint.answer.fields:
            assert endpoint.relies_on <= endpoint.answer.fields, (endpoint.method, endpoint.path)


def test_docs_carry_the_current_contract_table() -> None:
    text = docs_table.TOGGL_API.read_text()
    assert documented.document_with_table(text) == text, "docs/toggl-api.md is stale: run make docs"
    for endpoint in documented.ENDPOINTS:
        assert f"| {endpoint.method} | `{endpoint.path}` |" in text
