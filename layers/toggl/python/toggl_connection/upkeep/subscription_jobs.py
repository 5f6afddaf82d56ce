"""The subscription sync where no one runs the command line: a CloudFormation custom resource
at deploy time, and a scheduled health check that repairs what broke since.

Both take what matters from their own environment, set by the template (the webhook URL, the
owner mark, the stack's id), never from the event: anyone who may invoke the function directly
could forge an event. The custom resource answers only CloudFormation's own response URLs
(``https`` on an ``amazonaws.com`` host), never logs one (they are pre-signed), and acts only on
events of its own stack.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from toggl_connection.bus import event_format, publisher
from toggl_connection.core import aws_clients, records, settings
from toggl_connection.core.errors import ConfigurationError, ConnectionFailure
from toggl_connection.core.observability import count, logger
from toggl_connection.core.secrets import SigningSecrets
from toggl_connection.toggl import whoami
from toggl_connection.toggl.client import TogglClient, clean_text, scheduled_client, toggl_client
from toggl_connection.upkeep.subscription_sync import DEFAULT_NAME, Report, Subscriptions
from toggl_connection.webhooks.triggers import FALLBACKS

SKIPPED = "skipped: put the token in {secret} and run make subscribe"
# Where the health check remembers what the last sync could not subscribe (plan limits, filters
# Toggl does not offer), so that a cold start does not spend the quota finding out again.


def _subscriptions(toggl: TogglClient, config: settings.Settings) -> Subscriptions:
    """This stack's subscriptions: the owner mark from the environment, the stack's name as the
    mark of older versions."""
    owner = config.subscription_owner or config.subscription_name or DEFAULT_NAME
    return Subscriptions(
        toggl, whoami.workspace_id(toggl, config.default_workspace_id), owner, config.subscription_name
    )


# --- the custom resource ----------------------------------------------------------------------
# CloudFormation's answer URLs are pre-signed URLs of its own buckets, one per region
# (``cloudformation-custom-resource-response-useast1.s3.amazonaws.com``, ...); any other
# amazonaws.com host could be anyone's bucket or API.
RESPONSE_HOST_PREFIX = "cloudformation-custom-resource-response-"


def is_cloudformation_url(url: Any) -> bool:
    """Whether ``url`` is one of CloudFormation's answer URLs: https, on its answer buckets."""
    if not isinstance(url, str):
        return False
    try:
        target = urlsplit(url)
        host, port = target.hostname or "", target.port
    except ValueError:
        return False
    return (
        target.scheme == "https"
        and port in (None, 443)
        and not target.username
        and host.startswith(RESPONSE_HOST_PREFIX)
        and host.endswith(".amazonaws.com")
    )


def custom_resource(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create/Update: sync. Delete: delete ours. Always answers CloudFormation (else the stack
    waits until the resource's ServiceTimeout); an empty token secret is a success that says
    what to do. An event that is not CloudFormation's for this stack is refused, unanswered."""
    config = settings.load()
    request_type = event.get("RequestType") if isinstance(event, dict) else None
    if not is_cloudformation_url(event.get("ResponseURL") if isinstance(event, dict) else None):
        logger.warning("custom resource event refused: its response URL is not CloudFormation's")
        return {"Status": "FAILED", "Reason": "not a CloudFormation request"}
    if config.stack_id and event.get("StackId") != config.stack_id:
        logger.warning("custom resource event refused: it is for another stack")
        return {"Status": "FAILED", "Reason": "not a request of this stack"}
    physical_id = event.get("PhysicalResourceId") or f"toggl-subscriptions:{config.subscription_name or DEFAULT_NAME}"
    status, reason, data = "SUCCESS", "", {}
    try:
        data = _apply(str(request_type), config, context)
        reason = str(data.get("Status", ""))
    except ConnectionFailure as failure:
        if request_type == "Delete":
            reason = f"subscriptions left in place: {failure.message}"  # never block a stack's deletion
        else:
            status, reason = "FAILED", failure.message
    except Exception as unexpected:  # noqa: BLE001 - CloudFormation must hear back whatever happens
        logger.exception("custom resource failed")
        status = "SUCCESS" if request_type == "Delete" else "FAILED"
        reason = f"unexpected error: {type(unexpected).__name__}"
    answer = {
        "Status": status,
        "Reason": clean_text(reason, 1000) or status,
        "PhysicalResourceId": physical_id,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": data,
    }
    _send(event["ResponseURL"], answer)
    return answer


def _apply(request_type: str, config: settings.Settings, context: Any) -> dict[str, Any]:
    base_url = config.require("webhook_base_url")
    try:
        toggl = toggl_client(config, context)
    except ConfigurationError:
        if request_type == "Delete":
            return {"Status": "nothing to delete: no token"}
        return {"Status": SKIPPED.format(secret=config.toggl_api_token_secret_id)}
    subs = _subscriptions(toggl, config)
    if request_type == "Delete":
        deleted = subs.delete(base_url)
        return {"Status": f"deleted {len(deleted)} subscription(s)"}
    secret = SigningSecrets(config.require("webhook_secret_id"), config.secret_cache_seconds).current()
    report = subs.sync(base_url, secret)
    _remember_gaps(config, subs, report)
    logger.info("subscriptions synced", extra={"report": _summary(report)})
    return {
        "Status": report.layout,
        "Unvalidated": ", ".join(report.unvalidated),
        "NotFitted": ", ".join(report.not_fitted),
        "NotOffered": ", ".join(report.not_offered),
        "WorkspaceId": str(report.workspace_id),
    }


def _send(url: str, answer: dict[str, Any]) -> None:
    import requests  # only the custom resource needs it here

    data = json.dumps(answer).encode()
    for attempt in range(3):
        try:
            response = requests.put(url, data=data, headers={"Content-Type": ""}, timeout=10, allow_redirects=False)
            response.raise_for_status()
            return
        except requests.RequestException as exc:
            # Never the URL: it is pre-signed, and the exception's text carries it.
            logger.warning(
                "could not answer CloudFormation", extra={"attempt": attempt + 1, "reason": type(exc).__name__}
            )
            time.sleep(1 + attempt)


def _summary(report: Report) -> dict[str, Any]:
    return {k: v for k, v in report.as_dict().items() if k != "subscriptions"}


# --- what the last sync could not subscribe, kept where a cold start sees it --------------------
def _gaps_key(subs: Subscriptions) -> dict[str, Any]:
    return {"id": {"S": records.SUBSCRIPTION_GAPS.format(workspace=subs.workspace_id, owner=subs.name)}}


def _known_gaps(config: settings.Settings, subs: Subscriptions) -> frozenset[str]:
    table = config.records_table_name
    if not table:
        return frozenset()
    try:
        item = aws_clients.client("dynamodb").get_item(TableName=table, Key=_gaps_key(subs), ConsistentRead=True)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("could not read what the last sync left out", extra={"reason": type(exc).__name__})
        return frozenset()
    return frozenset(item.get("Item", {}).get("triggers", {}).get("SS", []))


def _remember_gaps(config: settings.Settings, subs: Subscriptions, report: Report) -> None:
    table = config.records_table_name
    if not table:
        return
    gaps = sorted(set(report.not_fitted + report.not_offered))
    item = {**_gaps_key(subs), "at": {"S": datetime.now(UTC).isoformat()}}
    if gaps:
        item["triggers"] = {"SS": gaps}
    try:
        aws_clients.client("dynamodb").put_item(TableName=table, Item=item)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("could not remember what the sync left out", extra={"reason": type(exc).__name__})


# --- the health check -------------------------------------------------------------------------
def health(event: Any, context: Any) -> dict[str, Any]:
    """One request when all is well; a full sync when something is off. Publishes
    ``Subscription Repaired`` / ``Subscription Unhealthy`` so that users can alarm on them."""
    config = settings.load()
    base_url = config.require("webhook_base_url")
    toggl = scheduled_client(config, context, "health check")
    if toggl is None:
        return {"status": "skipped"}
    subs = _subscriptions(toggl, config)
    _, problems = subs.check(base_url, _known_gaps(config, subs))
    if not problems:
        count("SubscriptionsHealthy")
        return {"status": "healthy", "toggl_requests": toggl.requests_made}
    logger.warning("subscriptions need repair", extra={"problems": problems})
    secret = SigningSecrets(config.require("webhook_secret_id"), config.secret_cache_seconds).current()
    report = subs.sync(base_url, secret)
    _remember_gaps(config, subs, report)
    now = datetime.now(UTC)
    notices = []
    repaired = [(d, "created") for d in report.created] + [(d, "updated") for d in report.updated]
    repaired += [(d, "re-enabled") for d in report.enabled]
    for description, how in repaired:
        notices.append(
            event_format.notice(
                "Subscription Repaired",
                {
                    "workspace_id": report.workspace_id,
                    "description": description,
                    "repair": how,
                    "problems": problems,
                },
                now,
            )
        )
    still = [f"{d}: not validated" for d in report.unvalidated]
    # A trigger beyond the plan is a problem unless a scheduled job finds all of its changes.
    still += [f"not fitted: {d} ({FALLBACKS[d].describe()})" for d in report.not_fitted if not FALLBACKS[d].complete]
    if still or not repaired:
        notices.append(
            event_format.notice(
                "Subscription Unhealthy",
                {
                    "workspace_id": report.workspace_id,
                    "problems": still or problems,
                },
                now,
            )
        )
    count("SubscriptionRepaired", len(repaired))
    count("SubscriptionUnhealthy", 1 if still or not repaired else 0)
    publisher.publish(notices, config.require("event_bus_name"))
    return {"status": "repaired" if not still else "unhealthy", "report": _summary(report)}
