"""``make post EVENT=events/<file>.json``: send one of the sample API Gateway events to the
running local stack as a real HTTP request (IAM routes signed with the local key pair)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlencode

import requests

from local.demo import LocalClient


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make post EVENT=events/<file>.json", file=sys.stderr)
        return 2
    event = json.loads(Path(argv[0]).read_text())
    client = LocalClient.from_state()
    query = urlencode(event.get("queryStringParameters") or {})
    path = event["path"] + (f"?{query}" if query else "")
    body = (event.get("body") or "").encode()
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "host"}
    if event["path"].startswith("/webhooks"):
        response = requests.request(event["httpMethod"], client.api + path, data=body, headers=headers, timeout=30)
    else:
        response = client.signed(event["httpMethod"], path, body, headers)
    print(f"{event['httpMethod']} {path} -> {response.status_code}")
    print(response.text)
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
