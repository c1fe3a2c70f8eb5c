"""Connections cannot reach link-local / cloud metadata and other forbidden addresses, over
HTTP against the real app and the sample company system on loopback: such a base URL or
origin is refused when it is saved, in any spelling, and leaves the stored connection as it
was; a host name that resolves to one is never called; redirects are not followed; a
connection's timeout is a finite 0.1 to 120 seconds. Loopback and private addresses stay
allowed (the sample system here is on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from control.errors import BadRequest
from control.regional import in_region
from conversations.connections import ConnectionSpec
from service.demo import EXAMPLES, start_actions_service
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth

SECRET = "s3cret-token-5ce1b0a7"
METADATA = "link-local / cloud metadata addresses are never reachable from actions"
ORDER = "Where is my order 3348917502? cminh730@email.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from service.settings import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("trust-ssrf"), port=free_port(),
        actions_url=f"http://127.0.0.1:{free_port()}", actions_token=SECRET,
    )  # fmt: skip
    actions = start_actions_service(settings)
    with LiveServer(settings) as live:
        live.runtime.tenants.create("acme", "eu")
        live.keys = {r: live.runtime.tenants.create_key("acme", r) for r in ("admin", "end_user")}
        app: Any = actions.server.config.app
        live.store = app.state.store  # type: ignore[attr-defined]
        assert put_northwind(live, live.settings.actions_url).status_code == 200
        for name in ("order-status", "subscription-status"):  # two intents: routing runs
            source = (EXAMPLES / "procedures" / f"{name}.yaml").read_text(encoding="utf-8")
            put = call(live, "PUT", "/v1/procedures", "admin", json={"source": source},
                       headers={"If-None-Match": "*"})  # fmt: skip
            assert put.status_code == 200, put.text
        yield live
    actions.stop()


@pytest.fixture
def store(server: Any) -> Any:
    server.store.reset()
    yield server.store
    assert put_northwind(server, server.settings.actions_url).status_code == 200


def call(server: Any, method: str, path: str, role: str, **kwargs: Any) -> httpx.Response:
    headers = auth(server.keys[role]) | kwargs.pop("headers", {})
    return httpx.request(method, server.url + path, headers=headers, timeout=120, **kwargs)


def put_northwind(server: Any, base_url: str) -> httpx.Response:
    body = {"base_url": base_url, "secrets": {"Authorization": f"Bearer {SECRET}"}}
    return call(server, "PUT", "/v1/actions/connections/northwind", "admin", json=body)


def ask_order(server: Any) -> tuple[dict[str, Any], str]:
    """The end user asks for an order's status: the reply, and its trace as text."""
    started = call(server, "POST", "/v1/conversations", "end_user", json={})
    assert started.status_code == 201, started.text
    conversation, token = started.json()["conversation_id"], started.json()["conversation_token"]
    said = call(server, "POST", f"/v1/conversations/{conversation}/messages", "end_user",
                json={"text": ORDER}, headers={"X-Conversation-Token": token})  # fmt: skip
    assert said.status_code == 200, said.text
    reply: dict[str, Any] = said.json()
    trace = call(server, "GET", f"/v1/traces/{reply['trace_id']}", "admin")
    return reply, trace.text


@pytest.mark.parametrize(
    ("base_url", "address", "why"),
    [
        ("http://169.254.169.254/latest", "169.254.169.254", METADATA),
        ("http://[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe", METADATA),
        ("http://2852039166/", "169.254.169.254", METADATA),  # decimal
        ("http://0xa9.0376.43518/", "169.254.169.254", METADATA),  # hex, octal, short
        ("http://[fe80::1]:8080", "fe80::1", METADATA),
        ("http://100.100.100.200/latest/meta-data", "100.100.100.200", METADATA),
        ("http://[fd00:ec2::254]", "fd00:ec2::254", METADATA),
        ("http://0.0.0.0:80", "0.0.0.0", "the unspecified address"),
        ("http://255.255.255.255", "255.255.255.255", "broadcast addresses are never"),
    ],
)
def test_a_forbidden_address_is_refused_when_saved(
    server: Any, base_url: str, address: str, why: str
) -> None:
    named = "erp"
    good = {"base_url": "http://10.0.0.7:8080/api", "timeout_s": 3}  # private: allowed
    path = f"/v1/actions/connections/{named}"
    assert call(server, "PUT", path, "admin", json=good).status_code == 200
    before = call(server, "GET", path, "admin").json()
    origin = base_url.split("/latest")[0].rstrip("/")
    for body in ({"base_url": base_url}, {**good, "allowed_origins": [origin]}):
        refused = call(server, "PUT", path, "admin", json=body)
        assert refused.status_code == 400, (body, refused.text)
        message = refused.json()["error"]["message"]
        assert f"is the address {address}, and " in message and why in message, message
        assert call(server, "GET", path, "admin").json() == before  # nothing changed
    assert call(server, "DELETE", path, "admin").status_code == 204


def test_a_host_name_resolving_to_a_forbidden_address_is_never_called(
    server: Any, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`metadata.test` answers with the sample system's loopback address AND the metadata
    address: one forbidden answer is enough to refuse, before any request is made."""
    port = int(server.settings.actions_url.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "metadata.test":
            return real(host, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in ("127.0.0.1", "169.254.169.254")]  # fmt: skip

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    saved = put_northwind(server, f"http://metadata.test:{port}")
    assert saved.status_code == 200, saved.text  # names are not looked up when saved
    reply, trace = ask_order(server)
    assert reply["decision"] == "handoff" and "delivered" not in reply["text"]
    assert "metadata.test resolves to 169.254.169.254" in trace and METADATA in trace, trace
    assert store.calls == []  # nothing reached the system


def test_a_name_whose_answer_changes_after_the_check_is_called_at_the_checked_address(
    server: Any, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: `rebind.test` first answers the sample system's loopback address (which
    passes the check), then the metadata address. The call goes to the address that was
    checked, and the name is looked up once."""
    port = int(server.settings.actions_url.rsplit(":", 1)[1])
    real, lookups = socket.getaddrinfo, []

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        ip = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    assert put_northwind(server, f"http://rebind.test:{port}").status_code == 200
    reply, trace = ask_order(server)
    assert "delivered" in reply["text"], (reply, trace)  # the sample system answered
    assert lookups == ["rebind.test"]  # the client did not look the name up again
    assert [path for _, path, _ in store.calls] == ["/orders/lookup"]


def test_a_stored_forbidden_address_is_refused_when_called(server: Any, store: Any) -> None:
    """A connection stored before the check existed (written straight to the database)."""
    from agent.procedures.connections import Connection

    connections = server.runtime.agents.connections
    with in_region("eu"), server.runtime.sessions.begin() as session:
        stored = connections.all("acme", session)["northwind"]
        url = "http://169.254.169.254/latest"
        connections.save(session, "acme", Connection("northwind", url, secrets=stored.secrets))
    reply, trace = ask_order(server)
    assert reply["decision"] == "handoff"
    assert f"refused to call 169.254.169.254 ({METADATA})" in trace
    assert store.calls == []


def test_a_redirect_to_the_metadata_address_is_not_followed(server: Any, store: Any) -> None:
    seen: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=redirector.serve_forever, daemon=True).start()
    try:
        saved = put_northwind(server, f"http://127.0.0.1:{redirector.server_address[1]}")
        assert saved.status_code == 200, saved.text
        reply, trace = ask_order(server)
    finally:
        redirector.shutdown()
        redirector.server_close()
    assert reply["decision"] == "handoff" and "HTTP 302" in trace
    assert seen == ["/orders/lookup"]  # one request, to the loopback system only


@pytest.mark.parametrize("timeout", ["1e-300", "0", "-1", "NaN", "Infinity", "121"])
def test_a_timeout_outside_a_tenth_to_120_seconds_is_refused(server: Any, timeout: str) -> None:
    path = "/v1/actions/connections/northwind"
    before = call(server, "GET", path, "admin").json()
    body = f'{{"base_url": {json.dumps(server.settings.actions_url)}, "timeout_s": {timeout}}}'
    refused = call(server, "PUT", path, "admin", content=body,
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert (
        "timeout_s must be a finite number of seconds from 0.1 to 120"
        in refused.json()["error"]["message"]
    )
    assert call(server, "GET", path, "admin").json() == before
    if timeout in ("1e-300", "NaN"):  # the same bound outside the API (the demo's set-up)
        spec = ConnectionSpec(server.settings.actions_url, timeout_s=float(timeout.lower()))
        with pytest.raises(BadRequest, match=r"from 0\.1 to 120"):
            server.runtime.agents.put_connection("acme", "northwind", spec)
    assert call(server, "GET", path, "admin").json() == before


@pytest.mark.parametrize("timeout", ["1e-300", "0.05", ".nan", "121"])
def test_an_action_steps_timeout_outside_a_tenth_to_120_seconds_is_refused(
    server: Any, timeout: str
) -> None:
    """The same bound on a procedure's own `timeout_s`, which overrides the connection's."""
    source = (EXAMPLES / "procedures" / "reset-password.yaml").read_text(encoding="utf-8")
    assert "timeout_s: 5" in source
    before = call(server, "GET", "/v1/procedures", "admin").json()
    changed = source.replace("timeout_s: 5", f"timeout_s: {timeout}")
    put = call(server, "PUT", "/v1/procedures", "admin", headers={"If-None-Match": "*"},
               json={"source": changed})  # fmt: skip
    assert put.status_code == 400, put.text
    message = put.json()["error"]["message"]
    assert "timeout_s" in message and ("0.1" in message or "120" in message), message
    assert call(server, "GET", "/v1/procedures", "admin").json() == before


def test_a_host_name_that_does_not_resolve_in_time_is_given_up_within_the_timeout(
    server: Any, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`slow.test`'s resolver hangs for 20 s; with a 0.5 s connection timeout the turn hands
    off soon after the timeout instead of waiting for the lookup (which had no bound)."""
    import time

    port = int(server.settings.actions_url.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "slow.test":
            return real(host, *args, **kwargs)
        time.sleep(20)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    body = {"base_url": f"http://slow.test:{port}", "timeout_s": 0.5,
            "secrets": {"Authorization": f"Bearer {SECRET}"}}  # fmt: skip
    saved = call(server, "PUT", "/v1/actions/connections/northwind", "admin", json=body)
    assert saved.status_code == 200, saved.text
    started = time.monotonic()
    reply, trace = ask_order(server)
    assert time.monotonic() - started < 10, "the turn waited for the hung lookup"
    assert reply["decision"] == "handoff" and "delivered" not in reply["text"]
    assert "its host 'slow.test' did not resolve within 0.5 s" in trace, trace
    assert store.calls == []
