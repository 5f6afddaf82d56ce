"""``doctor --stack`` checks the agent tools function: there, ready, and in which mode (reads
only, or reads and writes, with or without deleting time entries)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

from tests.connection import Connection
from toggl_connection_cli import doctor


def deployed(read_only: str, allow_delete: str = "false") -> str:
    """An agent tools function on moto, with the environment the template gives it."""
    role = boto3.client("iam").create_role(
        RoleName=f"agents-{read_only}-{allow_delete}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("agent_handlers.py", "def agents(event, context):\n    return {}\n")
    function = boto3.client("lambda").create_function(
        FunctionName=f"toggl-prod-McpFunction-{read_only}-{allow_delete}",
        Runtime="python3.13",
        Role=role,
        Handler="agent_handlers.agents",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"AGENT_TOOLS_READ_ONLY": read_only, "AGENT_TOOLS_ALLOW_DELETE": allow_delete}},
    )
    return str(function["FunctionArn"])


def agent_check(outputs: dict[str, str]) -> Any:
    checks = doctor.stack_checks(outputs, lambda service: boto3.client(service))  # type: ignore[call-overload]
    return next((c for c in checks if c.name == "agent tools"), None)


def test_doctor_says_the_agent_tools_are_ready_and_in_which_mode(connection: Connection) -> None:
    writes = agent_check({"McpFunctionArn": deployed("false")})
    assert writes.ok and "reads and writes" in writes.detail
    reads = agent_check({"McpFunctionArn": deployed("true")})
    assert reads.ok and "reads only" in reads.detail


def test_doctor_says_whether_agents_may_delete_time_entries(connection: Connection) -> None:
    # AgentToolsAllowDelete's default: toggl_delete_time_entry is neither listed nor callable
    kept = agent_check({"McpFunctionArn": deployed("false")})
    assert kept.ok and "deleting time entries excepted" in kept.detail
    allowed = agent_check({"McpFunctionArn": deployed("false", allow_delete="true")})
    assert allowed.ok and "reads and writes, deleting time entries included" in allowed.detail
    # Read-only hides every write, the delete included, whatever AgentToolsAllowDelete says
    read_only = agent_check({"McpFunctionArn": deployed("true", allow_delete="true")})
    assert read_only.ok and "reads only" in read_only.detail and "delet" not in read_only.detail


def test_doctor_fails_the_check_when_the_function_is_gone(connection: Connection) -> None:
    missing = agent_check({"McpFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:gone"})
    assert missing.ok is False and "AWS said" in missing.detail
