"""AWS Signature Version 4 for the local API's IAM routes: verifying a request as API Gateway
does, and signing one as an SDK does (for the demo and the tests).

The canonical request and signature come from botocore itself, restricted to the headers the
client said it signed, so whatever botocore signs verifies here byte for byte.
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "execute-api"
MAX_SKEW = timedelta(minutes=5)
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class LocalCredentials:
    """The one key pair the local API accepts, and the IAM identity it stands for."""

    def __init__(self, access_key_id: str, secret_access_key: str, region: str = "us-east-1") -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.region = region
        self.caller_arn = "arn:aws:iam::123456789012:user/local-developer"

    def verify(self, method: str, target: str, headers: dict[str, str], body: bytes) -> str | None:
        """None when ``target`` (path and query, as sent) is signed by our key; else API
        Gateway's message for the refusal."""
        lower = {k.lower(): v for k, v in headers.items()}
        authorization = lower.get("authorization")
        if not authorization:
            return "Missing Authentication Token"
        match = _AUTH.fullmatch(authorization.strip())
        if not match:
            return "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' (AWS4-HMAC-SHA256)."
        if match["key"] != self.access_key_id:
            return "The security token included in the request is invalid."
        if match["service"] != SERVICE or match["region"] != self.region:
            return f"Credential should be scoped to {self.region}/{SERVICE}."
        amz_date = lower.get("x-amz-date", "")
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return "Missing or malformed X-Amz-Date."
        if abs(datetime.now(UTC) - signed_at) > MAX_SKEW or not amz_date.startswith(match["date"]):
            return "Signature expired: the request time is more than 5 minutes away from now."
        signed = match["headers"].split(";")
        if "host" not in signed:
            return "The host header must be signed."
        missing = [h for h in signed if h not in lower]
        if missing:
            return f"Signed header {missing[0]} is missing."
        request = AWSRequest(
            method=method, url=f"http://{lower['host']}{target}", data=body, headers={h: lower[h] for h in signed}
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self.access_key_id, self.secret_access_key), SERVICE, self.region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, match["signature"]):
            return (
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                "Secret Access Key and signing method."
            )
        return None

    def sign(self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Headers that make this request pass ``verify`` (what an AWS SDK would send)."""
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        SigV4Auth(Credentials(self.access_key_id, self.secret_access_key), SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())
