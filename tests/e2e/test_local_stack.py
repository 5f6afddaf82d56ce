"""``make run`` end to end: the local stack as a process of its own, driven over real HTTP on
loopback. Triggers from the Toggl sandbox, actions and queries signed and unsigned, a restart,
a port already in use, and nothing left behind."""

from __future__ import annotations

import json
import os
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

from local.demo import TRIGGERS, LocalClient, action_requests, wait_for
from local.sample_events import QUERY_EXAMPLES, refreshed
from local.template import ROOT
from tests.servers import free_port


@dataclass
class Running:
    process: subprocess.Popen[str]
    state_dir: Path
    env: dict[str, str]

    @property
    def client(self) -> LocalClient:
        return LocalClient(json.loads((self.state_dir / "stack.json").read_text()))


def start(state_dir: Path, ports: dict[str, int]) -> Running:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TOGGL_"))},
        "PYTHONPATH": f"{ROOT / 'layers' / 'toggl' / 'python'}:{ROOT}",
        "TOGGL_LOCAL_DIR": str(state_dir), "TOGGL_LOCAL_POLL_SECONDS": "1", "TOGGL_LOCAL_HEALTH_SECONDS": "3600",
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
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def ports() -> dict[str, int]:
    return {"API": free_port(), "MOTO": free_port(), "TOGGL": free_port()}


@pytest.fixture
def running(tmp_path: Path, ports: dict[str, int]) -> Iterator[Running]:
    stack = start(tmp_path, ports)
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
    time.sleep(1.5)  # room for a duplicate to show up, if there were one
    events = client.events_since(offset)
    assert sorted(e["detail-type"] for e in events) == sorted(TRIGGERS)
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


def test_the_local_stack_end_to_end_and_again_after_a_restart(
    running: Running, tmp_path: Path, ports: dict[str, int]
) -> None:
    # Given make run is up
    client = running.client
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
    printed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sorted(e["detail-type"] for e in printed) == sorted(TRIGGERS)  # stdout: the events, one per line
    assert all(port_is_free(port) for port in ports.values())
    assert not (tmp_path / "stack.json").exists()
    # When it starts again, it all works again
    again = start(tmp_path, ports)
    try:
        client = again.client
        offset = client.events_offset()
        assert_each_trigger_once(client, offset, make_every_change(client))
        call_actions_and_queries(client)
    finally:
        code, _, err = stop(again)
    assert code == 0, err
    assert all(port_is_free(port) for port in ports.values())


def test_a_signed_delivery_posted_by_hand_reaches_events_jsonl(running: Running) -> None:
    client = running.client
    offset = client.events_offset()
    event = refreshed(json.loads((ROOT / "events" / "webhook-project-created.json").read_text()))
    response = requests.post(client.api + event["path"], data=event["body"].encode(), headers=event["headers"],
                             timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    (published,) = wait_for(client, offset, {"Project Created"}, timeout=20)
    assert published["detail"]["event_id"] == json.loads(event["body"])["event_id"]
    assert published["source"] == "toggl.track"


def test_a_port_in_use_is_a_clear_error(running: Running, tmp_path: Path, ports: dict[str, int]) -> None:
    env = {**running.env, "TOGGL_LOCAL_DIR": str(tmp_path / "second")}
    second = subprocess.run([sys.executable, "-m", "local.run"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert second.returncode == 1
    assert f"port {ports['API']} on 127.0.0.1 is in use" in second.stderr
    assert "Traceback" not in second.stderr
    assert running.process.poll() is None  # the first one is unharmed
