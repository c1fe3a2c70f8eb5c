"""Bad content over HTTP gets a clear 400/422 and changes nothing, never a 500: a golden-set
import with one bad line, redactions asked for by `ids` and `all` at once, and an agent
configuration whose AI disclosure is blank or whose privacy notice is too long."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx
import pytest

from agent.config import DEFAULT_DISCLOSURE
from tests.service.helpers import acme_server, auth

EMAIL = "odalys.brightwater@quincemail.net"
PHONE = "415-555-0142"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    roles = ("admin", "agent", "qa_lead", "end_user")
    with acme_server(tmp_path_factory, "bad-content", roles, seed=True) as live:
        yield live


def call(server: Any, role: str, method: str, path: str, headers: Any = None,
         **kwargs: Any) -> httpx.Response:  # fmt: skip
    return httpx.request(
        method,
        server.url + path,
        timeout=120,
        headers={**auth(server.keys[role]), **(headers or {})},
        **kwargs,
    )


def refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"] == message


def _jsonl(*records: dict[str, Any]) -> str:
    return "\n".join(json.dumps(r) for r in records)


def test_a_golden_import_with_one_bad_line_imports_nothing(server: Any) -> None:
    good = {"id": "kept-1", "question": "How long do returns take?", "answerable": True}
    imported = call(server, "qa_lead", "POST", "/v1/qa/golden", json={"jsonl": _jsonl(good)})
    assert imported.status_code == 200, imported.text
    before = call(server, "qa_lead", "GET", "/v1/qa/golden").json()
    first = {"id": "partial-1", "question": "Q1?"}
    no_id = "upload line 2 needs an 'id' string that is not empty; give each question its own id"
    bad_lines: list[tuple[dict[str, Any], str]] = [
        ({"question": "Q2?"}, no_id),
        ({"id": "  ", "question": "Q2?"}, no_id),
        ({"id": 7, "question": "Q2?"}, no_id),
        ({"id": "q2", "question": "   "},
         "upload line 2 needs a 'question' string that is not blank"),
        ({"id": "q2", "question": "Q2?", "answerable": "maybe"},
         "upload line 2: 'answerable' must be true or false, not \"maybe\""),
        ({"id": "q2", "question": "Q2?", "reference_doc_ids": [1, {"a": 1}]},
         "upload line 2: 'reference_doc_ids' must be a list of document id strings, "
         "not [1, {\"a\": 1}]"),
    ]  # fmt: skip
    for record, message in bad_lines:
        response = call(server, "qa_lead", "POST", "/v1/qa/golden",
                        json={"jsonl": _jsonl(first, record)})  # fmt: skip
        refused(response, 400, message)
        after = call(server, "qa_lead", "GET", "/v1/qa/golden").json()
        assert after == before, message


def test_redactions_by_ids_and_all_at_once_are_refused(server: Any) -> None:
    started = call(server, "end_user", "POST", "/v1/conversations", json={})
    assert started.status_code == 201, started.text
    cid, token = started.json()["conversation_id"], started.json()["conversation_token"]
    said = call(server, "end_user", "POST", f"/v1/conversations/{cid}/messages",
                headers={"X-Conversation-Token": token},
                json={"text": f"Mail me at {EMAIL} or call {PHONE}. Can I return it?"})  # fmt: skip
    assert said.status_code == 200, said.text
    path = f"/v1/conversations/{cid}/redactions"
    before = call(server, "agent", "GET", path).json()["suggestions"]
    assert EMAIL in {s["text"] for s in before}

    both = call(server, "agent", "POST", path, json={"ids": ["x"], "all": True})
    refused(both, 400, "give `ids` or `all`, not both: list the suggestions to apply in "
                       "'ids', or send 'all': true alone to apply every one")  # fmt: skip
    assert call(server, "agent", "GET", path).json()["suggestions"] == before
    shown = call(server, "agent", "GET", f"/v1/conversations/{cid}").json()
    assert EMAIL in shown["messages"][0]["text"]


def test_a_blank_disclosure_or_an_overlong_notice_is_refused(server: Any) -> None:
    current = call(server, "admin", "GET", "/v1/agent/config")
    tag, before = current.headers["ETag"], current.json()
    blank = ("the AI disclosure must not be blank: conversations show it to tell end "
             "users they are talking to an AI; write a sentence saying so")  # fmt: skip
    control = ("the AI disclosure must not hold control characters (such as NUL or line "
               "breaks); write it as one line of plain text")  # fmt: skip
    long_notice = ("the privacy notice is 100,000 characters long; keep it to 4,000 "
                   "characters and link to the full text")  # fmt: skip
    cases = {
        "   ": ("disclosure", blank),
        "": ("disclosure", blank),
        "You are chatting with an AI\x00": ("disclosure", control),
        "x" * 100_000: ("privacy_notice", long_notice),
    }
    for value, (field, message) in cases.items():
        response = call(server, "admin", "PATCH", "/v1/agent/config",
                        headers={"If-Match": tag}, json={field: value})  # fmt: skip
        refused(response, 400, f"invalid agent configuration at '{field}': {message}")
    after = call(server, "admin", "GET", "/v1/agent/config")
    assert after.json() == before and after.headers["ETag"] == tag
    started = call(server, "end_user", "POST", "/v1/conversations", json={})
    assert started.json()["disclosure"] == before["disclosure"]


def test_a_configuration_stored_before_the_rules_still_loads_and_can_be_fixed(
    server: Any,
) -> None:
    """A blank disclosure saved before the rules existed shows the default disclosure (the
    agent still says it is an AI) instead of failing every conversation, and the admin's
    next change goes through."""
    tenants = server.runtime.tenants
    tenants.create("globex", "eu")
    admin, end_user = (tenants.create_key("globex", r) for r in ("admin", "end_user"))
    tag = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).headers["ETag"]
    made = httpx.patch(f"{server.url}/v1/agent/config", json={"autonomy": "autonomous"},
                       headers={**auth(admin), "If-Match": tag})  # fmt: skip
    assert made.status_code == 200, made.text
    database = server.settings.data_dir / "regions" / "eu" / "clearline.db"
    with sqlite3.connect(database) as db:
        (stored,) = db.execute("SELECT config FROM tenant_configs WHERE tenant='globex'").fetchone()
        db.execute("UPDATE tenant_configs SET config=? WHERE tenant='globex'",
                   (json.dumps({**json.loads(stored), "disclosure": "   "}),))  # fmt: skip
    shown = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin))
    assert shown.status_code == 200, shown.text
    assert shown.json()["disclosure"] == DEFAULT_DISCLOSURE
    assert shown.json()["autonomy"] == "autonomous"  # the rest as stored
    started = httpx.post(f"{server.url}/v1/conversations", json={}, headers=auth(end_user))
    assert started.status_code == 201 and started.json()["disclosure"] == DEFAULT_DISCLOSURE
    fixed = httpx.patch(f"{server.url}/v1/agent/config", json={"disclosure": "I am an AI."},
                        headers={**auth(admin), "If-Match": shown.headers["ETag"]})  # fmt: skip
    assert fixed.status_code == 200 and fixed.json()["disclosure"] == "I am an AI."
