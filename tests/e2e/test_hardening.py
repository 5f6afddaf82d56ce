"""What a caller inside the account can and cannot do: forge the custom resource's event, share a
stack name across accounts, invite admins, reach other workspaces, slip digits of other scripts
past the parsers. Real HTTP to the Toggl sandbox and to CloudFormation's answer URL."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from local.emulator.api_server import ApiServer
from local.toggl_sandbox import Sandbox, deliveries
from local.toggl_sandbox import webhooks as sandbox_webhooks
from local.toggl_sandbox.state import Seeded
from tests.cloudformation import SIGNATURE
from tests.conftest import CANARY_TOKEN
from tests.connection import Connection, body_of
from tests.e2e.test_queries import add_entries
from tests.e2e.test_validation_url import Recorder
from tests.servers import Hooked
from toggl_connection.core.errors import ValidationFailed
from toggl_connection.toggl.client import TogglClient
from toggl_connection.upkeep.subscription_sync import Subscriptions


def subscriptions(hooked: Hooked) -> list[dict[str, Any]]:
    return sorted(sandbox_webhooks.state(hooked.toggl).subscriptions.values(), key=lambda s: s["subscription_id"])


# --- the custom resource believes only its own environment -----------------------------------------
def test_a_forged_create_cannot_choose_the_callback_url_or_the_name(hooked: Hooked, cloudformation: Any) -> None:
    hooked.seeded.organization["plan"] = "free"
    event = cloudformation.request(
        "Create",
        hooked.connection.stack["AWS::StackId"],
        WebhookBaseUrl="https://attacker.example/hook",
        Name="attacker",
    )
    hooked.connection.invoke(
        "SubscriptionSetupFunction",
        event,
        WEBHOOK_BASE_URL=hooked.api,
        DEFAULT_WORKSPACE_ID=str(hooked.seeded.workspace["id"]),
    )
    assert cloudformation.answers[-1]["Status"] == "SUCCESS"
    (sub,) = subscriptions(hooked)
    assert sub["url_callback"] == hooked.api + "/webhooks"
    assert sub["description"].startswith("toggl-local (123456789012/us-east-1): ")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/response",  # plain http, any host
        "https://127.0.0.1:{port}/response",
        "https://attacker.example/response",
        "https://s3.amazonaws.com.attacker.example/response",
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/response",
        "https://attackers-bucket.s3.amazonaws.com/response",  # any S3 bucket
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod/response",  # anyone's API
        "https://cloudformation-custom-resource-response-useast1.attacker.example/x.amazonaws.com",
        "not a url",
    ],
)
def test_an_answer_url_that_is_not_cloudformations_gets_nothing_and_nothing_is_done(
    hooked: Hooked, cloudformation: Any, url: str
) -> None:
    listener = Recorder(200).start()
    try:
        event = cloudformation.request(
            "Delete",
            hooked.connection.stack["AWS::StackId"],
            "x",
            response_url=url.format(port=listener.httpd.server_address[1]),
        )
        result = hooked.connection.invoke("SubscriptionSetupFunction", event, WEBHOOK_BASE_URL=hooked.api)
    finally:
        listener.stop()
    assert result["Status"] == "FAILED"
    assert listener.seen == [] and cloudformation.answers == []
    assert hooked.toggl.requests == []  # and nothing was done in Toggl


def test_an_event_of_another_stack_is_refused(hooked: Hooked, cloudformation: Any) -> None:
    event = cloudformation.request("Delete", "arn:aws:cloudformation:us-east-1:999999999999:stack/other/1", "x")
    result = hooked.connection.invoke("SubscriptionSetupFunction", event, WEBHOOK_BASE_URL=hooked.api)
    assert result["Status"] == "FAILED" and cloudformation.answers == [] and hooked.toggl.requests == []


def test_the_answer_url_never_reaches_a_log(
    hooked: Hooked, cloudformation: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation.stop()  # CloudFormation cannot be reached: the PUT fails, with the URL in the error
    event = cloudformation.request("Delete", hooked.connection.stack["AWS::StackId"], "x")
    hooked.connection.invoke("SubscriptionSetupFunction", event, WEBHOOK_BASE_URL=hooked.api)
    out = capsys.readouterr()
    assert "could not answer CloudFormation" in out.out
    assert SIGNATURE not in out.out + out.err and "cloudformation-custom-resource-response" not in out.out


# --- two stacks of the same name in one workspace ----------------------------------------------------
def test_two_stacks_of_the_same_name_never_touch_each_others_subscriptions(hooked: Hooked) -> None:
    hooked.seeded.organization["plan"] = "premium"
    other_api = ApiServer(hooked.connection.environment, port=0).start()
    try:
        wid = hooked.seeded.workspace["id"]

        def stack(owner: str) -> Subscriptions:
            toggl = TogglClient(hooked.toggl.url, CANARY_TOKEN)
            return Subscriptions(toggl, wid, owner, legacy_name="toggl-connection")

        dev, prod = (
            stack("toggl-connection (111111111111/eu-west-1)"),
            stack("toggl-connection (222222222222/us-east-1)"),
        )
        # Given a subscription marked the old way (the stack's name alone), pointing at dev's API
        legacy = {
            "url_callback": hooked.api + "/webhooks",
            "event_filters": [{"entity": "project", "action": "*"}],
            "enabled": True,
            "description": "toggl-connection: all events",
            "secret": deliveries.TEST_SECRET,
        }
        hooked.toggl_call("POST", f"/webhooks/api/v1/subscriptions/{wid}", legacy)
        # When prod syncs first, it leaves dev's alone and makes its own
        first_prod = prod.sync(other_api.url, deliveries.TEST_SECRET)
        assert first_prod.created == ["toggl-connection (222222222222/us-east-1): all events"]
        assert not first_prod.updated and not first_prod.deleted
        # And dev adopts its own once: renamed in place, same subscription
        first_dev = dev.sync(hooked.api, deliveries.TEST_SECRET)
        assert first_dev.updated == ["toggl-connection (111111111111/eu-west-1): all events"] and not first_dev.created
        # And from then on neither sync changes anything
        assert not dev.sync(hooked.api, deliveries.TEST_SECRET).changed
        assert not prod.sync(other_api.url, deliveries.TEST_SECRET).changed
        by_owner = {s["url_callback"]: s["description"] for s in subscriptions(hooked)}
        assert by_owner == {
            hooked.api + "/webhooks": "toggl-connection (111111111111/eu-west-1): all events",
            other_api.url + "/webhooks": "toggl-connection (222222222222/us-east-1): all events",
        }
        # And one stack's health check and deletion leave the other's alone
        (prod_sub,) = [s for s in subscriptions(hooked) if s["url_callback"].startswith(other_api.url)]
        prod_sub["enabled"] = False
        _, problems = dev.check(hooked.api)
        assert problems == [] or all("toggl-connection (111111111111" in p for p in problems)
        assert dev.delete(hooked.api) and prod_sub in subscriptions(hooked)
        assert [s["url_callback"] for s in subscriptions(hooked)] == [other_api.url + "/webhooks"]
    finally:
        other_api.stop()


# --- callers' limits -------------------------------------------------------------------------------
def test_an_admin_invitation_is_refused_before_toggl_is_called(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    request = {"workspace_id": seeded.workspace["id"], "emails": ["boss@x.example"], "admin": True}
    response = toggl_connection.post_json("/actions/create-user-invitation", request)
    assert response["statusCode"] == 403 and body_of(response)["error"] == "admin_invitation_not_allowed"
    assert toggl.requests == [] and seeded.world.emails_sent == []
    allowed = toggl_connection.invoke("CreateUserInvitationFunction", request, ALLOW_ADMIN_INVITATIONS="true")
    assert allowed["data"][0]["email"] == "boss@x.example"


def test_a_workspace_outside_the_allowed_ones_is_refused_before_toggl_is_called(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    for function, event in (
        ("CreateClientFunction", {"workspace_id": wid, "name": "Elsewhere"}),
        ("CreateTaskFunction", {"workspace_id": wid, "project_id": seeded.project["id"], "name": "t"}),
        ("QueryFunction", {"query": "projects", "params": {"workspace_id": wid}}),
        ("QueryFunction", {"query": "me", "params": {"with_related_data": True}}),
    ):
        from toggl_connection.core.errors import WorkspaceNotAllowed

        with pytest.raises(WorkspaceNotAllowed):
            toggl_connection.invoke(function, event, ALLOWED_WORKSPACE_IDS="1,2")
    assert toggl.requests == []
    # Lists that span workspaces keep only the allowed ones
    workspaces = toggl_connection.invoke(
        "QueryFunction", {"query": "workspaces", "params": {}}, ALLOWED_WORKSPACE_IDS="1,2"
    )
    assert workspaces["items"] == [] and len(toggl.requests) == 1
    mine = toggl_connection.invoke(
        "QueryFunction", {"query": "workspaces", "params": {}}, ALLOWED_WORKSPACE_IDS=f"1,{wid}"
    )
    assert [w["id"] for w in mine["items"]] == [wid]
    add_entries(seeded, 2, running=True)
    for query, params in (("time-entries", {"since": 1}), ("current-time-entry", {})):
        kept = toggl_connection.invoke(
            "QueryFunction", {"query": query, "params": params}, ALLOWED_WORKSPACE_IDS=f"1,{wid}"
        )
        hidden = toggl_connection.invoke("QueryFunction", {"query": query, "params": params}, ALLOWED_WORKSPACE_IDS="1")
        if query == "time-entries":
            assert kept["count"] == 2 and hidden["count"] == 0
        else:
            assert kept["item"] is not None and hidden["item"] is None


def test_every_action_and_query_log_line_names_the_caller(
    toggl_connection: Connection, seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    from local.emulator import apigw

    arn = "arn:aws:iam::123456789012:role/crm-sync"
    body = json.dumps({"workspace_id": seeded.workspace["id"], "name": "Logged"})
    toggl_connection.request(apigw.proxy_event("POST", "/actions/create-client", body, {}, caller_arn=arn))
    toggl_connection.invoke("QueryFunction", {"query": "clients", "params": {"workspace_id": seeded.workspace["id"]}})
    rule = {
        "version": "0",
        "id": "e-1",
        "detail-type": "X",
        "source": "custom.crm",
        "account": "1",
        "time": "t",
        "region": "us-east-1",
        "resources": [],
        "detail": {"workspace_id": seeded.workspace["id"], "name": "R"},
    }
    toggl_connection.invoke("CreateClientFunction", rule)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"level"')]
    by_function: dict[str, set[str]] = {}
    for line in lines:
        by_function.setdefault(line["function_name"], set()).add(line.get("caller", "MISSING"))
    assert by_function["CreateClientFunction"] == {arn, "eventbridge:custom.crm"}
    assert by_function["QueryFunction"] == {"direct"}


@pytest.mark.parametrize("value", ["²", "١٢", "１２", "12.0", "-3", "0x10", " "])  # noqa: RUF001 - on purpose
def test_numbers_are_ascii_digits_only(toggl_connection: Connection, toggl: Sandbox, value: str) -> None:
    action = toggl_connection.post_json("/actions/create-client", {"workspace_id": value, "name": "x"})
    assert action["statusCode"] == 422 and body_of(action)["field"] == "workspace_id"
    query = toggl_connection.get("/queries/projects", f"workspace_id={value}")
    assert query["statusCode"] == 422 and body_of(query)["field"] == "workspace_id"
    assert toggl.requests == []


def test_an_invitations_link_is_answered_once_and_never_kept(toggl_connection: Connection, seeded: Seeded) -> None:
    request = {"workspace_id": seeded.workspace["id"], "emails": ["kept@x.example"]}
    first = toggl_connection.post_json("/actions/create-user-invitation", request, {"Idempotency-Key": "inv-k"})
    assert body_of(first)["data"][0]["invite_url"].startswith("https://")
    again = toggl_connection.post_json("/actions/create-user-invitation", request, {"Idempotency-Key": "inv-k"})
    assert again["headers"].get("Idempotent-Replayed") == "true" and "invite_url" not in again["body"]
    table = toggl_connection.stack["IdempotencyTable"]
    stored = json.dumps(boto3.client("dynamodb").scan(TableName=table)["Items"])
    assert "kept@x.example" in stored  # the record is there ...
    assert "invite_url" not in stored and "/invite/" not in stored  # ... without the link or its code


# --- input that no parser may choke on -------------------------------------------------------------
@pytest.mark.parametrize("character", ["\ud800", "\x00"], ids=["lone surrogate", "NUL"])
def test_a_lone_surrogate_or_nul_in_an_action_or_query_is_a_422(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, character: str
) -> None:
    request = {"workspace_id": seeded.workspace["id"], "name": f"Acme{character}"}
    body = json.dumps(request).encode()  # the character as a JSON escape, as any client writes it
    action = toggl_connection.post("/actions/create-client", body, {"Content-Type": "application/json"})
    assert action["statusCode"] == 422 and body_of(action)["field"] == "name"
    query = toggl_connection.get("/queries/clients", f"workspace_id={seeded.workspace['id']}&name=a%00b")
    assert query["statusCode"] == 422 and body_of(query)["field"] == "name"
    with pytest.raises(ValidationFailed):
        toggl_connection.invoke(
            "QueryFunction",
            {"query": "clients", "params": {"name": f"a{character}"}},
            DEFAULT_WORKSPACE_ID=str(seeded.workspace["id"]),
        )
    assert toggl.requests == []


def test_an_action_body_200000_levels_deep_is_a_422(toggl_connection: Connection, toggl: Sandbox) -> None:
    deep = b'{"name": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = toggl_connection.post("/actions/create-client", deep, {"Content-Type": "application/json"})
    assert response["statusCode"] == 422, response
    assert body_of(response)["error"] == "validation_failed"
    assert toggl.requests == []


@pytest.mark.parametrize("number", [10**30, 2**63, 0, -1])
def test_a_json_integer_outside_toggls_ids_is_a_422(toggl_connection: Connection, toggl: Sandbox, number: int) -> None:
    action = toggl_connection.post_json("/actions/create-client", {"workspace_id": number, "name": "x"})
    assert action["statusCode"] == 422 and body_of(action)["field"] == "workspace_id"
    with pytest.raises(ValidationFailed):
        toggl_connection.invoke("QueryFunction", {"query": "projects", "params": {"workspace_id": number}})
    assert toggl.requests == []


def test_the_largest_id_toggl_can_hand_out_is_taken(toggl_connection: Connection, toggl: Sandbox) -> None:
    response = toggl_connection.post_json("/actions/create-client", {"workspace_id": 2**63 - 1, "name": "x"})
    assert response["statusCode"] != 422  # it reaches Toggl, which says whether there is such a workspace
    assert [r.path for r in toggl.requests] == [f"/api/v9/workspaces/{2**63 - 1}/clients"]


def test_an_invitation_of_more_addresses_than_the_stack_sends_at_once_is_a_422(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    from toggl_connection.calls.validation import MAX_INVITATION_EMAILS

    emails = [f"person{i}@x.example" for i in range(3000)]
    request = {"workspace_id": seeded.workspace["id"], "emails": emails}
    response = toggl_connection.post_json("/actions/create-user-invitation", request)
    assert response["statusCode"] == 422 and body_of(response)["field"] == "emails"
    assert str(MAX_INVITATION_EMAILS) in body_of(response)["message"]
    assert toggl.requests == [] and seeded.world.emails_sent == []
    at_the_limit = {**request, "emails": emails[:MAX_INVITATION_EMAILS]}
    assert toggl_connection.post_json("/actions/create-user-invitation", at_the_limit)["statusCode"] == 201


def test_organizations_are_listed_only_for_the_allowed_workspaces(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    # Given a second organization the token's user also belongs to
    other = seeded.world.add_organization("Other Corp", "starter")
    elsewhere = seeded.world.add_workspace(other["id"], "Other Corp")
    seeded.world.workspace_users[elsewhere["id"]].add(seeded.owner["id"])
    everything = toggl_connection.invoke("QueryFunction", {"query": "organizations", "params": {}})
    assert {o["id"] for o in everything["items"]} == {seeded.organization["id"], other["id"]}
    # When the stack may act on the seeded workspace only
    mine = toggl_connection.invoke(
        "QueryFunction",
        {"query": "organizations", "params": {}},
        ALLOWED_WORKSPACE_IDS=str(seeded.workspace["id"]),
    )
    # Then the other organization (its name, plan and users) is not listed
    assert [o["id"] for o in mine["items"]] == [seeded.organization["id"]] and mine["count"] == 1
    assert "Other Corp" not in json.dumps(mine)
    none = toggl_connection.invoke("QueryFunction", {"query": "organizations", "params": {}}, ALLOWED_WORKSPACE_IDS="1")
    assert none["items"] == []


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_a_number_that_is_not_finite_in_a_direct_invocation_is_a_422_and_nothing_is_sent(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, number: float
) -> None:
    from toggl_connection.core.errors import ValidationFailed

    event = {"workspace_id": seeded.workspace["id"], "project_id": seeded.project["id"], "user_id": seeded.member["id"]}
    with pytest.raises(ValidationFailed, match="rate"):
        toggl_connection.invoke("AddProjectMemberFunction", {**event, "rate": number})
    assert toggl.requests == []


def test_text_longer_than_toggl_takes_is_a_422_before_any_request(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    wid = seeded.workspace["id"]
    name = toggl_connection.post_json("/actions/create-client", {"workspace_id": wid, "name": "x" * 1001})
    assert name["statusCode"] == 422 and body_of(name)["field"] == "name"
    description = toggl_connection.post_json(
        "/actions/start-time-entry", {"workspace_id": wid, "description": "d" * 3001}
    )
    assert description["statusCode"] == 422 and body_of(description)["field"] == "description"
    search = toggl_connection.get("/queries/tags", f"workspace_id={wid}&search={'s' * 1001}")
    assert search["statusCode"] == 422 and body_of(search)["field"] == "search"
    assert toggl.requests == []
    kept = toggl_connection.post_json("/actions/start-time-entry", {"workspace_id": wid, "description": "d" * 3000})
    assert kept["statusCode"] == 201


def test_toggls_414_is_a_422_naming_the_argument_not_toggls_page(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    from local.toggl_sandbox import Fault

    toggl.fail(Fault(status=414, times=1, body="<html><body><h1>414 Request-URI Too Large</h1></body></html>"))
    wid = seeded.workspace["id"]
    response = toggl_connection.get("/queries/projects", f"workspace_id={wid}&name={'n' * 900}&active=true")
    assert response["statusCode"] == 422, response
    answer = body_of(response)
    assert answer["error"] == "validation_failed" and answer["field"] == "name"
    assert "<html" not in response["body"]
