"""Approvals bound to what they approve, over HTTP against the real app and the sample
company system on localhost: an unrelated approval runs nothing, a rejection cancels only
its own draft, ten concurrent approvals make one call, a failed action is reported to the
reviewer and never sent to the customer as a success (issue 11, findings 1 and 2)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from agent.decide import HANDOFF_TEXT
from control.models import Conversation
from control.regional import in_region
from service.demo import EXAMPLES, start_actions_service
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy

PAYMENTS = "We accept credit cards, debit cards and PayPal. Gift cards can be used online."
# Without an intent of its own, a short question may be taken for a procedure's intent.
INTENTS = {"payment_methods": ["Can I pay with PayPal?", "which payment methods do you accept",
                               "do you take credit cards", "can I pay by debit card"]}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("trust-actions"), port=free_port(),
        actions_url=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    actions = start_actions_service(settings)
    with LiveServer(settings) as live:
        set_up_acme(live, actions)
        yield live
    actions.stop()


def set_up_acme(live: Any, actions: Any) -> None:
    """Tenant acme on `live`: the returns and payments documents, keys (kept on `live.keys`),
    the connection to the sample company system `actions` (its store on `live.store`), the
    refund and order-status procedures."""
    settings = live.settings
    live.runtime.tenants.create("acme", "eu")
    seed_returns_policy(live.runtime, "acme")
    seed_payments(live.runtime, "acme")
    live.keys = {r: live.runtime.tenants.create_key("acme", r) for r in ("admin", "end_user")}
    live.keys["agent"] = live.runtime.tenants.create_key("acme", "agent")
    app: Any = actions.server.config.app
    live.store = app.state.store
    token = settings.actions_token.get_secret_value()
    connection = {"base_url": settings.actions_url,
                  "secrets": {"Authorization": f"Bearer {token}"}}  # fmt: skip
    put = call(live, "PUT", "/v1/actions/connections/northwind", "admin", json=connection)
    assert put.status_code == 200, put.text
    set_config(live, intents=INTENTS)
    for name in ("return-refund", "order-status"):
        source = (EXAMPLES / "procedures" / f"{name}.yaml").read_text(encoding="utf-8")
        put = call(live, "PUT", "/v1/procedures", "admin", json={"source": source},
                   headers={"If-None-Match": "*"})  # fmt: skip
        assert put.status_code == 200, put.text


def seed_payments(runtime: Any, tenant: str) -> None:
    """One more small document (`payments.md`), written straight into the tenant's store."""
    from knowledge.records import Chunk
    from knowledge.store import DocumentWrite

    chunk = Chunk("payments.md", 0, 0, PAYMENTS, metadata={"title": "Payment methods"})
    runtime.store(tenant).write(
        tenant, DocumentWrite("payments.md", "Payment methods", "payments.md", "md", "p"),
        [chunk], runtime.embedder.embed([f"Payment methods\n{PAYMENTS}"]),
    )  # fmt: skip


@pytest.fixture
def store(server: Any) -> Any:
    server.store.reset()
    return server.store


def call(server: Any, method: str, path: str, role: str, **kwargs: Any) -> httpx.Response:
    headers = auth(server.keys[role]) | kwargs.pop("headers", {})
    return httpx.request(method, server.url + path, headers=headers, timeout=120, **kwargs)


TOKENS: dict[str, str] = {}  # conversation -> its end user's conversation token


def start(server: Any) -> str:
    response = call(server, "POST", "/v1/conversations", "end_user", json={})
    assert response.status_code == 201, response.text
    conversation: str = response.json()["conversation_id"]
    TOKENS[conversation] = response.json()["conversation_token"]
    return conversation


def as_end_user(conversation: str) -> dict[str, str]:
    return {"X-Conversation-Token": TOKENS[conversation]}


def say(server: Any, conversation: str, text: str) -> dict[str, Any]:
    path = f"/v1/conversations/{conversation}/messages"
    headers = as_end_user(conversation)
    response = call(server, "POST", path, "end_user", json={"text": text}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def seen(server: Any, conversation: str) -> list[str]:
    """What the end user sees of the conversation."""
    path = f"/v1/conversations/{conversation}"
    response = call(server, "GET", path, "end_user", headers=as_end_user(conversation))
    return [m["text"] for m in response.json()["messages"]]


def drafts(server: Any, conversation: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = call(server, "GET", "/v1/drafts", "agent").json()
    return [d for d in listed if d["conversation_id"] == conversation]


def review(server: Any, draft: str, approve: bool, text: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"approve": approve} | ({"text": text} if text else {})
    return call(server, "POST", f"/v1/drafts/{draft}/review", "agent", json=body)


def refund_draft(server: Any, conversation: str) -> str:
    """Take the refund procedure up to its approval draft; the draft's id."""
    say(server, conversation, "I want to return an item and get my money back")
    say(server, conversation, "It is 3348917502")
    assert "refund" in say(server, conversation, "cminh730@email.com")["text"].lower()
    assert say(server, conversation, "to my credit card please")["decision"] == "draft"
    (draft,) = [d for d in drafts(server, conversation) if d["action"] is not None]
    assert draft["action"]["name"] == "issue_refund" and draft["action"]["connection"] == (
        "northwind"
    )
    assert draft["action"]["url"].endswith("/refunds") and draft["action"]["method"] == "POST"
    assert draft["action"]["body"]["order_id"] == "3348917502"
    draft_id: str = draft["message_id"]
    return draft_id


def refund_posts(store: Any) -> list[tuple[str, str, str | None]]:
    return [c for c in store.calls if c[:2] == ("POST", "/refunds")]


def set_config(server: Any, **changes: Any) -> None:
    etag = call(server, "GET", "/v1/agent/config", "admin").headers["ETag"]
    response = call(
        server, "PATCH", "/v1/agent/config", "admin", json=changes, headers={"If-Match": etag}
    )
    assert response.status_code == 200, response.text


def test_an_unrelated_draft_runs_nothing_and_the_refund_draft_stays_pending(
    server: Any, store: Any
) -> None:
    conversation = start(server)
    refund = refund_draft(server, conversation)
    set_config(server, autonomy="copilot")
    try:
        assert say(server, conversation, "Can I pay with PayPal?")["decision"] == "draft"
        (answer,) = [d for d in drafts(server, conversation) if d["message_id"] != refund]
        assert answer["action"] is None
        approved = review(server, answer["message_id"], True)
        assert approved.status_code == 200, approved.text
        assert approved.json()["action"] is None and approved.json()["action_result"] is None
        assert "PayPal" in seen(server, conversation)[-1]
        assert refund_posts(store) == [] and store.refunds == []
        assert [d["message_id"] for d in drafts(server, conversation)] == [refund]

        assert say(server, conversation, "Are refunds paid to the original card?")["decision"] == (
            "draft"
        )
        (other,) = [d for d in drafts(server, conversation) if d["message_id"] != refund]
        assert review(server, other["message_id"], False).status_code == 200
        assert [d["message_id"] for d in drafts(server, conversation)] == [refund]
        assert refund_posts(store) == []
    finally:
        set_config(server, autonomy="autonomous")
    done = review(server, refund, True)
    assert done.status_code == 200, done.text
    assert done.json()["draft_status"] == "approved" and done.json()["action_result"]["ok"]
    assert "Done: refund RF-00001" in seen(server, conversation)[-1]
    assert refund_posts(store) == [("POST", "/refunds", refund)]  # keyed by the draft


def test_rejecting_the_refund_cancels_it_and_only_it(server: Any, store: Any) -> None:
    conversation = start(server)
    refund = refund_draft(server, conversation)
    rejected = review(server, refund, False)
    assert rejected.status_code == 200 and rejected.json()["draft_status"] == "rejected"
    assert refund_posts(store) == [] and drafts(server, conversation) == []
    handoffs = call(server, "GET", "/v1/handoffs", "agent").json()
    assert any(h["conversation_id"] == conversation for h in handoffs)
    assert review(server, refund, True).status_code == 409
    assert refund_posts(store) == []


def test_ten_concurrent_approvals_make_exactly_one_call(server: Any, store: Any) -> None:
    conversation = start(server)
    refund = refund_draft(server, conversation)
    barrier = threading.Barrier(10)

    def approve(_: int) -> httpx.Response:
        barrier.wait()
        return review(server, refund, True)

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(r.status_code for r in pool.map(approve, range(10)))
    assert statuses == [200] + [409] * 9
    assert refund_posts(store) == [("POST", "/refunds", refund)]
    assert len(store.refunds) == 1
    assert review(server, refund, True).status_code == 409
    assert review(server, refund, False).status_code == 409
    assert [t for t in seen(server, conversation) if "Done: refund" in t] == [
        seen(server, conversation)[-1]
    ]


def test_a_new_message_while_the_refund_waits_does_not_replace_it(server: Any, store: Any) -> None:
    conversation = start(server)
    refund = refund_draft(server, conversation)
    again = say(server, conversation, "I want to return an item and get my money back")
    assert "order number" not in again["text"]  # no second refund procedure started
    trace = call(server, "GET", f"/v1/traces/{again['trace_id']}", "admin").json()
    assert "waits for a human's approval" in trace["steps"][1]["reason"]
    assert [d["message_id"] for d in drafts(server, conversation)] == [refund]
    assert review(server, refund, True).json()["action_result"]["ok"] is True
    assert len(store.refunds) == 1


def test_a_draft_whose_conversation_moved_on_gets_409_and_runs_nothing(
    server: Any, store: Any
) -> None:
    conversation = start(server)
    refund = refund_draft(server, conversation)
    with in_region("eu"), server.runtime.sessions.begin() as session:  # as another process
        session.execute(
            update(Conversation).where(Conversation.id == conversation).values(procedure_state=None)
        )
    stale = review(server, refund, True)
    assert stale.status_code == 409
    assert "no longer waiting for it; nothing ran" in stale.json()["error"]["message"]
    assert refund_posts(store) == []
    assert [d["message_id"] for d in drafts(server, conversation)] == [refund]  # still pending


def test_a_failed_action_tells_the_reviewer_and_not_the_customer(server: Any, store: Any) -> None:
    conversation = start(server)
    refund = refund_draft(server, conversation)
    token = server.settings.actions_token.get_secret_value()
    first = httpx.post(  # the order gets refunded elsewhere first, so this refund fails
        f"{server.settings.actions_url}/refunds", headers=auth(token),
        json={"order_id": "3348917502", "email": "cminh730@email.com", "method": "gift card"},
    )  # fmt: skip
    assert first.status_code == 200
    edited = "Great news: your refund has been issued!"
    response = review(server, refund, True, edited)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["draft_status"] == "failed"
    assert body["action_result"] == {
        "ok": False, "http_status": 409, "error": "the system answered HTTP 409",
    }  # fmt: skip
    shown = seen(server, conversation)
    assert not any(edited in t or "Done: refund" in t for t in shown)
    assert shown[-1] == HANDOFF_TEXT  # a person takes over, as for every handoff
    handoffs = call(server, "GET", "/v1/handoffs", "agent").json()
    (mine,) = [h for h in handoffs if h["conversation_id"] == conversation]
    assert "failed: the system answered HTTP 409" in mine["summary"]
    assert len(store.refunds) == 1  # only the one made elsewhere


def test_the_company_system_honours_the_idempotency_key(server: Any, store: Any) -> None:
    url = f"{server.settings.actions_url}/refunds"
    headers = auth(server.settings.actions_token.get_secret_value()) | {"Idempotency-Key": "k1"}
    body = {"order_id": "3348917502", "email": "cminh730@email.com", "method": "gift card"}
    first, second = (httpx.post(url, headers=headers, json=body) for _ in range(2))
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert len(store.refunds) == 1
    changed = httpx.post(url, headers=headers, json=body | {"method": "paper check"})
    assert changed.status_code == 422 and len(store.refunds) == 1


def test_an_approved_action_leaves_no_secret_in_the_data_directory(server: Any, store: Any) -> None:
    conversation = start(server)
    refund = refund_draft(server, conversation)
    assert review(server, refund, True).json()["action_result"]["ok"] is True
    token = server.settings.actions_token.get_secret_value().encode()
    files = [p for p in server.settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("clearline.db") for p in files)
    assert [str(p) for p in files if token in p.read_bytes()] == []
