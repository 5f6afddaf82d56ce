"""The connection against the sandbox's other reading of everything Toggl's documents leave open
(``behaviour.STRICT``): header names in lower case, no ``workspace/created`` in the event filters
and unlisted filters refused, bare quota 402s, a 404 when nothing runs, duplicate client names
allowed, one Reports cursor header, and the time-tracking readings (``behaviour.py``). Over real
HTTP on loopback, handlers as SAM runs them."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from local.toggl_sandbox import Fault, Sandbox, deliveries
from local.toggl_sandbox import webhooks as sandbox_webhooks
from local.toggl_sandbox.behaviour import STRICT, Behaviour
from local.toggl_sandbox.state import Seeded
from tests.conftest import CANARY_TOKEN
from tests.connection import Connection, body_of
from tests.contract import TRIGGERS as CONTRACT_TRIGGERS
from tests.e2e.test_queries import add_entries
from tests.servers import Hooked
from toggl_connection_cli.cli import run as cli

SIX = CONTRACT_TRIGGERS - {"Workspace Created"}


@pytest.fixture
def behaviour() -> Behaviour:
    return STRICT


def sync(hooked: Hooked, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any]:
    monkeypatch.setenv("TOGGL_API_TOKEN", CANARY_TOKEN)
    monkeypatch.setenv("TOGGL_WEBHOOK_SECRET", deliveries.TEST_SECRET)
    argv = [
        "subscriptions",
        "sync",
        "--json",
        "--api-url",
        hooked.toggl.url,
        "--webhook-base-url",
        hooked.api,
        "--workspace-id",
        str(hooked.seeded.workspace["id"]),
        "--name",
        "strict",
    ]
    out = io.StringIO()
    code = cli(argv, out)
    return code, json.loads(out.getvalue())


@pytest.mark.parametrize(("plan", "subscriptions"), [("free", 1), ("enterprise", 6)])
def test_sync_against_a_toggl_without_workspace_created_succeeds_and_delivers_six_triggers(
    hooked: Hooked,
    monkeypatch: pytest.MonkeyPatch,
    plan: str,
    subscriptions: int,
) -> None:
    # Given a Toggl whose event filters do not offer workspace/created and refuse unlisted ones
    hooked.seeded.organization["plan"] = plan
    # When the command line syncs
    code, report = sync(hooked, monkeypatch)
    # Then it succeeds for the six triggers Toggl offers, and says Workspace Created is polled
    assert code == 0, report
    assert report["not_offered"] == ["Workspace Created"] and report["polled"] == ["Workspace Created"]
    assert not report["not_fitted"] and not report["unvalidated"]
    assert "polled instead: Workspace Created (workspace poller)" in report["layout"]
    ours = list(sandbox_webhooks.state(hooked.toggl).subscriptions.values())
    assert len(ours) == subscriptions and all(s["enabled"] and s["validated_at"] for s in ours)
    assert all(f["entity"] != "workspace" for s in ours for f in s["event_filters"])
    # And the six triggers are delivered, each once
    hooked.six_changes()
    assert sorted(e["detail-type"] for e in hooked.connection.bus_events()) == sorted(SIX)
    # And a second sync is a no-op
    code, again = sync(hooked, monkeypatch)
    assert code == 0 and not (again["created"] or again["updated"] or again["deleted"] or again["enabled"])
    assert len(again["unchanged"]) == subscriptions
    # And the validation URL of these PINGs (on the sandbox, not on Toggl's hosts) was never called
    assert hooked.toggl.calls("GET", "/webhooks/api/v1/validate") == []


def test_workspace_created_still_reaches_the_bus_through_the_poller(hooked: Hooked) -> None:
    assert hooked.connection.invoke("WorkspacePollerFunction", {})["status"] == "baseline"
    oid = hooked.seeded.organization["id"]
    workspace = hooked.toggl_call("POST", f"/api/v9/organizations/{oid}/workspaces", {"name": "Polled"})
    assert hooked.connection.invoke("WorkspacePollerFunction", {})["published"] == 1
    (event,) = hooked.connection.bus_events()
    assert (event["detail-type"], event["detail"]["entity_id"]) == ("Workspace Created", workspace["id"])


def test_the_custom_resource_succeeds_without_workspace_created(hooked: Hooked, cloudformation: Any) -> None:
    hooked.seeded.organization["plan"] = "free"
    answer = hooked.setup(cloudformation, "Create")
    assert answer["Status"] == "SUCCESS", answer
    assert "not offered by Toggl: Workspace Created" in answer["Data"]["Status"]


@pytest.mark.parametrize("listed", [True, False])
def test_a_filter_toggl_refuses_is_dropped_and_the_sync_goes_on(
    hooked: Hooked, monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    # Given a Toggl that refuses workspace/created whether or not its listing offers it
    hooked.toggl.behaviour = Behaviour(offers_workspace_created=listed, refuses_unlisted_filters=True)
    sandbox_webhooks.state(hooked.toggl).refused_filters.add(("workspace", "created"))
    hooked.seeded.organization["plan"] = "enterprise"
    code, report = sync(hooked, monkeypatch)
    assert code == 0, report
    assert report["dropped_filters"] == (["workspace/created"] if listed else [])
    assert len(report["created"]) == 6 and report["polled"] == ["Workspace Created"]


def test_the_detailed_report_is_read_whole_with_lower_case_headers_and_one_cursor_header(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    add_entries(seeded, 175)
    body = toggl_connection.invoke(
        "QueryFunction",
        {"query": "detailed-report", "params": {"workspace_id": seeded.workspace["id"], "start_date": "2026-11-01"}},
    )
    assert (body["count"], body["truncated"], body["toggl_requests"]) == (175, False, 4)
    assert len({row["time_entries"][0]["id"] for row in body["items"]}) == 175
    assert body["quota"]["remaining"] >= 0  # read from x-toggl-quota-remaining
    pages = toggl.calls("POST", "/reports/api/v3")
    assert [p.body.get("first_id") is not None for p in pages] == [False, True, True, True]
    assert all("first_row_number" not in p.body for p in pages)  # only what Toggl sent is sent back


def test_a_bare_quota_402_is_quota_not_a_plan(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded) -> None:
    toggl.quota_per_hour = 0
    response = toggl_connection.post_json(
        "/actions/create-client", {"workspace_id": seeded.workspace["id"], "name": "No quota"}
    )
    assert response["statusCode"] == 429 and body_of(response)["error"] == "quota_exhausted"
    assert toggl.requests[-1].status == 402 and len(toggl.requests) == 1  # not retried


def test_nothing_running_is_a_null_item_when_toggl_answers_404(toggl_connection: Connection, toggl: Sandbox) -> None:
    body = toggl_connection.invoke("QueryFunction", {"query": "current-time-entry", "params": {}})
    assert body["item"] is None and toggl.requests[-1].status == 404


def test_with_duplicate_names_allowed_a_lost_answer_still_makes_one_client(
    toggl_connection: Connection, toggl: Sandbox, seeded: Seeded
) -> None:
    toggl.fail(Fault(status=502, times=1, method="POST", after=True))
    response = toggl_connection.post_json(
        "/actions/create-client", {"workspace_id": seeded.workspace["id"], "name": "Strictly once"}
    )
    assert response["statusCode"] == 200 and body_of(response)["found_existing"] is True
    assert sum(1 for c in seeded.world.clients.values() if c["name"] == "Strictly once") == 1


def test_whatever_order_time_entry_ids_come_in_no_time_entry_is_created_twice(hooked: Hooked) -> None:
    from tests.e2e.test_catch_up import World, catch_up, delivering, expire_records, on_bus, subscribe

    world = World(subscribe(hooked))
    # Given an entry from before the baseline (stopped: a new running entry would stop it, and
    # this reading announces that stop), and Toggl handing out ever smaller ids
    before = world.entry("before the baseline")
    hooked.toggl_call("PATCH", f"{world.ws}/time_entries/{before}/stop")
    hooked.settle()
    on_bus(hooked)
    assert catch_up(hooked)["status"] == "baseline"
    after = world.entry("after the baseline")
    assert after < before
    hooked.settle()
    assert on_bus(hooked) == [("Time Entry Created", after, "webhook")]
    assert catch_up(hooked)["published"] == 0
    # When both are edited eight days later, the records gone and the webhooks down
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8), tick=True):
        expire_records(hooked)
        delivering(hooked, False)
        world.update_entry(before)
        world.update_entry(after)
        catch_up(hooked)
    # Then both are Updated: neither is Created (again)
    assert sorted(on_bus(hooked)) == sorted(
        [("Time Entry Updated", before, "catch-up"), ("Time Entry Updated", after, "catch-up")]
    )
