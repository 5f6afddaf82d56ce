"""``make run`` end to end: the local stack as a process of its own, driven over real HTTP on
loopback. Triggers from the Toggl sandbox, actions and queries signed and unsigned, a restart,
a port already in use, and nothing left behind."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local.commands.demo import DEMO_ME_REQUESTS, DOCTOR_ME_REQUESTS, TRIGGERS, LocalClient, action_requests, wait_for
from local.emulator.template import ROOT
from local.generators.sample_events import QUERY_EXAMPLES
from local.toggl_sandbox import deliveries
from toggl_connection_cli.doctor import QUOTA_LOW


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
        return {
            name: int(str(state[key]).rsplit(":", 1)[1])
            for name, key in (("API", "api"), ("MOTO", "moto"), ("TOGGL", "toggl"))
        }


ANY_PORTS = {"API": 0, "MOTO": 0, "TOGGL": 0}
# make run's line, once, after the first request an IAM route refused as unsigned or wrongly signed
SIGNING_HINT = re.compile(
    r"  \^ that request (was not signed|was refused for its signature \(.*\)): IAM routes need SigV4"
)
# make run with the sandbox playing Toggl's exact hourly quotas (30 /me requests, the plan's own)
TOGGL_LIMITS = {"TOGGL_LOCAL_TOGGL_LIMITS": "toggl"}
LOCAL_PAGE = (ROOT / "docs" / "local.md").read_text()
RUN_SECRET = "local-run-secret-not-the-test-one"


def start(state_dir: Path, ports: dict[str, int] = ANY_PORTS, settings: dict[str, str] | None = None) -> Running:
    """make run as a process of its own; its jobs on the deployed schedules unless ``settings`` say
    otherwise (a test runs the one it needs with ``LocalClient.run_job``, as make demo does)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TOGGL_"))},
        "PYTHONPATH": f"{ROOT / 'layers' / 'toggl' / 'python'}:{ROOT}",
        "TOGGL_LOCAL_DIR": str(state_dir),
        **(settings or {}),
        # not the secret events/ are signed with: make post must sign with the stack's own
        "TOGGL_WEBHOOK_SECRET": RUN_SECRET,
        **{f"TOGGL_LOCAL_{name}_PORT": str(port) for name, port in ports.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local.commands.local_stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while not written_by(state_dir / "stack.json", process.pid):
        if process.poll() is not None:
            raise AssertionError(f"make run exited: {process.stderr.read() if process.stderr else ''}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("make run did not become ready")
        time.sleep(0.2)
    return Running(process, state_dir, env)


def written_by(state_file: Path, pid: int) -> bool:
    try:
        return bool(json.loads(state_file.read_text())["pid"] == pid)
    except (OSError, ValueError, KeyError):
        return False  # not there yet, or half written


def stop(running: Running) -> tuple[int, str, str]:
    running.process.send_signal(signal.SIGINT)
    out, err = running.process.communicate(timeout=30)
    return running.process.returncode, out, err


def port_is_free(port: int) -> bool:
    """Free for make run, which binds with SO_REUSEADDR: no one listens on it (a connection left
    in TIME_WAIT does not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ports_no_one_else_is_given() -> dict[str, int]:
    """Free ports below the kernel's ephemeral range: a server elsewhere asking for port 0 (other
    tests run alongside) is never given one of them, so a restart finds them still free."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    chosen: dict[str, int] = {}
    for name in ANY_PORTS:
        port = random.randrange(max(1024, low - 12_000), low)
        while port in chosen.values() or not port_is_free(port):
            port = random.randrange(max(1024, low - 12_000), low)
        chosen[name] = port
    return chosen


def all_ports_free(ports: dict[str, int], seconds: float = 5.0) -> bool:
    """Every port free again, allowing the kernel a moment to finish closing a dead process's
    sockets."""
    deadline = time.monotonic() + seconds
    while not all(port_is_free(port) for port in ports.values()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
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
    client.run_job("WorkspacePollerFunction")  # Workspace Created, polled
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


@pytest.fixture
def running_on_own_ports(tmp_path: Path) -> Iterator[Running]:
    stack = start(tmp_path, ports_no_one_else_is_given())
    yield stack
    if stack.process.poll() is None:
        os.killpg(stack.process.pid, signal.SIGKILL)
        stack.process.wait(timeout=10)


def test_the_local_stack_end_to_end_and_again_after_a_restart(running_on_own_ports: Running, tmp_path: Path) -> None:
    # Given make run is up (on ports no other test can be given while it is down)
    running = running_on_own_ports
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
    # stderr: the banner, then one short line per request, and once each how to sign (an unsigned
    # request, a wrongly signed one); the functions' logs and metrics elsewhere
    after_banner = err.split("Ctrl-C stops everything.", 1)[1].strip().splitlines()
    request_line = re.compile(r"(GET|POST|PUT|PATCH|DELETE) \S+ -> \d{3} \(\d+ ms\)")
    others = [line for line in after_banner if not request_line.fullmatch(line)]
    hints = [line for line in others if SIGNING_HINT.match(line)]
    assert len(hints) == 2 and "not signed" in hints[0] and "refused for its signature" in hints[1], hints
    assert [line for line in others if line not in hints] == ["stopping...", "stopped."], others[:5]
    assert (tmp_path / "functions.log").read_text().count('"_aws"') > 0  # the metrics went there
    printed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sorted(e["detail-type"] for e in printed) == sorted(TRIGGERS)  # stdout: the events, one per line
    assert all_ports_free(ports)
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
    assert all_ports_free(ports)


def post(running: Running, *argv: str, state_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``make post EVENT=...``, as a process of its own."""
    env = {**running.env, "TOGGL_LOCAL_DIR": str(state_dir or running.state_dir)}
    env.pop("TOGGL_WEBHOOK_SECRET")  # make post finds the secret in stack.json, not in its environment
    return subprocess.run(
        [sys.executable, "-m", "local.commands.post", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


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
    assert {e["detail"]["event_id"] for e in published} >= {
        77_000_001,
        json.loads(json.loads((ROOT / "events" / "webhook-project-created.json").read_text())["body"])["event_id"],
    }


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


def fresh_env(state_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    """A make run's environment with nothing of ours inherited: its state in ``state_dir``, its
    ports as given (any the mapping leaves out: 0, any free port)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TOGGL_"))}
    return {
        **inherited,
        "PYTHONPATH": f"{ROOT / 'layers' / 'toggl' / 'python'}:{ROOT}",
        "TOGGL_LOCAL_DIR": str(state_dir),
        **{f"TOGGL_LOCAL_{name}_PORT": str(ports.get(name, 0)) for name in ANY_PORTS},
    }


def run_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A make run that is expected to stop at once."""
    return subprocess.run(
        [sys.executable, "-m", "local.commands.local_stack"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_a_second_make_run_in_the_same_folder_says_so_and_harms_nothing(running: Running) -> None:
    # Given make run is up; When a second one starts in the same folder, on ports of its own
    second = run_once(running.env)
    # Then it says so in one line and stops, and the first one and its stack.json are unharmed
    assert second.returncode == 1
    assert f"another make run (pid {running.process.pid}) uses {running.state_dir}" in second.stderr
    assert "TOGGL_LOCAL_DIR" in second.stderr
    assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 1
    assert running.process.poll() is None
    assert json.loads((running.state_dir / "stack.json").read_text())["pid"] == running.process.pid
    assert post(running, str(ROOT / "events" / "query-me.json")).returncode == 0  # make post still finds it


def test_a_make_run_still_starting_holds_its_folder_too(tmp_path: Path) -> None:
    # Given a make run that has taken its folder but written no stack.json yet (this process, here)
    import fcntl

    with (tmp_path / "run.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        env = fresh_env(tmp_path, {})
        # When another starts there, Then it says so in one line and stops, writing nothing
        done = run_once(env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"make run: another make run (pid {os.getpid()}) uses {tmp_path}: stop it, "
        "or give this one its own folder with TOGGL_LOCAL_DIR"
    ], done.stderr
    assert not (tmp_path / "stack.json").exists()


def test_the_jobs_route_runs_a_scheduled_function_for_a_signed_caller_only(running: Running) -> None:
    client = running.client
    unsigned = requests.post(client.api + "/_local/jobs/CatchUpFunction", timeout=30)
    assert unsigned.status_code == 403 and unsigned.json()["message"] == "Missing Authentication Token"
    unknown = client.signed("POST", "/_local/jobs/QueryFunction")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    ran = client.run_job("WorkspacePollerFunction")
    assert ran["function"] == "WorkspacePollerFunction" and ran["result"]["status"] == "polled"


def test_two_make_runs_in_two_folders_run_side_by_side(running: Running, tmp_path: Path) -> None:
    # Given a stale stack.json (a make run that was killed) in another folder
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "stack.json").write_text(json.dumps({**running.client.state, "pid": 2**22 + 1}))
    # When a second make run starts there, Then it starts, and each make post reaches its own stack
    other = start(other_dir)
    try:
        assert other.client.state["pid"] == other.process.pid
        assert post(running, str(ROOT / "events" / "query-me.json")).returncode == 0
        assert post(other, str(ROOT / "events" / "query-me.json")).returncode == 0
    finally:
        code, _, err = stop(other)
    # And stopping one leaves the other's state alone
    assert code == 0, err
    assert not (other_dir / "stack.json").exists()
    assert (running.state_dir / "stack.json").exists()
    assert post(running, str(ROOT / "events" / "query-me.json")).returncode == 0


@pytest.mark.parametrize("server", ["MOTO", "TOGGL", "API"])
def test_a_port_in_use_is_one_line_naming_the_port_and_its_variable(server: str, tmp_path: Path) -> None:
    # Given something (not a make run) holds a port; When make run is asked to use it
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = run_once(fresh_env(tmp_path, {server: port}))
    # Then one line names the port and the variable that moves it, and nothing is left behind
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"make run: port {port} on 127.0.0.1 is in use: stop what uses it (a running make run?) "
        f"or set TOGGL_LOCAL_{server}_PORT"
    ], done.stderr
    assert not (tmp_path / "stack.json").exists()


def me_requests_this_hour(client: LocalClient) -> int:
    left, _ = client.me_quota_left()
    limit: int = requests.get(client.state["toggl"] + "/_sandbox/quota", timeout=30).json()["me_limit"]
    return limit - left


def run_tool(running: Running, module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``make demo`` / ``make doctor``: a process of its own, finding the stack through its folder."""
    env = {k: v for k, v in running.env.items() if k != "TOGGL_WEBHOOK_SECRET"}
    return subprocess.run(
        [sys.executable, "-m", module, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def test_make_demo_on_the_default_schedules_passes_and_spends_what_the_readme_says(tmp_path: Path) -> None:
    # Given make run as it starts by default (its jobs every 10 to 30 minutes: none runs during the test)
    quiet = start(tmp_path)
    try:
        before = me_requests_this_hour(quiet.client)
        # When make demo runs, Then it passes (it runs the jobs it needs), within its /me budget
        demo = run_tool(quiet, "local.commands.demo")
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-2000:]
        spent = me_requests_this_hour(quiet.client) - before
        assert 0 < spent <= DEMO_ME_REQUESTS, spent
        # And a make doctor after it passes, within the /me requests the demo keeps for it
        doctor = run_tool(quiet, "local.commands.stack_doctor")
        assert doctor.returncode == 0 and doctor.stdout.rstrip().endswith("healthy"), doctor.stdout + doctor.stderr
        assert me_requests_this_hour(quiet.client) - before - spent <= DOCTOR_ME_REQUESTS - QUOTA_LOW
        assert re.search(
            rf"It needs {DEMO_ME_REQUESTS} of the sandbox's\s+hourly `/me` requests, and keeps "
            rf"{DOCTOR_ME_REQUESTS} for a `make doctor`",
            LOCAL_PAGE,
        )
        # And its output is the one docs/local.md shows, but for ids, times and durations
        shown = LOCAL_PAGE.split("```text\n== Triggers", 1)[1].split("```", 1)[0]
        assert as_a_shape(demo.stdout.split("== Triggers", 1)[1]) == as_a_shape(shown)
    finally:
        stop(quiet)


def as_a_shape(demo_output: str) -> list[list[str]]:
    """make demo's sections, each its lines in order of text (the bus's events arrive in no fixed
    order), with what differs from run to run masked: ids, times (long numbers), the seconds a
    stopped timer ran and a summary's seconds. Counts of items and events are kept."""
    sections: list[list[str]] = [[]]
    for line in demo_output.strip().splitlines():
        line = re.sub(r"\d{5,}", "N", line)
        line = re.sub(r"duration: [0-9]\b", "duration: D", line)
        line = re.sub(r": \d+ s\b", ": S s", line) if "summary-report" in line else line
        if line.startswith("== "):
            sections.append([])
        sections[-1].append(line)
    return [sorted(section) for section in sections]


def test_an_idle_make_run_keeps_its_quota_and_the_demo_and_doctor_pass_after_an_hour(tmp_path: Path) -> None:
    # Given make run with its hour played 120 times faster (its schedules and the sandbox's quota hour
    # alike), its sandbox playing Toggl's own quota (30 /me requests an hour)
    idle = start(tmp_path, settings={"TOGGL_LOCAL_TIME_SCALE": "120", **TOGGL_LIMITS})
    try:
        client = idle.client
        # When it is left alone for more than an hour of its own (30 s)
        time.sleep(45)
        # Then its jobs ran, spending /me requests at the deployed rate (2 polls + 6 catch-ups an hour)
        spent = me_requests_this_hour(client)
        assert 2 <= spent <= 8 + 2, spent
        # And make demo passes at once, on the quota the jobs left
        demo = run_tool(idle, "local.commands.demo")
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-2000:]
        assert "starts again" not in demo.stdout
        assert "origin=catch-up" in demo.stdout and "Workspace Created" in demo.stdout
        # And make doctor passes, every check
        doctor = run_tool(idle, "local.commands.stack_doctor", "--json")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert all(check["ok"] for check in json.loads(doctor.stdout)["checks"])
        # When the hour's /me requests are all spent by someone else, Then make demo still passes, and says why
        for _ in range(30):
            requests.get(
                client.state["toggl"] + "/api/v9/me", auth=(client.state["toggl_token"], "api_token"), timeout=30
            )
        again = run_tool(idle, "local.commands.demo")
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
        assert "its hour starts again now" in again.stdout
    finally:
        code, _, err = stop(idle)
    # And nothing failed in the background all that time, but for a job that met the quota the test
    # itself used up (a catch-up or poll every few seconds of this fast hour may fall in that window)
    assert code == 0, err
    after_banner = err.split("Ctrl-C stops everything.", 1)[1].strip().splitlines()
    request_line = re.compile(r"(GET|POST|PUT|PATCH|DELETE) \S+ -> \d{3} \(\d+ ms\)")
    quota_met = re.compile(r"(catch-up|workspace-poller): TogglQuotaExhausted: .*")
    # (and the one line on how to sign, after the demo's unsigned request)
    others = [line for line in after_banner if not request_line.fullmatch(line) and not SIGNING_HINT.match(line)]
    assert [line for line in others if not quota_met.fullmatch(line)] == ["stopping...", "stopped."], others
    assert len(others) - 2 <= 6, others  # only in that window: a few runs at most


def test_the_demo_starts_the_sandboxs_hour_again_only_when_it_is_short(
    hooked: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from local.commands.demo import ensure_quota, recent_dates

    needed = DEMO_ME_REQUESTS + DOCTOR_ME_REQUESTS
    client = LocalClient({"toggl": hooked.toggl.url})
    hooked.toggl.user_quota_per_hour = needed + 2
    hooked.toggl_call("GET", "/api/v9/me")
    ensure_quota(client)  # enough left: nothing happens
    assert client.me_quota_left()[0] == needed + 1 and capsys.readouterr().out == ""
    for _ in range(2):
        hooked.toggl_call("GET", "/api/v9/me")
    ensure_quota(client)  # too few left: a new hour, and a line that says why
    assert client.me_quota_left()[0] == needed + 2
    assert f"had {needed - 1} of its hourly /me requests left" in capsys.readouterr().out
    moved = recent_dates({"start_date": "2020-01-01", "end_date": "2020-01-31", "workspace_id": "1"})
    assert moved["workspace_id"] == "1" and moved["start_date"] > "2020-01-01" and moved["end_date"] > "2020-01-31"
