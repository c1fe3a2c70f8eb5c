"""Erasure of an end user, proven by the bytes: canary values (a made-up name, email, phone
number and a unique sentence) reach the data only through one end user's questions, a
down-rating comment and a QA lead's correction of their reply, all through the real HTTP
API. After `POST /v1/privacy/erasures` (and, for a third end user, `clearline privacy
erase` after the server stopped) no file under the data directory holds any canary or
end-user id in any case or UTF-16; another end user's conversation is intact and the agent
still answers them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from control.customer import CustomerControls
from tests.conftest import LiveServer
from tests.privacy.canary import (
    EMAIL,
    NAME,
    PHONE,
    SENTENCE,
    STEMS,
    call,
    clearline,
    occurrences,
    upload,
)
from tests.privacy.identified import RETURNS, SHIPPING, EndUser, settings, wait_scored

ERASED_USER = "cust-zq-55210"
KEPT_USER = "cust-kept-00731"
CLI_USER = "cust-oct-88412"
CLI_CANARY = "Octavia Brindlecombe-Ferraro"
CANARIES = (NAME, EMAIL, PHONE, SENTENCE, *STEMS, ERASED_USER)
QUESTIONS = [
    f"Hi, I am {NAME}, write to {EMAIL} or call {PHONE}. How long do I have to return a "
    "defective item?",
    f"My friend said: {SENTENCE} Is that right?",
]


@pytest.mark.slow
def test_erasing_an_end_user_leaves_no_byte_and_others_stay_answerable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LiveServer(settings(data_dir)) as live:
        runtime = live.runtime
        runtime.tenants.create("acme", "eu")
        CustomerControls(runtime.sessions).update("acme", {"training_use": "allowed"}, "test")
        keys = {
            role: runtime.tenants.create_key("acme", role) for role in ("admin", "qa_lead", "agent")
        }
        backend = runtime.tenants.create_key("acme", "end_user", asserts_identity=True)
        url = live.url
        upload(url, keys["admin"], {"returns.md": RETURNS, "shipping.md": SHIPPING})
        erased = EndUser(url, backend, ERASED_USER).start()
        for question in QUESTIONS:
            erased.say(question)
        erased.rate_down(erased.replies[0]["message_id"], f"{SENTENCE} was not answered")
        kept = EndUser(url, backend, KEPT_USER).start()
        assert kept.say("How long does shipping to Canada take?")["decision"] == "answered"
        by_cli = EndUser(url, backend, CLI_USER).start()
        by_cli.say(f"This is {CLI_CANARY}: how long does express shipping take?")
        traces = [r["trace_id"] for u in (erased, kept, by_cli) for r in u.replies]
        wait_scored(url, keys["qa_lead"], traces)
        review = call(
            url,
            keys["qa_lead"],
            "POST",
            "/v1/qa/reviews",
            json={
                "trace_id": erased.replies[0]["trace_id"],
                "verdict": "partially_correct",
                "labels": ["tone"],
                "corrected_answer": f"{NAME}: 30 days; we will call {PHONE}.",
            },
        )
        assert review.status_code == 201, review.text
        assert any("clearline.db" in f for f in occurrences(data_dir, CANARIES))

        # While the server holds the data directory the CLI refuses and names the route.
        busy = clearline(
            "privacy", "erase", "--tenant", "acme", "--end-user", ERASED_USER, data_dir=data_dir
        )
        assert busy.returncode == 1 and "POST /v1/privacy/erasures" in busy.stderr
        body = {"end_user_id": ERASED_USER}
        for role in ("qa_lead", "agent"):
            assert (
                call(url, keys[role], "POST", "/v1/privacy/erasures", json=body).status_code == 403
            )
        assert call(url, backend, "POST", "/v1/privacy/erasures", json=body).status_code == 403

        done = call(url, keys["admin"], "POST", "/v1/privacy/erasures", json=body)
        assert done.status_code == 200, done.text
        counts = done.json()["counts"]
        assert counts["conversations"] == 1 and counts["messages"] == 4
        assert counts["traces"] == 2 and counts["scores"] == 2
        assert counts["queue_items"] >= 1 and counts["reviews"] == 1
        assert counts["golden_cases"] == 1 and counts["audit_entries"] >= 1
        assert ERASED_USER not in done.text and NAME not in done.text
        gone = call(url, keys["agent"], "GET", f"/v1/conversations/{erased.conversation_id}")
        assert gone.status_code == 404
        trace = call(url, keys["qa_lead"], "GET", f"/v1/traces/{erased.replies[0]['trace_id']}")
        assert trace.status_code == 404
        assert call(url, keys["qa_lead"], "GET", "/v1/qa/reviews").json() == []
        again = call(url, keys["admin"], "POST", "/v1/privacy/erasures", json=body)
        assert again.status_code == 200 and again.json()["counts"] == {}

        # The other end user's conversation is intact and the agent still answers them.
        shown = call(url, keys["agent"], "GET", f"/v1/conversations/{kept.conversation_id}")
        assert shown.status_code == 200
        assert shown.json()["messages"][0]["text"] == ("How long does shipping to Canada take?")
        follow_up = kept.say("And how long does express shipping take?")
        assert follow_up["decision"] in ("answered", "clarify")
        fresh = EndUser(url, backend, KEPT_USER).start()
        answer = fresh.say("How long do I have to return a defective item?")
        assert answer["decision"] == "answered" and "30 days" in answer["text"]

    cli = clearline(
        "privacy", "erase", "--tenant", "acme", "--end-user", CLI_USER, "--json", data_dir=data_dir
    )
    assert cli.returncode == 0, cli.stderr
    printed = json.loads(cli.stdout)
    assert printed["counts"]["conversations"] == 1 and printed["counts"]["messages"] == 2
    assert CLI_USER not in cli.stdout

    left = occurrences(data_dir, (*CANARIES, CLI_CANARY, CLI_USER))
    assert left == [], left
    assert occurrences(data_dir, (KEPT_USER, "shipping to Canada take")) != []
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        audit = db.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'privacy.erase'"
        ).fetchall()
    assert len(audit) == 3 and [json.loads(d)["counts"] for _, d in audit][1] == {}
    assert audit[2][0] == "cli"
