"""Catch-up end to end: the Toggl sandbox over HTTP with webhook delivery switched off and on, the
real catch-up function as SAM runs it, the real webhook functions behind the local API, moto.
Each change is on the bus once, whichever path saw it first."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import deliveries
from local.toggl_sandbox import Fault
from local.toggl_sandbox import webhooks as sandbox_webhooks
from local.toggl_sandbox.state import now
from tests.conftest import CANARY_TOKEN
from tests.servers import Hooked
from toggl_connection import aws_clients
from toggl_connection.errors import PublishFailed, TogglQuotaExhausted
from toggl_connection.subscriptions import Subscriptions
from toggl_connection.toggl_api import TogglClient


class World:
    """The account, changed as a person in Toggl's app would change it."""

    def __init__(self, hooked: Hooked) -> None:
        self.hooked = hooked
        self.ws = f"/api/v9/workspaces/{hooked.seeded.workspace['id']}"

    def entry(self, description: str) -> int:
        body = {"description": description, "duration": -1}
        return int(self.hooked.toggl_call("POST", self.ws + "/time_entries", body)["id"])

    def update_entry(self, ident: int) -> None:
        self.hooked.toggl_call("PUT", f"{self.ws}/time_entries/{ident}", {"description": "changed"})

    def delete_entry(self, ident: int) -> None:
        self.hooked.toggl_call("DELETE", f"{self.ws}/time_entries/{ident}")

    def project(self, name: str) -> int:
        return int(self.hooked.toggl_call("POST", self.ws + "/projects", {"name": name})["id"])

    def update_project(self, ident: int) -> None:
        self.hooked.toggl_call("PUT", f"{self.ws}/projects/{ident}", {"name": "renamed"})

    def delete_project(self, ident: int) -> None:
        self.hooked.toggl_call("DELETE", f"{self.ws}/projects/{ident}")


def next_second() -> None:
    """Wait until Toggl's clock (whole seconds, as its ``at`` fields) moves on: a change is one
    (entity, id, ``at``), so a creation and an update within one second are one change."""
    start = now()
    deadline = time.monotonic() + 3
    while now() == start and time.monotonic() < deadline:
        time.sleep(0.01)


def catch_up(hooked: Hooked) -> dict[str, Any]:
    result: dict[str, Any] = hooked.connection.invoke(
        "CatchUpFunction", {}, DEFAULT_WORKSPACE_ID=str(hooked.seeded.workspace["id"])
    )
    return result


def delivering(hooked: Hooked, on: bool) -> None:
    sandbox_webhooks.set_delivering(hooked.toggl, on)
    hooked.settle()


def on_bus(hooked: Hooked) -> list[tuple[str, int, str]]:
    return [(e["detail-type"], e["detail"]["entity_id"], e["detail"]["origin"]) for e in hooked.connection.bus_events()]


@pytest.fixture
def subscribed(hooked: Hooked) -> Hooked:
    hooked.seeded.organization["plan"] = "premium"
    toggl = TogglClient(hooked.toggl.url, CANARY_TOKEN)
    Subscriptions(toggl, hooked.seeded.workspace["id"], "catch-up-test").sync(hooked.api, deliveries.TEST_SECRET)
    return hooked


def test_changes_missed_by_the_webhooks_are_published_once_and_late_deliveries_are_duplicates(
    subscribed: Hooked,
) -> None:
    hooked, world = subscribed, World(subscribed)
    # Given entities that exist before the catch-up's baseline: two time entries and two projects
    # made in Toggl's app (their Created events came by webhook), and one time entry older than
    # the connection (in the account, no event ever)
    updated_entry, deleted_entry = world.entry("to update"), world.entry("to delete")
    updated_project, deleted_project = world.project("to rename"), world.project("to delete")
    hooked.settle()
    assert Counter(t for t, _, _ in on_bus(hooked)) == {"Time Entry Created": 2, "Project Created": 2}
    next_second()
    assert catch_up(hooked)["status"] == "baseline"
    # When webhook delivery is switched off and six things change
    delivering(hooked, False)
    created_entry = world.entry("new")
    world.update_entry(updated_entry)
    world.delete_entry(deleted_entry)
    created_project = world.project("new project")
    world.update_project(updated_project)
    world.delete_project(deleted_project)
    hooked.settle()
    assert on_bus(hooked) == []  # nothing came by webhook
    # Then the next catch-up publishes exactly those six, each once, with the right types
    result = catch_up(hooked)
    assert result["published"] == 6 and result["toggl_requests"] == 2
    assert sorted(on_bus(hooked)) == sorted([
        ("Time Entry Created", created_entry, "catch-up"), ("Time Entry Updated", updated_entry, "catch-up"),
        ("Time Entry Deleted", deleted_entry, "catch-up"), ("Project Created", created_project, "catch-up"),
        ("Project Updated", updated_project, "catch-up"), ("Project Deleted", deleted_project, "catch-up"),
    ])  # fmt: skip
    # And a third run publishes nothing
    assert catch_up(hooked)["published"] == 0 and on_bus(hooked) == []
    # And when delivery comes back, Toggl's late deliveries of the same six publish nothing
    delivering(hooked, True)
    late = [d for d in sandbox_webhooks.state(hooked.toggl).deliveries if d["delivered"]]
    assert len(late) >= 10  # the four before, and the six held back
    assert on_bus(hooked) == []


def test_a_change_delivered_by_webhook_first_is_not_published_again_by_catch_up(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    catch_up(hooked)  # baseline
    entry = world.entry("by webhook")
    next_second()
    world.update_entry(entry)
    project = world.project("by webhook")
    world.delete_project(project)
    hooked.settle()
    assert len(on_bus(hooked)) == 4 and all(origin == "webhook" for _, _, origin in on_bus(hooked))
    result = catch_up(hooked)
    assert (result["published"], result["duplicates"]) == (0, 2)  # the entry (its last state), the project
    assert on_bus(hooked) == []


def test_a_time_entry_older_than_the_connection_is_updated_not_created(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    # Given a time entry from before the connection (no event ever spoke of it)
    seeded = hooked.seeded
    old = {"id": seeded.world.next_id(), "workspace_id": seeded.workspace["id"], "wid": seeded.workspace["id"],
           "user_id": seeded.owner["id"], "uid": seeded.owner["id"], "description": "old", "billable": False,
           "start": "2026-01-05T09:00:00+00:00", "stop": "2026-01-05T10:00:00+00:00", "duration": 3600,
           "duronly": True, "at": now(), "server_deleted_at": None, "project_id": None, "task_id": None,
           "tags": [], "tag_ids": []}  # fmt: skip
    seeded.world.time_entries[old["id"]] = old
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    old["at"] = two_days_ago.strftime("%Y-%m-%dT%H:%M:%S+00:00")  # edited lately, before the connection came
    catch_up(hooked)  # baseline: it sees the entry (changed in the last week)
    delivering(hooked, False)
    world.update_entry(old["id"])
    catch_up(hooked)
    assert on_bus(hooked) == [("Time Entry Updated", old["id"], "catch-up")]


def test_a_put_events_failure_mid_run_publishes_the_rest_next_run_without_doubling(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    catch_up(hooked)
    delivering(hooked, False)
    made = [world.entry(f"e{i}") for i in range(5)]
    calls: list[int] = []

    def fail_the_third(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise ClientError({"Error": {"Code": "InternalException", "Message": "injected"}}, "PutEvents")

    events_client = aws_clients.client("events")
    events_client.meta.events.register("before-call.events.PutEvents", fail_the_third, unique_id="catch-up-fault")
    with pytest.raises(PublishFailed):
        catch_up(hooked)
    events_client.meta.events.unregister("before-call.events.PutEvents", unique_id="catch-up-fault")
    first = on_bus(hooked)
    assert len(first) == 2  # two made it before the failure
    result = catch_up(hooked)
    second = on_bus(hooked)
    assert result["published"] == 3 and result["duplicates"] == 2
    assert sorted(ident for _, ident, _ in first + second) == sorted(made)


def test_a_quota_402_mid_run_loses_nothing_and_the_next_runs_wait_for_the_reset(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    catch_up(hooked)
    delivering(hooked, False)
    entry = world.entry("before the quota ran out")
    project = world.project("before the quota ran out")
    # Given the organization's quota runs out between the two reads
    hooked.toggl.fail(Fault(status=402, times=1, path_prefix="/api/v9/workspaces", retry_after="2",
                            body="You have reached the hourly limit of API requests for your plan."))  # fmt: skip
    with pytest.raises(TogglQuotaExhausted):
        catch_up(hooked)
    assert on_bus(hooked) == []
    # When the next run comes before the reset, it skips itself without asking Toggl
    before = len(hooked.toggl.requests)
    assert catch_up(hooked)["status"] == "skipped" and len(hooked.toggl.requests) == before
    # And after the reset (Retry-After: 2 s) it publishes both changes
    deadline = time.monotonic() + 10
    while (result := catch_up(hooked))["status"] == "skipped" and time.monotonic() < deadline:
        time.sleep(0.2)  # wait for the reset: each skipped run asks Toggl nothing
    assert result["published"] == 2
    assert sorted(on_bus(hooked)) == sorted([("Time Entry Created", entry, "catch-up"),
                                             ("Project Created", project, "catch-up")])  # fmt: skip


def test_without_a_token_the_catch_up_skips(hooked: Hooked) -> None:
    import boto3

    boto3.client("secretsmanager").put_secret_value(
        SecretId=hooked.connection.stack["TogglApiTokenSecret"], SecretString='{"api_token": ""}'
    )
    assert catch_up(hooked)["status"] == "skipped" and hooked.toggl.requests == []
