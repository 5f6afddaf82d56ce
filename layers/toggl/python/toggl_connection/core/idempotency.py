"""Work done once per key, on top of Powertools idempotency (DynamoDB): the webhooks' and the
catch-up's publishing (each change on the bus once) and the actions' idempotency (a caller's
retry answered from what the first attempt did) alike.

A record is written *in progress* before the work and completed after; when the work raises,
Powertools deletes the record, so a failed attempt is never remembered as done and Toggl's
redelivery (or the caller's retry) does the work again. The key is shared by every function of
the stack (``key_prefix``), so one event sent to two routes is still published once.

Once the work has succeeded (the event is on the bus), its answer is a success whatever the
"done" write does: that write is tried again a few times, and if it still fails the failure is
logged with a ``DedupeRecordFailed`` metric, never turned into a 5xx that would make Toggl
deliver the event again. (A redelivery that arrives while the record stays "in progress" is
told to come back later; one that arrives after the record's in-progress time ran out, with the
"done" write never having landed, is published again: the one fault in which an event can be on
the bus twice. README, "Exactly once", names it.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemNotFoundError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from toggl_connection.core import aws_clients, records
from toggl_connection.core.errors import DedupeUnavailable, DeliveryInProgress, IdempotencyKeyReused
from toggl_connection.core.observability import count, logger
from toggl_connection.core.settings import DEDUPE_SECONDS

# After a successful publish, the "done" write gets this many more tries (0.1 s, 0.2 s, 0.4 s).
DONE_WRITE_ATTEMPTS = 3
DONE_WRITE_BACKOFF = 0.1


@cache
def _store(table_name: str, prefix: str, client: Any) -> DynamoDBPersistenceLayer:
    # One store per prefix: Powertools configures a store once, with the first config it sees.
    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)


def _mark_duplicate(response: Any, record: DataRecord) -> Any:
    return {**response, "duplicate": True} if isinstance(response, dict) else response


def once(
    key: str,
    work: Callable[[], dict[str, Any]],
    table_name: str,
    lambda_context: Any,
    prefix: str = records.CHANGE_EVENTS,
    expires_after_seconds: int = DEDUPE_SECONDS,
    fingerprint: Any = None,
) -> dict[str, Any]:
    """Run ``work`` unless it already succeeded for ``key`` within the window.

    Returns ``work``'s result, with ``"duplicate": True`` when it is the remembered one. With a
    ``fingerprint`` (the request), reusing ``key`` for a different request is refused.
    """
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="fingerprint" if fingerprint is not None else "",
        expires_after_seconds=expires_after_seconds,
        raise_on_no_idempotency_key=True,
        response_hook=_mark_duplicate,  # type: ignore[arg-type]
    )
    # Ties the in-progress lock to this invocation's remaining time: a crashed attempt does not
    # block redeliveries for a week.
    config.register_lambda_context(lambda_context)

    done: list[dict[str, Any]] = []  # the work's result, once it succeeded

    def run(item: dict[str, Any]) -> dict[str, Any]:
        result = {**work(), "duplicate": False}
        done.append(result)
        return result

    store = _store(table_name, prefix, aws_clients.client("dynamodb"))
    guarded = idempotent_function(
        run, data_keyword_argument="item", persistence_store=store, config=config, key_prefix=prefix
    )
    item = {"key": key, "fingerprint": fingerprint}
    try:
        return guarded(item=item)  # type: ignore[no-any-return]
    except IdempotencyPersistenceLayerError as exc:
        if done:  # the work is done: only its "done" record failed to land
            _record_done(store, item, done[0])
            return done[0]
        raise DedupeUnavailable("The dedupe table could not be reached; deliver again shortly.") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise DeliveryInProgress("Another delivery of this event is being published; deliver again shortly.") from exc
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused(
            "This idempotency key was already used for a different request: use a new key."
        ) from exc


def _record_done(store: DynamoDBPersistenceLayer, item: dict[str, Any], result: dict[str, Any]) -> None:
    """Write the "done" record again, a bounded number of times; then log it and count it."""
    failure = "none tried"
    for attempt in range(DONE_WRITE_ATTEMPTS):
        time.sleep(DONE_WRITE_BACKOFF * 2**attempt)
        try:
            store.save_success(data=item, result=result)
            logger.info("dedupe record written on a later try", extra={"attempt": attempt + 2})
            return
        except Exception as exc:  # noqa: BLE001 - Powertools and botocore raise many kinds here
            failure = type(exc).__name__
    logger.error("dedupe record not written after a successful publish", extra={"reason": failure})
    count("DedupeRecordFailed")


def recorded(key: str, table_name: str, prefix: str = records.CHANGE_EVENTS) -> dict[str, Any] | None:
    """The result kept for ``key`` when the work was done; None when there is no live record;
    ``DeliveryInProgress`` while it is being done. Reads only."""
    store = _store(table_name, prefix, aws_clients.client("dynamodb"))
    store.configure(
        IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=DEDUPE_SECONDS), key_prefix=prefix
    )
    try:
        record = store.get_record({"key": key, "fingerprint": None})
    except IdempotencyItemNotFoundError:
        return None
    except IdempotencyPersistenceLayerError as exc:
        raise DedupeUnavailable("The dedupe table could not be read; try again shortly.") from exc
    if record is None or record.is_expired:
        return None
    if record.status == "INPROGRESS":
        lapsed = record.in_progress_expiry_timestamp
        if lapsed is not None and lapsed < time.time() * 1000:
            return None  # an attempt that crashed: nobody is publishing it
        raise DeliveryInProgress("Another delivery of this change is being published; look again shortly.")
    return record.response_json_as_dict() or {}


def forget_stores() -> None:
    _store.cache_clear()
