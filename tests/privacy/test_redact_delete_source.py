"""Deleting a knowledge source through the HTTP API removes its text from the knowledge store
and from the passages traces recorded; with `with_replies=true` also from the replies shown.
Proven by a raw byte scan of the data directory."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from privacy.source_removal import MARKER
from tests.conftest import LiveServer, free_port
from tests.privacy.canary import call, converse, occurrences, upload

LIGHTHOUSE = "The violet lighthouse keeper trades marmalade for brass telescopes every Thursday."
HARBOUR = "Harbour pilots in Quillport accept payment in candied ginger on foggy mornings."
DOCUMENTS = {
    "lighthouse.md": f"# Lighthouse\n\n{LIGHTHOUSE}\n",
    "harbour.md": f"# Harbour\n\n{HARBOUR}\n",
    "returns.md": "# Returns\n\nYou can return a defective item within 30 days of delivery.\n",
}


def _passages(data_dir: Path, document_id: str) -> list[str]:
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        bodies = [json.loads(row[0]) for row in db.execute("SELECT body FROM traces")]
    return [
        chunk["text"]
        for body in bodies
        for step in body["steps"]
        for chunk in (step.get("outputs") or {}).get("chunks", [])
        if chunk.get("document_id") == document_id
    ]


def _texts(url: str, key: str, conversation: str) -> list[str]:
    shown = call(url, key, "GET", f"/v1/conversations/{conversation}").json()
    return [m["text"] for m in shown["messages"]]


@pytest.mark.slow
def test_delete_source_scrubs_traces_and_with_replies_the_replies(tmp_path: Path) -> None:
    from service.settings import Settings

    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, port=free_port(), embedder="torch")
    with LiveServer(settings) as live:
        runtime = live.runtime
        runtime.tenants.create("acme", "eu")
        admin = runtime.tenants.create_key("acme", "admin")
        user = runtime.tenants.create_key("acme", "end_user")
        agent = runtime.tenants.create_key("acme", "agent")
        url = live.url
        upload(url, admin, DOCUMENTS)
        conversation, replies = converse(url, user, [
            "Who trades marmalade for brass telescopes every Thursday?",
            "How do harbour pilots in Quillport accept payment on foggy mornings?",
        ])  # fmt: skip
        assert LIGHTHOUSE in replies[0]["text"] and HARBOUR in replies[1]["text"], replies
        assert LIGHTHOUSE in _passages(data_dir, "lighthouse.md")

        # Without with_replies: gone from the knowledge store and the traces' passages; the
        # reply already shown stays (in the message and the trace's reply).
        gone = call(url, admin, "DELETE", "/v1/knowledge/sources/lighthouse.md")
        assert gone.status_code == 204, gone.text
        assert _passages(data_dir, "lighthouse.md") and set(
            _passages(data_dir, "lighthouse.md")
        ) == {MARKER}
        assert LIGHTHOUSE in _texts(url, agent, conversation)[1]
        left = occurrences(data_dir, (LIGHTHOUSE,))
        assert left and all(Path(f).name.startswith("clearline.db") for f in left), left
        assert call(url, admin, "DELETE", "/v1/knowledge/sources/lighthouse.md").status_code == 404

        # With with_replies: no byte of the sentence anywhere, the reply says why.
        gone = call(url, admin, "DELETE", "/v1/knowledge/sources/harbour.md",
                    params={"with_replies": "true"})  # fmt: skip
        assert gone.status_code == 204, gone.text
        assert occurrences(data_dir, (HARBOUR, HARBOUR.lower())) == []
        assert MARKER in _texts(url, agent, conversation)[3]

        # The audit log says what happened, with counts; the rest is still answerable.
        entries = _audit(data_dir, "knowledge.delete")
        assert [e["document_id"] for e in entries] == ["lighthouse.md", "harbour.md"]
        assert entries[0]["passages"] >= 1 and entries[1]["with_replies"] is True
        assert runtime.store("acme").consistency_problems("acme") == []
        _, answers = converse(url, user, ["How long do I have to return a defective item?"])
        assert answers[0]["decision"] == "answered"


def _audit(data_dir: Path, action: str) -> list[dict[str, Any]]:
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        rows = db.execute(
            "SELECT detail FROM audit_log WHERE action=? ORDER BY id", (action,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]
