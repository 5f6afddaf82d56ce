"""Webhook setup done for the user, against the Toggl sandbox's Webhooks API: the sandbox PINGs
the local API (real HTTP), the real webhook functions answer, and deliveries land on the bus."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import boto3
import pytest

from local.toggl_sandbox import deliveries
from local.toggl_sandbox import webhooks as sandbox_webhooks
from tests.conftest import CANARY_TOKEN
from tests.connection import fresh_containers
from tests.contract import TRIGGERS as CONTRACT_TRIGGERS
from tests.servers import Hooked
from toggl_connection.toggl.client import TogglClient
from toggl_connection.upkeep.subscription_plan import owns
from toggl_connection.upkeep.subscription_sync import Subscriptions

ALL = CONTRACT_TRIGGERS


def client(hooked: Hooked) -> Subscriptions:
    toggl = TogglClient(hooked.toggl.url, CANARY_TOKEN, deadline=time.monotonic() + 60)
    return Subscriptions(toggl, hooked.seeded.workspace["id"], "test-stack")


def sandbox_subs(hooked: Hooked) -> list[dict[str, Any]]:
    return list(sandbox_webhooks.state(hooked.toggl).subscriptions.values())


def set_plan(hooked: Hooked, plan_name: str) -> None:
    hooked.seeded.organization["plan"] = plan_name


# --- sync against the sandbox ------------------------------------------------------------------
@pytest.mark.parametrize("plan_name", ["free", "starter", "premium", "enterprise"])
def test_sync_twice_leaves_one_validated_set_covering_all_triggers(hooked: Hooked, plan_name: str) -> None:
    set_plan(hooked, plan_name)
    subs = client(hooked)
    first = subs.sync(hooked.api, deliveries.TEST_SECRET)
    assert first.created and not first.unvalidated and not first.not_fitted
    second = client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    assert (not second.changed and second.unchanged == sorted(first.created)) or second.unchanged == first.created
    assert second.toggl_requests == 3  # list, limits, list again: nothing else
    ours = sandbox_subs(hooked)
    assert all(s["validated_at"] and s["enabled"] and s["secret"] == deliveries.TEST_SECRET for s in ours)
    expected = 7 if plan_name == "enterprise" else 1
    assert len(ours) == expected
    assert "secret" not in json.dumps(second.subscriptions)


def test_deliveries_flow_to_the_bus_exactly_once_with_the_free_plan_layout(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    entry, _ = hooked.six_changes()
    events = hooked.connection.bus_events()
    assert sorted(e["detail-type"] for e in events) == sorted(ALL - {"Workspace Created"})
    assert {e["detail"]["entity_id"] for e in events if e["detail"]["entity"] == "time_entry"} == {entry}


def test_a_changed_url_or_secret_updates_in_place(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    (before,) = sandbox_subs(hooked)
    # The stack got a new URL (a second API in front of the same functions) and a new secret.
    boto3.client("secretsmanager").put_secret_value(
        SecretId=hooked.connection.stack["WebhookSigningSecret"], SecretString="rotated-secret"
    )
    from local.emulator.api_server import ApiServer

    other = ApiServer(hooked.connection.environment, port=0).start()
    try:
        report = client(hooked).sync(other.url, "rotated-secret")
    finally:
        other.stop()
    (after,) = sandbox_subs(hooked)
    assert report.updated == ["test-stack: all events"] and not report.created and not report.unvalidated
    assert after["subscription_id"] == before["subscription_id"]
    assert after["url_callback"] == other.url + "/webhooks" and after["secret"] == "rotated-secret"


def test_delete_removes_ours_and_spares_foreign_subscriptions(hooked: Hooked) -> None:
    set_plan(hooked, "premium")
    wid = hooked.seeded.workspace["id"]
    foreign = {
        "url_callback": hooked.api + "/webhooks",
        "event_filters": [{"entity": "tag", "action": "*"}],
        "enabled": True,
        "description": "someone else's",
        "secret": deliveries.TEST_SECRET,
    }
    hooked.toggl_call("POST", f"/webhooks/api/v1/subscriptions/{wid}", foreign)
    subs = client(hooked)
    subs.sync(hooked.api, deliveries.TEST_SECRET)
    assert len(sandbox_subs(hooked)) == 2
    assert subs.delete() == ["test-stack: all events"]
    assert [s["description"] for s in sandbox_subs(hooked)] == ["someone else's"]


def test_a_layout_change_frees_slots_before_creating(hooked: Hooked) -> None:
    set_plan(hooked, "enterprise")
    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    assert len(sandbox_subs(hooked)) == 7
    set_plan(hooked, "free")  # downgraded: one webhook allowed
    report = client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    assert len(report.deleted) == 7 and report.created == ["test-stack: all events"]
    assert [s["description"] for s in sandbox_subs(hooked)] == ["test-stack: all events"]


def test_what_does_not_fit_is_said_plainly(hooked: Hooked) -> None:
    sandbox_webhooks.state(hooked.toggl).limits["free"] = (1, 2)
    set_plan(hooked, "free")
    report = client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    assert report.not_fitted == ["Workspace Created"]
    assert "could not fit: Workspace Created" in report.layout


def test_the_health_check_counts_a_trigger_left_to_a_job_as_a_gap_only_when_the_job_misses_changes(
    hooked: Hooked,
) -> None:
    env = {
        "WEBHOOK_BASE_URL": hooked.api,
        "SUBSCRIPTION_NAME": "test-stack",
        "SUBSCRIPTION_OWNER": "test-stack",
        "DEFAULT_WORKSPACE_ID": str(hooked.seeded.workspace["id"]),
    }
    # Given a plan of one subscription of one filter, in a Toggl that counts wildcards as several
    set_plan(hooked, "free")
    sandbox_webhooks.state(hooked.toggl).limits["free"] = (1, 1)
    sandbox_webhooks.state(hooked.toggl).wildcards_count_each = True
    report = client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    assert report.created == ["test-stack: all events"] and len(report.not_fitted) == 6
    assert report.polled == report.not_fitted  # every trigger left out is found by a job
    # When the health check runs
    result = hooked.connection.invoke("SubscriptionHealthFunction", {}, **env)
    # Then the time entry triggers left to the catch-up are its problems; projects, Workspace
    # Created (found whole by the catch-up and the poller) are not
    (notice,) = [e for e in hooked.connection.bus_events() if e["detail-type"] == "Subscription Unhealthy"]
    assert notice["detail"]["problems"] == [
        "not fitted: Time Entry Updated (catch-up, which misses other users' time entries)",
        "not fitted: Time Entry Deleted (catch-up, which misses other users' time entries)",
    ]
    assert result["status"] == "unhealthy"
    # And the next run leaves it (another sync cannot fit it): healthy, nothing more announced
    again = hooked.connection.invoke("SubscriptionHealthFunction", {}, **env)
    assert again["status"] == "healthy"
    assert [e["detail-type"] for e in hooked.connection.bus_events()] == []


def test_an_unreachable_receiver_is_refused_by_toggl_and_reported(hooked: Hooked) -> None:
    from toggl_connection.core.errors import TogglInvalidRequest

    with pytest.raises(TogglInvalidRequest, match=r"URL endpoint http://127\.0\.0\.1:9/webhooks"):
        client(hooked).sync("http://127.0.0.1:9", deliveries.TEST_SECRET)
    assert sandbox_subs(hooked) == []


# --- health: disabled subscriptions healed ------------------------------------------------------
def test_a_disabled_subscription_is_healed_and_announced(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    (sub,) = sandbox_subs(hooked)
    sub["enabled"] = False  # Toggl disabled it after failed deliveries
    result = hooked.connection.invoke(
        "SubscriptionHealthFunction",
        {},
        WEBHOOK_BASE_URL=hooked.api,
        SUBSCRIPTION_NAME="test-stack",
        SUBSCRIPTION_OWNER="test-stack",
    )
    assert result["status"] == "repaired"
    assert sub["enabled"] is True
    notices = [e for e in hooked.connection.bus_events() if e["detail-type"].startswith("Subscription")]
    assert [(e["source"], e["detail-type"], e["detail"]["repair"]) for e in notices] == [
        ("toggl.track", "Subscription Repaired", "re-enabled")
    ]


def test_a_deleted_subscription_is_recreated(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    sandbox_webhooks.state(hooked.toggl).subscriptions.clear()
    result = hooked.connection.invoke(
        "SubscriptionHealthFunction",
        {},
        WEBHOOK_BASE_URL=hooked.api,
        SUBSCRIPTION_NAME="test-stack",
        SUBSCRIPTION_OWNER="test-stack",
    )
    assert result["status"] == "repaired" and len(sandbox_subs(hooked)) == 1


def test_a_healthy_check_costs_one_request_and_publishes_nothing(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    before = len(hooked.toggl.requests)
    result = hooked.connection.invoke(
        "SubscriptionHealthFunction",
        {},
        WEBHOOK_BASE_URL=hooked.api,
        SUBSCRIPTION_NAME="test-stack",
        SUBSCRIPTION_OWNER="test-stack",
        DEFAULT_WORKSPACE_ID=str(hooked.seeded.workspace["id"]),
    )
    assert result["status"] == "healthy"
    assert len(hooked.toggl.requests) - before == 1
    assert hooked.connection.bus_events() == []


def test_failing_deliveries_disable_then_health_repairs_for_real(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    (sub,) = sandbox_subs(hooked)
    good_url = sub["url_callback"]
    sub["url_callback"] = "http://127.0.0.1:9/webhooks"  # the receiver is unreachable for a while
    wid = hooked.seeded.workspace["id"]
    for i in range(3):
        hooked.toggl_call("POST", f"/api/v9/workspaces/{wid}/projects", {"name": f"lost {i}"})
    hooked.settle()
    assert sub["enabled"] is False
    sub["url_callback"] = good_url
    result = hooked.connection.invoke(
        "SubscriptionHealthFunction",
        {},
        WEBHOOK_BASE_URL=hooked.api,
        SUBSCRIPTION_NAME="test-stack",
        SUBSCRIPTION_OWNER="test-stack",
    )
    assert result["status"] == "repaired" and sub["enabled"] is True


# --- the custom resource -------------------------------------------------------------------------
def test_the_custom_resource_creates_updates_and_deletes(hooked: Hooked, cloudformation: Any) -> None:
    set_plan(hooked, "free")
    created = hooked.setup(cloudformation, "Create")
    assert created["Status"] == "SUCCESS" and "packed layout" in created["Data"]["Status"]
    assert created["PhysicalResourceId"] == "toggl-subscriptions:toggl-local"
    (sub,) = sandbox_subs(hooked)
    assert sub["description"] == "toggl-local (123456789012/us-east-1): all events"
    assert deliveries.TEST_SECRET not in json.dumps(created) and CANARY_TOKEN not in json.dumps(created)
    updated = hooked.setup(cloudformation, "Update", created["PhysicalResourceId"], base_url=hooked.api + "/")
    assert updated["Status"] == "SUCCESS"
    deleted = hooked.setup(cloudformation, "Delete", created["PhysicalResourceId"])
    assert deleted["Status"] == "SUCCESS" and sandbox_subs(hooked) == []


def test_the_custom_resource_names_what_the_plan_cannot_fit(hooked: Hooked, cloudformation: Any) -> None:
    # Given a plan of one subscription of one filter, in a Toggl that counts wildcards as several
    set_plan(hooked, "free")
    sandbox_webhooks.state(hooked.toggl).limits["free"] = (1, 1)
    sandbox_webhooks.state(hooked.toggl).wildcards_count_each = True
    # When the stack is deployed, Then CloudFormation's answer names the six triggers left out
    created = hooked.setup(cloudformation, "Create")
    assert created["Status"] == "SUCCESS"
    assert set(created["Data"]["NotFitted"].split(", ")) == CONTRACT_TRIGGERS - {"Time Entry Created"}


def test_the_custom_resource_skips_with_an_empty_token(hooked: Hooked, cloudformation: Any) -> None:
    secret_id = hooked.connection.stack["TogglApiTokenSecret"]
    boto3.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString='{"api_token": ""}')
    answer = hooked.setup(cloudformation, "Create")
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["Status"] == f"skipped: put the token in {secret_id} and run make subscribe"
    assert hooked.setup(cloudformation, "Delete", "x")["Status"] == "SUCCESS"


def test_the_custom_resource_fails_clearly_when_toggl_refuses(hooked: Hooked, cloudformation: Any) -> None:
    answer = hooked.setup(cloudformation, "Create", base_url="http://127.0.0.1:9")
    assert answer["Status"] == "FAILED" and "URL endpoint http://127.0.0.1:9/webhooks" in answer["Reason"]


# --- Workspace Created that never misses -------------------------------------------------------
def poll(hooked: Hooked) -> dict[str, Any]:
    result: dict[str, Any] = hooked.connection.invoke("WorkspacePollerFunction", {})
    return result


def test_the_poller_takes_a_baseline_then_announces_each_new_workspace_once(hooked: Hooked) -> None:
    assert poll(hooked)["status"] == "baseline"
    assert hooked.connection.bus_events() == []
    oid = hooked.seeded.organization["id"]
    ws = hooked.toggl_call("POST", f"/api/v9/organizations/{oid}/workspaces", {"name": "Second"})
    first, second = poll(hooked), poll(hooked)
    assert (first["published"], second["published"]) == (1, 0)
    (event,) = hooked.connection.bus_events()
    assert event["detail-type"] == "Workspace Created"
    detail = event["detail"]
    assert (detail["origin"], detail["event_id"], detail["entity_id"]) == (
        "poll",
        f"workspace-created:{ws['id']}",
        ws["id"],
    )
    assert "api_token" not in json.dumps(event)


def test_a_workspace_announced_by_webhook_and_poller_is_published_once(hooked: Hooked) -> None:
    poll(hooked)
    document = deliveries.envelope(
        "workspace", "created", {"id": 8800001, "name": "W"}, 5005, 8800001, workspace_id=8800001
    )
    assert hooked.connection.deliver("/webhooks/workspace-created", document)["statusCode"] == 200
    hooked.seeded.world.workspaces[8800001] = {
        "id": 8800001,
        "organization_id": hooked.seeded.organization["id"],
        "name": "W",
        "premium": True,
    }
    hooked.seeded.world.workspace_users[8800001] = {hooked.seeded.owner["id"]}
    result = poll(hooked)
    assert (result["published"], result["duplicates"]) == (0, 1)
    assert [e["detail"]["origin"] for e in hooked.connection.bus_events()] == ["webhook"]


# --- the command line ------------------------------------------------------------------------
def test_the_command_line_syncs_and_reports(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    env = {
        "PATH": "/usr/bin:/bin",
        "TOGGL_API_URL": hooked.toggl.url,
        "TOGGL_API_TOKEN": CANARY_TOKEN,
        "TOGGL_WEBHOOK_SECRET": deliveries.TEST_SECRET,
        "WEBHOOK_BASE_URL": hooked.api,
        "TOGGL_WORKSPACE_ID": str(hooked.seeded.workspace["id"]),
        "SUBSCRIPTION_NAME": "cli",
    }
    command = [sys.executable, "-c", "from toggl_connection_cli.cli import main; main()", "subscriptions"]
    import os

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "") + ":" + ":".join(sys.path)
    first = subprocess.run([*command, "sync"], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "packed layout: 1 subscription(s) covering 7 of 7 triggers" in first.stdout
    assert "created    cli: all events" in first.stdout and "all validated" in first.stdout
    second = subprocess.run([*command, "sync", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(second.stdout)["unchanged"] == ["cli: all events"]
    status = subprocess.run([*command, "status", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and json.loads(status.stdout)["problems"] == []
    for output in (first.stdout, second.stdout, status.stdout, first.stderr):
        assert CANARY_TOKEN not in output and deliveries.TEST_SECRET not in output
    assert [owns("cli", s) for s in sandbox_subs(hooked)] == [True]


# --- an unknown of Toggl's: does a wildcard filter count as one event or as three? -------------
def test_a_toggl_that_counts_wildcards_as_several_events_gets_explicit_filters(hooked: Hooked) -> None:
    set_plan(hooked, "free")
    sandbox_webhooks.state(hooked.toggl).wildcards_count_each = True
    first = client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    assert first.layout.startswith("packed (explicit filters)") and first.created == ["test-stack: all events"]
    assert sorted(first.not_fitted) == ["Project Created", "Project Deleted", "Project Updated", "Workspace Created"]
    assert not first.unvalidated
    (sub,) = sandbox_subs(hooked)
    assert len(sub["event_filters"]) == 3 and all(f["action"] != "*" for f in sub["event_filters"])
    second = client(hooked).sync(hooked.api, deliveries.TEST_SECRET)
    assert not second.changed
    # The health check learns once what could not fit, keeps it where a cold start sees it, and
    # from then on spends one request a run (Free: 30 an hour) instead of syncing again.
    env = {
        "WEBHOOK_BASE_URL": hooked.api,
        "SUBSCRIPTION_NAME": "test-stack",
        "SUBSCRIPTION_OWNER": "test-stack",
        "DEFAULT_WORKSPACE_ID": str(hooked.seeded.workspace["id"]),
    }
    learned = hooked.connection.invoke("SubscriptionHealthFunction", {}, **env)
    assert learned["report"]["not_fitted"] == first.not_fitted and not learned["report"]["created"]
    for _ in range(2):
        fresh_containers()  # a cold start: nothing in memory
        before = len(hooked.toggl.requests)
        result = hooked.connection.invoke("SubscriptionHealthFunction", {}, **env)
        assert result["status"] == "healthy" and len(hooked.toggl.requests) - before == 1
