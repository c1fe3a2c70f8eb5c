"""Over HTTPS, an action connects to the address it checked while the certificate is still
checked against the connection's host name: the TLS server name and `Host` keep the name.
A self-signed certificate made here stands in for the company system's."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent.procedures.actions import ActionClient, ActionRequest, HttpPool
from agent.procedures.connections import Connection


def certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Recorder(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.hosts.append(self.headers["Host"])
        body = json.dumps({"status": "delivered"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def tls_server(folder: Path, handler: type[Recorder]) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on loopback whose certificate names `erp.test`, answering with
    `handler`; its port and the certificate to trust."""
    cert_file, key_file = certificate(folder, "erp.test")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    Recorder.hosts = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1]), cert_file
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tls_system(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with tls_server(tmp_path, Recorder) as found:
        yield found


def resolving(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Make `name` answer loopback once, then the metadata address; the lookups made."""
    real, lookups = socket.getaddrinfo, []

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        ip = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return lookups


def call(name: str, port: int, trusted: Path) -> Any:
    http = HttpPool(verify=ssl.create_default_context(cafile=str(trusted)))
    connection = Connection("erp", f"https://{name}:{port}")
    with ActionClient({"erp": connection}, http=http) as client:
        request = ActionRequest("lookup", "POST", f"https://{name}:{port}/orders", "erp")
        result = client.call(request)
    http.close()
    return result


def test_https_goes_to_the_checked_address_and_checks_the_certificate_against_the_name(
    tls_system: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, trusted = tls_system
    lookups = resolving(monkeypatch, "erp.test")
    result = call("erp.test", port, trusted)
    assert result.ok and result.data == {"status": "delivered"}, result
    assert lookups == ["erp.test"] and Recorder.hosts == [f"erp.test:{port}"]


def test_a_certificate_for_another_name_is_refused(
    tls_system: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's certificate names erp.test; a connection to `billing.test` at the same
    address must fail, so the address was not what the certificate was checked against."""
    port, trusted = tls_system
    resolving(monkeypatch, "billing.test")
    result = call("billing.test", port, trusted)
    assert not result.ok and result.error == "could not reach the system (ConnectError)"
    assert Recorder.hosts == []


class KeepAlive(Recorder):
    protocol_version = "HTTP/1.1"  # the connection stays open for the next request

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        super().do_POST()


def test_a_kept_alive_connection_is_not_reused_for_another_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two names at one address, one shared pool (as the service shares it across tenants):
    after a call to `erp.test`, whose certificate the server holds, a call to `billing.test`
    must not ride the open connection whose certificate was checked for `erp.test`."""
    real = socket.getaddrinfo

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("erp.test", "billing.test"):
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with tls_server(tmp_path, KeepAlive) as (port, cert_file):
        pool = HttpPool(verify=ssl.create_default_context(cafile=str(cert_file)))
        results = []
        for name in ("erp.test", "billing.test"):
            connection = Connection(name, f"https://{name}:{port}")
            client = ActionClient({name: connection}, http=pool)
            request = ActionRequest("lookup", "POST", f"https://{name}:{port}/orders", name)
            results.append(client.call(request))
        pool.close()
    assert results[0].ok, results[0]
    assert not results[1].ok and results[1].error == "could not reach the system (ConnectError)"
    assert Recorder.hosts == [f"erp.test:{port}"]
