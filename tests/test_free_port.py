"""The ports tests serve on stay reserved until the server binds them: CI once failed when
another socket took a port between `free_port()` and the server's bind."""

import socket

import httpx

from service.serving import ThreadedServer
from tests.conftest import free_port


def test_a_reserved_port_is_never_handed_to_another_socket() -> None:
    port = free_port()
    taken = set()
    for _ in range(30_000):  # the kernel picks from about 28,000 ports
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            taken.add(other.getsockname()[1])
    assert port not in taken


async def ok(scope: dict[str, object], receive: object, send: object) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


def test_a_server_still_binds_and_serves_on_a_reserved_port() -> None:
    with ThreadedServer(ok, "127.0.0.1", free_port(), "a test server") as served:
        assert httpx.get(served.url, timeout=10).text == "ok"
