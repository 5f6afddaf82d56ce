"""Typed settings, read from the environment that ``template.yaml`` gives each function.

Read per invocation (a handful of ``getenv`` calls) rather than cached at import time, so the same
process can host several functions with different environments (the local stack does).
Expensive things keyed by these values (clients, secrets) are cached elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from toggl_connection.errors import ConfigurationError

DEFAULT_TOGGL_API_URL = "https://api.track.toggl.com"
DEFAULT_SECRET_CACHE_SECONDS = 300
# Toggl keeps undelivered events for about a week; remember event ids at least that long.
DEDUPE_SECONDS = 7 * 24 * 60 * 60


@dataclass(frozen=True)
class Settings:
    event_bus_name: str | None
    webhook_secret_id: str | None
    toggl_api_token_secret_id: str | None
    idempotency_table_name: str | None
    toggl_api_url: str
    default_workspace_id: int | None
    secret_cache_seconds: int

    def require(self, name: str) -> str:
        """The value of a setting this function cannot work without, or a clear error."""
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"{name.upper()} is not set for this function")
        return str(value)


def _optional_int(name: str) -> int | None:
    raw = os.getenv(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}")
    return int(raw)


def load() -> Settings:
    return Settings(
        event_bus_name=os.getenv("EVENT_BUS_NAME") or None,
        webhook_secret_id=os.getenv("WEBHOOK_SECRET_ID") or None,
        toggl_api_token_secret_id=os.getenv("TOGGL_API_TOKEN_SECRET_ID") or None,
        idempotency_table_name=os.getenv("IDEMPOTENCY_TABLE_NAME") or None,
        toggl_api_url=(os.getenv("TOGGL_API_URL") or DEFAULT_TOGGL_API_URL).rstrip("/"),
        default_workspace_id=_optional_int("DEFAULT_WORKSPACE_ID"),
        secret_cache_seconds=_optional_int("SECRET_CACHE_SECONDS") or DEFAULT_SECRET_CACHE_SECONDS,
    )
