"""Tool calls over MCP, through the local API with SigV4, against the Toggl sandbox: the same
validation, guards, safe creates, idempotency and quota handling as the HTTP routes, answers
shaped for a model (concise, resumable, bounded) and errors that say what to do next."""

from __future__ import annotations

import json

import pytest
import requests

from local.toggl_sandbox import Fault
from tests.conftest import CANARY_TOKEN
from tests.e2e.agents.conftest import AgentStack, content_of


def toggl_requests(agents: AgentStack) -> int:
    return len(agents.toggl.requests)


def test_a_read_is_one_toggl_request_and_its_text_is_its_structured_content(agents: AgentStack) -> None:
    before = toggl_requests(agents)
    result = agents.call("toggl_list_projects", {"workspace_id": agents.workspace_id})
    assert toggl_requests(agents) == before + 1
    answer = result["structuredContent"]
    assert answer["items"][0]["name"] == "Website" and answer["count"] == len(answer["items"])
    assert answer["truncated"] is False and answer["next_cursor"] is None and answer["toggl_requests"] == 1


def test_a_write_is_one_toggl_request_and_answers_the_object_created(agents: AgentStack) -> None:
    before = toggl_requests(agents)
    result = agents.call("toggl_create_client", {"name": "Initech", "notes": "from an agent"})
    assert toggl_requests(agents) == before + 1
    client = result["structuredContent"]
    assert client["name"] == "Initech" and client["wid"] == agents.workspace_id  # DefaultWorkspaceId stood in
    assert client["id"] in agents.seeded.world.clients


def test_lists_are_concise_and_resumable_with_next_cursor(agents: AgentStack) -> None:
    for number in range(4):
        agents.call("toggl_create_client", {"name": f"Client {number}"})
    seen: list[str] = []
    arguments: dict[str, object] = {"status": "both", "limit": 2}
    while True:
        answer = agents.call("toggl_list_clients", arguments)["structuredContent"]
        assert answer["count"] == len(answer["items"]) <= 2
        seen += [c["name"] for c in answer["items"]]
        if not answer["truncated"]:
            assert answer["next_cursor"] is None
            break
        arguments = {**arguments, "cursor": answer["next_cursor"]}
    assert len(seen) == len(set(seen)) == len(agents.seeded.world.clients)


def test_a_cursor_belongs_to_its_own_call(agents: AgentStack) -> None:
    for number in range(3):
        agents.call("toggl_create_client", {"name": f"Client {number}"})
    cursor = agents.call("toggl_list_clients", {"limit": 1})["structuredContent"]["next_cursor"]
    other = content_of(agents.call("toggl_list_clients", {"limit": 1, "status": "archived", "cursor": cursor}))
    assert other["error"] == "validation_failed" and other["field"] == "cursor"
    forged = content_of(agents.call("toggl_list_clients", {"cursor": "not-a-cursor"}))
    assert forged["field"] == "cursor" and "without cursor" in forged["message"]


def test_time_entries_carry_project_and_client_names(agents: AgentStack) -> None:
    # Given a time entry on a project of a client, tracked in Toggl's app
    project = agents.seeded.project
    requests.post(
        f"{agents.toggl.url}/api/v9/workspaces/{agents.workspace_id}/time_entries",
        json={
            "description": "Design",
            "duration": 600,
            "start": "2026-11-02T09:00:00+00:00",
            "stop": "2026-11-02T09:10:00+00:00",
            "project_id": project["id"],
        },
        auth=(CANARY_TOKEN, "api_token"),
        timeout=30,
    ).raise_for_status()
    entries = agents.call("toggl_list_time_entries", {"start_date": "2026-11-01", "end_date": "2026-11-30"})
    (entry,) = entries["structuredContent"]["items"]
    client = agents.seeded.world.clients[project["client_id"]]
    assert (entry["project_name"], entry["client_name"]) == (project["name"], client["name"])


def test_an_answer_never_passes_100000_characters(agents: AgentStack) -> None:
    for number in range(40):
        agents.call("toggl_create_client", {"name": f"Long {number}", "notes": "n" * 3000})
    answer = agents.call("toggl_list_clients", {"limit": 500})
    assert len(answer["content"][0]["text"]) <= 100_000
    first = answer["structuredContent"]
    assert first["truncated"] is True and 0 < first["count"] < 40 and first["next_cursor"]
    rest = agents.call("toggl_list_clients", {"limit": 500, "cursor": first["next_cursor"]})["structuredContent"]
    names = [c["name"] for c in first["items"] + rest["items"]]
    assert len(names) == len(set(names)) == len(agents.seeded.world.clients)


# --- errors: results the model can act on ----------------------------------------------------------
def test_invalid_arguments_are_an_error_result_naming_the_field(agents: AgentStack) -> None:
    before = toggl_requests(agents)
    result = agents.call("toggl_create_task", {"project_id": agents.seeded.project["id"]})
    error = content_of(result)
    assert result["isError"] is True and "structuredContent" not in result
    assert (error["error"], error["field"], error["status"]) == ("validation_failed", "name", 422)
    assert "call again" in error["message"]
    bad = content_of(agents.call("toggl_list_projects", {"sort_order": "UP"}))
    assert bad["field"] == "sort_order" and "ASC, DESC" in bad["message"]
    unknown = content_of(agents.call("toggl_list_tags", {"colour": "red"}))
    assert unknown["field"] == "colour" and "search" in unknown["message"]
    assert toggl_requests(agents) == before


def test_a_workspace_outside_allowed_workspace_ids_is_refused_before_toggl(agents: AgentStack) -> None:
    agents.env["ALLOWED_WORKSPACE_IDS"] = str(agents.workspace_id)
    before = toggl_requests(agents)
    error = content_of(agents.call("toggl_create_client", {"workspace_id": 999, "name": "Elsewhere"}))
    assert (error["error"], error["status"]) == ("workspace_not_allowed", 403)
    assert "toggl_list_workspaces" in error["message"]
    assert content_of(agents.call("toggl_list_tags", {"workspace_id": 999}))["error"] == "workspace_not_allowed"
    assert toggl_requests(agents) == before


def test_admin_invitations_are_refused_unless_the_stack_allows_them(agents: AgentStack) -> None:
    error = content_of(agents.call("toggl_create_user_invitation", {"emails": ["a@x.example"], "admin": True}))
    assert (error["error"], error["status"]) == ("admin_invitation_not_allowed", 403)
    agents.env["ALLOW_ADMIN_INVITATIONS"] = "true"
    result = agents.call("toggl_create_user_invitation", {"emails": ["a@x.example"], "admin": True})
    assert result["isError"] is False


def test_a_spent_quota_says_when_to_retry(agents: AgentStack) -> None:
    agents.call("toggl_list_tags", {})
    agents.toggl.quota_per_hour = 1  # the one request above spent it
    error = content_of(agents.call("toggl_list_tags", {}))
    assert (error["error"], error["status"]) == ("quota_exhausted", 429)
    assert isinstance(error["retry_after_seconds"], int) and error["retry_after_seconds"] > 0
    assert "retry_after_seconds" in error["message"]


# --- safe to retry -------------------------------------------------------------------------------------
def test_a_lost_answer_during_create_task_creates_one_task(agents: AgentStack) -> None:
    agents.toggl.fail(Fault(status=0, drop=True, times=1, method="POST", after=True))
    result = agents.call("toggl_create_task", {"project_id": agents.seeded.project["id"], "name": "Exactly once"})
    task = result["structuredContent"]
    assert result["isError"] is False and task["found_existing"] is True
    assert sum(1 for t in agents.seeded.world.tasks.values() if t["name"] == "Exactly once") == 1


def test_a_retry_with_the_same_idempotency_key_does_not_act_again(agents: AgentStack) -> None:
    arguments = {"name": "Once only", "idempotency_key": "agent-retry-1"}
    first = agents.call("toggl_create_client", arguments)["structuredContent"]
    posts = len(agents.toggl.calls("POST", f"/api/v9/workspaces/{agents.workspace_id}/clients"))
    again = agents.call("toggl_create_client", arguments)["structuredContent"]
    assert again["id"] == first["id"]
    assert len(agents.toggl.calls("POST", f"/api/v9/workspaces/{agents.workspace_id}/clients")) == posts


# --- read-only mode and the logs -------------------------------------------------------------------
def test_read_only_mode_neither_lists_nor_runs_the_writes(agents: AgentStack) -> None:
    agents.env["AGENT_TOOLS_READ_ONLY"] = "true"
    names = [t["name"] for t in agents.rpc("tools/list", {})["result"]["tools"]]
    assert len(names) == 15 and not any(
        n.startswith(("toggl_create", "toggl_add", "toggl_st", "toggl_up")) for n in names
    )
    answer = agents.rpc("tools/call", {"name": "toggl_create_client", "arguments": {"name": "No"}})
    assert answer["error"]["code"] == -32602
    assert not any(c["name"] == "No" for c in agents.seeded.world.clients.values())
    assert agents.call("toggl_list_workspaces")["isError"] is False


def test_every_log_line_of_a_tool_call_names_the_caller_and_the_tool(
    agents: AgentStack, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    agents.call("toggl_create_client", {"name": "Logged"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"level"')]
    assert lines, "no log line"
    for line in lines:
        assert line["caller"] == agents.credentials.caller_arn and line["tool"] == "toggl_create_client"
