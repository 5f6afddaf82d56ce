"""The moto tier's shared stack is put back after each test to what a fresh provision gives: a
test never sees what an earlier one left (the ``connection`` fixture also checks this at the start
of every test), and a moto test reaches no network and no process."""

from __future__ import annotations

import socket
import subprocess

import boto3
import pytest

from local.emulator.provision import TAP_RULE
from local.toggl_sandbox import deliveries
from tests.connection import Connection, body_of
from tests.moto_stack import SharedStack, inventory
from tests.tiers import OutsideItsTier


def test_items_events_and_secrets_are_put_back_without_a_new_stack(
    connection: Connection, shared_stack: SharedStack
) -> None:
    # Given a delivery remembered in the table and on the bus tap, one secret rotated, one deleted
    document = deliveries.sample("project-created", 9101)
    assert body_of(connection.deliver("/webhooks", document))["status"] == "published"
    secrets = boto3.client("secretsmanager")
    secrets.put_secret_value(SecretId=connection.stack["WebhookSigningSecret"], SecretString="rotated")
    secrets.delete_secret(SecretId=connection.stack["TogglApiTokenSecret"], ForceDeleteWithoutRecovery=True)
    table = connection.stack["IdempotencyTable"]
    assert shared_stack.leftovers() == [f"items in {table}", "events on the bus tap"]
    assert inventory(shared_stack.aws) != shared_stack.fresh
    provisions = shared_stack.provisions
    # When the stack is reset
    shared_stack.reset()
    # Then it is as provisioned, without provisioning again
    assert shared_stack.leftovers() == [] and inventory(shared_stack.aws) == shared_stack.fresh
    assert shared_stack.provisions == provisions
    token = secrets.get_secret_value(SecretId=connection.stack["TogglApiTokenSecret"])["SecretString"]
    assert token == shared_stack.secrets["TogglApiTokenSecret"][1]
    # And the same delivery is new again, accepted only with the first secret
    assert connection.deliver("/webhooks", document, "rotated")["statusCode"] == 401
    assert body_of(connection.deliver("/webhooks", document))["status"] == "published"
    assert [e["detail"]["event_id"] for e in connection.bus_events()] == [9101]


def test_a_test_that_changes_the_stack_itself_gets_a_new_one(connection: Connection, shared_stack: SharedStack) -> None:
    # Given the bus tap's rule is gone
    events = boto3.client("events")
    events.remove_targets(Rule=TAP_RULE, EventBusName=connection.stack["EventBus"], Ids=["tap"])
    provisions = shared_stack.provisions
    # When the stack is reset, Then it is provisioned again, and the tap sees deliveries again
    shared_stack.reset()
    assert shared_stack.provisions == provisions + 1
    assert inventory(shared_stack.aws) == shared_stack.fresh
    fresh = Connection(shared_stack.stack, connection.base_env)
    assert fresh.deliver("/webhooks", deliveries.sample("project-created", 9102))["statusCode"] == 200
    assert [e["detail"]["event_id"] for e in fresh.bus_events()] == [9102]


def test_a_moto_test_reaches_no_network_and_no_process(connection: Connection, request: pytest.FixtureRequest) -> None:
    assert [m.name for m in request.node.iter_markers() if m.name in ("unit", "moto", "e2e")] == ["moto"]
    with pytest.raises(OutsideItsTier, match="moto test may not open a connection"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(OutsideItsTier, match="moto test may not start a process"):
        subprocess.run(["true"], check=False)
