"""boto3 clients, created once per container and reused by every invocation.

Keyed by service, region and endpoint so that a process hosting several functions (the local
stack, the tests) never hands out a client pointed at the wrong place. boto3 itself honours
``AWS_ENDPOINT_URL`` (moto in server mode) and ``AWS_REGION``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from toggl_connection.core.settings import getenv

# Fail fast and let the caller decide: a webhook answers 5xx and Toggl redelivers.
_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


@cache
def _client(service: str, region: str | None, endpoint: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, config=_CONFIG)  # type: ignore[call-overload]


def client(service: str) -> Any:
    region = getenv("AWS_REGION") or getenv("AWS_DEFAULT_REGION") or None
    endpoint = getenv(f"AWS_ENDPOINT_URL_{service.upper()}") or getenv("AWS_ENDPOINT_URL") or None
    return _client(service, region, endpoint)


def forget_clients() -> None:
    """Start over as a fresh container would (tests and the local stack use this)."""
    _client.cache_clear()
