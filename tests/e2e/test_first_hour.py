"""The first hour with ``make run``, end to end through real processes: an hour of exploring by
hand never meets the sandbox's quota (and Toggl's exact limits are one variable away, named by
doctor), an unsigned or wrongly signed request says on make run's output how to sign, and a start
that fails leaves the folder as it found it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.commands.demo import DOCTOR_ME_REQUESTS, LocalClient
from local.commands.local_stack import EXPLORING_SCALE, SCHEDULES, deployed_period_seconds
from local.emulator.template import ROOT
from local.toggl_sandbox.server import USER_LEVEL_QUOTA
from local.toggl_sandbox.state import PLAN_QUOTA
from tests.e2e.test_local_stack import (
    SIGNING_HINT,
    TOGGL_LIMITS,
    Running,
    fresh_env,
    run_once,
    run_tool,
    start,
    stop,
)
from toggl_connection_cli.doctor import QUOTA_LOW

# An hour of exploring by hand, as rounds of everything the README and docs/local.md have one do with make run: its
# awscurl lines, make post, make doctor (both ways), make demo, make agent-demo and an MCP client
# through make mcp-proxy. Ten rounds is one every six minutes, more than anyone types by hand.
ROUNDS_AN_HOUR = 10
AWSCURL = str(Path(sys.executable).with_name("awscurl"))


@pytest.fixture
def explored(tmp_path: Path) -> Iterator[Running]:
    stack = start(tmp_path)  # as make run starts by default
    yield stack
    if stack.process.poll() is None:
        os.killpg(stack.process.pid, signal.SIGKILL)
        stack.process.wait(timeout=10)


def quota(client: LocalClient) -> dict[str, Any]:
    """The sandbox's limits and what was spent this hour (asking spends nothing)."""
    found: dict[str, Any] = requests.get(client.state["toggl"] + "/_sandbox/quota", timeout=30).json()
    return found


def spent(client: LocalClient) -> tuple[int, int]:
    """(/me requests, the organization's requests) spent this hour."""
    scopes = {s["scope"]: s["used"] for s in quota(client)["spent"]}
    return scopes.get("me", 0), scopes.get(f"org:{client.state['organization_id']}", 0)


def awscurl(client: LocalClient, *argv: str) -> str:
    state = client.state
    keys = ["--access_key", state["access_key_id"], "--secret_key", state["secret_access_key"]]
    done = subprocess.run(
        [AWSCURL, "--service", "execute-api", "--region", state["region"], *keys, *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and '"message"' not in done.stdout, done.stdout + done.stderr
    return done.stdout


def mcp_client_session(running: Running) -> None:
    """An MCP client speaking plain HTTP to make mcp-proxy: it connects, lists the tools, reads."""
    env = {**running.env, "TOGGL_LOCAL_MCP_PORT": "0"}
    env.pop("TOGGL_WEBHOOK_SECRET")
    proxy = subprocess.Popen(
        [sys.executable, "-m", "local.commands.mcp_proxy"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proxy.stderr
        found = re.search(r"http://127\.0\.0\.1:\d+/mcp", proxy.stderr.readline())
        assert found, "make mcp-proxy did not start"
        headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
        calls: list[tuple[str, dict[str, Any]]] = [
            ("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e"}}),
            ("tools/list", {}),
            *(
                ("tools/call", {"name": tool, "arguments": {}})
                for tool in ("toggl_get_me", "toggl_list_workspaces", "toggl_get_current_time_entry")
            ),
        ]
        for number, (method, params) in enumerate(calls, 1):
            body = {"jsonrpc": "2.0", "id": number, "method": method, "params": params}
            answer = requests.post(found[0], json=body, headers=headers, timeout=60).json()
            assert "result" in answer and not answer["result"].get("isError"), answer
    finally:
        proxy.send_signal(signal.SIGINT)
        proxy.communicate(timeout=20)


def one_round(running: Running) -> list[str]:
    """Everything once, as a person would type it; the demo's and the doctors' output."""
    client = running.client
    awscurl(client, f"{client.api}/queries/me")
    awscurl(
        client,
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps({"name": f"Acme Ltd {time.time_ns()}"}),
        f"{client.api}/actions/create-client",
    )
    outputs = []
    for module, *argv in (
        ("local.commands.post", str(ROOT / "events" / "webhook-project-created.json")),
        ("local.commands.post", str(ROOT / "events" / "query-me.json")),
        ("local.commands.stack_doctor",),
        ("local.commands.stack_doctor", "--json"),
        ("local.commands.demo",),
        ("local.commands.agent_demo",),
    ):
        done = run_tool(running, module, *argv)
        assert done.returncode == 0, (module, done.stdout[-3000:], done.stderr[-2000:])
        outputs.append(done.stdout)
    mcp_client_session(running)
    return outputs


def spend_directly(client: LocalClient, me: int, organization: int) -> None:
    """What more rounds (and the rest of the schedules' hour) spend, spent on reads of the same scopes."""
    auth, toggl = (client.state["toggl_token"], "api_token"), client.state["toggl"]
    with requests.Session() as session:
        for _ in range(me):
            assert session.get(f"{toggl}/api/v9/me", auth=auth, timeout=30).status_code == 200
        for _ in range(organization):
            path = f"{toggl}/api/v9/workspaces/{client.state['workspace_id']}"
            assert session.get(path, auth=auth, timeout=30).status_code == 200


def assert_healthy_within_quota(outputs: list[str]) -> None:
    demo, doctor = outputs[4], outputs[2]
    assert "starts again" not in demo  # the demo never had to start the sandbox's hour again
    assert doctor.rstrip().endswith("healthy"), doctor
    assert re.search(r"^ok   quota: ", doctor, re.MULTILINE), doctor


def test_an_hour_of_exploring_by_hand_never_meets_the_sandboxs_quota(explored: Running) -> None:
    client = explored.client
    # Given make run as it starts: its sandbox allows EXPLORING_SCALE times Toggl's hourly quotas
    limits = quota(client)
    org = next(o for o in limits["organizations"] if o["id"] == client.state["organization_id"])
    assert limits["scale"] == EXPLORING_SCALE and limits["toggl_me_limit"] == USER_LEVEL_QUOTA
    assert limits["me_limit"] == EXPLORING_SCALE * USER_LEVEL_QUOTA
    assert org["limit"] == EXPLORING_SCALE * PLAN_QUOTA["starter"] and org["toggl_limit"] == PLAN_QUOTA["starter"]
    at_start = spent(client)
    # When one round of exploring is made by hand, Then every step passes; its cost is measured
    first = one_round(explored)
    assert_healthy_within_quota(first)
    after_round = spent(client)
    per_round = (after_round[0] - at_start[0], after_round[1] - at_start[1])
    assert 10 <= per_round[0] <= 40, per_round  # what it costs is what it is measured to cost
    # And doctor's quota check says which limits are in force (asking the sandbox spends nothing)
    assert (
        f"sandbox limits for exploring: {limits['me_limit']} /me an hour (Toggl's: {USER_LEVEL_QUOTA}), "
        f"{org['limit']} for organization {org['id']} (Toggl's on Starter: {org['toggl_limit']}); "
        "TOGGL_LOCAL_TOGGL_LIMITS=toggl plays Toggl's"
    ) in first[2]
    # And the schedules, as a deployed stack runs them, spend their hour's share (each job measured)
    schedules = [0, 0]
    for job in SCHEDULES:
        before = spent(client)
        client.run_job(job)
        after = spent(client)
        runs = round(3600 / deployed_period_seconds(job))
        schedules = [schedules[i] + (after[i] - before[i]) * runs for i in (0, 1)]
    jobs_ran = spent(client)
    # When the rest of the hour is spent as those rounds and the schedules spend it
    rest = [(ROUNDS_AN_HOUR - 2) * per_round[i] + schedules[i] - (jobs_ran[i] - after_round[i]) for i in (0, 1)]
    spend_directly(client, rest[0], rest[1])
    # Then the hour's last round passes as the first did, the quota never met
    last = one_round(explored)
    assert_healthy_within_quota(last)
    me, organization = spent(client)
    assert me <= limits["me_limit"] - QUOTA_LOW and organization <= org["limit"] - QUOTA_LOW, (me, organization)
    print(
        f"an hour of exploring ({ROUNDS_AN_HOUR} rounds of {per_round[0]} /me and {per_round[1]} organization "
        f"requests, and the schedules' {schedules}): {me} of {limits['me_limit']} /me requests, "
        f"{organization} of {org['limit']} for the organization (Toggl's: {USER_LEVEL_QUOTA} and {org['toggl_limit']})"
    )
    assert me > USER_LEVEL_QUOTA  # what Toggl's own /me quota would have refused
    code, _, err = stop(explored)
    assert code == 0, err
    assert not re.search(r"-> (402|429) |TogglQuotaExhausted|quota_exhausted", err), err[-3000:]


def test_toggls_own_limits_are_one_variable_away_and_doctor_names_them(tmp_path: Path) -> None:
    # Given make run with TOGGL_LOCAL_TOGGL_LIMITS=toggl
    exact = start(tmp_path, settings=TOGGL_LIMITS)
    try:
        client = exact.client
        # Then its sandbox plays Toggl's own hourly quotas: 30 /me requests, the plan's for the organization
        limits = quota(client)
        (org,) = limits["organizations"]
        assert limits["scale"] == 1 and limits["me_limit"] == USER_LEVEL_QUOTA == 30
        assert org["limit"] == org["toggl_limit"] == PLAN_QUOTA["starter"] == 240
        # And doctor's quota check names them, spending no more than its own checks
        before = spent(client)[0]
        doctor = run_tool(exact, "local.commands.stack_doctor")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        quota_line = next(line for line in doctor.stdout.splitlines() if line.startswith("ok   quota: "))
        assert quota_line.endswith(
            f"; sandbox limits: Toggl's (30 /me an hour, 240 for organization {org['id']} (Starter))"
        )
        assert spent(client)[0] - before <= DOCTOR_ME_REQUESTS - QUOTA_LOW
        # And its --json document says the same
        document = json.loads(run_tool(exact, "local.commands.stack_doctor", "--json").stdout)
        (check,) = [c for c in document["checks"] if c["name"] == "quota"]
        assert "sandbox limits: Toggl's (30 /me an hour" in check["detail"]
        # And Toggl's quota is met as Toggl meets it: the 31st /me request of the hour is a 402
        auth = (client.state["toggl_token"], "api_token")
        answers = [
            requests.get(client.state["toggl"] + "/api/v9/me", auth=auth, timeout=30).status_code
            for _ in range(USER_LEVEL_QUOTA - spent(client)[0] + 1)
        ]
        assert answers[-1] == 402 and set(answers[:-1]) == {200}, answers
    finally:
        code, _, err = stop(exact)
    assert code == 0, err
    assert "  Sandbox quota: Toggl's: 30 /me requests an hour, 240 for the organization (Starter plan)" in err


def test_an_unsigned_or_wrongly_signed_request_says_on_make_runs_output_how_to_sign(tmp_path: Path) -> None:
    running = start(tmp_path)
    try:
        client = running.client
        api, key = client.api, client.state["access_key_id"]
        # When IAM routes are asked unsigned, again and again, and signed with the wrong keys
        unsigned = [
            requests.get(f"{api}/queries/me", timeout=30),
            requests.post(f"{api}/actions/create-client", json={"name": "x"}, timeout=30),
            requests.post(f"{api}/_local/jobs/CatchUpFunction", timeout=30),
        ]
        other_key = LocalClient({**client.state, "access_key_id": "NOTTHELOCALKEY"}).signed("GET", "/queries/me")
        other_secret = LocalClient({**client.state, "secret_access_key": "not-the-secret"}).signed("GET", "/queries/me")
        # Then the answers are API Gateway's own
        assert [(r.status_code, r.json()) for r in unsigned] == [(403, {"message": "Missing Authentication Token"})] * 3
        assert other_key.status_code == 403
        assert other_key.json() == {"message": "The security token included in the request is invalid."}
        assert other_secret.status_code == 403 and other_secret.json()["message"].startswith(
            "The request signature we calculated does not match"
        )
    finally:
        code, _, err = stop(running)
    assert code == 0, err
    # And make run's output says, once after the first of each kind, how to sign: SigV4, the
    # service, the region, the key id and the banner's awscurl line, never the secret
    banner_line = next(line.strip() for line in err.splitlines() if "awscurl" in line and "e.g." in line)
    example = banner_line.removeprefix("e.g. ").replace(client.state["secret_access_key"], "<secret access key>")
    how = (
        f"IAM routes need SigV4 (service execute-api, region us-east-1) with access key id {key} and the secret "
        f"access key the banner shows, as in: {example}"
    )
    assert example == (
        f".venv/bin/awscurl --service execute-api --region us-east-1 --access_key {key} "
        f"--secret_key <secret access key> {api}/queries/me"
    )
    lines = err.split("Ctrl-C stops everything.", 1)[1].strip().splitlines()
    hints = [line for line in lines if SIGNING_HINT.match(line)]
    assert hints == [
        f"  ^ that request was not signed: {how}",
        "  ^ that request was refused for its signature (The security token included in the request is invalid): "
        + how,
    ], hints
    assert lines[lines.index(hints[0]) - 1].startswith("GET /queries/me -> 403 ")
    assert lines[lines.index(hints[1]) - 1].startswith("GET /queries/me -> 403 ")
    assert all(client.state["secret_access_key"] not in hint for hint in hints)


def listing(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())} if folder.exists() else {}


def test_a_failed_start_leaves_the_folder_as_it_found_it(tmp_path: Path) -> None:
    # A make run in a folder another one uses: the first one's files stay the first one's
    first = start(tmp_path / "used")
    try:
        before = listing(first.state_dir)
        second = run_once(first.env)
        assert second.returncode == 1 and "another make run" in second.stderr, second.stderr
        after = listing(first.state_dir)
        assert sorted(after) == sorted(before) == ["events.jsonl", "functions.log", "run.lock", "stack.json"]
        assert after["run.lock"] == f"{first.process.pid}\n".encode() and after["stack.json"] == before["stack.json"]
        assert after["functions.log"].startswith(before["functions.log"])  # the first one's, still growing
    finally:
        code, _, err = stop(first)
    assert code == 0, err
    # And a make run that stopped removes its lock; its events and logs stay
    assert sorted(listing(first.state_dir)) == ["events.jsonl", "functions.log"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        # A port in use, in a folder that was not there: the folder is not left behind either
        fresh = tmp_path / "fresh"
        done = run_once(fresh_env(fresh, {"MOTO": port}))
        assert done.returncode == 1 and f"port {port} on 127.0.0.1 is in use" in done.stderr, done.stderr
        assert not fresh.exists()
        # A port in use (the API's, bound last), in the folder of a make run that stopped: as it was
        before = listing(first.state_dir)
        done = run_once(fresh_env(first.state_dir, {"API": port}))
        assert done.returncode == 1 and "TOGGL_LOCAL_API_PORT" in done.stderr, done.stderr
        assert listing(first.state_dir) == before
    # A setting make run does not know: one line, nothing made
    wrong = tmp_path / "wrong"
    done = run_once({**fresh_env(wrong, {}), "TOGGL_LOCAL_TOGGL_LIMITS": "unlimited"})
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        "make run: TOGGL_LOCAL_TOGGL_LIMITS must be explore or toggl "
        f"(explore: {EXPLORING_SCALE} times Toggl's hourly quotas, the default; toggl: Toggl's own)"
    ], done.stderr
    assert not wrong.exists()
