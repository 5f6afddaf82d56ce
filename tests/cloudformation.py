"""Where CloudFormation listens for a custom resource's answer, as the function meets it: an
``https`` pre-signed URL on an ``amazonaws.com`` host. Here that host is a TLS server on loopback
with a certificate from a test authority, reached through an HTTP CONNECT proxy on loopback
(``HTTPS_PROXY``; ``REQUESTS_CA_BUNDLE`` trusts the authority): real TLS and real proxying, and
nothing leaves 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import json
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "cloudformation-custom-resource-response-useast1.s3.amazonaws.com"
# The pre-signed part is a secret of sorts: it must never reach a log.
SIGNATURE = "X-Amz-Signature=presigned-4f1c2e9b"


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test authority and a certificate for ``HOST`` signed by it: (authority, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "toggl-connection test authority")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(HOST),
                    x509.DNSName("*.s3.amazonaws.com"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "authority.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class CloudFormation:
    def __init__(self, directory: Path) -> None:
        self.answers: list[dict[str, Any]] = []
        self.authority, cert, key = _certificates(directory)
        outer = self

        class Answers(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                outer.answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.tls = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.tls.socket = context.wrap_socket(self.tls.socket, server_side=True)
        tls_port = self.tls.server_address[1]

        class Tunnel(BaseHTTPRequestHandler):
            def do_CONNECT(self) -> None:
                upstream = socket.create_connection(("127.0.0.1", tls_port))  # whatever host was asked
                self.send_response(200, "Connection established")
                self.end_headers()
                _pipe(self.connection, upstream)

            def log_message(self, *args: Any) -> None:
                pass

        self.proxy = ThreadingHTTPServer(("127.0.0.1", 0), Tunnel)
        for server in (self.tls, self.proxy):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.proxy_url = f"http://127.0.0.1:{self.proxy.server_address[1]}"
        self.url = f"https://{HOST}/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012/response?{SIGNATURE}"

    def request(
        self,
        kind: str,
        stack_id: str,
        physical_id: str | None = None,
        response_url: str | None = None,
        **properties: Any,
    ) -> dict[str, Any]:
        event = {
            "RequestType": kind,
            "ResponseURL": response_url or self.url,
            "StackId": stack_id,
            "RequestId": f"req-{len(self.answers)}",
            "LogicalResourceId": "SubscriptionSetup",
            "ResourceType": "Custom::TogglSubscriptions",
            "ResourceProperties": {"ServiceToken": "arn:fn", "WorkspaceId": "", "Stage": "v1", **properties},
        }
        if physical_id:
            event["PhysicalResourceId"] = physical_id
        return event

    def stop(self) -> None:
        for server in (self.proxy, self.tls):
            server.shutdown()
            server.server_close()


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, 10)
            if broken or not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
    except OSError:
        return  # either end went away: the tunnel is done
    finally:
        upstream.close()
