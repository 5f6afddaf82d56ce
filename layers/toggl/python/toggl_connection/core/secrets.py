"""Secrets Manager values through Powertools ``parameters``, cached per container.

Values are never logged, returned or put in an exception message. A secret's id goes to the
logs (``detail``) but never into an answer: the webhook routes answer callers who are not
authenticated.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any, NamedTuple

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from toggl_connection.core import aws_clients
from toggl_connection.core.errors import ConfigurationError, SecretUnavailable

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
# A signature that matches no cached secret may mean the secret was just rotated. Re-read at most
# this often, so that bad signatures cannot turn into a Secrets Manager call per request.
REFRESH_INTERVAL_SECONDS = 60.0


class _VersionProvider(SecretsProvider):
    """Powertools' provider, keeping the version's creation time beside its value: one
    ``GetSecretValue`` says both what the secret is and since when (cached together)."""

    def _get(self, name: str, **sdk_options: Any) -> str:
        sdk_options["SecretId"] = name
        answer = self.client.get_secret_value(**sdk_options)
        value = answer.get("SecretString")
        if value is None and answer.get("SecretBinary") is not None:
            value = bytes(answer["SecretBinary"]).decode("utf-8")
        created = answer.get("CreatedDate")
        return json.dumps({"value": value, "created": created.timestamp() if created else None})


class Version(NamedTuple):
    value: str | None
    created: float | None  # Unix time the version was created


@cache
def _provider(stage: str, client: Any) -> SecretsProvider:
    # Powertools caches by secret name only, so each version stage needs a provider (cache) of its own.
    return _VersionProvider(boto3_client=client)


def _version(secret_id: str, stage: str, max_age: int, force: bool = False) -> Version:
    """The secret at ``stage`` (value None when the secret has no version there)."""
    provider = _provider(stage, aws_clients.client("secretsmanager"))
    try:
        raw = provider.get(secret_id, max_age=max_age, force_fetch=force, VersionStage=stage)
    except GetParameterError as exc:
        if stage != CURRENT and "ResourceNotFoundException" in str(exc):
            return Version(None, None)
        cause = exc.__cause__ or exc.__context__
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else type(cause).__name__
        raise SecretUnavailable("A secret could not be read; try again shortly.", f"{secret_id} ({code})") from None
    document = json.loads(raw) if isinstance(raw, str | bytes) else {}
    value = document.get("value")
    return Version(value if isinstance(value, str) else None, document.get("created"))


def _read(secret_id: str, stage: str, max_age: int, force: bool = False) -> str | None:
    return _version(secret_id, stage, max_age, force).value


class SigningSecrets:
    """The webhook signing secret: ``AWSCURRENT`` and, during a rotation, ``AWSPREVIOUS`` for
    ``grace_hours`` after the current version was created (0: never)."""

    def __init__(self, secret_id: str, max_age: int, grace_hours: int = 24) -> None:
        self.secret_id = secret_id
        self.max_age = max_age
        self.grace_hours = grace_hours

    def current(self, force: bool = False) -> str:
        value = _read(self.secret_id, CURRENT, self.max_age, force)
        if not value:
            raise ConfigurationError("The webhook signing secret is empty.", self.secret_id)
        return value

    def previous(self, force: bool = False) -> str | None:
        """The previous version while the rotation's grace lasts; None after it, or without one."""
        if self.grace_hours <= 0:
            return None
        created = _version(self.secret_id, CURRENT, self.max_age, force).created
        if created is not None and time.time() - created > self.grace_hours * 3600:
            return None  # rotated long enough ago: a delivery signed with the old secret is refused
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
            raise ConfigurationError(
                'The Toggl API token secret is neither a token nor a JSON object {"api_token": "..."}.', secret_id
            )
        value = str(document.get("api_token") or "").strip()
    if not value:
        raise ConfigurationError(
            "The Toggl API token secret is empty: put your Personal API Token in it (the stack's output "
            "TogglApiTokenSecretArn names it).",
            secret_id,
        )
    return value


def forget_secrets() -> None:
    """Start over as a fresh container would (tests and the local stack use this)."""
    _provider.cache_clear()
    _absent_previous.clear()
    _last_refresh.clear()
