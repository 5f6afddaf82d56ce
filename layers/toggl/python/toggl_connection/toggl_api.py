"""The Toggl Track API client every action and query uses.

One ``requests.Session`` per container (connection reuse), Basic auth with the Personal API
Token, a timeout on every call, and retries only where they are safe: 429 and connection
failures always, 5xx and read timeouts only when repeating the request cannot do anything twice
(or the caller says it may). Never 4xx, never 402. Quota headers are logged and exported.
The token never appears in a log, an exception or a metric.
"""

from __future__ import annotations

import json
import random
import time
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from toggl_connection.errors import (
    TogglAlreadyExists,
    TogglFailure,
    TogglInvalidRequest,
    TogglNotFound,
    TogglOutcomeUnknown,
    TogglPlanRequired,
    TogglQuotaExhausted,
    TogglTokenRejected,
    TogglUnavailable,
)
from toggl_connection.observability import logger, metrics
from toggl_connection.secrets import api_token
from toggl_connection.settings import Settings

if TYPE_CHECKING:
    import requests

USER_AGENT = "toggl-track-connection/0.1 (AWS Lambda; +https://github.com/toggl-track-connection)"
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# Keep this much of the Lambda's time for answering after the last Toggl call.
TIME_MARGIN = 1.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
QUOTA_REMAINING = "X-Toggl-Quota-Remaining"
QUOTA_RESETS_IN = "X-Toggl-Quota-Resets-In"


class Quota(NamedTuple):
    remaining: int | None
    resets_in: int | None


class TogglResponse(NamedTuple):
    status: int
    data: Any
    headers: dict[str, str]
    request_id: str | None
    quota: Quota


@cache
def _session() -> requests.Session:
    # Imported on the first Toggl call rather than at cold start: the webhook functions never
    # call Toggl, and the others save ~30 ms of their init.
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0))
    session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0))
    return session


def _int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: Retry-After as an HTTP date

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _message(response: requests.Response) -> str:
    """Toggl's error text: a JSON string, a JSON object with a message, or plain text."""
    text = response.text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500] or response.reason or f"HTTP {response.status_code}"
    if isinstance(data, str):
        return data[:500]
    if isinstance(data, dict):
        for key in ("message", "error", "error_message"):
            if isinstance(data.get(key), str):
                return str(data[key])[:500]
    return text[:500]


def _is_quota_402(response: requests.Response, quota: Quota, message: str) -> bool:
    return quota.remaining == 0 or "quota" in message.lower()


class TogglClient:
    """Calls Toggl for one invocation: ``deadline`` is when the Lambda must be answering."""

    def __init__(self, base_url: str, token: str, deadline: float | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = (token, "api_token")
        self.deadline = deadline if deadline is not None else time.monotonic() + 60
        self.requests_made = 0
        self.quota = Quota(None, None)

    def __repr__(self) -> str:  # never show the token
        return f"TogglClient({self.base_url!r})"

    def get(self, path: str, params: dict[str, Any] | None = None) -> TogglResponse:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, retry_ambiguous: bool = True) -> TogglResponse:
        return self.request("POST", path, body=body, retry_ambiguous=retry_ambiguous)

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        retry_ambiguous: bool = True,
    ) -> TogglResponse:
        """Call Toggl; return its answer or raise the ``TogglFailure`` that says what happened.

        ``retry_ambiguous=False`` keeps a non-idempotent request from being repeated after a 5xx
        (a POST is never repeated after a timeout or a broken connection: Toggl may have acted).
        """
        idempotent = method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            attempt += 1
            failure, wait = self._attempt(method, path, params, body, idempotent, retry_ambiguous)
            if isinstance(failure, TogglResponse):
                return failure
            if wait is None or attempt >= MAX_ATTEMPTS:
                raise failure
            delay = wait if wait > 0 else random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))  # noqa: S311
            if time.monotonic() + delay + TIME_MARGIN + CONNECT_TIMEOUT > self.deadline:
                raise failure  # no time left to wait and try again
            logger.info("retrying Toggl call", extra={"path": path, "attempt": attempt, "delay": round(delay, 2)})
            time.sleep(delay)

    def _attempt(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        idempotent: bool,
        retry_5xx: bool,
    ) -> tuple[TogglResponse | TogglFailure, float | None]:
        """One call. Returns the response, or the failure and how long to wait before a retry
        (0: back off with jitter; None: do not retry).

        A request that timed out or lost its connection after being sent may have been carried
        out: only an idempotent one is repeated. A 5xx is repeated for idempotent requests and,
        following Toggl's guidance, for others unless ``retry_5xx`` is off."""
        remaining = self.deadline - time.monotonic() - TIME_MARGIN
        if remaining < 1:
            return TogglUnavailable("No time left to call Toggl before the function's timeout."), None
        import requests

        started = time.monotonic()
        self.requests_made += 1
        try:
            response = _session().request(
                method,
                self.base_url + path,
                params=params,
                json=body,
                auth=self._auth,
                timeout=(CONNECT_TIMEOUT, min(READ_TIMEOUT, remaining)),
            )
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
            return TogglUnavailable(f"Could not connect to Toggl ({type(exc).__name__})."), 0
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                return TogglUnavailable(f"Could not connect to Toggl ({type(exc).__name__})."), 0
            return self._ambiguous(f"The connection to Toggl broke ({type(exc).__name__}).", None, idempotent)
        except requests.Timeout:
            return self._ambiguous("Toggl did not answer in time.", None, idempotent)

        elapsed_ms = round((time.monotonic() - started) * 1000)
        request_id = response.headers.get("X-Toggl-Request-Id")
        quota = Quota(_int_header(response.headers, QUOTA_REMAINING), _int_header(response.headers, QUOTA_RESETS_IN))
        self._observe(method, path, response.status_code, elapsed_ms, request_id, quota)
        status = response.status_code
        if status < 400:
            data = response.json() if response.content.strip() else None
            return TogglResponse(status, data, dict(response.headers), request_id, quota), None

        message = _message(response)
        if status == 429:
            retry_after = _retry_after(response.headers)
            failure: TogglFailure = TogglQuotaExhausted(
                f"Toggl is rate limiting requests: {message}", int(retry_after or 60), request_id, status
            )
            return failure, retry_after if retry_after is not None else 0
        if status == 402:
            if _is_quota_402(response, quota, message):
                resets = quota.resets_in or int(_retry_after(response.headers) or 3600)
                return TogglQuotaExhausted(
                    f"Toggl's hourly API quota is used up; it resets in {resets} s. Toggl says: {message}",
                    resets, request_id, status,
                ), None  # fmt: skip
            return TogglPlanRequired(
                f"This needs a paid Toggl plan. Toggl says: {message}", request_id, status
            ), None  # fmt: skip
        if status in (401, 403):
            return TogglTokenRejected(
                "Toggl refused the API token (or its user may not access this workspace): check the "
                f"Personal API Token in the token secret. Toggl says: {message}",
                request_id, status,
            ), None  # fmt: skip
        if status in (404, 410):
            return TogglNotFound(f"Toggl found no such thing: {message}", request_id, status), None
        if status >= 500:
            return self._ambiguous(f"Toggl failed ({status}): {message}", request_id, idempotent or retry_5xx, status)
        lowered = message.lower()
        if "already exists" in lowered or "already been taken" in lowered:
            return TogglAlreadyExists(message, request_id, status), None
        return TogglInvalidRequest(message, request_id, status), None

    @staticmethod
    def _ambiguous(
        message: str, request_id: str | None, repeatable: bool, status: int | None = None
    ) -> tuple[TogglFailure, float | None]:
        if repeatable:
            return TogglUnavailable(message + " Try again later.", request_id, status), 0
        return TogglOutcomeUnknown(
            message + " Toggl may have carried the request out: check in Toggl before sending it again.",
            request_id, status,
        ), None  # fmt: skip

    def _observe(
        self, method: str, path: str, status: int, elapsed_ms: int, request_id: str | None, quota: Quota
    ) -> None:
        if quota.remaining is not None:
            self.quota = quota
            metrics.add_metric(name="TogglQuotaRemaining", unit="Count", value=quota.remaining)
        logger.info(
            "toggl call",
            extra={
                "toggl_method": method, "toggl_path": path, "toggl_status": status, "elapsed_ms": elapsed_ms,
                "toggl_request_id": request_id, "quota_remaining": quota.remaining, "quota_resets_in": quota.resets_in,
            },
        )  # fmt: skip


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request left (refused, DNS)."""
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "NameResolutionError", "Connection refused"))


def toggl_client(config: Settings, context: Any) -> TogglClient:
    """A client for this invocation: the stack's Toggl URL, the token from its secret (cached
    per container), and the Lambda's remaining time as the deadline for retries."""
    token = api_token(config.require("toggl_api_token_secret_id"), config.secret_cache_seconds)
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 30.0
    return TogglClient(config.toggl_api_url, token, deadline=time.monotonic() + remaining)
