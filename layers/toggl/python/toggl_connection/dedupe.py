"""Exactly-once publishing on top of Powertools idempotency (DynamoDB).

A record is written *in progress* before publishing and completed after; when publishing
raises, Powertools deletes the record, so a failed attempt is never remembered as done and
Toggl's redelivery publishes the event. The key is shared by every function of the stack
(``key_prefix``), so one event sent to two routes is still published once.
"""

from __future__ import annotations

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
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from toggl_connection import aws_clients
from toggl_connection.errors import DedupeUnavailable, DeliveryInProgress, IdempotencyKeyReused
from toggl_connection.settings import DEDUPE_SECONDS

KEY_PREFIX = "toggl-event"


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
    prefix: str = KEY_PREFIX,
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

    def run(item: dict[str, Any]) -> dict[str, Any]:
        return {**work(), "duplicate": False}

    guarded = idempotent_function(
        run,
        data_keyword_argument="item",
        persistence_store=_store(table_name, prefix, aws_clients.client("dynamodb")),
        config=config,
        key_prefix=prefix,
    )
    try:
        return guarded(item={"key": key, "fingerprint": fingerprint})  # type: ignore[no-any-return]
    except IdempotencyAlreadyInProgressError as exc:
        raise DeliveryInProgress("Another delivery of this event is being published; deliver again shortly.") from exc
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused(
            "This idempotency key was already used for a different request: use a new key."
        ) from exc
    except IdempotencyPersistenceLayerError as exc:
        raise DedupeUnavailable("The dedupe table could not be reached; deliver again shortly.") from exc


def forget_stores() -> None:
    _store.cache_clear()
