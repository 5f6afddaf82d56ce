"""The agent tools function as template.yaml declares it (read the way SAM reads it, and as the
SAM translator turns it into CloudFormation)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.emulator import template
from tests.unit.test_template import statements


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    resources: dict[str, Any] = template.transformed()["Resources"]
    return resources


def test_mcp_function_serves_post_get_and_delete_on_mcp_behind_iam(cfn: dict[str, Any]) -> None:
    fn = template.function("McpFunction")
    assert fn.handler == "agent_handlers.agents" and fn.code_dir == template.ROOT / "functions" / "agents"
    assert sorted((r.method, r.path, r.iam) for r in fn.routes) == [
        ("DELETE", "/mcp", True),
        ("GET", "/mcp", True),
        ("POST", "/mcp", True),
    ]
    paths = cfn["Api"]["Properties"]["Body"]["paths"]["/mcp"]
    assert {method: spec["security"] for method, spec in paths.items()} == {
        "post": [{"AWS_IAM": []}],
        "get": [{"AWS_IAM": []}],
        "delete": [{"AWS_IAM": []}],
    }


def test_read_only_mode_is_a_parameter_handed_to_the_function() -> None:
    document = template.load()
    assert document["Parameters"]["AgentToolsReadOnly"]["Default"] == "false"
    names = template.with_conditions(
        {
            **template.parameter_defaults(document),
            "AgentToolsReadOnly": "true",
            "TogglApiTokenSecret": "arn:token",
            "EventBus": "toggl",
            "IdempotencyTable": "table",
        }
    )
    assert template.environment(template.function("McpFunction"), names)["AGENT_TOOLS_READ_ONLY"] == "true"


def test_mcp_function_reads_the_token_only_and_touches_only_the_actions_records(cfn: dict[str, Any]) -> None:
    found = statements(cfn, "McpFunction")
    text = json.dumps(found)
    assert "TogglApiTokenSecret" in text and "WebhookSigningSecret" not in text
    assert "events:PutEvents" not in text
    table = [s for s in found if "dynamodb:PutItem" in s["Action"]]
    assert [s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] for s in table] == [["action:*"]]


def test_the_agent_tools_function_has_the_alarms_and_the_dashboard_the_others_have() -> None:
    resources = template.load()["Resources"]
    for alarm in ("ApiFunctionErrorsAlarm", "ApiFunctionThrottlesAlarm"):
        metrics = resources[alarm]["Properties"]["Metrics"]
        watched = [m["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for m in metrics if "MetricStat" in m]
        assert {"Ref": "McpFunction"} in watched, alarm
    dashboard = json.dumps(resources["Dashboard"]["Properties"]["DashboardBody"])
    assert "${McpFunction}" in dashboard and "ToolCalled" in dashboard and "ToolFailed" in dashboard
    outputs = template.load()["Outputs"]
    assert "/mcp" in json.dumps(outputs["McpUrl"]) and outputs["McpFunctionArn"]
