"""Secrets Manager values through Powertools ``parameters``, cached per container.

Values are never logged, returned or put in an exception message; only the secret's id is.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from toggl_connection import aws_clients
from toggl_connection.errors import ConfigurationError, SecretUnavailable

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
# A signature that matches no cached secret may mean the secret was just rotated. Re-read at most
# this often, so that bad signatures cannot turn into a Secrets Manager call per request.
REFRESH_INTERVAL_SECONDS = 60.0


@cache
def _provider(stage: str, client: Any) -> SecretsProvider:
    # Powertools caches by secret name only, so each version stage needs a provider (cache) of its own.
    return SecretsProvider(boto3_client=client)


def _read(secret_id: str, stage: str, max_age: int, force: bool = False) -> str | None:
    """The secret string at ``stage``, or None when the secret has no version there."""
    provider = _provider(stage, aws_clients.client("secretsmanager"))
    try:
        value = provider.get(secret_id, max_age=max_age, force_fetch=force, VersionStage=stage)
    except GetParameterError as exc:
        if stage != CURRENT and "ResourceNotFoundException" in str(exc):
            return None
        cause = exc.__cause__ or exc.__context__
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else type(cause).__name__
        raise SecretUnavailable(f"Could not read secret {secret_id} ({code}); try again shortly.") from None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return value if isinstance(value, str) else None


class SigningSecrets:
    """The webhook signing secret: ``AWSCURRENT`` and, during a rotation, ``AWSPREVIOUS``."""

    def __init__(self, secret_id: str, max_age: int) -> None:
        self.secret_id = secret_id
        self.max_age = max_age

    def current(self, force: bool = False) -> str:
        value = _read(self.secret_id, CURRENT, self.max_age, force)
        if not value:
            raise ConfigurationError(f"The webhook signing secret {self.secret_id} is empty.")
        return value

    def previous(self, force: bool = False) -> str | None:
        key = (self.secret_id, self.max_age)
        if force or _absent_previous.get(key, 0.0) < time.monotonic():
            value = _read(self.secret_id, PREVIOUS, self.max_age, force)
            if value:
                _absent_previous.pop(key, None)
                return value
            # Remember "no previous version" as long as a value would be cached.
            _absent_previous[key] = time.monotonic() + self.max_age
        return None

    def may_refresh(self) -> bool:
        """True at most once per REFRESH_INTERVAL_SECONDS per secret."""
        now = time.monotonic()
        if _last_refresh.get(self.secret_id, -REFRESH_INTERVAL_SECONDS) + REFRESH_INTERVAL_SECONDS > now:
            return False
        _last_refresh[self.secret_id] = now
        return True


_absent_previous: dict[tuple[str, int], float] = {}
_last_refresh: dict[str, float] = {}


def api_token(secret_id: str, max_age: int) -> str:
    """The Toggl Personal API Token: the secret string itself or ``{"api_token": "..."}``."""
    value = (_read(secret_id, CURRENT, max_age) or "").strip()
    if value.startswith("{"):
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ConfigurationError(f"Secret {secret_id} is neither a token nor a JSON object.")
        value = str(document.get("api_token") or "").strip()
    if not value:
        raise ConfigurationError(f"The Toggl API token secret {secret_id} is empty: put your Personal API Token in it.")
    return value


def forget_secrets() -> None:
    """Start over as a fresh container would (tests and the local stack use this)."""
    _provider.cache_clear()
    _absent_previous.clear()
    _last_refresh.clear()
