"""The signature check alone, against Toggl's own test vector."""

from __future__ import annotations

import pytest

from toggl_connection.core.errors import SignatureInvalid
from toggl_connection.webhooks import signature

# From Toggl's docs page validating_received_events (see docs/toggl-api.md).
VECTOR_SECRET = "PGuRrhCFajIyEvFlreKL"
VECTOR_BODY = (
    b'{"event_id":0,"created_at":"2022-06-25T03:58:10.207820267Z","creator_id":6,'
    b'"metadata":{"request_type":"POST","event_user_id":6},"payload":"ping","subscription_id":6,'
    b'"timestamp":"2022-06-25T03:58:10.207820267Z","url_callback":"https://callback-url.com"}'
)
VECTOR_HEADER = "sha256=bf829606cda0ca6923defb5ca70a43135adc7e8887486a201a19cb50ca6006b1"


def test_toggl_test_vector_signs_to_the_documented_header() -> None:
    assert signature.sign(VECTOR_BODY, VECTOR_SECRET) == VECTOR_HEADER


def test_toggl_test_vector_verifies() -> None:
    digest = signature.parse(VECTOR_HEADER)
    assert signature.matches(VECTOR_BODY, digest, [VECTOR_SECRET])


def test_one_changed_byte_fails() -> None:
    digest = signature.parse(VECTOR_HEADER)
    assert not signature.matches(VECTOR_BODY.replace(b'"creator_id":6', b'"creator_id":7'), digest, [VECTOR_SECRET])


def test_any_of_several_secrets_may_match_and_missing_ones_are_skipped() -> None:
    digest = signature.parse(VECTOR_HEADER)
    assert signature.matches(VECTOR_BODY, digest, [None, "other-secret", VECTOR_SECRET])
    assert not signature.matches(VECTOR_BODY, digest, [None, "other-secret"])


def test_upper_case_hex_and_surrounding_space_are_accepted() -> None:
    digest = signature.parse("  " + VECTOR_HEADER.upper().replace("SHA256=", "sha256=") + " ")
    assert signature.matches(VECTOR_BODY, digest, [VECTOR_SECRET])


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bf829606cda0ca6923defb5ca70a43135adc7e8887486a201a19cb50ca6006b1",  # no scheme
        "sha1=bf829606cda0ca6923defb5ca70a43135adc7e8887486a201a19cb50ca6006b1",
        "sha256=bf829606cda0ca6923defb5ca70a43135adc7e8887486a201a19cb50ca6006",  # short
        "sha256=zz829606cda0ca6923defb5ca70a43135adc7e8887486a201a19cb50ca6006b1",  # not hex
        "sha256=" + "ab" * 33,  # long
    ],
)
def test_missing_or_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureInvalid):
        signature.parse(header)
