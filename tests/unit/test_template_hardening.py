"""template.yaml's hardening, read through the real SAM translator: who may put toggl.track
events on the bus, which items of the shared table each function may touch, the callers'
limits, access logs, WAF, throttling, KMS, and a custom resource that cannot hang a stack."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest

from local.emulator import template
from tests.unit.test_template import _policies, actions_of, statements


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    resources: dict[str, Any] = template.transformed()["Resources"]
    return resources


def publishers(cfn: dict[str, Any]) -> set[str]:
    """Functions whose role may call events:PutEvents."""
    return {
        fn.logical_id
        for fn in template.functions()
        if any("events:PutEvents" in actions_of(s) for s in statements(cfn, fn.logical_id))
    }


def test_only_this_stacks_publishers_may_put_toggl_track_events_on_the_bus(cfn: dict[str, Any]) -> None:
    policy = cfn["EventBusTogglSource"]["Properties"]
    statement = policy["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Principal"]) == (
        "Deny",
        "events:PutEvents",
        {"AWS": "*"},
    )
    assert statement["Condition"]["StringEquals"] == {"events:source": "toggl.track"}
    allowed = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert sorted(a["Fn::GetAtt"][0] for a in allowed) == sorted(f"{fn}Role" for fn in publishers(cfn))
    assert len(allowed) >= 10


def table_statements(cfn: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    return [s for s in statements(cfn, function_id) if any(a.startswith("dynamodb:") for a in actions_of(s))]


def test_every_function_touches_only_its_own_items_of_the_shared_table(cfn: dict[str, Any]) -> None:
    expected = {
        "Webhook": ["toggl-event#*"],
        "CreateClient": ["action:*"],
        "CreateUserInvitation": ["action:*"],
        "AddProjectMember": ["action:*"],
        "CreateTask": ["action:*"],
        "StartTimeEntry": ["action:*"],
        "StopTimeEntry": ["action:*"],
        "CreateTimeEntry": ["action:*"],
        "UpdateTimeEntry": ["action:*"],
        "DeleteTimeEntry": ["action:*"],
        "CreateProject": ["action:*"],
        "CreateTag": ["action:*"],
        "WorkspacePoller": ["toggl-event#*", "workspace-poller#*"],
        "SubscriptionSetup": ["subscriptions#*"],
        "SubscriptionHealth": ["subscriptions#*"],
        "CatchUp": ["toggl-event#*", "catch-up#*"],
        "Mcp": ["action:*"],
    }
    seen = 0
    for fn in template.functions():
        for statement in table_statements(cfn, fn.logical_id):
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            prefix = next(k for k in expected if fn.logical_id.startswith(k) or k in fn.logical_id)
            assert keys == expected[prefix], fn.logical_id
            seen += 1
    assert seen >= 21


def test_every_record_the_code_writes_falls_under_a_policy_and_every_policy_names_a_kind(
    cfn: dict[str, Any],
) -> None:
    from toggl_connection.core import records

    sample = {"workspace": 7, "owner": "stack (1/eu-west-1)", "entity_id": 9, "fingerprint": "f"}
    keys = [
        f"{records.CHANGE_EVENTS}#abc",
        f"{records.action('create-client')}#abc",
        records.UNKNOWN_OUTCOME.format(action_prefix=records.action("create-client"), fingerprint="f"),
        records.WORKSPACE_POLLER_SEEN,
        records.CATCH_UP_STATE.format(**sample),
        records.CATCH_UP_SEEN.format(**sample),
        records.SUBSCRIPTION_GAPS.format(**sample),
    ]
    patterns = set(records.LEADING_KEYS.values())
    for key in keys:
        assert any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns), key
    granted = {
        key
        for fn in template.functions()
        for statement in table_statements(cfn, fn.logical_id)
        for key in statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    }
    assert granted == patterns


def test_every_reader_of_the_token_may_decrypt_it_with_a_customer_key(cfn: dict[str, Any]) -> None:
    for fn in template.functions():
        reads_token = any(
            "TogglApiTokenSecret" in json.dumps(s)
            for s in statements(cfn, fn.logical_id)
            if "secretsmanager:GetSecretValue" in actions_of(s)
        )
        role = cfn[f"{fn.logical_id}Role"]["Properties"]
        conditional = [p["Fn::If"] for p in role.get("Policies", []) if "Fn::If" in p]
        kms = [c for c in conditional if c[0] == "HasTokenKmsKey"]
        assert bool(kms) == reads_token, fn.logical_id
        for condition in kms:
            (statement,) = condition[1]["PolicyDocument"]["Statement"]
            assert statement["Action"] == ["kms:Decrypt"] and statement["Resource"] == {"Ref": "TokenSecretKmsKeyArn"}
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]


def test_callers_limits_are_parameters_handed_to_every_function() -> None:
    document = template.load()
    defaults = template.parameter_defaults(document)
    assert defaults["AllowAdminInvitations"] == "false"
    assert defaults["AllowedWorkspaceIds"] == ""
    assert defaults["PreviousSecretGraceHours"] == "24"
    variables = document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["ALLOW_ADMIN_INVITATIONS"] == {"Ref": "AllowAdminInvitations"}
    assert variables["ALLOWED_WORKSPACE_IDS"] == {"Ref": "AllowedWorkspaceIds"}
    assert variables["PREVIOUS_SECRET_GRACE_HOURS"] == {"Ref": "PreviousSecretGraceHours"}


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.track.toggl.com", True),
        ("https://proxy.example/toggl", True),
        ("http://api.track.toggl.com", False),
        ("api.track.toggl.com", False),
        ("https://", False),
    ],
)
def test_toggl_api_url_takes_https_only(url: str, ok: bool) -> None:
    pattern = template.load()["Parameters"]["TogglApiUrl"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, url)) is ok  # CloudFormation matches the whole value


def test_access_logs_carry_who_and_what_but_no_body_or_header(cfn: dict[str, Any]) -> None:
    setting = template.load()["Resources"]["Api"]["Properties"]["AccessLogSetting"]["Fn::If"]
    assert setting[0] == "HasAccessLogs"
    fields = json.loads(setting[1]["Format"])
    assert {"requestId", "caller", "route", "status"} <= set(fields)
    text = setting[1]["Format"]
    assert "body" not in text.lower() and "header" not in text.lower() and "querystring" not in text.lower()
    assert cfn["ApiAccessLogGroup"]["Condition"] == "HasAccessLogs"


def test_a_web_acl_is_attached_when_given(cfn: dict[str, Any]) -> None:
    association = cfn["ApiWebAcl"]
    assert association["Condition"] == "HasWebAcl"
    assert association["Properties"]["WebACLArn"] == {"Ref": "WebAclArn"}
    assert "/stages/" in json.dumps(association["Properties"]["ResourceArn"])


def test_the_custom_resource_cannot_hang_the_stack_and_takes_nothing_from_its_event(cfn: dict[str, Any]) -> None:
    resource = template.load()["Resources"]["SubscriptionSetup"]["Properties"]
    assert 60 <= resource["ServiceTimeout"] <= 3600
    assert {"WebhookBaseUrl", "Name", "ResponseURL"}.isdisjoint(resource)
    fn = template.function("SubscriptionSetupFunction")
    variables = fn.properties["Environment"]["Variables"]
    assert {"WEBHOOK_BASE_URL", "SUBSCRIPTION_NAME", "SUBSCRIPTION_OWNER", "STACK_ID"} <= set(variables)
    assert float(fn.properties["Timeout"]) < resource["ServiceTimeout"]


def test_the_owner_mark_names_stack_account_and_region() -> None:
    document = template.load()
    owner = document["Outputs"]["SubscriptionOwner"]["Value"]["Fn::Sub"]
    assert owner == "${AWS::StackName} (${AWS::AccountId}/${AWS::Region})"
    for logical_id in ("SubscriptionSetupFunction", "SubscriptionHealthFunction"):
        variables = document["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
        assert variables["SUBSCRIPTION_OWNER"] == {"Fn::Sub": owner}


def test_conditional_policies_are_real_policies(cfn: dict[str, Any]) -> None:
    for fn in template.functions():
        for policy in _policies(cfn[f"{fn.logical_id}Role"]["Properties"]):
            assert policy["PolicyDocument"]["Statement"], fn.logical_id
