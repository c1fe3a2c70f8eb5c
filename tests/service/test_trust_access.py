"""End-user identity over HTTP: a conversation belongs to the end user who started it.

An end-user key (e.g. a chat widget's, shared by every customer of the tenant) reaches a
conversation only with that conversation's token; a key allowed to assert identities (the
company's backend) reaches it with the same `end_user_id`; anyone else gets 404, as if the
conversation did not exist. Human agents, QA leads and admins keep their role-based access.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from control.models import Conversation
from control.regional import in_region
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy
from tests.service.test_cli import clearline

QUESTION = "How long do I have to return a defective item?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("identity"), port=free_port())
    with LiveServer(settings) as live:
        tenants = live.runtime.tenants
        tenants.create("acme", "eu")
        tenants.create("globex", "eu")
        seed_returns_policy(live.runtime, "acme")
        live.keys = {
            "widget": tenants.create_key("acme", "end_user"),
            "backend": tenants.create_key("acme", "end_user", asserts_identity=True),
            "agent": tenants.create_key("acme", "agent"),
            "qa_lead": tenants.create_key("acme", "qa_lead"),
            "admin": tenants.create_key("acme", "admin"),
            "globex_backend": tenants.create_key("globex", "end_user", asserts_identity=True),
        }
        yield live


def _headers(
    server: Any, who: str, token: str | None = None, end_user: str | None = None
) -> dict[str, str]:
    headers = auth(server.keys[who])
    if token is not None:
        headers["X-Conversation-Token"] = token
    if end_user is not None:
        headers["X-End-User-Id"] = end_user
    return headers


def start(server: Any, who: str = "widget", **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/v1/conversations", headers=_headers(server, who), json=body, timeout=60
    )
    assert response.status_code == 201, response.text
    started: dict[str, Any] = response.json()
    return started


def read(server: Any, cid: str, who: str = "widget", **access: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/v1/conversations/{cid}", headers=_headers(server, who, **access), timeout=60
    )


def post(server: Any, cid: str, who: str = "widget", **access: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/conversations/{cid}/messages",
        headers=_headers(server, who, **access), json={"text": QUESTION}, timeout=120,
    )  # fmt: skip


def rate(server: Any, message_id: str, who: str = "widget", **access: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/messages/{message_id}/rating",
        headers=_headers(server, who, **access), json={"rating": "down"}, timeout=60,
    )  # fmt: skip


def _absent(response: httpx.Response, what: str) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"] == {
        "code": "not_found", "message": f"{what} does not exist",
    }  # fmt: skip


def test_another_end_user_of_the_same_tenant_gets_404(server: Any) -> None:
    alice = start(server)
    bob = start(server)
    cid, token = alice["conversation_id"], alice["conversation_token"]
    assert token and token != bob["conversation_token"]
    reply = post(server, cid, token=token)
    assert reply.status_code == 200, reply.text
    message_id = reply.json()["message_id"]
    assert read(server, cid, token=token).status_code == 200
    # Bob has the same widget key, and his own token, but not Alice's conversation.
    for access in ({}, {"token": bob["conversation_token"]}, {"token": token[:-2] + "xx"},
                   {"token": ""}, {"end_user": "alice"}):  # fmt: skip
        _absent(read(server, cid, **access), f"conversation '{cid}'")
        _absent(post(server, cid, **access), f"conversation '{cid}'")
        _absent(rate(server, message_id, **access), f"reply '{message_id}'")
    # The answer is the same as for a conversation that does not exist at all.
    _absent(read(server, "conv_does_not_exist", token=token), "conversation 'conv_does_not_exist'")
    history = read(server, cid, token=token).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]  # Bob wrote nothing
    assert history[1]["rating"] is None  # nor rated
    assert rate(server, message_id, token=token).status_code == 200


def test_the_token_is_stored_only_hashed(server: Any) -> None:
    started = start(server)
    token = started["conversation_token"]
    with in_region("eu"), server.runtime.sessions() as db:
        row = db.get(Conversation, started["conversation_id"])
    assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    raw = b"".join(p.read_bytes() for p in Path(server.settings.data_dir).rglob("clearline.db*"))
    assert token.encode() not in raw


def test_the_company_backend_asserts_the_end_user(server: Any) -> None:
    started = start(server, "backend", end_user_id="customer-42")
    cid = started["conversation_id"]
    assert started["end_user_id"] == "customer-42"
    with in_region("eu"), server.runtime.sessions() as db:
        row = db.get(Conversation, cid)
    assert row is not None and row.end_user_id == "customer-42"
    assert post(server, cid, "backend", end_user="customer-42").status_code == 200
    assert read(server, cid, "backend", end_user="customer-42").status_code == 200
    # Another end user, or none named: as if it did not exist.
    _absent(read(server, cid, "backend", end_user="customer-43"), f"conversation '{cid}'")
    _absent(post(server, cid, "backend"), f"conversation '{cid}'")
    # The token it got back works for whoever the backend hands it to (e.g. the browser).
    assert read(server, cid, "widget", token=started["conversation_token"]).status_code == 200
    # A widget key cannot claim the identity by a header.
    _absent(read(server, cid, "widget", end_user="customer-42"), f"conversation '{cid}'")
    # Nor can the backend of another tenant.
    _absent(read(server, cid, "globex_backend", end_user="customer-42"), f"conversation '{cid}'")


def test_a_key_that_may_not_assert_identities_cannot_name_an_end_user(server: Any) -> None:
    response = httpx.post(
        f"{server.url}/v1/conversations", headers=auth(server.keys["widget"]),
        json={"end_user_id": "customer-42"}, timeout=60,
    )  # fmt: skip
    assert response.status_code == 403, response.text
    assert "end_user_id" in response.json()["error"]["message"]
    for bad in ("", " ", "a\nb", "x" * 201):
        refused = httpx.post(
            f"{server.url}/v1/conversations", headers=auth(server.keys["backend"]),
            json={"end_user_id": bad}, timeout=60,
        )  # fmt: skip
        assert refused.status_code == 422, (bad, refused.text)


def test_human_agents_qa_leads_and_admins_keep_role_based_access(server: Any) -> None:
    started = start(server)
    cid = started["conversation_id"]
    assert post(server, cid, token=started["conversation_token"]).status_code == 200
    with_drafts = read(server, cid, "agent")
    assert with_drafts.status_code == 200 and len(with_drafts.json()["messages"]) == 2
    replied = httpx.post(
        f"{server.url}/v1/conversations/{cid}/replies", headers=auth(server.keys["agent"]),
        json={"text": "Hello from Sam."}, timeout=60,
    )  # fmt: skip
    assert replied.status_code == 201
    for role in ("qa_lead", "admin"):  # their role never reached conversations; still not
        assert read(server, cid, role).status_code == 403


@pytest.mark.slow
def test_clearline_ask_records_the_end_user(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    first = clearline(
        "ask", QUESTION, "--tenant", "acme", "--end-user", "customer-7", "--json",
        data_dir=data_dir,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    cid = json.loads(first.stdout)["conversation_id"]
    again = clearline(
        "ask", "And for express orders?", "--tenant", "acme", "--conversation", cid,
        "--end-user", "customer-8", "--json", data_dir=data_dir,
    )  # fmt: skip
    assert again.returncode == 1
    assert "belongs to another end user" in again.stderr
    from control.db import make_engine, session_factory

    engine = make_engine(f"sqlite:///{data_dir / 'regions' / 'eu' / 'clearline.db'}")
    with session_factory(engine)() as db:
        row = db.get(Conversation, cid)
    engine.dispose()
    assert row is not None and row.end_user_id == "customer-7"
