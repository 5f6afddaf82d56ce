"""Requests whose outcome stayed unknown, remembered by their content for a while.

When a create's answer is lost and the action could not find out what happened, the next
attempt of the same request (a caller's retry, with or without a key) must not just send it
again: it looks first. Only these requests pay for the look; every other create costs Toggl
exactly one request. One small DynamoDB item per unknown outcome, gone after ``ttl_seconds``.
"""

from __future__ import annotations

import time

from botocore.exceptions import BotoCoreError, ClientError

from toggl_connection.core import aws_clients, records
from toggl_connection.core.errors import DedupeUnavailable
from toggl_connection.core.observability import logger


class Remembered:
    def __init__(self, table: str, prefix: str, fingerprint: str, ttl_seconds: int) -> None:
        self.table = table
        self.key = {"id": {"S": records.UNKNOWN_OUTCOME.format(action_prefix=prefix, fingerprint=fingerprint)}}
        self.ttl_seconds = ttl_seconds

    def first_attempt(self) -> float | None:
        """When the earlier attempt of this request whose outcome stayed unknown was made (Unix
        seconds); None when there was none. A table that cannot say is a retryable 503: guessing
        either way could send an invitation twice or refuse one for a day."""
        try:
            item = aws_clients.client("dynamodb").get_item(TableName=self.table, Key=self.key, ConsistentRead=True)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not read unknown outcomes", extra={"reason": type(exc).__name__})
            raise DedupeUnavailable("The record of earlier attempts could not be read; try again shortly.") from exc
        found = item.get("Item", {})
        expiry = int(found.get("expiration", {}).get("N", "0"))
        if expiry <= time.time():  # TTL deletes late: an expired item counts as gone
            return None
        return float(found.get("first_attempt", {}).get("N", str(expiry - self.ttl_seconds)))

    def remember(self, first_attempt: float) -> None:
        item = {
            **self.key,
            "expiration": {"N": str(int(time.time()) + self.ttl_seconds)},
            "first_attempt": {"N": str(int(first_attempt))},
        }
        try:
            aws_clients.client("dynamodb").put_item(TableName=self.table, Item=item)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not remember an unknown outcome", extra={"reason": type(exc).__name__})

    def forget(self) -> None:
        try:
            aws_clients.client("dynamodb").delete_item(TableName=self.table, Key=self.key)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not forget an unknown outcome", extra={"reason": type(exc).__name__})
