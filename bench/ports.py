"""A loopback port for a server a bench starts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def reserved_port() -> Iterator[int]:
    """A loopback port kept bound (SO_REUSEADDR, never listening) until the block ends, so
    no other bind to port 0 or outgoing connection takes it before the server binds it (as
    `free_port` in tests/conftest.py); start the server inside the block."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]
