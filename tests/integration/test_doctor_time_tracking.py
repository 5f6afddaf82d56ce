"""``doctor --stack`` finds the stack's alarms by the prefix the stack outputs, not from a list:
the time tracking functions' alarms, named as template.yaml names them, are among those it
reports when they fire."""

from __future__ import annotations

from typing import Any

import boto3

from local.emulator import template
from tests.connection import Connection
from toggl_connection_cli import doctor

STACK = "toggl-prod"
TIME_TRACKING_ALARMS = ("TimeTrackingFunctionErrorsAlarm", "TimeTrackingFunctionThrottlesAlarm")


def deployed_name(value: Any) -> str:
    return str(template.resolve(value, {"AWS::StackName": STACK}))


def test_the_time_tracking_alarms_fall_under_the_prefix_doctor_reads() -> None:
    document = template.load()
    prefix = deployed_name(document["Outputs"]["AlarmNamePrefix"]["Value"])
    names = {
        logical_id: deployed_name(resource["Properties"]["AlarmName"])
        for logical_id, resource in document["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert names["TimeTrackingFunctionErrorsAlarm"] == "toggl-prod-time-tracking-function-errors"
    assert names["TimeTrackingFunctionThrottlesAlarm"] == "toggl-prod-time-tracking-function-throttles"
    assert all(name.startswith(prefix) for name in names.values()), names
    assert len(set(names.values())) == len(names)  # no two alarms share a name


def test_doctor_names_a_firing_time_tracking_alarm(connection: Connection) -> None:
    document = template.load()
    prefix = deployed_name(document["Outputs"]["AlarmNamePrefix"]["Value"])
    cloudwatch = boto3.client("cloudwatch")
    names = [deployed_name(document["Resources"][a]["Properties"]["AlarmName"]) for a in TIME_TRACKING_ALARMS]
    # (moto filters by the prefix only, not by the state too: no "none in alarm" case on it)
    try:
        for name in names:
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/Lambda",
                MetricName="Errors",
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
            cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
        checks = doctor.stack_checks({"AlarmNamePrefix": prefix}, lambda service: boto3.client(service))  # type: ignore[call-overload]
        (alarms,) = [c for c in checks if c.name == "alarms"]
        assert alarms.ok is False
        assert alarms.detail == f"in alarm: {', '.join(sorted(names))}"
    finally:
        cloudwatch.delete_alarms(AlarmNames=names)
