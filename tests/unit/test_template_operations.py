"""Alarms and dashboard of template.yaml against the code: every metric they watch is one the
code really emits, with the dimensions it emits it with; every function is watched."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.emulator import template

LAYER = template.ROOT / "layers" / "toggl" / "python" / "toggl_connection"


def emitted() -> dict[str, frozenset[str]]:
    """Metric name -> its dimensions, from the layer's calls of count, count_by and add_metric."""
    found: dict[str, frozenset[str]] = {}
    for path in LAYER.rglob("*.py"):
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            args = [str(a.value) for a in node.args if isinstance(a, ast.Constant)]
            keywords = {k.arg: str(k.value.value) for k in node.keywords if isinstance(k.value, ast.Constant)}
            if name == "count" and args:
                found[args[0]] = frozenset({"service"})
            elif name == "count_by" and len(args) >= 2:
                found[args[0]] = frozenset({"service", args[1]})
            elif name == "add_metric" and "name" in keywords:
                found[keywords["name"]] = frozenset({"service"})
    return found


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    found: dict[str, Any] = template.load()["Resources"]
    return found


def alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def service_name() -> str:
    return str(template.load()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"])


def test_the_emitted_dimensions_are_what_the_model_above_says(capsys: pytest.CaptureFixture[str]) -> None:
    """The two ways the code counts, as CloudWatch receives them (EMF on stdout)."""
    from toggl_connection.core.observability import count, count_by, metrics

    count_by("WebhookRejected", "reason", "expired")
    count("WebhookFailed")
    metrics.flush_metrics()
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    dimensions = {
        m["Name"]: set(d)
        for doc in documents
        for directive in doc["_aws"]["CloudWatchMetrics"]
        for m in directive["Metrics"]
        for d in directive["Dimensions"]
    }
    assert dimensions == {"WebhookRejected": {"service", "reason"}, "WebhookFailed": {"service"}}
    assert all(doc["service"] == service_name() for doc in documents)


def test_the_code_emits_what_the_alarms_need() -> None:
    metrics = emitted()
    needed = (
        "WebhookFailed",
        "DedupeRecordFailed",
        "SubscriptionUnhealthy",
        "TogglQuotaExhausted",
        "CatchUpFailed",
        "CatchUpRan",
        "CatchUpSkipped",
        "WebhookPublished",
        "WebhookRejected",
        "ActionFailed",
        "QueryFailed",
        "TogglQuotaRemaining",
    )
    for name in needed:
        assert name in metrics, name
    assert metrics["WebhookRejected"] == {"service", "reason"}


def test_every_alarm_on_our_metrics_watches_a_metric_the_code_emits(resources: dict[str, Any]) -> None:
    metrics = emitted()
    ours = {k: a for k, a in alarms(resources).items() if a.get("Namespace") == "TogglConnection"}
    assert len(ours) >= 5
    for logical_id, alarm in ours.items():
        assert alarm["MetricName"] in metrics, logical_id
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert set(dimensions) == metrics[alarm["MetricName"]], logical_id
        assert dimensions["service"] == service_name()


def test_function_errors_and_throttles_are_watched_for_every_function(resources: dict[str, Any]) -> None:
    functions = {fn.logical_id for fn in template.functions()}
    watched: dict[str, set[str]] = {"Errors": set(), "Throttles": set()}
    for alarm in alarms(resources).values():
        for query in alarm.get("Metrics", []):
            stat = query.get("MetricStat")
            if stat and stat["Metric"]["Namespace"] == "AWS/Lambda":
                (dimension,) = stat["Metric"]["Dimensions"]
                assert dimension["Name"] == "FunctionName"
                watched[stat["Metric"]["MetricName"]].add(dimension["Value"]["Ref"])
        if alarm.get("Metrics"):
            assert sum(1 for q in alarm["Metrics"] if q.get("ReturnData")) == 1
            assert len(alarm["Metrics"]) <= 10  # CloudWatch's limit for one alarm
    assert watched == {"Errors": functions, "Throttles": functions}


def test_the_dead_letters_and_every_scheduled_run_are_watched(resources: dict[str, Any]) -> None:
    (dlq_alarm,) = [a for a in alarms(resources).values() if a.get("Namespace") == "AWS/SQS"]
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    cfn = template.transformed()["Resources"]
    schedules = [v["Properties"] for v in cfn.values() if v["Type"] == "AWS::Scheduler::Schedule"]
    assert len(schedules) == 3
    for schedule in schedules:
        assert schedule["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


def test_a_catch_up_that_has_not_read_toggl_for_an_hour_is_an_alarm(resources: dict[str, Any]) -> None:
    (stalled,) = [a for a in alarms(resources).values() if a.get("MetricName") == "CatchUpRan"]
    assert (stalled["Statistic"], stalled["Period"], stalled["EvaluationPeriods"]) == ("Sum", 3600, 1)
    assert (stalled["ComparisonOperator"], stalled["Threshold"]) == ("LessThanThreshold", 1)
    assert stalled["TreatMissingData"] == "breaching"  # a run that skips itself sends no CatchUpRan


def test_alarms_go_to_the_topic_given_or_to_the_email_given(resources: dict[str, Any]) -> None:
    parameters = template.load()["Parameters"]
    assert parameters["AlarmEmail"]["Default"] == "" and parameters["AlarmTopicArn"]["Default"] == ""
    assert resources["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    assert resources["AlarmTopic"]["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    ]
    for logical_id, alarm in alarms(resources).items():
        condition, when, otherwise = alarm["AlarmActions"]["Fn::If"]
        assert condition == "HasAlarmActions" and otherwise == {"Ref": "AWS::NoValue"}, logical_id
        assert when == [{"Fn::If": ["HasAlarmTopicArn", {"Ref": "AlarmTopicArn"}, {"Ref": "AlarmTopic"}]}]
        assert str(alarm["AlarmName"]["Fn::Sub"]).startswith("${AWS::StackName}-")


def dashboard(resources: dict[str, Any]) -> dict[str, Any]:
    text = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = {"AWS::Region": "us-east-1", "AWS::StackName": "stack", "DeadLetterQueue.QueueName": "dlq"}
    names |= {fn.logical_id: f"fn-{fn.logical_id}" for fn in template.functions()}
    body: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], text))
    return body


def test_the_dashboards_widgets_show_metrics_that_exist(resources: dict[str, Any]) -> None:
    metrics = emitted()
    shown = set()
    for widget in dashboard(resources)["widgets"]:
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], dict):  # a SEARCH over a metric with a dimension of its own
                expression = row[0]["expression"]
                name = re.search(r'MetricName="(\w+)"', expression).group(1)  # type: ignore[union-attr]
                searched = set(re.search(r"\{TogglConnection,([^}]*)\}", expression).group(1).split(","))  # type: ignore[union-attr]
                assert metrics[name] == searched, name
                shown.add(name)
                continue
            namespace, name, *rest = row
            dims = {rest[i]: rest[i + 1] for i in range(0, len(rest) - 1, 2) if isinstance(rest[i], str)}
            if namespace == "TogglConnection":
                assert metrics.get(name) == frozenset(dims), name
                assert dims["service"] == service_name()
                shown.add(name)
            elif namespace == "AWS/Lambda":
                assert dims["FunctionName"].removeprefix("fn-") in {fn.logical_id for fn in template.functions()}
    # everything an alarm watches can be seen on the dashboard too
    watched = {a["MetricName"] for a in alarms(resources).values() if a.get("Namespace") == "TogglConnection"}
    assert watched <= shown
