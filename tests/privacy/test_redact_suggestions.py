"""Redaction suggestions per conversation and redaction at ingestion, over the HTTP API."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.conftest import LiveServer, free_port
from tests.privacy.canary import call, converse, occurrences, upload

EMAIL = "odalys.brightwater@quincemail.net"
PHONE = "415-555-0142"
NAME = "Odalys Brightwater"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    data_dir = tmp_path_factory.mktemp("suggestions") / "data"
    settings = Settings(data_dir=data_dir, port=free_port(), embedder="torch")
    with LiveServer(settings) as live:
        runtime = live.runtime
        runtime.tenants.create("acme", "eu")
        runtime.tenants.create("globex", "eu")
        live.keys = {role: runtime.tenants.create_key("acme", role)
                     for role in ("admin", "agent", "qa_lead", "end_user")}  # fmt: skip
        live.other_admin = runtime.tenants.create_key("globex", "agent")
        upload(live.url, live.keys["admin"], {
            "returns.md": "# Returns\n\nYou can return a defective item within 30 days.\n",
        })  # fmt: skip
        yield live


def _suggestions(server: Any, conversation: str, role: str = "agent") -> list[dict[str, Any]]:
    response = call(server.url, server.keys[role], "GET",
                    f"/v1/conversations/{conversation}/redactions")  # fmt: skip
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["suggestions"]
    return found


def test_suggestions_list_spans_and_apply_some_then_all(server: Any) -> None:
    url, keys = server.url, server.keys
    conversation, _ = converse(url, keys["end_user"], [
        f"I am {NAME}, mail me at {EMAIL} or call {PHONE}. Can I return a defective item?",
    ])  # fmt: skip
    found = _suggestions(server, conversation)
    in_message = {(s["entity_type"], s["text"]) for s in found if s["source"] == "message"}
    assert {("EMAIL_ADDRESS", EMAIL), ("PHONE_NUMBER", PHONE), ("PERSON", NAME)} <= in_message
    assert {s["source"] for s in found} == {"message", "trace"}
    email = next(s for s in found if s["text"] == EMAIL and s["source"] == "message")
    assert email["placeholder"] == "[EMAIL_ADDRESS]" and 0 < email["score"] <= 1

    # Who may see them: human agents, QA leads, admins of the tenant; nobody else.
    assert _suggestions(server, conversation, "qa_lead")
    path = f"/v1/conversations/{conversation}/redactions"
    assert call(url, keys["end_user"], "GET", path).status_code == 403
    assert call(url, server.other_admin, "GET", path).status_code == 404

    # Unknown ids change nothing.
    bad = call(url, keys["agent"], "POST", path, json={"ids": ["sg_nope"]})
    assert bad.status_code == 400 and "sg_nope" in bad.json()["error"]["message"]
    assert _suggestions(server, conversation) == found

    # Applying one: the email goes everywhere (message and trace), the rest stays.
    applied = call(url, keys["agent"], "POST", path, json={"ids": [email["id"]]})
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] == [email["id"]]
    assert applied.json()["redaction"]["stores"]["messages"] >= 1
    left = _suggestions(server, conversation)
    assert EMAIL not in {s["text"] for s in left} and PHONE in {s["text"] for s in left}
    shown = call(url, keys["agent"], "GET", f"/v1/conversations/{conversation}").json()
    assert "[EMAIL_ADDRESS]" in shown["messages"][0]["text"]

    # Applying all: nothing of the kinds above is left to suggest, and no byte of them.
    assert call(url, keys["agent"], "POST", path, json={"all": True}).status_code == 200
    kinds = {s["entity_type"] for s in _suggestions(server, conversation)}
    assert not kinds & {"EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON"}
    assert occurrences(server.settings.data_dir, (EMAIL, PHONE, NAME)) == []
    with sqlite3.connect(server.settings.data_dir / "regions" / "eu" / "clearline.db") as db:
        actions = [r[0] for r in db.execute("SELECT action FROM audit_log")]
    assert actions.count("privacy.redact") == 2


def test_redaction_at_ingestion_is_off_by_default_then_replaces_before_chunking(
    server: Any,
) -> None:
    url, admin = server.url, server.keys["admin"]
    settings = call(url, admin, "GET", "/v1/privacy/settings")
    assert settings.json() == {"redact_ingestion": False, "entity_types": []}
    assert call(url, server.keys["qa_lead"], "GET", "/v1/privacy/settings").status_code == 403
    bad = call(url, admin, "PUT", "/v1/privacy/settings", json={"entity_types": ["NAMES"]})
    assert bad.status_code == 400 and "NAMES" in bad.json()["error"]["message"]
    assert call(url, admin, "GET", "/v1/privacy/settings").json()["redact_ingestion"] is False

    text = f"# Refunds\n\n{NAME} ({EMAIL}, {PHONE}) approves refunds over 500 dollars.\n"
    upload(url, admin, {"contacts-plain.md": text})
    on = call(url, admin, "PUT", "/v1/privacy/settings", json={"redact_ingestion": True})
    assert on.status_code == 200 and on.json()["redact_ingestion"] is True
    upload(url, admin, {"contacts.md": text})

    listed = call(url, admin, "GET", "/v1/knowledge/sources").json()["sources"]
    sources = {s["document_id"]: s for s in listed}
    assert sources["contacts-plain.md"]["redacted"] == {}
    counts = sources["contacts.md"]["redacted"]
    assert counts["EMAIL_ADDRESS"] == 1 and counts["PHONE_NUMBER"] == 1 and counts["PERSON"] >= 1
    chunks = server.runtime.store("acme").document_chunks("acme", "contacts.md")
    joined = " ".join(c.text for c in chunks)
    assert "[EMAIL_ADDRESS]" in joined and EMAIL not in joined and NAME not in joined
    plain = server.runtime.store("acme").document_chunks("acme", "contacts-plain.md")
    assert EMAIL in " ".join(c.text for c in plain)
