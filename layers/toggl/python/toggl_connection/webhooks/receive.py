"""A Toggl webhook delivery, from raw request to event on the bus, in the contract's order:
size, signature, envelope, PING, dedupe, publish."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from toggl_connection.bus import event_format, publisher
from toggl_connection.core import idempotency, request_reading, responses, settings
from toggl_connection.core.errors import ConnectionFailure, SignatureInvalid
from toggl_connection.core.observability import count, count_by, logger
from toggl_connection.core.secrets import SigningSecrets
from toggl_connection.core.settings import DEDUPE_SECONDS
from toggl_connection.webhooks import envelope, signature
from toggl_connection.webhooks.triggers import Trigger

MAX_BODY_BYTES = 256 * 1024
# A delivery dated outside this window is a replay (or a clock gone wrong): acknowledged, not published.
MAX_AGE = timedelta(seconds=DEDUPE_SECONDS)
MAX_AHEAD = timedelta(minutes=5)
# Where Toggl's validation URLs live: exactly these hosts, over https, on exactly this path.
TOGGL_HOSTS = frozenset({"track.toggl.com", "api.track.toggl.com"})
VALIDATION_PATH = re.compile(r"/webhooks/api/v1/validate/[0-9]+/[0-9]+/[A-Za-z0-9_-]+")


def _verify(body: bytes, header_value: str | None, secrets: SigningSecrets) -> None:
    digest = signature.parse(header_value)
    if signature.matches(body, digest, [secrets.current()]):
        return
    if signature.matches(body, digest, [secrets.previous()]):
        return  # signed before a rotation finished
    # Perhaps the secret changed since we cached it: look again, but not on every bad request.
    if secrets.may_refresh() and signature.matches(
        body, digest, [secrets.current(force=True), secrets.previous(force=True)]
    ):
        return
    raise SignatureInvalid("The signature does not match the body signed with the webhook secret.")


def _ping_answer(ping: envelope.Envelope) -> dict[str, Any]:
    logger.info("ping answered", extra={"subscription_id": ping.subscription_id})
    count("WebhookPing")
    if ping.validation_code is not None:
        _validate_by_url(ping.validation_code_url)
        return responses.json_response(200, {"validation_code": ping.validation_code})
    return responses.json_response(200, {"status": "pong"})


def is_toggl_validation_url(url: str) -> bool:
    """Only Toggl's own validation URL is ever fetched: the PING is signed, but a function that
    fetches whatever URL it is handed would be a door left open."""
    try:
        target = urlsplit(url)
        port = target.port
    except ValueError:
        return False
    return (
        target.scheme == "https"
        and target.hostname in TOGGL_HOSTS
        and port in (None, 443)
        and target.username is None
        and target.password is None
        and not target.query
        and not target.fragment
        and VALIDATION_PATH.fullmatch(target.path) is not None
    )


def _validate_by_url(url: str | None) -> None:
    """Toggl's asynchronous validation as well as the echo, so either one validates."""
    if not url:
        return
    if not is_toggl_validation_url(url):
        logger.info("validation URL is not Toggl's; validated by the echo alone")
        return
    call_validation_url(url)


def call_validation_url(url: str) -> int | None:
    """GET the validation URL once, following no redirect: the answer's status, or None."""
    import requests  # only PINGs need it: kept off the cold start of every delivery

    from toggl_connection.toggl.client import USER_AGENT

    try:
        status = requests.get(
            url, timeout=(2, 3), allow_redirects=False, headers={"User-Agent": USER_AGENT}
        ).status_code
    except requests.RequestException as exc:
        logger.warning("validation URL not reached; validated by the echo", extra={"reason": type(exc).__name__})
        return None
    logger.info("validation URL called", extra={"status": status})
    return status


def _in_window(created: datetime) -> bool:
    now = datetime.now(UTC)
    return now - MAX_AGE <= created <= now + MAX_AHEAD


def _second_event_key(event: event_format.BusEvent, delivery: envelope.Envelope, outcome: dict[str, Any]) -> str | None:
    """The key of a distinct webhook event for a change already on the bus, else None.

    Toggl's ``at`` has whole seconds, so two updates in one second share their change record.
    That record remembers the webhook event that published it: a redelivery of that event, or
    a state the catch-up published (its event id is a string), is a duplicate; another webhook
    event id is a second update of that second. One entity is created, and deleted, once."""
    if not outcome["duplicate"] or delivery.action in ("created", "deleted"):
        return None
    first = outcome.get("event_id")
    if isinstance(first, int) and not isinstance(first, bool) and first != delivery.event_id:
        return f"{event.dedupe_key}#event:{delivery.event_id}"
    return None


def receive(request: dict[str, Any], context: Any, trigger: Trigger | None) -> dict[str, Any]:
    """Answer one delivery. Every failure becomes a JSON error answer here."""
    try:
        return _publish_delivery(request, context, trigger)
    except ConnectionFailure as failure:
        if failure.status < 500:
            count_by("WebhookRejected", "reason", failure.code)
        else:
            count("WebhookFailed")  # Toggl will deliver again; an alarm watches this
        return responses.error(failure)
    except Exception as unexpected:  # noqa: BLE001 - a 5xx makes Toggl deliver again
        count("WebhookFailed")
        return responses.error(unexpected)


def _publish_delivery(request: dict[str, Any], context: Any, trigger: Trigger | None) -> dict[str, Any]:
    """The delivery read, verified and published once (a PING answered, a replay acknowledged):
    its answer. Raises for anything refused or failed."""
    config = settings.load()
    body = request_reading.raw_body(request, MAX_BODY_BYTES)
    secrets = SigningSecrets(
        config.require("webhook_secret_id"), config.secret_cache_seconds, config.previous_secret_grace_hours
    )
    _verify(body, request_reading.header(request, signature.HEADER), secrets)

    delivery = envelope.parse(body)
    if delivery.is_ping:
        return _ping_answer(delivery)
    if not _in_window(delivery.created):
        # A replay of an old delivery (signed, so Toggl once sent it) is not published again.
        logger.warning(
            "delivery outside the replay window",
            extra={"event_id": delivery.event_id, "created_at": delivery.created_at},
        )
        count_by("WebhookRejected", "reason", "expired")
        return responses.json_response(200, {"status": "expired", "event_id": delivery.event_id})

    event = envelope.bus_event(delivery)
    logger.append_keys(event_id=delivery.event_id, entity=delivery.entity, action=delivery.action)
    if trigger is not None and (delivery.entity, delivery.action) != (trigger.entity, trigger.action):
        # A subscription pointed at the wrong route: publish under the true type, lose nothing.
        logger.warning(
            "event type differs from the route's",
            extra={"route_detail_type": trigger.detail_type, "detail_type": event.detail_type},
        )
        count("WebhookMisrouted")

    bus_name, table = config.require("event_bus_name"), config.require("records_table_name")
    outcome = idempotency.once(event.dedupe_key, publisher.publishing(event, bus_name), table, context)
    second = _second_event_key(event, delivery, outcome)
    if second is not None:
        # Another event of the same second of this entity was published first: this one may
        # carry the final state, so it is published too, once (its own record).
        outcome = idempotency.once(second, publisher.publishing(event, bus_name), table, context)
    if outcome["duplicate"]:
        logger.info("duplicate delivery; already on the bus")
        count("WebhookDuplicate")
        status = "duplicate"
    else:
        logger.info("event published", extra={"detail_type": event.detail_type})
        count("WebhookPublished")
        status = "published"
    return responses.json_response(
        200, {"status": status, "event_id": delivery.event_id, "detail_type": event.detail_type}
    )
