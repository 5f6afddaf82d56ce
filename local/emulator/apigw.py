"""API Gateway REST API proxy events, built the way API Gateway builds them for Lambda."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl


def path_parameters(template_path: str, path: str) -> dict[str, str] | None:
    """Path parameters when ``path`` matches the route ``template_path`` (``/x/{id}``)."""
    want, got = template_path.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    params: dict[str, str] = {}
    for w, g in zip(want, got, strict=True):
        if w.startswith("{") and w.endswith("}"):
            params[w[1:-1]] = g
        elif w != g:
            return None
    return params


def proxy_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    resource: str | None = None,
    stage: str = "v1",
    source_ip: str = "127.0.0.1",
    binary: bool = False,
    caller_arn: str | None = None,
) -> dict[str, Any]:
    """``caller_arn``: the IAM identity of a SigV4-signed request, as API Gateway reports it."""
    headers = dict(headers or {})
    resource = resource or path
    params = path_parameters(resource, path) or None
    pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)

    if isinstance(body, bytes):
        if binary:
            text: str | None = base64.b64encode(body).decode("ascii")
        else:
            text = body.decode("utf-8", errors="surrogateescape")
    else:
        text = body
    now = time.time()
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": _identity(source_ip, headers.get("User-Agent"), caller_arn),
            "domainName": "localhost",
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": bool(binary and body is not None),
    }


def _identity(source_ip: str, user_agent: str | None, caller_arn: str | None) -> dict[str, Any]:
    identity: dict[str, Any] = {
        "sourceIp": source_ip,
        "userAgent": user_agent,
        "accountId": None,
        "caller": None,
        "user": None,
        "userArn": None,
        "accessKey": None,
        "cognitoIdentityPoolId": None,
        "cognitoIdentityId": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "principalOrgId": None,
    }
    if caller_arn:
        account = caller_arn.split(":")[4] if caller_arn.count(":") >= 5 else None
        identity.update(
            accountId=account,
            caller=caller_arn.rsplit("/", 1)[-1],
            user=caller_arn.rsplit("/", 1)[-1],
            userArn=caller_arn,
            accessKey="AKIAIOSFODNN7EXAMPLE",
        )
    return identity
