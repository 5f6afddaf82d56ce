"""Catch-up end to end: the Toggl sandbox over HTTP with webhook delivery switched off and on, the
real catch-up function as SAM runs it, the real webhook functions behind the local API, moto.
Each change is on the bus once, whichever path saw it first."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError

from local.toggl_sandbox import Fault, deliveries
from local.toggl_sandbox import webhooks as sandbox_webhooks
from local.toggl_sandbox.state import now
from tests.conftest import CANARY_TOKEN
from tests.servers import Hooked
from toggl_connection.core import aws_clients
from toggl_connection.core.errors import PublishFailed, TogglQuotaExhausted
from toggl_connection.toggl.client import TogglClient
from toggl_connection.upkeep import catch_up as catch_up_job
from toggl_connection.upkeep.subscription_sync import Subscriptions


class World:
    """The account, changed as a person in Toggl's app would change it."""

    def __init__(self, hooked: Hooked) -> None:
        self.hooked = hooked
        self.ws = f"/api/v9/workspaces/{hooked.seeded.workspace['id']}"

    def entry(self, description: str) -> int:
        # A finished entry: a running one would stop the timer an earlier test step started (one
        # timer per user), a change of that entry the step did not mean to make.
        body = {"description": description, "duration": 60}
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


def subscribe(hooked: Hooked) -> Hooked:
    """Every trigger subscribed, on a plan where they all fit."""
    hooked.seeded.organization["plan"] = "premium"
    toggl = TogglClient(hooked.toggl.url, CANARY_TOKEN)
    Subscriptions(toggl, hooked.seeded.workspace["id"], "catch-up-test").sync(hooked.api, deliveries.TEST_SECRET)
    return hooked


@pytest.fixture
def subscribed(hooked: Hooked) -> Hooked:
    return subscribe(hooked)


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
    assert sorted(on_bus(hooked)) == sorted(
        [
            ("Time Entry Created", created_entry, "catch-up"),
            ("Time Entry Updated", updated_entry, "catch-up"),
            ("Time Entry Deleted", deleted_entry, "catch-up"),
            ("Project Created", created_project, "catch-up"),
            ("Project Updated", updated_project, "catch-up"),
            ("Project Deleted", deleted_project, "catch-up"),
        ]
    )
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
    old = {
        "id": seeded.world.next_id(),
        "workspace_id": seeded.workspace["id"],
        "wid": seeded.workspace["id"],
        "user_id": seeded.owner["id"],
        "uid": seeded.owner["id"],
        "description": "old",
        "billable": False,
        "start": "2026-01-05T09:00:00+00:00",
        "stop": "2026-01-05T10:00:00+00:00",
        "duration": 3600,
        "duronly": True,
        "at": now(),
        "server_deleted_at": None,
        "project_id": None,
        "task_id": None,
        "tags": [],
        "tag_ids": [],
    }
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
    hooked.toggl.fail(
        Fault(
            status=402,
            times=1,
            path_prefix="/api/v9/workspaces",
            retry_after="2",
            body="You have reached the hourly limit of API requests for your plan.",
        )
    )
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
    assert sorted(on_bus(hooked)) == sorted(
        [("Time Entry Created", entry, "catch-up"), ("Project Created", project, "catch-up")]
    )


def test_without_a_token_the_catch_up_skips(hooked: Hooked) -> None:
    import boto3

    boto3.client("secretsmanager").put_secret_value(
        SecretId=hooked.connection.stack["TogglApiTokenSecret"], SecretString='{"api_token": ""}'
    )
    assert catch_up(hooked)["status"] == "skipped" and hooked.toggl.requests == []


# --- exactly once, for good ----------------------------------------------------------------------
def expire_records(hooked: Hooked) -> int:
    """Remove what DynamoDB's TTL would have removed by now (the table's ``expiration``)."""
    table = hooked.connection.stack["IdempotencyTable"]
    client = boto3.client("dynamodb")
    gone = 0
    for item in client.scan(TableName=table)["Items"]:
        expiry = item.get("expiration", {}).get("N")
        if expiry is not None and int(expiry) < time.time():
            client.delete_item(TableName=table, Key={"id": item["id"]})
            gone += 1
    return gone


@pytest.mark.parametrize("webhooks", ["delivering", "down"])
def test_a_project_renamed_eight_days_after_its_creation_is_updated_never_created_again(
    subscribed: Hooked, webhooks: str
) -> None:
    hooked, world = subscribed, World(subscribed)
    # Given the baseline, then a project created and announced by its webhook
    assert catch_up(hooked)["status"] == "baseline"
    next_second()
    project = world.project("Onboarding")
    hooked.settle()
    assert on_bus(hooked) == [("Project Created", project, "webhook")]
    assert catch_up(hooked)["published"] == 0
    # When eight days later (the dedupe records gone, as DynamoDB's TTL removes them) it is renamed
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8), tick=True):
        assert expire_records(hooked) > 0
        delivering(hooked, webhooks == "delivering")
        world.update_project(project)
        hooked.settle()
        catch_up(hooked)
    # Then the bus gets Project Updated once, and no second Project Created
    origin = "webhook" if webhooks == "delivering" else "catch-up"
    assert on_bus(hooked) == [("Project Updated", project, origin)]


def test_one_huge_time_entry_id_does_not_make_later_new_entries_updated(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    seeded = hooked.seeded
    catch_up(hooked)  # baseline
    delivering(hooked, False)
    # Given a time entry with a huge id appears after the baseline (ids are not documented to grow)
    huge = {**seeded.world.time_entries[world.entry("ordinary")], "id": 9 * 10**18, "description": "huge"}
    seeded.world.time_entries[huge["id"]] = huge
    catch_up(hooked)
    on_bus(hooked)
    # When a new entry is created afterwards, with an ordinary id
    next_second()
    later = world.entry("later")
    catch_up(hooked)
    # Then it is Created, as it is
    assert on_bus(hooked) == [("Time Entry Created", later, "catch-up")]


def test_a_time_entry_edited_eight_days_after_its_creation_is_updated(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    catch_up(hooked)  # baseline
    next_second()
    entry = world.entry("made by webhook")
    hooked.settle()
    assert catch_up(hooked)["published"] == 0
    on_bus(hooked)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8), tick=True):
        expire_records(hooked)
        delivering(hooked, False)
        world.update_entry(entry)
        catch_up(hooked)
    assert on_bus(hooked) == [("Time Entry Updated", entry, "catch-up")]


def test_time_entries_of_other_workspaces_never_reach_the_bus(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    seeded = hooked.seeded
    # Given the token's user also tracks time in a second workspace of the organization
    other = seeded.world.add_workspace(seeded.organization["id"], "Elsewhere")
    seeded.world.workspace_users.setdefault(other["id"], set()).add(seeded.owner["id"])
    catch_up(hooked)  # baseline
    delivering(hooked, False)
    mine = world.entry("here")
    elsewhere = hooked.toggl_call(
        "POST", f"/api/v9/workspaces/{other['id']}/time_entries", {"description": "there", "duration": -1}
    )
    assert elsewhere["workspace_id"] == other["id"]
    # When the catch-up runs, Then only this stack's workspace is published (bus and archive)
    catch_up(hooked)
    assert on_bus(hooked) == [("Time Entry Created", mine, "catch-up")]


def test_a_webhook_in_flight_for_the_same_change_makes_the_catch_up_leave_it(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    catch_up(hooked)  # baseline
    meanwhile: list[dict[str, Any]] = []

    def catch_up_while_the_webhook_publishes(**_: Any) -> None:
        if not meanwhile:
            meanwhile.append(catch_up(hooked))

    # Given the catch-up runs while the webhook of a new project is being published
    events_client = aws_clients.client("events")
    events_client.meta.events.register(
        "before-call.events.PutEvents", catch_up_while_the_webhook_publishes, unique_id="in-flight"
    )
    try:
        project = world.project("in flight")
        hooked.settle()
    finally:
        events_client.meta.events.unregister("before-call.events.PutEvents", unique_id="in-flight")
    # Then the run finishes without an error, leaving that change to the webhook
    (result,) = meanwhile
    assert (result["status"], result["in_flight"], result["published"]) == ("caught up", 1, 0)
    assert on_bus(hooked) == [("Project Created", project, "webhook")]


def test_a_project_list_cut_short_never_moves_the_checkpoint_past_what_was_read(
    subscribed: Hooked, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooked, world = subscribed, World(subscribed)
    catch_up(hooked)  # baseline
    delivering(hooked, False)
    made = [world.project(f"cut {i}") for i in range(3)]
    # Given the catch-up may read only one project in a run
    monkeypatch.setattr(catch_up_job, "MAX_PROJECTS", 1)
    first = catch_up(hooked)
    assert first["published"] == 1 and first["truncated"] is True
    # When it may read them all again, Then the next run publishes the rest: nothing was lost
    monkeypatch.setattr(catch_up_job, "MAX_PROJECTS", 5000)
    catch_up(hooked)
    assert sorted(ident for _, ident, _ in on_bus(hooked)) == sorted(made)


def test_a_lone_surrogate_in_what_toggl_returns_never_stalls_the_catch_up(subscribed: Hooked) -> None:
    hooked, world = subscribed, World(subscribed)
    catch_up(hooked)  # baseline
    delivering(hooked, False)
    project = world.project("fine")
    hooked.seeded.world.projects[project]["name"] = "broken \ud800 name"  # sent as a JSON escape
    result = catch_up(hooked)
    assert result["published"] == 1
    (event,) = hooked.connection.bus_events()
    assert event["detail"]["payload"]["name"] == "broken \ufffd name"
