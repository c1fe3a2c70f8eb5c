"""Shared fixtures and the guard that fails any outbound network connection."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.offline import go_offline

go_offline()

DATA = Path(__file__).parent / "data"
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class OutboundConnectionBlocked(RuntimeError):
    pass


def _check(address: Any) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    host = address[0]
    if host in ("localhost", ""):
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise OutboundConnectionBlocked(f"test tried to connect to {address!r}; tests run offline")


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        _check((name, 0))
    return _real_getaddrinfo(host, *args, **kwargs)


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_outbound_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _guarded_getaddrinfo
    yield
    socket.getaddrinfo = _real_getaddrinfo
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True, scope="session")
def shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder of exported ONNX embedding graphs for the whole session, in the environment
    so that the CLI and servers the tests start use it too: the export takes about 12 s, and
    every test's fresh data directory would otherwise pay it."""
    previous = os.environ.get("CLEARLINE_MODEL_CACHE_DIR")
    folder = tmp_path_factory.mktemp("models")
    os.environ["CLEARLINE_MODEL_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("CLEARLINE_MODEL_CACHE_DIR", None)
    else:
        os.environ["CLEARLINE_MODEL_CACHE_DIR"] = previous


HTTP_TIMEOUT_S = 60.0
_HTTPX_CALLS = ("request", "get", "post", "put", "patch", "delete", "head", "options")


@pytest.fixture(autouse=True, scope="session")
def patient_http_calls() -> Iterator[None]:
    """The tests' own `httpx.get(...)`-style calls wait up to HTTP_TIMEOUT_S instead of
    httpx's 5 s: a test checks what a request does, not how fast (speed is measured in
    bench/), and on a busy shared CI machine one console sign-in once took longer than 5 s
    and failed the run. Calls that pass a timeout keep theirs."""
    import httpx

    functions = [getattr(httpx, name) for name in _HTTPX_CALLS]
    previous = [function.__kwdefaults__["timeout"] for function in functions]
    for function in functions:
        function.__kwdefaults__["timeout"] = httpx.Timeout(HTTP_TIMEOUT_S)
    yield
    for function, timeout in zip(functions, previous, strict=True):
        function.__kwdefaults__["timeout"] = timeout


@pytest.fixture(scope="session")
def minilm() -> Any:
    from knowledge.embed import MiniLMEmbedder

    embedder = MiniLMEmbedder(threads=1)
    embedder.warm_up()
    return embedder


_RESERVED: list[socket.socket] = []  # open for the whole session: see free_port


def free_port() -> int:
    """A loopback port that stays reserved for this test session.

    The port is kept bound (SO_REUSEADDR, never listening) instead of being released at once:
    a released port could be taken, before the server binds it, by another bind to port 0 or
    as the local port of an outgoing connection (CI once failed that way: "address already in
    use"). The kernel gives neither a bound port, while a server binding it with SO_REUSEADDR,
    as uvicorn does, still can.
    """
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    _RESERVED.append(s)
    port: int = s.getsockname()[1]
    return port


class LiveServer:
    """The real app served by uvicorn on a loopback port, in a thread.

    Tests keep the keys they create on it (`admin`, `keys`, `other_admin`, `job_id`).
    """

    admin: str
    keys: dict[str, str]
    other_admin: str
    job_id: str

    def __init__(self, settings: Any) -> None:
        from service.app import create_app
        from service.serving import ThreadedServer

        self.settings = settings
        self.app = create_app(settings)
        self._served = ThreadedServer(self.app, "127.0.0.1", settings.port, "the Clearline app")
        self.url = self._served.url

    def __enter__(self) -> LiveServer:
        self._served.start(timeout_s=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self._served.stop()

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    @property
    def jobs(self) -> Any:
        return self.app.state.jobs


@pytest.fixture
def make_settings(tmp_path: Path) -> Any:
    from service.settings import Settings

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": tmp_path / "data", "port": free_port()}
        values.update(overrides)
        return Settings(**values)

    return build
