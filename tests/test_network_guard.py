import socket

import pytest

from tests.conftest import OutboundConnectionBlocked


def test_outbound_connection_fails_the_test() -> None:
    with pytest.raises(OutboundConnectionBlocked), socket.socket() as s:
        s.connect(("203.0.113.7", 443))


def test_name_resolution_to_public_host_is_blocked() -> None:
    with pytest.raises(OutboundConnectionBlocked):
        socket.create_connection(("example.com", 80), timeout=2)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
