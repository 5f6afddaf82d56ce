"""Creates, in whatever AWS endpoint boto3 points at (moto), the bus, archive, tables and secrets
that ``template.yaml`` declares, and returns the names the functions' environments refer to.

Read from the template, never listed by hand: a resource added there is created here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.emulator import template

TAP_RULE = "toggl-connection-tap"


@dataclass
class Stack:
    """Physical names by logical id (``Ref``) and ``Id.Attr`` (``GetAtt``), plus parameters."""

    names: dict[str, str] = field(default_factory=dict)
    tap_queue_url: str | None = None

    def __getitem__(self, key: str) -> str:
        return self.names[key]


def _clients(region: str) -> dict[str, Any]:
    return {s: boto3.client(s, region_name=region) for s in ("events", "dynamodb", "secretsmanager", "sqs")}


def provision(
    webhook_secret: str,
    api_token: str | None = None,
    stack_name: str = "toggl-local",
    region: str = "us-east-1",
    parameters: dict[str, str] | None = None,
    tap: bool = True,
) -> Stack:
    document = template.load()
    params = {**template.parameter_defaults(document), **(parameters or {})}
    stack = _stack_with_parameters(params, stack_name, region)
    aws = _clients(region)
    resources = document["Resources"]

    for logical_id, resource in resources.items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::Serverless::Api":
            stack.names[logical_id] = "local"  # the local API has no id; URLs are set by the caller
        elif kind == "AWS::Events::EventBus":
            _create_bus(aws, stack, logical_id, props)
        elif kind == "AWS::DynamoDB::Table":
            _create_table(aws, stack, logical_id, props, stack_name)
        elif kind == "AWS::SecretsManager::Secret":
            stack.names[logical_id] = _secret_arn(aws, stack, resource, params, webhook_secret, api_token)

    # A second pass: an archive names its bus by ARN, wherever the template declares the bus.
    _create_archives(aws, stack, resources, stack_name)

    stack.names = template.with_conditions(stack.names, document)
    if tap:
        stack.tap_queue_url = _tap(aws, stack)
    return stack


def _stack_with_parameters(params: dict[str, str], stack_name: str, region: str) -> Stack:
    """The template's parameters and the ``AWS::`` pseudo parameters, as ``Ref`` resolves them."""
    account = "123456789012"  # moto's account
    return Stack(
        names={
            **params,
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::URLSuffix": "localhost",
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/0000-local",
        }
    )


def _create_bus(aws: dict[str, Any], stack: Stack, logical_id: str, props: dict[str, Any]) -> None:
    name = template.resolve(props["Name"], stack.names)
    arn = aws["events"].create_event_bus(Name=name)["EventBusArn"]
    stack.names.update({logical_id: name, f"{logical_id}.Arn": arn, f"{logical_id}.Name": name})


def _create_table(aws: dict[str, Any], stack: Stack, logical_id: str, props: dict[str, Any], stack_name: str) -> None:
    name = props.get("TableName") or f"{stack_name}-{logical_id}"
    aws["dynamodb"].create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
    )
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        aws["dynamodb"].update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    arn = aws["dynamodb"].describe_table(TableName=name)["Table"]["TableArn"]
    stack.names.update({logical_id: name, f"{logical_id}.Arn": arn})


def _secret_arn(
    aws: dict[str, Any],
    stack: Stack,
    resource: dict[str, Any],
    params: dict[str, str],
    webhook_secret: str,
    api_token: str | None,
) -> str:
    """The secret created for ``resource``; for the API token, the operator's own secret instead
    when the parameters name one (the template then creates none)."""
    if resource.get("Condition") == "CreateApiTokenSecret" and params.get("ExistingTogglApiTokenSecretArn"):
        return params["ExistingTogglApiTokenSecretArn"]
    props = resource.get("Properties", {})
    name = template.resolve(props["Name"], stack.names)
    if "GenerateSecretString" in props:
        value = webhook_secret  # the one generated value the stack has: the signing secret
    elif api_token is not None:
        value = json.dumps({"api_token": api_token})
    else:
        value = props["SecretString"]
    arn: str = aws["secretsmanager"].create_secret(Name=name, SecretString=value)["ARN"]
    return arn


def _create_archives(aws: dict[str, Any], stack: Stack, resources: dict[str, Any], stack_name: str) -> None:
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::Events::Archive":
            props = resource["Properties"]
            aws["events"].create_archive(
                ArchiveName=f"{stack_name}-{logical_id}",
                EventSourceArn=template.resolve(props["SourceArn"], stack.names),
                EventPattern=json.dumps(props.get("EventPattern", {})),
                RetentionDays=int(template.resolve(props.get("RetentionDays", 0), stack.names)),
            )


def _tap(aws: dict[str, Any], stack: Stack) -> str:
    """A rule that copies every ``toggl.track`` event on the bus into a queue we can read."""
    bus = next(v for k, v in stack.names.items() if k == "EventBus")
    queue_url: str = aws["sqs"].create_queue(QueueName=f"{TAP_RULE}-{bus}")["QueueUrl"]
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws["events"].put_rule(Name=TAP_RULE, EventBusName=bus, EventPattern=json.dumps({"source": ["toggl.track"]}))
    aws["events"].put_targets(Rule=TAP_RULE, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    return queue_url


def drain(queue_url: str, region: str = "us-east-1", wait: bool = False) -> list[dict[str, Any]]:
    """Every event the tap has collected so far (removed from the queue)."""
    sqs = boto3.client("sqs", region_name=region)
    events: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1 if wait else 0)
        messages = batch.get("Messages", [])
        if not messages:
            return events
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
