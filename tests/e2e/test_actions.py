"""The four actions, invoked as SAM invokes them (handler and environment from template.yaml,
API Gateway events, moto for AWS), calling the Toggl sandbox over real HTTP on loopback."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from local.toggl_sandbox import Fault, Sandbox
from local.toggl_sandbox.state import Seeded
from tests.conftest import CANARY_TOKEN
from tests.connection import Connection, body_of


def workspace_id(seeded: Seeded) -> int:
    return int(seeded.workspace["id"])


def clients_named(seeded: Seeded, name: str) -> int:
    return sum(1 for c in seeded.world.clients.values() if c["name"] == name)


def only_call(toggl: Sandbox, method: str, prefix: str) -> Any:
    calls = toggl.calls(method, prefix)
    assert len(calls) == 1, [(c.method, c.path) for c in toggl.requests]
    return calls[0]


# --- each action, as documented --------------------------------------------------------------
def test_create_client_posts_toggls_fields_and_answers_201(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = workspace_id(seeded)
    response = toggl_connection.post_json(
        "/actions/create-client",
        {"workspace_id": wid, "name": "Initech", "notes": "via AWS", "external_reference": "crm-7"},
    )
    assert response["statusCode"] == 201, response
    client = body_of(response)
    assert client["name"] == "Initech" and client["wid"] == wid and isinstance(client["id"], int)
    call = only_call(toggl, "POST", f"/api/v9/workspaces/{wid}/clients")
    assert call.body == {"name": "Initech", "notes": "via AWS", "external_reference": "crm-7"}
    assert client["id"] in seeded.world.clients


def test_create_user_invitation_finds_the_organization_once_and_invites(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid, oid = workspace_id(seeded), seeded.organization["id"]
    first = toggl_connection.post_json(
        "/actions/create-user-invitation", {"workspace_id": wid, "emails": ["a@x.example"]}
    )
    second = toggl_connection.invoke(
        "CreateUserInvitationFunction",
        {"workspace_id": wid, "emails": ["b@x.example"], "admin": True},
        ALLOW_ADMIN_INVITATIONS="true",
    )
    assert first["statusCode"] == 201 and second["data"][0]["email"] == "b@x.example"
    assert body_of(first)["data"][0]["email"] == "a@x.example"
    assert len(toggl.calls("GET", f"/api/v9/workspaces/{wid}")) == 1  # organization cached per container
    posts = toggl.calls("POST", f"/api/v9/organizations/{oid}/invitations")
    assert [p.body for p in posts] == [
        {"emails": ["a@x.example"], "workspaces": [{"workspace_id": wid, "admin": False}]},
        {"emails": ["b@x.example"], "workspaces": [{"workspace_id": wid, "admin": True}]},
    ]
    assert seeded.world.emails_sent == ["a@x.example", "b@x.example"]


def test_add_project_member_and_again_answers_the_existing_membership(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid, pid, uid = workspace_id(seeded), seeded.project["id"], seeded.member["id"]
    request = {"workspace_id": wid, "project_id": pid, "user_id": uid}
    created = toggl_connection.post_json("/actions/add-project-member", request)
    again = toggl_connection.post_json("/actions/add-project-member", request)
    assert (created["statusCode"], again["statusCode"]) == (201, 200)
    assert body_of(again)["id"] == body_of(created)["id"]
    posts = toggl.calls("POST", f"/api/v9/workspaces/{wid}/project_users")
    assert [p.body for p in posts] == [{"project_id": pid, "user_id": uid, "manager": False}] * 2
    lookup = only_call(toggl, "GET", f"/api/v9/workspaces/{wid}/project_users")
    assert lookup.query == {"project_ids": [str(pid)], "user_id": [str(uid)]}
    assert sum(1 for m in seeded.world.project_users.values() if m["user_id"] == uid) == 1


def test_create_task_posts_to_the_project_and_answers_201(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid, pid, uid = workspace_id(seeded), seeded.project["id"], seeded.member["id"]
    response = toggl_connection.post_json(
        "/actions/create-task",
        {"workspace_id": wid, "project_id": pid, "name": "Design", "estimated_seconds": 3600, "user_id": uid},
    )
    assert response["statusCode"] == 201, response
    assert body_of(response)["project_id"] == pid
    call = only_call(toggl, "POST", f"/api/v9/workspaces/{wid}/projects/{pid}/tasks")
    assert call.body == {"name": "Design", "estimated_seconds": 3600, "user_id": uid}


# --- three ways to invoke -------------------------------------------------------------------
def test_direct_invocation_returns_the_created_object(toggl_connection: Connection, seeded: Seeded) -> None:
    result = toggl_connection.invoke("CreateClientFunction", {"workspace_id": workspace_id(seeded), "name": "Direct"})
    assert result["name"] == "Direct" and result["id"] in seeded.world.clients


def test_an_eventbridge_event_is_acted_on_once_even_if_redelivered(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    event = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Project Created",
        "source": "custom.crm",
        "account": "123456789012",
        "time": "2026-11-29T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"workspace_id": workspace_id(seeded), "name": "From a rule"},
    }
    first = toggl_connection.invoke("CreateClientFunction", event)
    second = toggl_connection.invoke("CreateClientFunction", event)
    assert first == second and first["name"] == "From a rule"
    assert len(toggl.calls("POST")) == 1


def test_direct_failures_raise_an_error_step_functions_can_match(toggl_connection: Connection, seeded: Seeded) -> None:
    from toggl_connection.core.errors import TogglInvalidRequest, ValidationFailed

    with pytest.raises(ValidationFailed, match="name"):
        toggl_connection.invoke("CreateClientFunction", {"workspace_id": workspace_id(seeded)})
    with pytest.raises(TogglInvalidRequest, match="Invalid project_id"):
        toggl_connection.invoke(
            "AddProjectMemberFunction", {"workspace_id": workspace_id(seeded), "project_id": 999, "user_id": 1}
        )


# --- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "document", "field"),
    [
        ("/actions/create-client", {"workspace_id": 1}, "name"),
        ("/actions/create-client", {"workspace_id": 1, "name": "  "}, "name"),
        ("/actions/create-client", {"workspace_id": "abc", "name": "x"}, "workspace_id"),
        ("/actions/create-client", {"workspace_id": 1, "name": "x", "colour": "red"}, "colour"),
        ("/actions/create-client", {"name": "x"}, "workspace_id"),
        ("/actions/create-user-invitation", {"workspace_id": 1, "emails": []}, "emails"),
        ("/actions/create-user-invitation", {"workspace_id": 1, "emails": "a@x.example"}, "emails"),
        ("/actions/create-user-invitation", {"workspace_id": 1, "emails": ["not-an-address"]}, "emails"),
        ("/actions/create-user-invitation", {"workspace_id": 1, "emails": ["a@x.example"], "admin": "yes"}, "admin"),
        ("/actions/add-project-member", {"workspace_id": 1, "project_id": 2}, "user_id"),
        ("/actions/add-project-member", {"workspace_id": 1, "project_id": 2, "user_id": 3, "rate": -1}, "rate"),
        ("/actions/create-task", {"workspace_id": 1, "project_id": True, "name": "x"}, "project_id"),
        (
            "/actions/create-task",
            {"workspace_id": 1, "project_id": 2, "name": "x", "estimated_seconds": -5},
            "estimated_seconds",
        ),
    ],
)
def test_invalid_input_is_a_422_naming_the_field_and_calls_nobody(
    toggl_connection: Connection, toggl: Sandbox, path: str, document: dict[str, Any], field: str
) -> None:
    response = toggl_connection.post_json(path, document)
    assert response["statusCode"] == 422, response
    assert body_of(response)["error"] == "validation_failed"
    assert body_of(response)["field"] == field and body_of(response)["message"].startswith(field)
    assert toggl.requests == []


def test_a_body_that_is_not_a_json_object_is_a_422(toggl_connection: Connection) -> None:
    for body in (b"[1]", b"{not json"):
        response = toggl_connection.post("/actions/create-client", body, {"Content-Type": "application/json"})
        assert response["statusCode"] == 422 and body_of(response)["field"] == "body"


def test_workspace_id_falls_back_to_default_workspace_id(toggl_connection: Connection, seeded: Seeded) -> None:
    result = toggl_connection.invoke(
        "CreateClientFunction", {"name": "Defaulted"}, DEFAULT_WORKSPACE_ID=str(workspace_id(seeded))
    )
    assert result["wid"] == workspace_id(seeded)


# --- Toggl's errors, answered in one place -------------------------------------------------
def test_toggl_400_is_a_400_with_toggls_message(toggl_connection: Connection, seeded: Seeded) -> None:
    response = toggl_connection.post_json(
        "/actions/add-project-member", {"workspace_id": workspace_id(seeded), "project_id": 424242, "user_id": 1}
    )
    assert response["statusCode"] == 400
    assert body_of(response)["error"] == "invalid_request"
    assert body_of(response)["message"] == "Invalid project_id"
    assert body_of(response)["toggl_request_id"]


def test_a_rejected_token_is_a_502_that_says_to_check_the_secret(toggl_connection: Connection, seeded: Seeded) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=toggl_connection.stack["TogglApiTokenSecret"], SecretString="not-a-real-token"
    )
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": workspace_id(seeded), "name": "x"})
    assert response["statusCode"] == 502
    assert body_of(response)["error"] == "token_rejected"
    assert "Personal API Token" in body_of(response)["message"]


def test_an_empty_token_secret_says_what_to_do(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=toggl_connection.stack["TogglApiTokenSecret"], SecretString='{"api_token": ""}'
    )
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": workspace_id(seeded), "name": "x"})
    assert response["statusCode"] == 500
    assert "put your Personal API Token" in body_of(response)["message"]
    assert toggl.requests == []


def test_an_unknown_project_for_a_task_is_toggls_400(toggl_connection: Connection, seeded: Seeded) -> None:
    response = toggl_connection.post_json(
        "/actions/create-task", {"workspace_id": workspace_id(seeded), "project_id": 77, "name": "x"}
    )
    assert response["statusCode"] == 400
    assert body_of(response)["message"] == "Project not found/accessible"


def test_a_paid_plan_feature_is_a_402_and_not_retried(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    seeded.workspace["premium"] = False
    response = toggl_connection.post_json(
        "/actions/create-task", {"workspace_id": workspace_id(seeded), "project_id": seeded.project["id"], "name": "x"}
    )
    assert response["statusCode"] == 402
    assert body_of(response)["error"] == "plan_required"
    assert len(toggl.calls("POST")) == 1


def test_an_exhausted_quota_is_a_429_with_retry_after_and_not_retried(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    toggl.quota_per_hour = 1
    wid = workspace_id(seeded)
    assert toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "a"})["statusCode"] == 201
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "b"})
    assert response["statusCode"] == 429
    assert body_of(response)["error"] == "quota_exhausted"
    retry_after = int(response["headers"]["Retry-After"])
    assert 3500 <= retry_after <= 3601 and body_of(response)["retry_after"] == retry_after
    assert len(toggl.calls("POST")) == 2


def test_an_unknown_workspace_is_reported_not_crashed(toggl_connection: Connection) -> None:
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": 1, "name": "x"})
    assert response["statusCode"] in (403, 404, 502)
    assert set(body_of(response)) >= {"error", "message"}


# --- retries that stop ---------------------------------------------------------------------
def test_a_5xx_on_a_create_is_looked_up_then_sent_again_and_creates_once(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    # Given Toggl answers the create with a 503 (before doing anything)
    toggl.fail(Fault(status=503, times=1, method="POST", path_prefix="/api/v9/workspaces"))
    # When the action creates a client
    response = toggl_connection.post_json(
        "/actions/create-client", {"workspace_id": workspace_id(seeded), "name": "Retry"}
    )
    # Then it looked for the client first, found none, sent the create again: one client
    assert response["statusCode"] == 201
    assert [(c.method, c.status) for c in toggl.requests] == [("POST", 503), ("GET", 200), ("POST", 200)]
    assert toggl.requests[1].query == {"name": ["Retry"], "status": ["both"]}
    assert clients_named(seeded, "Retry") == 1


def test_a_5xx_burst_that_does_not_recover_ends_in_outcome_unknown_and_is_bounded(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    toggl.fail(Fault(status=500, times=100, path_prefix="/api/v9/workspaces"))
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": workspace_id(seeded), "name": "x"})
    # The create may have happened and it could not be checked: said so, not sent again.
    assert response["statusCode"] == 502
    assert body_of(response)["error"] == "outcome_unknown"
    assert len(toggl.calls("POST")) == 1
    assert 1 <= len(toggl.calls("GET")) <= 4  # the look-up's retries are bounded too


def test_a_429_is_retried_after_retry_after(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    toggl.fail(Fault(status=429, times=1, retry_after="1", body="Too Many Requests"))
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": workspace_id(seeded), "name": "y"})
    assert response["statusCode"] == 201
    assert len(toggl.calls("POST")) == 2


def test_a_429_that_persists_is_a_429_with_retry_after(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    toggl.fail(Fault(status=429, times=100, retry_after="0", body="Too Many Requests"))
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": workspace_id(seeded), "name": "z"})
    assert response["statusCode"] == 429
    assert "Retry-After" in response["headers"]


def test_an_invitation_is_not_repeated_after_an_ambiguous_failure(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    toggl.fail(Fault(status=502, times=1, path_prefix="/api/v9/organizations"))
    request = {"workspace_id": workspace_id(seeded), "emails": ["c@x.example"]}
    response = toggl_connection.post_json("/actions/create-user-invitation", request, {"Idempotency-Key": "inv-1"})
    assert response["statusCode"] == 502 and body_of(response)["error"] == "outcome_unknown"
    assert len(toggl.calls("POST")) == 1
    again = toggl_connection.post_json("/actions/create-user-invitation", request, {"Idempotency-Key": "inv-1"})
    assert again["statusCode"] == 502 and len(toggl.calls("POST")) == 1


# --- safe to retry ---------------------------------------------------------------------------
def test_an_idempotency_key_returns_the_first_result_without_calling_toggl(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    request = {"workspace_id": workspace_id(seeded), "name": "Once"}
    first = toggl_connection.post_json("/actions/create-client", request, {"Idempotency-Key": "k-1"})
    second = toggl_connection.post_json("/actions/create-client", request, {"idempotency-key": "k-1"})
    assert (first["statusCode"], second["statusCode"]) == (201, 201)
    assert body_of(first) == body_of(second)
    assert second["headers"].get("Idempotent-Replayed") == "true"
    assert len(toggl.calls("POST")) == 1


def test_a_direct_idempotency_key_works_the_same(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    request = {"workspace_id": workspace_id(seeded), "name": "Direct once", "idempotency_key": "d-1"}
    assert toggl_connection.invoke("CreateClientFunction", dict(request)) == toggl_connection.invoke(
        "CreateClientFunction", dict(request)
    )
    assert len(toggl.calls("POST")) == 1


def test_reusing_a_key_for_another_request_is_refused(toggl_connection: Connection, seeded: Seeded) -> None:
    wid = workspace_id(seeded)
    toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "A"}, {"Idempotency-Key": "k-2"})
    response = toggl_connection.post_json(
        "/actions/create-client", {"workspace_id": wid, "name": "B"}, {"Idempotency-Key": "k-2"}
    )
    assert response["statusCode"] == 422 and body_of(response)["error"] == "idempotency_key_reused"


def test_a_retried_invitation_never_sends_a_second_email(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    request = {"workspace_id": workspace_id(seeded), "emails": ["new@x.example"]}
    first = toggl_connection.post_json("/actions/create-user-invitation", request)
    retry = toggl_connection.post_json("/actions/create-user-invitation", request)  # no key: same content
    assert (first["statusCode"], retry["statusCode"]) == (201, 201)
    assert retry["headers"].get("Idempotent-Replayed") == "true"
    assert [i["invitation_id"] for i in body_of(retry)["data"]] == [i["invitation_id"] for i in body_of(first)["data"]]
    assert seeded.world.emails_sent == ["new@x.example"]


def test_without_a_key_two_clients_are_two_requests(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = workspace_id(seeded)
    toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "One"})
    toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "Two"})
    assert len(toggl.calls("POST")) == 2


# --- secrecy ---------------------------------------------------------------------------------
def test_the_token_never_appears_in_logs_answers_or_errors(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    wid = workspace_id(seeded)
    answers = [
        toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "Secretive"}),
        toggl_connection.post_json("/actions/create-user-invitation", {"workspace_id": wid, "emails": ["s@x.example"]}),
        toggl_connection.post_json("/actions/create-task", {"workspace_id": wid, "project_id": 1, "name": "t"}),
    ]
    toggl.fail(Fault(status=500, times=10))
    answers.append(toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "Boom"}))
    out = capsys.readouterr().out
    assert '"toggl call"' in out  # the calls are logged...
    assert CANARY_TOKEN not in out  # ...without the token
    assert "workspace-api-token-never-leaves" not in json.dumps(answers)
    for answer in answers:
        assert CANARY_TOKEN not in json.dumps(answer)


def test_every_toggl_call_names_the_connection_in_its_user_agent(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = workspace_id(seeded)
    toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "UA"})
    toggl_connection.post_json("/actions/create-user-invitation", {"workspace_id": wid, "emails": ["ua@x.example"]})
    assert toggl.requests and all(r.user_agent.startswith("toggl-track-connection/") for r in toggl.requests)


def test_the_template_composition_feeds_add_project_member_from_a_project_created_event(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    from local.emulator import template
    from local.toggl_sandbox import deliveries

    # Given a Project Created event as the webhook function publishes it
    wid, member = workspace_id(seeded), seeded.member["id"]
    project = {"id": seeded.project["id"], "name": "Website", "workspace_id": wid}
    document = deliveries.envelope("project", "created", project, 991, project["id"], workspace_id=wid)
    assert toggl_connection.deliver("/webhooks/project-created", document)["statusCode"] == 200
    (bus_event,) = toggl_connection.bus_events()
    # When the template's rule transforms it for its target, as EventBridge does
    target = template.load()["Resources"]["AutoAddProjectMemberRule"]["Properties"]["Targets"][0]
    transformer = target["InputTransformer"]
    text = template.resolve(transformer["InputTemplate"], {"AutoAddProjectMemberUserId": str(member)})
    for name, path in transformer["InputPathsMap"].items():
        value: Any = bus_event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", str(value))
    # Then the action adds the member, and a redelivery of that event adds nobody twice
    first = toggl_connection.invoke("AddProjectMemberFunction", json.loads(text))
    second = toggl_connection.invoke("AddProjectMemberFunction", json.loads(text))
    assert first == second and first["user_id"] == member and first["project_id"] == project["id"]
    assert len(toggl.calls("POST", f"/api/v9/workspaces/{wid}/project_users")) == 1


# The order a person would send them in: a timer started before it is stopped, an entry changed
# before it is deleted.
LAST = ("action-stop-time-entry.json", "action-update-time-entry.json", "action-delete-time-entry.json")


def test_the_checked_in_action_events_work_against_the_sandbox(toggl_connection: Connection, seeded: Seeded) -> None:
    from local.emulator.template import ROOT
    from local.generators.sample_events import TIME_ENTRY_ID

    # The time entry the samples change and delete: the one the webhook samples describe
    seeded.world.add_time_entry(
        seeded.workspace["id"], seeded.owner["id"], "2026-12-02T09:00:00Z", 3600, TIME_ENTRY_ID, description="test"
    )
    paths = sorted(
        (ROOT / "events").glob("action-*.json"), key=lambda p: (LAST.index(p.name) if p.name in LAST else -1, p.name)
    )
    for path in paths:
        event = json.loads(path.read_text())
        response = toggl_connection.request(event)
        assert response["statusCode"] in (200, 201), (path.name, response)
