"""Per-tenant action connections over HTTP: a tenant reaches only its own company systems,
secrets are write-only and never stored or traced in plain text, and an origin is scheme,
host AND port (issue 11, findings 3 and 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from service.demo import EXAMPLES, start_actions_service
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth

SECRET = "s3cret-token-0f9d7c2e81b4"  # the company system's token in this test
PROCEDURES = ("subscription-status", "order-status")
CREATE = {"If-None-Match": "*"}  # procedures are versioned; these create new ones


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("trust-connections"), port=free_port(),
        actions_url=f"http://127.0.0.1:{free_port()}", actions_token=SECRET,
    )  # fmt: skip
    actions = start_actions_service(settings)
    with LiveServer(settings) as live:
        tenants = live.runtime.tenants
        for name in ("acme", "globex"):
            tenants.create(name, "eu")
        live.keys = {
            f"{tenant}:{role}": tenants.create_key(tenant, role)
            for tenant in ("acme", "globex") for role in ("admin", "end_user", "agent")
        }  # fmt: skip
        app: Any = actions.server.config.app
        live.store = app.state.store  # type: ignore[attr-defined]
        yield live
    actions.stop()


def call(server: Any, method: str, path: str, who: str, **kwargs: Any) -> httpx.Response:
    headers = auth(server.keys[who]) | kwargs.pop("headers", {})
    return httpx.request(method, server.url + path, headers=headers, timeout=120, **kwargs)


def put_connection(server: Any, who: str, name: str, **body: Any) -> httpx.Response:
    return call(server, "PUT", f"/v1/actions/connections/{name}", who, json=body)


def put_procedures(server: Any, who: str) -> list[httpx.Response]:
    return [
        call(server, "PUT", "/v1/procedures", who, json={"source": source}, headers=CREATE)
        for source in (
            (EXAMPLES / "procedures" / f"{name}.yaml").read_text(encoding="utf-8")
            for name in PROCEDURES
        )
    ]


def start(server: Any, who: str) -> tuple[str, str]:
    """A new conversation of `who`: its id and its conversation token."""
    started = call(server, "POST", "/v1/conversations", who, json={})
    assert started.status_code == 201, started.text
    return started.json()["conversation_id"], started.json()["conversation_token"]


def say(server: Any, who: str, conversation: tuple[str, str], text: str) -> dict[str, Any]:
    path = f"/v1/conversations/{conversation[0]}/messages"
    headers = {"X-Conversation-Token": conversation[1]}
    response = call(server, "POST", path, who, json={"text": text}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def acme(server: Any) -> Any:
    """Tenant A: its own `northwind` connection with the real token, and its procedures."""
    response = put_connection(
        server, "acme:admin", "northwind", base_url=server.settings.actions_url,
        secrets={"Authorization": f"Bearer {SECRET}"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert all(r.status_code == 200 for r in put_procedures(server, "acme:admin"))
    return server


def test_secrets_are_write_only(acme: Any) -> None:
    listed = call(acme, "GET", "/v1/actions/connections", "acme:admin")
    single = call(acme, "GET", "/v1/actions/connections/northwind", "acme:admin")
    assert listed.status_code == single.status_code == 200
    assert single.json()["secret_headers"] == ["Authorization"]
    port = acme.settings.actions_url.rsplit(":", 1)[1]
    assert single.json()["allowed_origins"] == [f"http://127.0.0.1:{port}"]
    assert SECRET not in listed.text + single.text
    # Changing the URL without sending secrets keeps them; `{}` would remove them.
    kept = put_connection(acme, "acme:admin", "northwind", base_url=acme.settings.actions_url)
    assert kept.json()["secret_headers"] == ["Authorization"]
    for who in ("acme:end_user", "acme:agent"):
        assert call(acme, "GET", "/v1/actions/connections", who).status_code == 403


def test_another_tenant_cannot_reach_or_read_a_tenants_connection(acme: Any) -> None:
    assert call(acme, "GET", "/v1/actions/connections", "globex:admin").json() == []
    for method in ("GET", "DELETE"):
        response = call(acme, method, "/v1/actions/connections/northwind", "globex:admin")
        assert response.status_code == 404
    refused = put_procedures(acme, "globex:admin")[0]
    assert refused.status_code == 400
    assert (
        "uses connection 'northwind', which this tenant has not set up"
        in (refused.json()["error"]["message"])
    )
    # Globex points its own connection at the same system, without Acme's token: its
    # customer cannot pay an Acme customer's subscription.
    own = put_connection(acme, "globex:admin", "northwind", base_url=acme.settings.actions_url)
    assert own.status_code == 200 and own.json()["secret_headers"] == []
    assert all(r.status_code == 200 for r in put_procedures(acme, "globex:admin"))
    conversation = start(acme, "globex:end_user")
    reply = say(acme, "globex:end_user", conversation,
                "Is my subscription active? aphoenix939@email.com")  # fmt: skip
    assert reply["decision"] == "handoff"
    trace = call(acme, "GET", f"/v1/traces/{reply['trace_id']}", "globex:admin").json()
    assert "HTTP 401" in str(trace)  # the system refused: no token was sent
    assert acme.store.payments == []
    acme_view = call(acme, "GET", "/v1/actions/connections/northwind", "acme:admin").json()
    assert acme_view["secret_headers"] == ["Authorization"]  # untouched by globex


def test_an_origin_is_scheme_host_and_port(acme: Any) -> None:
    host, port = acme.settings.actions_url.rsplit(":", 1)
    clearline = f"{host}:{acme.settings.port}"
    source = (EXAMPLES / "procedures" / "order-status.yaml").read_text(encoding="utf-8")
    for other in (f"{host}:{int(port) + 1}", clearline, f"https://127.0.0.1:{port}"):
        moved = source.replace("url: /orders/lookup", f"url: {other}/orders/lookup")
        response = call(
            acme, "PUT", "/v1/procedures", "acme:admin", json={"source": moved}, headers=CREATE
        )
        assert response.status_code == 400, other
        assert (
            "which is not among the origins connection 'northwind' allows"
            in (response.json()["error"]["message"])
        )
    # Nor may a connection itself reach Clearline's own API, whatever the loopback name.
    for base in (clearline, f"http://localhost:{acme.settings.port}/v1"):
        own = put_connection(acme, "acme:admin", "loop", base_url=base)
        assert own.status_code == 400 and "Clearline's own API" in own.text
    for bad in ("http://user@127.0.0.1:8765", "ftp://127.0.0.1", "http://127.0.0.1:99999"):
        response = put_connection(acme, "acme:admin", "bad", base_url=bad)
        assert response.status_code == 400, bad
    assert call(acme, "GET", "/v1/actions/connections/bad", "acme:admin").status_code == 404


def test_a_connection_in_use_cannot_be_removed(acme: Any) -> None:
    response = call(acme, "DELETE", "/v1/actions/connections/northwind", "acme:admin")
    assert response.status_code == 409 and "change or delete that procedure" in response.text
    assert call(acme, "GET", "/v1/actions/connections/northwind", "acme:admin").is_success


def test_secrets_are_never_stored_or_traced_in_plain_text(acme: Any) -> None:
    conversation = start(acme, "acme:end_user")
    reply = say(acme, "acme:end_user", conversation,
                "Where is my order 3348917502? cminh730@email.com")  # fmt: skip
    assert "delivered" in reply["text"], reply  # the call went through with the token
    assert ("POST", "/orders/lookup", None) in acme.store.calls
    trace = call(acme, "GET", f"/v1/traces/{reply['trace_id']}", "acme:admin")
    assert '"connection": "northwind"' in trace.text.replace('":"', '": "')
    assert SECRET not in trace.text
    files = [p for p in Path(acme.settings.data_dir).rglob("*") if p.is_file()]
    assert any(p.name.startswith("clearline.db") for p in files)
    leaks = [str(p) for p in files if SECRET.encode() in p.read_bytes()]
    assert leaks == []
