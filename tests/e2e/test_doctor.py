"""toggl-connection doctor against the Toggl sandbox and the local API: healthy, a disabled
subscription, a refused token; and with --stack, a stack's outputs, secrets, alarms and dead
letters (on moto). Never the token or the secret in what it prints."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.toggl_sandbox import deliveries
from local.toggl_sandbox import webhooks as sandbox_webhooks
from tests.conftest import CANARY_TOKEN
from tests.servers import Hooked
from toggl_connection_cli.cli import run as cli

NAME = "doctor-test"


def against(hooked: Hooked) -> list[str]:
    """The options that point the command at the sandbox, the API and the workspace of ``hooked``."""
    return [
        "--api-url",
        hooked.toggl.url,
        "--webhook-base-url",
        hooked.api,
        "--workspace-id",
        str(hooked.seeded.workspace["id"]),
    ]


def doctor_args(hooked: Hooked, *extra: str) -> list[str]:
    return ["doctor", *against(hooked), *extra]


def doctor(hooked: Hooked, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, str]:
    monkeypatch.setenv("TOGGL_API_TOKEN", CANARY_TOKEN)
    monkeypatch.setenv("TOGGL_WEBHOOK_SECRET", deliveries.TEST_SECRET)
    out = io.StringIO()
    code = cli(doctor_args(hooked, "--name", NAME, *extra), out)
    text = out.getvalue()
    assert CANARY_TOKEN not in text and deliveries.TEST_SECRET not in text
    return code, text


def sync(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGGL_API_TOKEN", CANARY_TOKEN)
    monkeypatch.setenv("TOGGL_WEBHOOK_SECRET", deliveries.TEST_SECRET)
    argv = ["subscriptions", "sync", *against(hooked), "--name", NAME]
    assert cli(argv, io.StringIO()) == 0


def lines(text: str) -> dict[str, str]:
    return {line[5:].split(":", 1)[0]: line[:4].strip() for line in text.splitlines() if line[:4] in ("ok  ", "FAIL")}


def test_a_healthy_set_up_passes_every_check(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    hooked.seeded.organization["plan"] = "starter"
    sync(hooked, monkeypatch)
    code, text = doctor(hooked, monkeypatch)
    assert code == 0, text
    assert lines(text) == {
        "token": "ok",
        "workspace": "ok",
        "layout": "ok",
        "subscriptions": "ok",
        "triggers": "ok",
        "quota": "ok",
    }
    assert "Olivia Owner <owner@acme.example>" in text and "plan Starter" in text and "your role: admin" in text
    assert text.rstrip().endswith("healthy")


def test_a_disabled_subscription_is_named_and_fails(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    hooked.seeded.organization["plan"] = "free"
    sync(hooked, monkeypatch)
    (sub,) = sandbox_webhooks.state(hooked.toggl).subscriptions.values()
    sub["enabled"] = False
    code, text = doctor(hooked, monkeypatch, "--json")
    assert code == 1
    result = json.loads(text)
    assert result["ok"] is False
    (failed,) = [c for c in result["checks"] if not c["ok"]]
    assert failed["name"] == "subscriptions" and f"{NAME}: all events: disabled" in failed["detail"]


def test_nothing_subscribed_yet_says_what_is_missing(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    code, text = doctor(hooked, monkeypatch)
    assert code == 1 and "not covered: Time Entry Created" in text


def test_a_refused_token_says_so(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGGL_API_TOKEN", "not-a-token-toggl-knows")
    out = io.StringIO()
    code = cli(doctor_args(hooked), out)
    assert code == 1
    assert "FAIL token: Toggl refused the token (HTTP 403)" in out.getvalue()
    assert "not-a-token-toggl-knows" not in out.getvalue()


def deploy_outputs(hooked: Hooked, outputs: dict[str, str]) -> dict[str, str]:
    """A stack on moto with a dead-letter queue of its own, and outputs as the real one's."""
    body: dict[str, Any] = {
        "Resources": {"DeadLetterQueue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    if "AlarmNamePrefix" in outputs:
        body["Outputs"]["DeadLetterQueueUrl"] = {"Value": {"Ref": "DeadLetterQueue"}}
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="toggl-prod", TemplateBody=json.dumps(body))
    (described,) = cloudformation.describe_stacks(StackName="toggl-prod")["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def test_with_a_stack_it_checks_outputs_secrets_alarms_and_dead_letters(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooked.seeded.organization["plan"] = "starter"
    stack = hooked.connection.stack
    outputs = deploy_outputs(
        hooked,
        {
            "ApiBaseUrl": hooked.api,
            "WebhookSecretArn": stack["WebhookSigningSecret"],
            "TogglApiTokenSecretArn": stack["TogglApiTokenSecret"],
            "SubscriptionOwner": "toggl-prod (1/us-east-1)",
            "AlarmNamePrefix": "toggl-prod-",
        },
    )
    queue = outputs["DeadLetterQueueUrl"]
    monkeypatch.delenv("TOGGL_API_TOKEN", raising=False)
    monkeypatch.delenv("TOGGL_WEBHOOK_SECRET", raising=False)
    base = [
        "--stack",
        "toggl-prod",
        "--api-url",
        hooked.toggl.url,
        "--workspace-id",
        str(hooked.seeded.workspace["id"]),
    ]
    # Given the stack's subscriptions synced with its own secrets, through its outputs
    assert cli(["subscriptions", "sync", *base], io.StringIO()) == 0
    out = io.StringIO()
    assert cli(["doctor", *base], out) == 0, out.getvalue()
    assert {"stack outputs", "signing secret", "token secret", "alarms", "dead letters"} <= set(lines(out.getvalue()))
    # When an alarm fires and a dead letter waits
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="toggl-prod-webhook-failures",
        MetricName="WebhookFailed",
        Namespace="TogglConnection",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="toggl-prod-webhook-failures", StateValue="ALARM", StateReason="test")
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody="{}")
    out = io.StringIO()
    # Then doctor fails and names them
    assert cli(["doctor", *base], out) == 1
    text = out.getvalue()
    assert "FAIL alarms: in alarm: toggl-prod-webhook-failures" in text
    assert "FAIL dead letters: 1 message(s) waiting" in text
    assert CANARY_TOKEN not in text and deliveries.TEST_SECRET not in text


def test_a_stack_without_its_outputs_fails_the_outputs_check(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    stack: Any = hooked.connection.stack
    deploy_outputs(hooked, {"TogglApiTokenSecretArn": stack["TogglApiTokenSecret"]})
    out = io.StringIO()
    code = cli(doctor_args(hooked, "--stack", "toggl-prod"), out)
    assert code == 1 and "FAIL stack outputs: missing: ApiBaseUrl, WebhookSecretArn" in out.getvalue()


def test_a_member_token_and_a_low_quota_fail_their_checks(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> None:
    hooked.seeded.organization["plan"] = "starter"
    sync(hooked, monkeypatch)
    hooked.seeded.workspace["admin"] = False  # the token's user is no admin of the workspace
    hooked.toggl.quota_per_hour = len(hooked.toggl.requests) + 6  # a few requests left this hour
    code, text = doctor(hooked, monkeypatch)
    assert code == 1
    assert lines(text)["workspace"] == "FAIL" and "your role: member" in text
    assert lines(text)["quota"] == "FAIL"


CHECKS = ["token", "workspace", "layout", "subscriptions", "triggers", "quota"]


def doctor_process(hooked: Hooked, api_url: str, token: str = CANARY_TOKEN) -> subprocess.CompletedProcess[str]:
    """``toggl-connection doctor --json`` as a user runs it: a process of its own."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TOGGL_", "AWS_"))},
        "TOGGL_API_TOKEN": token,
        "TOGGL_WEBHOOK_SECRET": deliveries.TEST_SECRET,
    }
    argv = [
        "doctor",
        "--json",
        "--api-url",
        api_url,
        "--webhook-base-url",
        hooked.api,
        "--workspace-id",
        str(hooked.seeded.workspace["id"]),
        "--name",
        NAME,
    ]
    return subprocess.run(
        [str(Path(sys.executable).parent / "toggl-connection"), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def whole_document(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and CANARY_TOKEN not in done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["ok"] is False
    assert [c["name"] for c in result["checks"]] == CHECKS
    return result


def test_with_toggl_down_doctor_json_still_prints_every_check(hooked: Hooked) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{closed.getsockname()[1]}"
    result = whole_document(doctor_process(hooked, down))
    assert all(not c["ok"] and "Could not connect to Toggl" in c["detail"] for c in result["checks"]), result


def test_with_the_quota_used_up_doctor_json_still_prints_every_check(hooked: Hooked) -> None:
    hooked.toggl.user_quota_per_hour = 3
    for _ in range(3):  # the hour's /me requests, spent: Toggl's 402 from now on
        hooked.toggl_call("GET", "/api/v9/me")
    result = whole_document(doctor_process(hooked, hooked.toggl.url))
    by_name = {c["name"]: c for c in result["checks"]}
    assert "hourly API quota is used up" in by_name["token"]["detail"]
    assert by_name["workspace"]["detail"].startswith("not checked: Toggl's hourly API quota is used up")
    assert not by_name["quota"]["ok"] and by_name["quota"]["detail"].startswith("/me: 0 request(s) left")


def test_with_the_token_refused_doctor_json_still_prints_every_check(hooked: Hooked) -> None:
    result = whole_document(doctor_process(hooked, hooked.toggl.url, token="not-a-token-toggl-knows"))
    assert all(not c["ok"] and "Toggl refused the token (HTTP 403)" in c["detail"] for c in result["checks"]), result


def test_the_triggers_check_agrees_with_the_subscriptions_check(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given subscriptions synced under another mark than the one doctor is asked about
    hooked.seeded.organization["plan"] = "starter"
    sync(hooked, monkeypatch)
    out = io.StringIO()
    code = cli(doctor_args(hooked, "--name", "someone-else"), out)
    text = out.getvalue()
    # Then neither says every trigger is covered
    assert code == 1 and "not covered: Time Entry Created" in text, text
    assert lines(text)["triggers"] == "FAIL" and "every trigger is covered" not in text, text


def test_make_doctor_runs_doctor_with_what_the_local_stack_state_says(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from local.commands import stack_doctor as make_doctor

    # Given a local stack's state (this process plays make run) and its subscriptions synced
    hooked.seeded.organization["plan"] = "starter"
    sync(hooked, monkeypatch)
    monkeypatch.delenv("TOGGL_API_TOKEN")
    monkeypatch.delenv("TOGGL_WEBHOOK_SECRET")
    state = {
        "api": hooked.api,
        "toggl": hooked.toggl.url,
        "toggl_token": CANARY_TOKEN,
        "webhook_secret": deliveries.TEST_SECRET,
        "workspace_id": hooked.seeded.workspace["id"],
        "subscription_name": NAME,
        "pid": os.getpid(),
    }
    (tmp_path / "stack.json").write_text(json.dumps(state))
    monkeypatch.setenv("TOGGL_LOCAL_DIR", str(tmp_path))
    # When make doctor ARGS=--json runs (the command line's main, which exits, recorded here)
    called: list[list[str]] = []
    monkeypatch.setattr("toggl_connection_cli.cli.main", called.append)
    make_doctor.main(["--json"])
    # Then it is doctor with the stack's options and token, and every check passes
    (argv,) = called
    assert os.environ["TOGGL_API_TOKEN"] == CANARY_TOKEN and "--json" in argv
    out = io.StringIO()
    assert cli(argv, out) == 0, out.getvalue()
    result = json.loads(out.getvalue())
    assert result["ok"] is True and [c["name"] for c in result["checks"]] == CHECKS
