"""One provisioned stack on moto in-process, shared by the tests of the moto tier and put back
between them to the state a fresh provision gives.

Provisioning the whole template costs far more than most tests that use it, so the stack is made
once and reset after each test: the tables' items removed, the queues (the bus tap) purged, the
secrets back to their first and only version. Anything else a test changed (a bus or rule deleted,
a role or function created) shows as a difference from the inventory taken right after
provisioning, and then the stack is thrown away and provisioned again: a test never sees what an
earlier one left.
"""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from local.emulator import template
from local.emulator.provision import drain, provision
from local.toggl_sandbox import deliveries

REGION = "us-east-1"


def clients() -> dict[str, Any]:
    """One client per service the stack and its tests use (made once: making them is the slow part)."""
    return {
        "events": boto3.client("events", region_name=REGION),
        "dynamodb": boto3.client("dynamodb", region_name=REGION),
        "sqs": boto3.client("sqs", region_name=REGION),
        "secretsmanager": boto3.client("secretsmanager", region_name=REGION),
        "iam": boto3.client("iam", region_name=REGION),
        "lambda": boto3.client("lambda", region_name=REGION),
    }


def inventory(aws: dict[str, Any]) -> dict[str, Any]:
    """What moto holds in the services the stack and its tests use, without the ids moto makes up
    anew each time (versions, secret ARN suffixes)."""
    events = aws["events"]
    buses: dict[str, Any] = {}
    for bus in events.list_event_buses()["EventBuses"]:
        rules = events.list_rules(EventBusName=bus["Name"])["Rules"]
        buses[bus["Name"]] = {
            rule["Name"]: (
                rule.get("EventPattern"),
                rule.get("State"),
                sorted(
                    (t["Id"], t["Arn"])
                    for t in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]
                ),
            )
            for rule in rules
        }
    dynamodb, sqs, secretsmanager = aws["dynamodb"], aws["sqs"], aws["secretsmanager"]
    queues = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        queues[url] = attributes
    secrets = {}
    for secret in secretsmanager.list_secrets(IncludePlannedDeletion=True)["SecretList"]:
        stages = sorted(sorted(s) for s in secret.get("SecretVersionsToStages", {}).values())
        deleted = "DeletedDate" in secret
        value = None if deleted else secretsmanager.get_secret_value(SecretId=secret["ARN"]).get("SecretString")
        secrets[secret["Name"]] = (stages, deleted, value)
    return {
        "buses": buses,
        "archives": sorted(
            (a["ArchiveName"], a["EventSourceArn"], a["State"]) for a in events.list_archives()["Archives"]
        ),
        "items": {
            table: dynamodb.scan(TableName=table, Select="COUNT")["Count"]
            for table in dynamodb.list_tables()["TableNames"]
        },
        "queues": queues,
        "secrets": secrets,
        "roles": sorted(r["RoleName"] for r in aws["iam"].list_roles()["Roles"]),
        "functions": sorted(f["FunctionName"] for f in aws["lambda"].list_functions()["Functions"]),
    }


class SharedStack:
    """The stack of template.yaml on moto in-process (with the tap on its bus), for many tests."""

    def __init__(self, api_token: str, moto_config: Any) -> None:
        self.api_token = api_token
        self.mock = mock_aws(config=moto_config)
        self.mock.start()
        self.aws = clients()
        self.provisions = 0
        self._provision()

    def _provision(self) -> None:
        self.stack = provision(webhook_secret=deliveries.TEST_SECRET, api_token=self.api_token, region=REGION)
        self.provisions += 1
        # name and first value of each secret, by logical id
        self.secrets = {
            logical_id: (secret["Name"], secret["SecretString"])
            for logical_id in self._secret_ids()
            for secret in [self.aws["secretsmanager"].get_secret_value(SecretId=self.stack[logical_id])]
        }
        self.fresh = inventory(self.aws)

    def _secret_ids(self) -> list[str]:
        resources = template.load()["Resources"]
        return [k for k, r in resources.items() if r["Type"] == "AWS::SecretsManager::Secret" and k in self.stack.names]

    def reset(self) -> None:
        """Back to the state a fresh provision gives (see the module's docstring)."""
        for url in self.aws["sqs"].list_queues().get("QueueUrls", []):
            drain(url, REGION)  # not PurgeQueue: once a minute only
        dynamodb = self.aws["dynamodb"]
        for table in dynamodb.list_tables()["TableNames"]:
            keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
            for item in dynamodb.scan(TableName=table)["Items"]:
                dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})
        self._restore_secrets()
        if inventory(self.aws) != self.fresh:  # the test changed the stack itself: a new one
            self.mock.stop()
            self.mock.start()
            self._provision()

    def _restore_secrets(self) -> None:
        """A rotated or deleted secret made again with its first value, as its only version."""
        secretsmanager = self.aws["secretsmanager"]
        current = {s["Name"]: s for s in secretsmanager.list_secrets(IncludePlannedDeletion=True)["SecretList"]}
        for logical_id, (name, value) in self.secrets.items():
            secret = current.get(name)
            if (
                secret
                and "DeletedDate" not in secret
                and len(secret.get("SecretVersionsToStages", {})) == 1
                and secretsmanager.get_secret_value(SecretId=secret["ARN"])["SecretString"] == value
            ):
                continue
            if secret:
                secretsmanager.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
            self.stack.names[logical_id] = secretsmanager.create_secret(Name=name, SecretString=value)["ARN"]

    def stop(self) -> None:
        self.mock.stop()

    def leftovers(self) -> list[str]:
        """What a test would find, at its start, that a stack nobody has used has not: nothing, or a list."""
        problems = []
        dynamodb = self.aws["dynamodb"]
        for table in dynamodb.list_tables()["TableNames"]:
            if dynamodb.scan(TableName=table, Select="COUNT")["Count"]:
                problems.append(f"items in {table}")
        assert self.stack.tap_queue_url
        attributes = self.aws["sqs"].get_queue_attributes(
            QueueUrl=self.stack.tap_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if any(int(n) for n in attributes.values()):
            problems.append("events on the bus tap")
        return problems
