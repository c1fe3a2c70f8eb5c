"""Permanent redaction, proven by the bytes: canary values placed through the real HTTP API
(a knowledge document, end-user questions, a QA correction) are redacted, two through the
server's route and two with `clearline privacy redact` after the server stopped, and then
no file under the data directory holds any of them in any case or UTF-16. The rest of the
tenant's data, and another tenant's, stays answerable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from control.customer import CustomerControls
from tests.conftest import LiveServer, free_port
from tests.privacy.canary import (
    DOCUMENT,
    EMAIL,
    NAME,
    PHONE,
    SENTENCE,
    SHIPPING,
    STEMS,
    call,
    clearline,
    converse,
    occurrences,
    upload,
)
from tests.privacy.identified import wait_scored

CANARIES = (NAME, EMAIL, PHONE, SENTENCE, *STEMS)
QUESTIONS = [
    f"Hi, I am {NAME}, write to {EMAIL} or call {PHONE}. How long do I have to return a "
    "defective item?",
    "Who trades marmalade for brass telescopes every Thursday?",
    f"My friend said: {SENTENCE} Is that right?",
]


def _settings(data_dir: Path) -> Any:
    from service.settings import Settings

    return Settings(data_dir=data_dir, port=free_port(), embedder="torch", qa_interval_s=0.2)


@pytest.mark.slow
def test_canaries_leave_no_byte_and_the_rest_stays_answerable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LiveServer(_settings(data_dir)) as live:
        runtime = live.runtime
        for tenant in ("acme", "globex"):
            runtime.tenants.create(tenant, "eu")
        CustomerControls(runtime.sessions).update("acme", {"training_use": "allowed"}, "test")
        keys = {role: runtime.tenants.create_key("acme", role)
                for role in ("admin", "end_user", "qa_lead", "agent")}  # fmt: skip
        other = {role: runtime.tenants.create_key("globex", role)
                 for role in ("admin", "end_user", "agent")}  # fmt: skip
        url = live.url
        upload(url, keys["admin"], {"escalations.md": DOCUMENT, "shipping.md": SHIPPING})
        upload(url, other["admin"], {"shipping.md": SHIPPING})
        conversation, replies = converse(url, keys["end_user"], QUESTIONS)
        other_conversation, _ = converse(
            url, other["end_user"], ["How long does shipping to Canada take?"]
        )
        traces = [r["trace_id"] for r in replies]
        wait_scored(url, keys["qa_lead"], traces)
        review = call(url, keys["qa_lead"], "POST", "/v1/qa/reviews", json={
            "trace_id": traces[0], "verdict": "partially_correct",
            "corrected_answer": f"{NAME}: 30 days; we will write to {EMAIL}.",
        })  # fmt: skip
        assert review.status_code == 201, review.text
        before = occurrences(data_dir, CANARIES)
        assert any("clearline.db" in f for f in before) and any("knowledge.db" in f for f in before)

        # While the server holds the data directory the CLI refuses and names the route.
        busy = clearline("privacy", "redact", "--tenant", "acme", "--value", NAME,
                         data_dir=data_dir)  # fmt: skip
        assert busy.returncode == 1 and "POST /v1/privacy/redact" in busy.stderr

        # Only admins redact; through the server, name and email.
        body = {"values": [NAME, EMAIL]}
        refused = call(url, keys["qa_lead"], "POST", "/v1/privacy/redact", json=body)
        assert refused.status_code == 403
        done = call(url, keys["admin"], "POST", "/v1/privacy/redact", json=body)
        assert done.status_code == 200, done.text
        result = done.json()
        assert result["placeholders"] == ["[PERSON]", "[EMAIL_ADDRESS]"]
        for store in ("messages", "traces", "qa_reviews", "golden_cases", "knowledge_chunks",
                      "keyword_index", "vector_store"):  # fmt: skip
            assert result["stores"].get(store, 0) > 0, (store, result["stores"])
        assert NAME not in json.dumps(result) and EMAIL not in json.dumps(result)
        shown = call(url, keys["agent"], "GET", f"/v1/conversations/{conversation}").json()
        assert "[PERSON]" in shown["messages"][0]["text"]

    # The server stopped: the CLI redacts the phone number and the sentence.
    cli = clearline("privacy", "redact", "--tenant", "acme", "--value", PHONE, "--value", SENTENCE,
                    "--json", data_dir=data_dir)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    printed = json.loads(cli.stdout)
    assert printed["stores"]["messages"] > 0 and printed["stores"]["knowledge_chunks"] > 0
    assert printed["remaining_files"] == []
    assert PHONE not in cli.stdout and SENTENCE not in cli.stdout

    left = occurrences(data_dir, CANARIES)
    assert left == [], left
    _no_values_in_audit(data_dir)

    # The rest stays answerable, for this tenant and the other; the stores agree.
    with LiveServer(_settings(data_dir)) as live:
        runtime = live.runtime
        assert runtime.store("acme").consistency_problems("acme") == []
        user = runtime.tenants.create_key("acme", "end_user")
        _, answers = converse(live.url, user, ["How long do I have to return a defective item?"])
        assert answers[0]["decision"] == "answered" and "30 days" in answers[0]["text"]
        agent = runtime.tenants.create_key("globex", "agent")
        kept = call(live.url, agent, "GET", f"/v1/conversations/{other_conversation}").json()
        assert "shipping to Canada" in kept["messages"][0]["text"]
        other_user = runtime.tenants.create_key("globex", "end_user")
        _, answers = converse(live.url, other_user, ["How long does shipping to Canada take?"])
        assert answers[0]["decision"] == "answered"


def _no_values_in_audit(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        rows = db.execute(
            "SELECT action, detail FROM audit_log WHERE action LIKE 'privacy.%'"
        ).fetchall()
    assert [action for action, _ in rows] == ["privacy.redact", "privacy.redact"]
    for _, detail in rows:
        assert json.loads(detail)["values"] == 2
