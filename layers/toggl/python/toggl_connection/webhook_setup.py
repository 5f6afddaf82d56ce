"""The subscription sync where no one runs the command line: a CloudFormation custom resource
at deploy time, and a scheduled health check that repairs what broke since."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from toggl_connection import bus_event, publisher, settings, whoami
from toggl_connection.errors import ConfigurationError, ConnectionFailure
from toggl_connection.integers import ascii_int
from toggl_connection.observability import count, logger
from toggl_connection.secrets import SigningSecrets
from toggl_connection.subscriptions import DEFAULT_NAME, Report, Subscriptions
from toggl_connection.toggl_api import TogglClient, toggl_client

SKIPPED = "skipped: put the token in {secret} and run make subscribe"


def _workspace_id(toggl: TogglClient, given: Any, config: settings.Settings) -> int:
    """The workspace named, the stack's default, or the token user's default."""
    named = ascii_int(given) or config.default_workspace_id or whoami.default_workspace_id(toggl)
    if not named:
        raise ConfigurationError("No workspace to subscribe in: set the stack's DefaultWorkspaceId.")
    return named


# --- the custom resource ----------------------------------------------------------------------
def custom_resource(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create/Update: sync. Delete: delete ours. Always answers CloudFormation (else the stack
    waits an hour); an empty token secret is a success that says what to do."""
    props = event.get("ResourceProperties") or {}
    name = str(props.get("Name") or DEFAULT_NAME)
    physical_id = event.get("PhysicalResourceId") or f"toggl-subscriptions:{name}"
    status, reason, data = "SUCCESS", "", {}
    try:
        data = _apply(event["RequestType"], props, name, context)
        reason = str(data.get("Status", ""))
    except ConnectionFailure as failure:
        if event.get("RequestType") == "Delete":
            reason = f"subscriptions left in place: {failure.message}"  # never block a stack's deletion
        else:
            status, reason = "FAILED", failure.message
    except Exception as unexpected:  # noqa: BLE001 - CloudFormation must hear back whatever happens
        logger.exception("custom resource failed")
        status = "SUCCESS" if event.get("RequestType") == "Delete" else "FAILED"
        reason = f"unexpected error: {type(unexpected).__name__}"
    answer = {
        "Status": status, "Reason": reason[:1000] or status, "PhysicalResourceId": physical_id,
        "StackId": event.get("StackId"), "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"), "NoEcho": False, "Data": data,
    }  # fmt: skip
    _send(event.get("ResponseURL"), answer)
    return answer


def _apply(request_type: str, props: dict[str, Any], name: str, context: Any) -> dict[str, Any]:
    config = settings.load()
    try:
        toggl = toggl_client(config, context)
    except ConfigurationError:
        if request_type == "Delete":
            return {"Status": "nothing to delete: no token"}
        return {"Status": SKIPPED.format(secret=config.toggl_api_token_secret_id)}
    subs = Subscriptions(toggl, _workspace_id(toggl, props.get("WorkspaceId"), config), name)
    if request_type == "Delete":
        deleted = subs.delete()
        return {"Status": f"deleted {len(deleted)} subscription(s)"}
    secret = SigningSecrets(config.require("webhook_secret_id"), config.secret_cache_seconds).current()
    report = subs.sync(str(props["WebhookBaseUrl"]), secret)
    logger.info("subscriptions synced", extra={"report": _summary(report)})
    return {
        "Status": report.layout, "Unvalidated": ", ".join(report.unvalidated),
        "NotFitted": ", ".join(report.not_fitted), "WorkspaceId": str(report.workspace_id),
    }  # fmt: skip


def _send(url: str | None, answer: dict[str, Any]) -> None:
    if not url:
        return
    import requests  # only the custom resource needs it here

    data = json.dumps(answer).encode()
    for attempt in range(3):
        try:
            requests.put(url, data=data, headers={"Content-Type": ""}, timeout=10).raise_for_status()
            return
        except requests.RequestException as exc:
            logger.warning("could not answer CloudFormation", extra={"attempt": attempt + 1, "reason": str(exc)})
            time.sleep(1 + attempt)


def _summary(report: Report) -> dict[str, Any]:
    return {k: v for k, v in report.as_dict().items() if k != "subscriptions"}


# --- the health check -------------------------------------------------------------------------
def health(event: Any, context: Any) -> dict[str, Any]:
    """One request when all is well; a full sync when something is off. Publishes
    ``Subscription Repaired`` / ``Subscription Unhealthy`` so that users can alarm on them."""
    config = settings.load()
    base_url = config.require("webhook_base_url")
    try:
        toggl = toggl_client(config, context)
    except ConfigurationError:
        logger.info("health check skipped: the API token secret is empty")
        return {"status": "skipped"}
    subs = Subscriptions(toggl, _workspace_id(toggl, None, config), config.subscription_name or DEFAULT_NAME)
    _, problems = subs.check(base_url)
    if not problems:
        count("SubscriptionsHealthy")
        return {"status": "healthy", "toggl_requests": toggl.requests_made}
    logger.warning("subscriptions need repair", extra={"problems": problems})
    secret = SigningSecrets(config.require("webhook_secret_id"), config.secret_cache_seconds).current()
    report = subs.sync(base_url, secret)
    now = datetime.now(UTC)
    notices = []
    repaired = [(d, "created") for d in report.created] + [(d, "updated") for d in report.updated]
    repaired += [(d, "re-enabled") for d in report.enabled]
    for description, how in repaired:
        notices.append(bus_event.notice("Subscription Repaired", {
            "workspace_id": report.workspace_id, "description": description, "repair": how, "problems": problems,
        }, now))  # fmt: skip
    still = [f"{d}: not validated" for d in report.unvalidated] + [f"not fitted: {d}" for d in report.not_fitted]
    if still or not repaired:
        notices.append(bus_event.notice("Subscription Unhealthy", {
            "workspace_id": report.workspace_id, "problems": still or problems,
        }, now))  # fmt: skip
    count("SubscriptionRepaired", len(repaired))
    count("SubscriptionUnhealthy", 1 if still or not repaired else 0)
    publisher.publish(notices, config.require("event_bus_name"))
    return {"status": "repaired" if not still else "unhealthy", "report": _summary(report)}
