"""The seven time tracking actions as template.yaml declares them (read the way SAM reads it, and
as the SAM translator turns it into CloudFormation): each its own function behind IAM, reading the
token and nothing else, watched by alarms and shown on the dashboard; and the parameter that lets
agents delete time entries."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.emulator import template
from tests.unit.test_template import actions_of, statements

# logical id -> (handler, route): the names the layer and the contract use, written out here.
TIME_TRACKING = {
    "StartTimeEntryFunction": ("action_handlers.start_time_entry", "/actions/start-time-entry"),
    "StopTimeEntryFunction": ("action_handlers.stop_time_entry", "/actions/stop-time-entry"),
    "CreateTimeEntryFunction": ("action_handlers.create_time_entry", "/actions/create-time-entry"),
    "UpdateTimeEntryFunction": ("action_handlers.update_time_entry", "/actions/update-time-entry"),
    "DeleteTimeEntryFunction": ("action_handlers.delete_time_entry", "/actions/delete-time-entry"),
    "CreateProjectFunction": ("action_handlers.create_project", "/actions/create-project"),
    "CreateTagFunction": ("action_handlers.create_tag", "/actions/create-tag"),
}
ERRORS_ALARM, THROTTLES_ALARM = "TimeTrackingFunctionErrorsAlarm", "TimeTrackingFunctionThrottlesAlarm"


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    resources: dict[str, Any] = template.transformed()["Resources"]
    return resources


def local_names(**overrides: str) -> dict[str, str]:
    """The template's defaults and the names of what the stack makes, as ``environment`` needs them."""
    names = {
        **template.parameter_defaults(template.load()),
        "EventBus": "toggl",
        "IdempotencyTable": "table",
        "WebhookSigningSecret": "arn:signing",
        "TogglApiTokenSecret": "arn:token",
        **overrides,
    }
    return template.with_conditions(names)


@pytest.mark.parametrize(("logical_id", "handler", "path"), [(k, *v) for k, v in TIME_TRACKING.items()])
def test_each_time_tracking_action_is_its_own_function_on_its_own_iam_route(
    cfn: dict[str, Any], logical_id: str, handler: str, path: str
) -> None:
    fn = template.function(logical_id)
    assert fn.handler == handler
    assert fn.code_dir == template.ROOT / "functions" / "actions"
    assert [(r.method, r.path, r.iam) for r in fn.routes] == [("POST", path, True)]
    methods = cfn["Api"]["Properties"]["Body"]["paths"][path]
    assert list(methods) == ["post"] and methods["post"]["security"] == [{"AWS_IAM": []}]
    resource = template.load()["Resources"][logical_id]
    assert resource["Metadata"] == {"BuildMethod": "makefile"}
    seed = template.load()["Resources"]["CreateClientFunction"]["Properties"]
    for key in ("Timeout", "LoggingConfig", "CodeUri"):
        assert resource["Properties"][key] == seed[key], key
    # a route of its own: no other function serves it
    assert [f.logical_id for f in template.functions() if any(r.path == path for r in f.routes)] == [logical_id]


@pytest.mark.parametrize("logical_id", TIME_TRACKING)
def test_each_reads_the_token_and_not_the_signing_secret_and_only_the_actions_records(
    cfn: dict[str, Any], logical_id: str
) -> None:
    found = statements(cfn, logical_id)
    text = json.dumps(found)
    assert "WebhookSigningSecret" not in text and "events:PutEvents" not in text
    (secret,) = [s for s in found if "secretsmanager:GetSecretValue" in actions_of(s)]
    assert "TogglApiTokenSecret" in json.dumps(secret["Resource"])
    (table,) = [s for s in found if any(a.startswith("dynamodb:") for a in actions_of(s))]
    table_actions = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert sorted(actions_of(table)) == table_actions
    assert table["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    assert table["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["action:*"]}}
    (kms,) = [s for s in found if "kms:Decrypt" in actions_of(s)]
    assert kms["Resource"] == {"Ref": "TokenSecretKmsKeyArn"} and "kms:ViaService" in kms["Condition"]["StringEquals"]
    assert sorted(a for s in found for a in actions_of(s)) == sorted(
        ["secretsmanager:GetSecretValue", *table_actions, "kms:Decrypt"]
    )
    env = template.environment(template.function(logical_id), local_names())
    assert env["TOGGL_API_TOKEN_SECRET_ID"] == "arn:token"
    assert "WEBHOOK_SECRET_ID" not in env and "AGENT_TOOLS_ALLOW_DELETE" not in env


def watched(alarm: dict[str, Any]) -> list[str]:
    return [
        q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for q in alarm["Properties"]["Metrics"]
        if "MetricStat" in q and q["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda"
    ]


def test_their_errors_and_throttles_have_alarms_of_their_own_within_cloudwatchs_limits() -> None:
    resources = template.load()["Resources"]
    for logical_id, metric, suffix in (
        (ERRORS_ALARM, "Errors", "time-tracking-function-errors"),
        (THROTTLES_ALARM, "Throttles", "time-tracking-function-throttles"),
    ):
        alarm = resources[logical_id]
        props = alarm["Properties"]
        assert alarm["Type"] == "AWS::CloudWatch::Alarm"
        assert props["AlarmName"] == {"Fn::Sub": "${AWS::StackName}-" + suffix}
        assert sorted(watched(alarm)) == sorted(TIME_TRACKING)
        stats = [q for q in props["Metrics"] if "MetricStat" in q]
        assert {(q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"]) for q in stats} == {(metric, "Sum")}
        (total,) = [q for q in props["Metrics"] if q.get("ReturnData")]
        assert total["Expression"] == "SUM(METRICS())"
        # An alarm on metric math reads at most 10 metrics (a hard limit); the ids are unique.
        assert len(stats) <= 10 and len(props["Metrics"]) <= 10
        assert len({q["Id"] for q in props["Metrics"]}) == len(props["Metrics"])
        assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert props["TreatMissingData"] == "notBreaching"


def test_each_function_is_watched_once_for_errors_and_once_for_throttles() -> None:
    resources = template.load()["Resources"]
    alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in r["Properties"]]
    for metric in ("Errors", "Throttles"):
        refs = [
            q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
            for alarm in alarms
            for q in alarm["Properties"]["Metrics"]
            if "MetricStat" in q and q["MetricStat"]["Metric"]["MetricName"] == metric
        ]
        for logical_id in TIME_TRACKING:
            assert refs.count(logical_id) == 1, (metric, logical_id)


def test_each_is_on_the_dashboards_function_errors_graph() -> None:
    text = template.load()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = {"AWS::Region": "us-east-1", "AWS::StackName": "stack", "DeadLetterQueue.QueueName": "dlq"}
    names |= {fn.logical_id: f"fn-{fn.logical_id}" for fn in template.functions()}
    body = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], text))
    (graph,) = [w for w in body["widgets"] if w["properties"]["title"] == "Function errors"]
    shown = [row[3] for row in graph["properties"]["metrics"] if row[:3] == ["AWS/Lambda", "Errors", "FunctionName"]]
    for logical_id in TIME_TRACKING:
        assert shown.count(f"fn-{logical_id}") == 1, logical_id
    assert len(graph["properties"]["metrics"]) <= 100  # what one graph can draw (GetMetricWidgetImage's limit)


def test_each_has_a_url_and_a_function_arn_among_the_outputs() -> None:
    outputs = template.load()["Outputs"]
    for logical_id, (_, path) in TIME_TRACKING.items():
        name = logical_id.removesuffix("Function")
        assert outputs[f"{name}Url"]["Value"]["Fn::Sub"].endswith("/${StageName}" + path), name
        assert outputs[f"{name}FunctionArn"]["Value"] == {"Fn::GetAtt": [logical_id, "Arn"]}, name


def variables(fn: template.Function) -> dict[str, Any]:
    found: dict[str, Any] = fn.properties.get("Environment", {}).get("Variables", {})
    return found


def test_agents_may_delete_time_entries_only_when_the_stack_says_so() -> None:
    document = template.load()
    parameter = document["Parameters"]["AgentToolsAllowDelete"]
    assert (parameter["Type"], parameter["Default"], sorted(parameter["AllowedValues"])) == (
        "String",
        "false",
        ["false", "true"],
    )
    assert "toggl_delete_time_entry" in parameter["Description"]
    mcp = template.function("McpFunction")
    assert template.environment(mcp, local_names())["AGENT_TOOLS_ALLOW_DELETE"] == "false"
    allowed = local_names(AgentToolsAllowDelete="true")
    assert template.environment(mcp, allowed)["AGENT_TOOLS_ALLOW_DELETE"] == "true"
    # The agent tools function only: not in Globals, not on any other function.
    assert "AGENT_TOOLS_ALLOW_DELETE" not in document["Globals"]["Function"]["Environment"]["Variables"]
    given = [fn.logical_id for fn in template.functions() if "AGENT_TOOLS_ALLOW_DELETE" in variables(fn)]
    assert given == ["McpFunction"]
    assert variables(mcp)["AGENT_TOOLS_ALLOW_DELETE"] == {"Ref": "AgentToolsAllowDelete"}
    uses = [k for k, r in document["Resources"].items() if "AgentToolsAllowDelete" in json.dumps(r)]
    assert uses == ["McpFunction"]


def test_the_stack_description_names_time_tracking() -> None:
    description = template.load()["Description"]
    assert "time entries" in description and "timers" in description
    assert len(description) <= 1024  # CloudFormation's limit
