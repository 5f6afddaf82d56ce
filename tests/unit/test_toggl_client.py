"""What the Toggl client makes of an answer, or of no answer: pure functions, table-tested."""

from __future__ import annotations

import json

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from toggl_connection.core.errors import (
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
from toggl_connection.toggl.client import (
    classify_exception,
    classify_response,
    clean_text,
    is_quota_402,
    quota_of,
)
from toggl_connection.webhooks.receive import is_toggl_validation_url

QUOTA_TEXT = "You have hit your hourly API request quota. It resets in 1200 seconds."
SEEN_QUOTA_TEXT = "Quota exceeded: You've used 42 / 30 requests from user specific requests quota"
LIMIT_TEXT = "You have reached the hourly limit of API requests for your plan."
PLAN_TEXT = "Request tried to utilized Premium functionality on workspace which is not Premium!"
REPORTS_PLAN_TEXT = "Workspace needs to have this feature enabled"


@pytest.mark.parametrize(
    ("status", "headers", "body", "repeatable", "kind", "wait"),
    [
        (200, {}, "{}", False, None, None),
        (429, {"Retry-After": "7"}, '"Too Many Requests"', False, TogglQuotaExhausted, 7.0),
        (429, {}, '"Too Many Requests"', False, TogglQuotaExhausted, 0),
        # 402, quota: the headers say none is left, in either spelling, or the text says quota/limit
        (
            402,
            {"X-Toggl-Quota-Remaining": "0", "X-Toggl-Quota-Resets-In": "1200"},
            json.dumps(QUOTA_TEXT),
            False,
            TogglQuotaExhausted,
            None,
        ),
        (
            402,
            {"x-toggl-quota-remaining": "0", "x-toggl-quota-resets-in": "1200"},
            json.dumps(PLAN_TEXT),
            False,
            TogglQuotaExhausted,
            None,
        ),
        (402, {"X-Toggl-Quota-Remaining": "-12"}, '""', False, TogglQuotaExhausted, None),
        (402, {}, json.dumps(SEEN_QUOTA_TEXT), False, TogglQuotaExhausted, None),
        (402, {}, json.dumps(LIMIT_TEXT), False, TogglQuotaExhausted, None),
        (402, {}, LIMIT_TEXT, False, TogglQuotaExhausted, None),  # plain text, not JSON
        # 402, plan: anything else, whatever quota is left
        (402, {}, json.dumps(PLAN_TEXT), False, TogglPlanRequired, None),
        (402, {"x-toggl-quota-remaining": "17"}, json.dumps(REPORTS_PLAN_TEXT), False, TogglPlanRequired, None),
        (401, {"X-Authorization-Missing": "true"}, '"Unauthorized"', True, TogglTokenRejected, None),
        (403, {}, '"User does not have access to this resource."', True, TogglTokenRejected, None),
        (404, {}, '"Resource can not be found"', True, TogglNotFound, None),
        (410, {}, '"Gone"', True, TogglNotFound, None),
        (400, {}, '"Project user already exists"', False, TogglAlreadyExists, None),
        (400, {}, '"Client name cannot be empty"', False, TogglInvalidRequest, None),
        (400, {}, '{"message": "Invalid project_id"}', False, TogglInvalidRequest, None),
        # 5xx: repeat what can be repeated; anything else has an unknown outcome
        (503, {}, '"Service Unavailable"', True, TogglUnavailable, 0),
        (502, {}, "<html>Bad Gateway</html>", False, TogglOutcomeUnknown, None),
        (500, {}, "", False, TogglOutcomeUnknown, None),
    ],
)
def test_classify_response(
    status: int, headers: dict[str, str], body: str, repeatable: bool, kind: type | None, wait: float | None
) -> None:
    verdict = classify_response(status, CaseInsensitiveDict(headers), body, repeatable, "req-1")
    assert (type(verdict.failure) if verdict.failure else None, verdict.wait) == (kind, wait)
    if isinstance(verdict.failure, TogglFailure):
        assert verdict.failure.request_id == "req-1" and verdict.failure.toggl_status == status


def test_a_quota_402_says_when_the_quota_resets() -> None:
    verdict = classify_response(402, {"x-toggl-quota-remaining": "0", "x-toggl-quota-resets-in": "1200"}, "", False)
    assert isinstance(verdict.failure, TogglQuotaExhausted) and verdict.failure.retry_after == 1200
    bare = classify_response(402, {}, json.dumps(LIMIT_TEXT), False)
    assert isinstance(bare.failure, TogglQuotaExhausted) and bare.failure.retry_after == 3600  # a safe guess


@pytest.mark.parametrize(
    ("headers", "believed"),
    [
        ({"Retry-After": "100000000"}, 3600),  # three years: believed up to an hour
        ({"Retry-After": "inf"}, 3600),
        ({"Retry-After": "nan"}, 3600),
        ({"Retry-After": "-inf"}, 3600),
        ({"Retry-After": "soon"}, 3600),
        ({"Retry-After": "1e400"}, 3600),
        ({"Retry-After": "3599"}, 3599),
        ({"x-toggl-quota-remaining": "0", "x-toggl-quota-resets-in": "99999999"}, 3600),
        ({"x-toggl-quota-remaining": "0", "x-toggl-quota-resets-in": "100000000000000000000"}, 3600),
    ],
)
def test_retry_after_and_quota_resets_are_believed_up_to_an_hour(headers: dict[str, str], believed: int) -> None:
    for status in (429, 402) if "Retry-After" in headers else (402,):
        verdict = classify_response(status, CaseInsensitiveDict(headers), json.dumps(LIMIT_TEXT), False)
        assert isinstance(verdict.failure, TogglQuotaExhausted)
        assert verdict.failure.retry_after == believed, (status, headers)
        assert verdict.wait is None or verdict.wait <= 3600
    assert quota_of(headers).resets_in in (None, believed)


@pytest.mark.parametrize(
    ("headers", "text", "quota"),
    [
        ({"X-Toggl-Quota-Remaining": "0"}, "", True),
        ({"x-toggl-quota-remaining": "0"}, "", True),
        ({"X-TOGGL-QUOTA-REMAINING": "-3"}, "", True),
        ({"X-Toggl-Quota-Remaining": "5"}, PLAN_TEXT, False),
        ({}, QUOTA_TEXT, True),
        ({}, SEEN_QUOTA_TEXT, True),
        ({}, LIMIT_TEXT, True),
        ({}, PLAN_TEXT, False),
        ({}, REPORTS_PLAN_TEXT, False),
    ],
)
def test_is_quota_402(headers: dict[str, str], text: str, quota: bool) -> None:
    assert is_quota_402(quota_of(headers), text) is quota


def test_headers_are_read_in_any_letter_case_from_any_mapping() -> None:
    assert quota_of({"x-toggl-quota-remaining": "7", "X-TOGGL-QUOTA-RESETS-IN": "60"}) == (7, 60)
    assert quota_of({"X-Toggl-Quota-Remaining": "²"}) == (None, None)  # digits are ASCII digits


def test_toggls_text_is_cut_and_cleaned() -> None:
    noisy = "line one\nline\ttwo\x00\x1b[31m" + "x" * 500
    verdict = classify_response(400, {}, json.dumps(noisy), False)
    assert isinstance(verdict.failure, TogglInvalidRequest)
    message = verdict.failure.message
    assert "\n" not in message and "\x00" not in message and "\x1b" not in message
    assert len(message) <= 200 and message.endswith("\u2026")
    assert clean_text("  a \u2028 b  ") == "a b"


def _connection_error(reason: Exception) -> requests.ConnectionError:
    return requests.ConnectionError(MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "repeatable", "kind", "wait"),
    [
        # never sent: the connection was not made, so any request may be sent again
        (_connection_error(NewConnectionError(None, "refused")), False, TogglUnavailable, 0),  # type: ignore[arg-type]
        (_connection_error(NameResolutionError("api.track.toggl.com", None, OSError())), False, TogglUnavailable, 0),  # type: ignore[arg-type]
        (requests.ConnectTimeout(MaxRetryError(None, "/x", ConnectTimeoutError())), False, TogglUnavailable, 0),  # type: ignore[arg-type]
        # possibly written: TLS errors, resets and read timeouts leave the outcome unknown
        (
            requests.exceptions.SSLError(MaxRetryError(None, "/x", SSLError("bad record mac"))),  # type: ignore[arg-type]
            False,
            TogglOutcomeUnknown,
            None,
        ),
        (
            _connection_error(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))),
            False,
            TogglOutcomeUnknown,
            None,
        ),
        (requests.ReadTimeout(ReadTimeoutError(None, "/x", "read timed out")), False, TogglOutcomeUnknown, None),  # type: ignore[arg-type]
        (requests.ReadTimeout(ReadTimeoutError(None, "/x", "read timed out")), True, TogglUnavailable, 0),  # type: ignore[arg-type]
        # the words do not decide: "Connection refused" in a reset's text is still a reset
        (
            _connection_error(ProtocolError("Connection refused by peer after write", ConnectionResetError())),
            False,
            TogglOutcomeUnknown,
            None,
        ),
    ],
)
def test_classify_exception_by_type(exc: Exception, repeatable: bool, kind: type, wait: float | None) -> None:
    verdict = classify_exception(exc, repeatable)
    assert (type(verdict.failure), verdict.wait) == (kind, wait)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://track.toggl.com/webhooks/api/v1/validate/7435584/10713/9d3a1b1f-code", True),
        ("https://api.track.toggl.com/webhooks/api/v1/validate/7435584/10713/abc_DEF-123", True),
        ("https://api.track.toggl.com:443/webhooks/api/v1/validate/1/2/c", True),
        ("http://api.track.toggl.com/webhooks/api/v1/validate/1/2/c", False),  # not https
        ("https://evil.example/webhooks/api/v1/validate/1/2/c", False),
        ("https://track.toggl.com.evil.example/webhooks/api/v1/validate/1/2/c", False),
        ("https://eviltrack.toggl.com/webhooks/api/v1/validate/1/2/c", False),
        ("https://user@track.toggl.com/webhooks/api/v1/validate/1/2/c", False),
        ("https://track.toggl.com:8443/webhooks/api/v1/validate/1/2/c", False),
        ("https://track.toggl.com/webhooks/api/v1/validate/1/2/c/../../../me", False),
        ("https://track.toggl.com/webhooks/api/v1/validate/1/2/c?next=https://evil.example", False),
        ("https://track.toggl.com/webhooks/api/v1/validate/1/2/", False),
        ("https://track.toggl.com/webhooks/api/v1/validate/x/2/c", False),
        ("https://track.toggl.com/api/v9/me", False),
        ("https://[::1/webhooks/api/v1/validate/1/2/c", False),  # not even a URL
    ],
)
def test_only_toggls_validation_url_is_ever_called(url: str, ok: bool) -> None:
    assert is_toggl_validation_url(url) is ok
