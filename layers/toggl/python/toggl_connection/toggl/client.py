"""The Toggl Track API client every action and query uses.

One ``requests.Session`` per container (connection reuse), Basic auth with the Personal API
Token, a timeout on every call, and retries only where they are safe. ``classify_response`` and
``classify_exception`` decide, as pure functions, what an answer (or the lack of one) means:

- 429 and a connection that was never made are retried, for any request;
- a 5xx, a timeout or a connection lost after the request was written leave the outcome unknown:
  a request that can be repeated (GET, PUT, DELETE, a report search) is retried, any other one
  raises ``TogglOutcomeUnknown`` at once, and the caller decides (the actions look for what the
  request would have made before sending it again);
- 4xx and 402 are never retried.

Response headers are read in any letter case. The token never appears in a log, an exception or
a metric; Toggl's error texts are cut and cleaned before they reach anyone.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from toggl_connection.core.errors import (
    ConfigurationError,
    TogglAlreadyExists,
    TogglFailure,
    TogglInvalidRequest,
    TogglNotFound,
    TogglOutcomeUnknown,
    TogglPlanRequired,
    TogglQuotaExhausted,
    TogglRequestTooLong,
    TogglTokenRejected,
    TogglUnavailable,
)
from toggl_connection.core.integers import ascii_int
from toggl_connection.core.observability import count, logger, metrics
from toggl_connection.core.secrets import api_token
from toggl_connection.core.settings import Settings

if TYPE_CHECKING:
    import requests

# The prefix of every Track API v9 path the connection calls.
V9 = "/api/v9"
USER_AGENT = "toggl-track-connection/0.1 (AWS Lambda; +https://github.com/toggl-track-connection)"
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# Keep this much of the Lambda's time for answering after the last Toggl call.
TIME_MARGIN = 1.0
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
QUOTA_REMAINING = "X-Toggl-Quota-Remaining"
QUOTA_RESETS_IN = "X-Toggl-Quota-Resets-In"
REQUEST_ID = "X-Toggl-Request-Id"
# Toggl's quota window is an hour: a longer wait it asks for (Retry-After, a quota reset) is a
# mistake or a hostile answer, and believing it could switch a job off for years.
MAX_WAIT = 3600
# Toggl's texts reach answers, logs and CloudFormation: one line, this long at most.
MAX_TEXT = 200
# A 402 is the hourly quota when its text says so; otherwise a feature of a paid plan.
_QUOTA_WORDS = re.compile(r"quota|limit|requests? per hour|hourly", re.IGNORECASE)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class Quota(NamedTuple):
    remaining: int | None
    resets_in: int | None


class TogglResponse(NamedTuple):
    status: int
    data: Any
    headers: Mapping[str, str]  # any letter case finds a header
    request_id: str | None
    quota: Quota


class Verdict(NamedTuple):
    """What to do with an answer: ``failure`` None is a success; ``wait`` None means do not
    retry, 0 back off with jitter, more is the seconds to wait. ``maybe_done``: Toggl may have
    carried the request out (a 5xx, a timeout or a connection lost after sending it)."""

    failure: TogglFailure | None
    wait: float | None
    maybe_done: bool = False


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


def forget_session() -> None:
    _session.cache_clear()


def header_of(headers: Mapping[str, str], name: str) -> str | None:
    """A header in any letter case, from any mapping."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = (header_of(headers, name) or "").strip()
    negative = value.startswith("-")  # Toggl's quota may go below zero while not enforced
    number = ascii_int(value[1:] if negative else value)
    return None if number is None else -number if negative else number


def quota_of(headers: Mapping[str, str]) -> Quota:
    resets_in = _int_header(headers, QUOTA_RESETS_IN)
    return Quota(_int_header(headers, QUOTA_REMAINING), None if resets_in is None else min(resets_in, MAX_WAIT))


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), believed up to ``MAX_WAIT``: a
    larger, non-numeric or non-finite value counts as ``MAX_WAIT``. None when it is not sent."""
    value = header_of(headers, "Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: Retry-After as an HTTP date

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return float(MAX_WAIT)
    return max(0.0, seconds) if math.isfinite(seconds) and seconds <= MAX_WAIT else float(MAX_WAIT)


def clean_text(text: str, limit: int = MAX_TEXT) -> str:
    """Someone else's text made safe to pass on: one line, printable, at most ``limit`` long."""
    single = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return single if len(single) <= limit else single[: limit - 1].rstrip() + "\u2026"


def toggl_text(body: str, status: int) -> str:
    """Toggl's error text: a JSON string, a JSON object with a message, or plain text; cleaned."""
    text = body.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = text
    if isinstance(data, dict):
        data = next((data[k] for k in ("message", "error", "error_message") if isinstance(data.get(k), str)), text)
    return clean_text(data if isinstance(data, str) else text) or f"HTTP {status}"


def is_quota_402(quota: Quota, text: str) -> bool:
    """A 402 is the hourly quota when the quota headers say none is left (in either spelling)
    or the text speaks of a quota or limit; any other 402 is a feature of a paid plan."""
    return (quota.remaining is not None and quota.remaining <= 0) or bool(_QUOTA_WORDS.search(text))


def classify_response(
    status: int, headers: Mapping[str, str], body: str, repeatable: bool, request_id: str | None = None
) -> Verdict:
    """What Toggl's answer means (a pure function: table-tested)."""
    if status < 400:
        return Verdict(None, None)
    text = toggl_text(body, status)
    quota = quota_of(headers)
    if status == 429:
        retry_after = _retry_after(headers)
        failure: TogglFailure = TogglQuotaExhausted(
            f"Toggl is rate limiting requests: {text}", int(retry_after or 60), request_id, status
        )
        return Verdict(failure, retry_after if retry_after is not None else 0)
    if status == 402:
        if is_quota_402(quota, text):
            resets = quota.resets_in if quota.resets_in and quota.resets_in > 0 else _retry_after(headers) or MAX_WAIT
            return Verdict(
                TogglQuotaExhausted(
                    f"Toggl's hourly API quota is used up; it resets in {int(resets)} s. Toggl says: {text}",
                    int(resets),
                    request_id,
                    status,
                ),
                None,
            )
        return Verdict(TogglPlanRequired(f"This needs a paid Toggl plan. Toggl says: {text}", request_id, status), None)
    if status in (401, 403):
        return Verdict(
            TogglTokenRejected(
                "Toggl refused the API token (or its user may not access this workspace): check the "
                f"Personal API Token in the token secret. Toggl says: {text}",
                request_id,
                status,
            ),
            None,
        )
    if status == 414:  # Toggl's text is an HTML page: never passed on
        return Verdict(
            TogglRequestTooLong("The request is too long for Toggl: shorten its longest argument.", request_id, status),
            None,
        )
    if status in (404, 410):
        return Verdict(TogglNotFound(f"Toggl found no such thing: {text}", request_id, status), None)
    if status >= 500:
        return _unknown_outcome(f"Toggl failed ({status}): {text}", repeatable, request_id, status)
    lowered = text.lower()
    if "already exists" in lowered or "already been taken" in lowered:
        return Verdict(TogglAlreadyExists(text, request_id, status), None)
    return Verdict(TogglInvalidRequest(text, request_id, status), None)


def _unknown_outcome(
    message: str, repeatable: bool, request_id: str | None = None, status: int | None = None
) -> Verdict:
    """Toggl may or may not have carried the request out: repeat it only if that is harmless."""
    message = message if message.endswith((".", "!", "?")) else message + "."  # Toggl's text, as a sentence
    if repeatable:
        return Verdict(TogglUnavailable(message + " Try again later.", request_id, status), 0, maybe_done=True)
    return Verdict(
        TogglOutcomeUnknown(
            message + " Toggl may have carried the request out: check in Toggl before sending it again.",
            request_id,
            status,
        ),
        None,
        maybe_done=True,
    )


def never_sent(exc: BaseException) -> bool:
    """True when the failure happened before any byte of the request left: the connection was
    refused, its name did not resolve, or connecting timed out. A TLS error, a reset or a
    timeout later on may come after the request was written: not "never sent"."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError):
            return True
        pending += [getattr(current, "reason", None), current.__cause__, current.__context__]
        pending += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
    return False


def classify_exception(exc: BaseException, repeatable: bool) -> Verdict:
    """What a request that got no answer means (by the exception's type, never its text)."""
    if never_sent(exc):
        return Verdict(TogglUnavailable(f"Could not connect to Toggl ({type(exc).__name__}). Try again later."), 0)
    import requests

    if isinstance(exc, requests.Timeout):
        return _unknown_outcome("Toggl did not answer in time.", repeatable)
    return _unknown_outcome(f"The connection to Toggl broke ({type(exc).__name__}).", repeatable)


def _given_up(failure: TogglFailure) -> TogglFailure:
    if isinstance(failure, TogglQuotaExhausted):
        count("TogglQuotaExhausted")  # an alarm watches this
    return failure


class TogglClient:
    """Calls Toggl for one invocation: ``deadline`` is when the Lambda must be answering."""

    def __init__(self, base_url: str, token: str, deadline: float | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = (token, "api_token")
        # Tells tokens apart in per-container caches without keeping the token in a key.
        self.identity = hashlib.sha256(token.encode()).hexdigest()[:16]
        self.deadline = deadline if deadline is not None else time.monotonic() + 60
        self.requests_made = 0
        self.quota = Quota(None, None)

    def __repr__(self) -> str:  # never show the token
        return f"TogglClient({self.base_url!r})"

    def get(self, path: str, params: dict[str, Any] | None = None) -> TogglResponse:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, repeatable: bool = False) -> TogglResponse:
        return self.request("POST", path, body=body, repeatable=repeatable)

    def put(self, path: str, body: Any) -> TogglResponse:
        return self.request("PUT", path, body=body)

    def delete(self, path: str) -> TogglResponse:
        return self.request("DELETE", path)

    def time_left(self) -> float:
        return self.deadline - time.monotonic() - TIME_MARGIN

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        repeatable: bool | None = None,
    ) -> TogglResponse:
        """Call Toggl; return its answer or raise the ``TogglFailure`` that says what happened.

        ``repeatable``: whether sending the request twice does no harm (default: by method; a
        POST that only reads, as a report search, says so)."""
        repeatable = method in REPEATABLE_METHODS if repeatable is None else repeatable
        attempt = 0
        maybe_done = False  # an earlier attempt may have been carried out
        while True:
            attempt += 1
            result, verdict = self._attempt(method, path, params, body, repeatable)
            if verdict.failure is None:
                assert result is not None
                return result
            maybe_done = maybe_done or verdict.maybe_done
            verdict.failure.after_unknown_outcome = maybe_done
            if verdict.wait is None or attempt >= MAX_ATTEMPTS:
                raise _given_up(verdict.failure)
            delay = verdict.wait or random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))  # noqa: S311
            if delay + CONNECT_TIMEOUT > self.time_left():
                raise _given_up(verdict.failure)  # no time left to wait and try again
            logger.info("retrying Toggl call", extra={"path": path, "attempt": attempt, "delay": round(delay, 2)})
            time.sleep(delay)

    def _attempt(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, repeatable: bool
    ) -> tuple[TogglResponse | None, Verdict]:
        """One call: the answer, and what it means."""
        remaining = self.time_left()
        if remaining < 1:
            return None, Verdict(TogglUnavailable("No time left to call Toggl before the function's timeout."), None)
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
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return None, classify_exception(exc, repeatable)
        headers = response.headers
        request_id = header_of(headers, REQUEST_ID)
        quota = quota_of(headers)
        self._observe(method, path, response.status_code, round((time.monotonic() - started) * 1000), request_id, quota)
        verdict = classify_response(response.status_code, headers, response.text, repeatable, request_id)
        if verdict.failure is not None:
            return None, verdict
        data = response.json() if response.content.strip() else None
        return TogglResponse(response.status_code, data, headers, request_id, quota), verdict

    def _observe(
        self, method: str, path: str, status: int, elapsed_ms: int, request_id: str | None, quota: Quota
    ) -> None:
        if quota.remaining is not None:
            self.quota = quota
            metrics.add_metric(name="TogglQuotaRemaining", unit="Count", value=quota.remaining)
        logger.info(
            "toggl call",
            extra={
                "toggl_method": method,
                "toggl_path": path,
                "toggl_status": status,
                "elapsed_ms": elapsed_ms,
                "toggl_request_id": request_id,
                "quota_remaining": quota.remaining,
                "quota_resets_in": quota.resets_in,
            },
        )


def scheduled_client(config: Settings, context: Any, job: str) -> TogglClient | None:
    """A client for a scheduled job, or None (and a log line) while the token secret is empty:
    before the token is put in, the schedules have nothing to do and are no error."""
    try:
        return toggl_client(config, context)
    except ConfigurationError:
        logger.info(f"{job} skipped: the API token secret is empty")
        return None


def toggl_client(config: Settings, context: Any) -> TogglClient:
    """A client for this invocation: the stack's Toggl URL, the token from its secret (cached
    per container), and the Lambda's remaining time as the deadline for retries."""
    token = api_token(config.require("toggl_api_token_secret_id"), config.secret_cache_seconds)
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 30.0
    return TogglClient(config.toggl_api_url, token, deadline=time.monotonic() + remaining)
