"""``make demo`` (with ``make run`` running): every trigger, every action and every query through
the local API, and the events they produced on the bus; a timer started and stopped, an entry
logged, changed and deleted, and the last seven days' summary.

The scheduled functions (workspace poller, catch-up) run on the deployed stack's schedules, every
10 to 30 minutes: the demo runs them now, through make run's ``POST /_local/jobs/<logical id>``.
It needs a few of the sandbox's hourly ``/me`` requests (Toggl's 30; make run's sandbox allows
more by default, for exploring), and leaves enough for a ``make doctor`` after it; when fewer are
left, it says so and starts the sandbox's hour again, so that it passes whenever it is run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from local.emulator.sigv4 import LocalCredentials
from local.emulator.template import ROOT
from local.generators.sample_events import QUERY_EXAMPLES
from toggl_connection.webhooks import triggers
from toggl_connection_cli.doctor import QUOTA_LOW

TRIGGERS = frozenset(trigger.detail_type for trigger in triggers.TRIGGERS)
# The /me requests (30 an hour on every plan) one demo spends: the two jobs it runs, five queries
# (its stop names the timer it started, so it needs no /me read to find it).
DEMO_ME_REQUESTS = 7
# What a make doctor after the demo needs: three /me requests (GET /me, /me/organizations, the
# event filters), and QUOTA_LOW left for its quota check to pass.
DOCTOR_ME_REQUESTS = 3 + QUOTA_LOW


@dataclass
class LocalClient:
    state: dict[str, Any]

    @classmethod
    def from_state(cls) -> LocalClient:
        """The running make run, as its ``.local/stack.json`` describes it; a one-line exit when
        there is none, or the file is stale or not one."""
        path = Path(os.environ.get("TOGGL_LOCAL_DIR", str(ROOT / ".local"))) / "stack.json"
        if not path.exists():
            raise SystemExit("No local stack is running: start it with make run (in another terminal).")
        try:
            state = json.loads(path.read_text())
            pid = int(state["pid"])
        except (ValueError, KeyError, TypeError):
            raise SystemExit(f"{path} is not what make run writes: delete it and start make run.") from None
        if not _alive(pid):
            raise SystemExit(f"The make run that wrote {path} is not running any more: start make run again.")
        return cls(state)

    @property
    def api(self) -> str:
        return str(self.state["api"])

    @property
    def credentials(self) -> LocalCredentials:
        return LocalCredentials(self.state["access_key_id"], self.state["secret_access_key"], self.state["region"])

    def signed(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        url = self.api + path
        signed = self.credentials.sign(method, url, body, headers)
        return requests.request(method, url, data=body, headers=signed, timeout=60)

    def toggl(self, method: str, path: str, body: Any = None) -> Any:
        """A change made in Toggl, as a person in Toggl's app would make it."""
        response = requests.request(
            method, self.state["toggl"] + path, json=body, auth=(self.state["toggl_token"], "api_token"), timeout=30
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def events_since(self, offset: int) -> list[dict[str, Any]]:
        with open(self.state["events"]) as events:
            events.seek(offset)
            return [json.loads(line) for line in events if line.strip()]

    def events_offset(self) -> int:
        return Path(self.state["events"]).stat().st_size

    def run_job(self, logical_id: str) -> dict[str, Any]:
        """Run a scheduled function of make run now (it would run on its schedule anyway)."""
        response = self.signed("POST", f"/_local/jobs/{logical_id}")
        result: dict[str, Any] = response.json()
        if response.status_code != 200:
            raise SystemExit(f"make run could not run {logical_id}: {result.get('message')}")
        return result

    def me_quota_left(self) -> tuple[int, int]:
        """(requests left, seconds until one frees) of the sandbox's hourly /me quota, spending none."""
        found = requests.get(self.state["toggl"] + "/_sandbox/quota", timeout=30).json()
        spent = [s for s in found["spent"] if s["scope"] == "me"]  # the seeded account has one user
        used = max((s["used"] for s in spent), default=0)
        return found["me_limit"] - used, max((s["resets_in"] for s in spent), default=0)

    def sandbox_limits(self) -> str | None:
        """The hourly limits the sandbox plays, in words (for doctor's quota check), spending no
        quota; None when the sandbox does not say (not running, or not one that reports them)."""
        try:
            found = requests.get(self.state["toggl"] + "/_sandbox/quota", timeout=10).json()
            me, toggl_me, organizations = found["me_limit"], found["toggl_me_limit"], found["organizations"]
            scale = int(found["scale"])
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return None
        if scale == 1 and me == toggl_me and all(o["limit"] == o["toggl_limit"] for o in organizations):
            each = [f"{o['limit']} for organization {o['id']} ({str(o['plan']).capitalize()})" for o in organizations]
            return f"sandbox limits: Toggl's ({', '.join([f'{me} /me an hour', *each])})"
        each = [
            f"{o['limit']} for organization {o['id']} (Toggl's on {str(o['plan']).capitalize()}: {o['toggl_limit']})"
            for o in organizations
        ]
        mine = f"{me} /me an hour" if me is not None else "no /me limit"
        said = ", ".join([f"{mine} (Toggl's: {toggl_me})", *each])
        if scale > 1:
            return f"sandbox limits for exploring: {said}; TOGGL_LOCAL_TOGGL_LIMITS=toggl plays Toggl's"
        return f"sandbox limits: {said}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def action_requests(state: dict[str, Any], stamp: int) -> dict[str, dict[str, Any]]:
    """One request per action, new each time (``stamp``), for the local stack's account."""
    return {
        "create-client": {"name": f"Demo client {stamp}"},
        "create-user-invitation": {"emails": [f"demo.{stamp}@example.com"]},
        "add-project-member": {"project_id": state["project_id"], "user_id": state["member_id"]},
        "create-task": {"project_id": state["project_id"], "name": f"Demo task {stamp}"},
    }


def wait_for(client: LocalClient, offset: int, wanted: set[str], timeout: float = 40.0) -> list[dict[str, Any]]:
    return wait_until(client, offset, lambda events: wanted <= {e["detail-type"] for e in events}, timeout)


def wait_until(
    client: LocalClient, offset: int, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 40.0
) -> list[dict[str, Any]]:
    """The events since ``offset`` once ``done(events)`` holds (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        events = client.events_since(offset)
        if done(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


def catch_up_demo(client: LocalClient) -> bool:
    """A change made while Toggl cannot deliver webhooks arrives through catch-up; when delivery
    comes back, the late webhook publishes nothing."""
    wid = client.state["workspace_id"]
    print("\n== Catch-up: a change made while webhook delivery is switched off ==")
    client.toggl("POST", "/_sandbox/webhooks", {"delivering": False})
    offset = client.events_offset()
    entry = client.toggl("POST", f"/api/v9/workspaces/{wid}/time_entries", {"description": "Missed", "duration": -1})
    print(f"time entry {entry['id']} created; running the catch-up now (deployed: every 10 minutes)...")

    def ours(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in events if e["detail"]["entity_id"] == entry["id"]]

    client.run_job("CatchUpFunction")
    events = ours(wait_until(client, offset, lambda found: bool(ours(found)), timeout=20))
    for event in events:
        print(
            f"  {event['detail-type']:<20} entity_id={event['detail']['entity_id']:<10} "
            f"origin={event['detail']['origin']:<8} event_id={event['detail']['event_id']}"
        )
    released = client.toggl("POST", "/_sandbox/webhooks", {"delivering": True})
    time.sleep(3)  # room for the late webhook delivery to be published, if it were
    after = ours(client.events_since(offset))
    print(
        f"webhook delivery switched on again: {released['held_or_released']} late delivery(ies) sent; "
        f"events for this entry on the bus: {len(after)}"
    )
    return len(after) == 1 and after[0]["detail"]["origin"] == "catch-up"


def show_events(client: LocalClient, offset: int, entity_ids: set[int], wanted: int) -> list[dict[str, Any]]:
    """The events of these entities since ``offset``, printed once ``wanted`` of them arrived."""

    def ours(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in events if e["detail"].get("entity_id") in entity_ids]

    events = ours(wait_until(client, offset, lambda found: len(ours(found)) >= wanted, timeout=30))
    for event in events:
        d = event["detail"]
        print(f"  {event['detail-type']:<20} entity_id={d['entity_id']:<10} origin={d['origin']}")
    return events


def time_tracking_demo(client: LocalClient) -> bool:
    """A timer started and stopped, an entry logged, changed and deleted, and the week's summary,
    through the IAM-signed action and query routes; each change's event on the bus."""
    print("\n== Tracking time: IAM-signed actions, and their events on the bus ==")
    offset = client.events_offset()
    project_id = client.state["project_id"]

    def act(name: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        response = client.signed("POST", f"/actions/{name}", json.dumps(body).encode(), headers)
        answer: dict[str, Any] = response.json()
        print(f"  POST /actions/{name:<24} -> {response.status_code} {_short(answer)}")
        return answer

    timer = act("start-time-entry", {"description": "Write the report", "project_id": project_id})
    act("stop-time-entry", {"time_entry_id": timer.get("id")})
    start = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"start": start, "duration": 7200, "description": "Design review", "project_id": project_id}
    logged = act("create-time-entry", body)
    act("update-time-entry", {"time_entry_id": logged["id"], "description": "Design review with Ana"})
    # The last seven days (both ends count): the entry logged three hours ago is in them whatever
    # the hour, as it would not be in "this month" just after midnight on the first
    today = datetime.now(UTC).date()
    params = {"start_date": str(today - timedelta(days=6)), "end_date": str(today)}
    response = client.signed("GET", f"/queries/summary-report?{urlencode(params)}")
    summary = response.json()
    groups = ", ".join(f"{g['name'] or 'no project'}: {g['seconds']} s" for g in summary.get("items", []))
    print(f"  GET /queries/summary-report          -> {response.status_code} {groups or 'no time'} (the last 7 days)")
    act("delete-time-entry", {"time_entry_id": logged["id"]})
    print("their events on the bus:")
    # A start (Created), its stop (Updated), a log (Created), its change (Updated), its delete (Deleted).
    events = show_events(client, offset, {int(timer.get("id", 0)), int(logged.get("id", 0))}, wanted=5)
    kinds = sorted(e["detail-type"] for e in events)
    expected = sorted(["Time Entry Created"] * 2 + ["Time Entry Updated"] * 2 + ["Time Entry Deleted"])
    return response.status_code == 200 and kinds == expected


def ensure_quota(client: LocalClient) -> None:
    """Start the sandbox's hour again when it has fewer /me requests left than the demo and a
    make doctor after it need."""
    left, resets_in = client.me_quota_left()
    needed = DEMO_ME_REQUESTS + DOCTOR_ME_REQUESTS
    if left < needed:
        requests.post(client.state["toggl"] + "/_sandbox/quota", json={"reset": True}, timeout=30).raise_for_status()
        print(
            f"(the sandbox had {left} of its hourly /me requests left, the demo and a make doctor after it "
            f"need {needed}: its hour starts again now; Toggl would make you wait {resets_in} s)"
        )


def recent_dates(params: dict[str, str]) -> dict[str, str]:
    """A query's dates moved to the last 30 days, so that what the demo made is in range."""
    today = datetime.now(UTC).date()
    moved = {"start_date": str(today - timedelta(days=30)), "end_date": str(today + timedelta(days=1))}
    return {k: moved.get(k, v) for k, v in params.items()}


def main() -> int:
    client = LocalClient.from_state()
    wid, oid = client.state["workspace_id"], client.state["organization_id"]
    ensure_quota(client)
    offset = client.events_offset()
    print("== Triggers: changes made in Toggl (the sandbox), delivered as signed webhooks ==")
    entry = client.toggl("POST", f"/api/v9/workspaces/{wid}/time_entries", {"description": "Demo", "duration": -1})
    client.toggl("PUT", f"/api/v9/workspaces/{wid}/time_entries/{entry['id']}", {"description": "Demo, renamed"})
    client.toggl("DELETE", f"/api/v9/workspaces/{wid}/time_entries/{entry['id']}")
    project = client.toggl("POST", f"/api/v9/workspaces/{wid}/projects", {"name": f"Demo {int(time.time())}"})
    client.toggl("PUT", f"/api/v9/workspaces/{wid}/projects/{project['id']}", {"name": project["name"] + " v2"})
    client.toggl("DELETE", f"/api/v9/workspaces/{wid}/projects/{project['id']}")
    workspace = client.toggl("POST", f"/api/v9/organizations/{oid}/workspaces", {"name": "Demo workspace"})
    print(
        f"time entry {entry['id']} created, updated, deleted; project {project['id']} created, updated, "
        f"deleted; workspace {workspace['id']} created"
    )
    print("running the workspace poller now (deployed: every 30 minutes), for Workspace Created...")
    client.run_job("WorkspacePollerFunction")
    events = wait_for(client, offset, set(TRIGGERS))
    print(f"\n{len(events)} event(s) on the bus:")
    for event in events:
        d = event["detail"]
        print(
            f"  {event['detail-type']:<20} entity_id={d['entity_id']:<10} origin={d['origin']:<8} "
            f"event_id={d['event_id']}"
        )
    missing = set(TRIGGERS) - {e["detail-type"] for e in events}
    if missing:
        print(f"  still waiting for: {', '.join(sorted(missing))}")
    caught_up = catch_up_demo(client)

    print("\n== Actions: IAM-signed POSTs ==")
    stamp = int(time.time())
    for name, body in action_requests(client.state, stamp).items():
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"demo-{name}-{stamp}"}
        response = client.signed("POST", f"/actions/{name}", json.dumps(body).encode(), headers)
        print(f"  POST /actions/{name:<24} -> {response.status_code} {_short(response.json())}")
    unsigned = requests.post(client.api + "/actions/create-client", json={"name": "x"}, timeout=30)
    print(f"  POST /actions/create-client (unsigned) -> {unsigned.status_code} {unsigned.json()['message']}")

    tracked = time_tracking_demo(client)

    print("\n== Queries: IAM-signed GETs ==")
    for name, params in QUERY_EXAMPLES.items():
        params = recent_dates({k: v for k, v in params.items() if k != "workspace_id"})  # the default workspace
        response = client.signed("GET", f"/queries/{name}" + (f"?{urlencode(params)}" if params else ""))
        body = response.json()
        summary = (
            f"{body['count']} item(s), truncated={body['truncated']}"
            if "items" in body
            else "item"
            if body.get("item") is not None
            else "no item"
            if "item" in body
            else body
        )
        print(
            f"  GET /queries/{name:<20} -> {response.status_code} {summary}, "
            f"toggl_requests={body.get('toggl_requests')}"
        )
    return 0 if not missing and caught_up and tracked else 1


def _short(body: Any) -> str:
    if isinstance(body, dict) and "data" in body:
        body = body["data"][0] if body["data"] else body
    if isinstance(body, dict):
        shown = ("id", "invitation_id", "name", "email", "description", "duration", "project_id", "user_id")
        keys = [k for k in (*shown, "deleted", "time_entry_id", "already_stopped", "error") if k in body]
        return "{" + ", ".join(f"{k}: {body[k]}" for k in keys) + "}"
    return str(body)[:80]


if __name__ == "__main__":
    sys.exit(main())
