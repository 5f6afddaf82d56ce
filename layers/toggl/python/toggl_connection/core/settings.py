"""Typed settings, read from the environment that ``template.yaml`` gives each function.

Read per invocation (a handful of look-ups) rather than cached at import time, so the same
process can host several functions with different environments (the local stack does, each
invocation in its own thread with ``ENVIRONMENT`` set). Expensive things keyed by these values
(clients, secrets) are cached elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import NamedTuple

from toggl_connection.core.errors import ConfigurationError
from toggl_connection.core.integers import ascii_int

DEFAULT_TOGGL_API_URL = "https://api.track.toggl.com"
DEFAULT_SECRET_CACHE_SECONDS = 300
DEFAULT_PREVIOUS_SECRET_GRACE_HOURS = 24
# Toggl keeps undelivered events for about a week; remember event ids at least that long.
DEDUPE_SECONDS = 7 * 24 * 60 * 60
# In Lambda this stays unset and os.environ is the function's environment.
ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("environment", default=None)


def getenv(name: str, default: str = "") -> str:
    return (ENVIRONMENT.get() or os.environ).get(name, default)


# A setting whose environment variable bears another name (the contract's, kept for deployed stacks).
_VARIABLE_OF = {"records_table_name": "IDEMPOTENCY_TABLE_NAME"}


class Settings(NamedTuple):
    event_bus_name: str | None
    webhook_secret_id: str | None
    toggl_api_token_secret_id: str | None
    records_table_name: str | None
    toggl_api_url: str
    default_workspace_id: int | None
    secret_cache_seconds: int
    webhook_base_url: str | None
    subscription_name: str | None
    # The mark that tells this stack's subscriptions from any other's (name, account, region).
    subscription_owner: str | None
    stack_id: str | None
    allow_admin_invitations: bool
    allowed_workspace_ids: frozenset[int]  # empty: any workspace the token reaches
    previous_secret_grace_hours: int

    def require(self, name: str) -> str:
        """The value of a setting this function cannot work without, or a clear error."""
        value = getattr(self, name)
        if not value:
            variable = _VARIABLE_OF.get(name, name.upper())
            raise ConfigurationError("This function is not configured completely.", f"{variable} is not set")
        return str(value)


def _optional_int(name: str) -> int | None:
    raw = getenv(name).strip()
    if not raw:
        return None
    number = ascii_int(raw)
    if number is None:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}")
    return number


def _workspace_ids(name: str) -> frozenset[int]:
    parts = [p.strip() for p in getenv(name).split(",") if p.strip()]
    ids = [ascii_int(p) for p in parts]
    if any(i is None for i in ids):
        raise ConfigurationError(f"{name} must be comma-separated workspace ids")
    return frozenset(i for i in ids if i is not None)


def load() -> Settings:
    return Settings(
        event_bus_name=getenv("EVENT_BUS_NAME") or None,
        webhook_secret_id=getenv("WEBHOOK_SECRET_ID") or None,
        toggl_api_token_secret_id=getenv("TOGGL_API_TOKEN_SECRET_ID") or None,
        records_table_name=getenv("IDEMPOTENCY_TABLE_NAME") or None,  # the records table (core.records)
        toggl_api_url=(getenv("TOGGL_API_URL") or DEFAULT_TOGGL_API_URL).rstrip("/"),
        default_workspace_id=_optional_int("DEFAULT_WORKSPACE_ID"),
        secret_cache_seconds=_optional_int("SECRET_CACHE_SECONDS") or DEFAULT_SECRET_CACHE_SECONDS,
        webhook_base_url=getenv("WEBHOOK_BASE_URL") or None,
        subscription_name=getenv("SUBSCRIPTION_NAME") or None,
        subscription_owner=getenv("SUBSCRIPTION_OWNER") or None,
        stack_id=getenv("STACK_ID") or None,
        allow_admin_invitations=getenv("ALLOW_ADMIN_INVITATIONS").strip().lower() == "true",
        allowed_workspace_ids=_workspace_ids("ALLOWED_WORKSPACE_IDS"),
        previous_secret_grace_hours=_grace_hours(),
    )


def _grace_hours() -> int:
    value = _optional_int("PREVIOUS_SECRET_GRACE_HOURS")
    return DEFAULT_PREVIOUS_SECRET_GRACE_HOURS if value is None else value
