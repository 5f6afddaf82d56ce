"""The local stack's secrets as ``provision`` creates them from the template: the operator's own
token secret when the parameters name one, and the template's own value when no token is given."""

from __future__ import annotations

import boto3
from moto import mock_aws

from local.emulator import template
from local.emulator.provision import provision
from tests.conftest import MOTO_CONFIG


def test_a_named_token_secret_is_used_and_no_token_secret_is_created(aws_env: dict[str, str]) -> None:
    mine = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mine"
    with mock_aws(config=MOTO_CONFIG):
        stack = provision("signing", api_token="t", parameters={"ExistingTogglApiTokenSecretArn": mine}, tap=False)
        created = [s["ARN"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    assert stack["TogglApiTokenSecret"] == mine
    assert created == [stack["WebhookSigningSecret"]]


def test_without_a_token_the_token_secret_holds_the_templates_value(aws_env: dict[str, str]) -> None:
    declared = template.load()["Resources"]["TogglApiTokenSecret"]["Properties"]["SecretString"]
    with mock_aws(config=MOTO_CONFIG):
        stack = provision("signing", tap=False)
        secrets = boto3.client("secretsmanager")
        token = secrets.get_secret_value(SecretId=stack["TogglApiTokenSecret"])["SecretString"]
        signing = secrets.get_secret_value(SecretId=stack["WebhookSigningSecret"])["SecretString"]
    assert (token, signing) == (declared, "signing")
