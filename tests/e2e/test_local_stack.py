"""``make run`` end to end: the local stack as a process of its own, driven over real HTTP on
loopback. Triggers from the Toggl sandbox, actions and queries signed and unsigned, a restart,
a port already in use, and nothing left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local import deliveries
from local.demo import TRIGGERS, LocalClient, action_requests, wait_for
from local.sample_events import QUERY_EXAMPLES
from local.template import ROOT


@dataclass
class Running:
    process: subprocess.Popen[str]
    state_dir: Path
    env: dict[str, str]

    @property
    def client(self) -> LocalClient:
        return LocalClient(json.loads((self.state_dir / "stack.json").read_text()))

    @property
    def ports(self) -> dict[str, int]:
        """The ports the servers bound (asked for 0: any free one), from stack.json."""
        state = self.client.state
        return {name: int(str(state[key]).rsplit(":", 1)[1]) for name, key in
                (("API", "api"), ("MOTO", "moto"), ("TOGGL", "toggl"))}  # fmt: skip


ANY_PORTS = {"API": 0, "MOTO": 0, "TOGGL": 0}
RUN_SECRET = "local-run-secret-not-the-test-one"


def start(state_dir: Path, ports: dict[str, int] = ANY_PORTS) -> Running:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TOGGL_"))},
        "PYTHONPATH": f"{ROOT / 'layers' / 'toggl' / 'python'}:{ROOT}",
        "TOGGL_LOCAL_DIR": str(state_dir), "TOGGL_LOCAL_POLL_SECONDS": "1", "TOGGL_LOCAL_HEALTH_SECONDS": "3600",
        # not the secret events/ are signed with: make post must sign with the stack's own
        "TOGGL_WEBHOOK_SECRET": RUN_SECRET,
        **{f"TOGGL_LOCAL_{name}_PORT": str(port) for name, port in ports.items()},
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "local.run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while not (state_dir / "stack.json").exists():
        if process.poll() is not None:
            raise AssertionError(f"make run exited: {process.stderr.read() if process.stderr else ''}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("make run did not become ready")
        time.sleep(0.2)
    return Running(process, state_dir, env)


def stop(running: Running) -> tuple[int, str, str]:
    running.process.send_signal(signal.SIGINT)
    out, err = running.process.communicate(timeout=30)
    return running.process.returncode, out, err


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        # As the stack's servers bind (SO_REUSEADDR): a closed connection left in TIME_WAIT on the
        # port, by the stack or by any other client on a busy machine, does not stop a new make run.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    stack = start(tmp_path)
    yield stack
    if stack.process.poll() is None:
        os.killpg(stack.process.pid, signal.SIGKILL)
        stack.process.wait(timeout=10)


def make_every_change(client: LocalClient) -> dict[str, Any]:
    wid, oid = client.state["workspace_id"], client.state["organization_id"]
    entry = client.toggl("POST", f"/api/v9/workspaces/{wid}/time_entries", {"description": "e2e", "duration": -1})
    client.toggl("PUT", f"/api/v9/workspaces/{wid}/time_entries/{entry['id']}", {"description": "e2e 2"})
    client.toggl("DELETE", f"/api/v9/workspaces/{wid}/time_entries/{entry['id']}")
    project = client.toggl("POST", f"/api/v9/workspaces/{wid}/projects", {"name": f"e2e {time.time()}"})
    client.toggl("PUT", f"/api/v9/workspaces/{wid}/projects/{project['id']}", {"name": "e2e renamed"})
    client.toggl("DELETE", f"/api/v9/workspaces/{wid}/projects/{project['id']}")
    workspace = client.toggl("POST", f"/api/v9/organizations/{oid}/workspaces", {"name": "e2e workspace"})
    return {"entry": entry["id"], "project": project["id"], "workspace": workspace["id"]}


def assert_each_trigger_once(client: LocalClient, offset: int, ids: dict[str, Any]) -> list[dict[str, Any]]:
    events = wait_for(client, offset, set(TRIGGERS), timeout=60)
    assert sorted(e["detail-type"] for e in events) == sorted(TRIGGERS)  # and no duplicate: checked at the stop
    by_type = {e["detail-type"]: e["detail"] for e in events}
    assert by_type["Time Entry Deleted"]["entity_id"] == ids["entry"]
    assert by_type["Project Updated"]["entity_id"] == ids["project"]
    assert by_type["Workspace Created"]["entity_id"] == ids["workspace"]
    return events


def call_actions_and_queries(client: LocalClient) -> None:
    for name, body in action_requests(client.state, time.time_ns()).items():
        data = json.dumps(body).encode()
        signed = client.signed("POST", f"/actions/{name}", data, {"Content-Type": "application/json"})
        assert signed.status_code in (200, 201), (name, signed.text)
        unsigned = requests.post(f"{client.api}/actions/{name}", data=data, timeout=30)
        assert unsigned.status_code == 403 and unsigned.json()["message"] == "Missing Authentication Token"
    for name, params in QUERY_EXAMPLES.items():
        query = "&".join(f"{k}={v}" for k, v in params.items() if k != "workspace_id")
        path = f"/queries/{name}" + (f"?{query}" if query else "")
        signed = client.signed("GET", path)
        assert signed.status_code == 200, (name, signed.text)
        assert requests.get(client.api + path, timeout=30).status_code == 403


def test_the_local_stack_end_to_end_and_again_after_a_restart(running: Running, tmp_path: Path) -> None:
    # Given make run is up
    client = running.client
    ports = running.ports
    offset = client.events_offset()
    # When things change in Toggl, Then each trigger's event is on the bus exactly once
    assert_each_trigger_once(client, offset, make_every_change(client))
    # And every action and query works signed and is refused unsigned
    call_actions_and_queries(client)
    # And a request signed with another key is refused
    wrong = LocalClient({**client.state, "secret_access_key": "not-the-key"})
    assert wrong.signed("GET", "/queries/me").status_code == 403
    # When it is stopped with Ctrl-C, it stops cleanly and leaves nothing behind
    code, out, err = stop(running)
    assert code == 0, err
    assert "Traceback" not in err
    assert "undocumented request" not in err  # every request to Toggl was one its documents describe
    # stderr: the banner, then one short line per request; the functions' logs and metrics elsewhere
    after_banner = err.split("Ctrl-C stops everything.", 1)[1].strip().splitlines()
    request_line = re.compile(r"(GET|POST|PUT|PATCH|DELETE) \S+ -> \d{3} \(\d+ ms\)")
    others = [line for line in after_banner if not request_line.fullmatch(line)]
    assert others == ["stopping...", "stopped."], others[:5]
    assert (tmp_path / "functions.log").read_text().count('"_aws"') > 0  # the metrics went there
    printed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sorted(e["detail-type"] for e in printed) == sorted(TRIGGERS)  # stdout: the events, one per line
    assert all(port_is_free(port) for port in ports.values())
    assert not (tmp_path / "stack.json").exists()
    # When it starts again, on the very ports it let go of, it all works again
    again = start(tmp_path, ports)
    try:
        client = again.client
        offset = client.events_offset()
        assert_each_trigger_once(client, offset, make_every_change(client))
        call_actions_and_queries(client)
    finally:
        code, out, err = stop(again)
    assert code == 0, err
    printed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sorted(e["detail-type"] for e in printed) == sorted(TRIGGERS)  # each once, none late
    assert all(port_is_free(port) for port in ports.values())


def post(running: Running, *argv: str, state_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``make post EVENT=...``, as a process of its own."""
    env = {**running.env, "TOGGL_LOCAL_DIR": str(state_dir or running.state_dir)}
    env.pop("TOGGL_WEBHOOK_SECRET")  # make post finds the secret in stack.json, not in its environment
    return subprocess.run([sys.executable, "-m", "local.post", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_make_post_signs_with_the_running_stacks_secret_and_takes_raw_toggl_bodies(
    running: Running, tmp_path: Path
) -> None:
    client = running.client
    offset = client.events_offset()
    # An API Gateway event of events/ (signed with the test secret, dated 2023): dated now, signed again
    sample = post(running, str(ROOT / "events" / "webhook-project-created.json"))
    assert sample.returncode == 0, sample.stderr
    assert '"status":"published"' in sample.stdout
    # A raw Toggl body: to its own trigger's route, signed with the stack's secret
    raw = deliveries.sample("time-entry-updated", 77_000_001)
    raw["payload"]["id"] = raw["metadata"]["time_entry_id"] = 77_000_001
    (tmp_path / "raw.json").write_text(json.dumps(raw))
    posted = post(running, str(tmp_path / "raw.json"))
    assert posted.returncode == 0 and posted.stdout.startswith("POST /webhooks/time-entry-updated -> 200"), posted
    # An IAM route's event: signed with the local key pair
    assert post(running, str(ROOT / "events" / "query-me.json")).returncode == 0
    published = wait_for(client, offset, {"Project Created", "Time Entry Updated"}, timeout=20)
    assert {e["detail"]["event_id"] for e in published} >= {77_000_001, json.loads(json.loads(
        (ROOT / "events" / "webhook-project-created.json").read_text())["body"])["event_id"]}  # fmt: skip


def test_make_post_mistakes_are_one_line(running: Running, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not json")
    (tmp_path / "other.json").write_text('{"hello": "world"}')
    stale, garbage = tmp_path / "stale", tmp_path / "garbage"
    stale.mkdir()
    garbage.mkdir()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state = {**running.client.state, "pid": int(finished.stdout)}  # a make run that has ended
    (stale / "stack.json").write_text(json.dumps(state))
    (garbage / "stack.json").write_text("[1, 2")
    cases = [
        ((), None, "usage: make post EVENT="),
        (("no/such/file.json",), None, "no such file"),
        ((str(tmp_path / "notes.txt"),), None, "not a JSON file"),
        ((str(tmp_path / "other.json"),), None, "not an API Gateway event"),
        ((str(ROOT / "events" / "query-me.json"),), stale, "is not running any more"),
        ((str(ROOT / "events" / "query-me.json"),), garbage, "is not what make run writes"),
        ((str(ROOT / "events" / "query-me.json"),), tmp_path / "nowhere", "No local stack is running"),
    ]
    for argv, state_dir, says in cases:
        done = post(running, *argv, state_dir=state_dir)
        assert done.returncode != 0 and "Traceback" not in done.stderr, (argv, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, (argv, done.stderr)


def test_a_port_in_use_is_a_clear_error_and_harms_nothing(running: Running) -> None:
    # Given make run is up; When a second one starts on its API port, in the same directory
    ports = {**ANY_PORTS, "API": running.ports["API"]}
    env = {**running.env, **{f"TOGGL_LOCAL_{name}_PORT": str(port) for name, port in ports.items()}}
    second = subprocess.run([sys.executable, "-m", "local.run"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    # Then it says so in one line, and the first one and its stack.json are unharmed
    assert second.returncode == 1
    assert f"port {ports['API']} on 127.0.0.1 is in use" in second.stderr
    assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 1
    assert running.process.poll() is None
    assert (running.state_dir / "stack.json").exists()
    assert post(running, str(ROOT / "events" / "query-me.json")).returncode == 0  # make post still finds it
