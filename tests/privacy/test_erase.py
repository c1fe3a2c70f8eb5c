"""Erasure of an end user on a real control database: everything that came from them goes
(draft actions bound to their replies included), audit entries stay without the values,
another end user and another tenant's same end-user id stay, and it is idempotent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from control.errors import BadRequest
from control.models import AuditEntry
from control.models_actions import DraftAction
from privacy.erase import Eraser
from tests.privacy.conversation_rows import add_conversation, control_db, count, dump, places


def test_erasure_removes_the_end_users_data_and_nothing_else(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    sessions = control_db(data_dir, ("acme", "globex"))
    db_path = data_dir / "clearline.db"
    mine = [
        add_conversation(
            sessions,
            end_user_id="u-1042",
            question="Where is my parcel, Ana?",
            labels=("late",),
            turns=2,
        ),
        add_conversation(sessions, end_user_id="u-1042", question="Cancel order 77, Ana here"),
    ]
    theirs = add_conversation(sessions, end_user_id="u-2000", labels=("late",))
    anonymous = add_conversation(sessions)
    elsewhere = add_conversation(sessions, "globex", end_user_id="u-1042")
    with sqlite3.connect(db_path) as db:
        reply = db.execute(
            "SELECT id FROM messages WHERE trace_id = ?", (mine[1].trace_ids[0],)
        ).fetchone()[0]
    with sessions.begin() as session:
        session.add(
            DraftAction(
                message_id=reply,
                tenant="acme",
                conversation_id=mine[1].conversation_id,
                procedure_id="cancel",
                step_id="confirm",
                action="cancel_order",
                connection="shop",
                method="POST",
                url="https://shop.example/orders/77/cancel",
                body="{}",
                describe="Cancel order 77 for Ana",
                state="{}",
            )
        )
        session.add(
            AuditEntry(
                tenant="acme",
                actor="key_backend",
                action="conversation.start",
                detail=json.dumps({"end_user": "u-1042", "channel": "api"}),
            )
        )
        session.add(
            AuditEntry(
                tenant="acme",
                actor="key_backend",
                action="conversation.start",
                detail=json.dumps({"end_user": "u-2000"}),
            )
        )
    kept_before = _rows_of(db_path, [theirs.conversation_id, anonymous.conversation_id])
    globex_before = {t: rows for t, rows in dump(db_path).items() if t != "audit_log"}

    eraser = Eraser(places(data_dir, sessions))
    report = eraser.erase("acme", " u-1042 ", actor="key_admin")
    assert report.counts == {
        "conversations": 2,
        "messages": 6,
        "traces": 3,
        "scores": 3,
        "queue_items": 3,
        "reviews": 2,
        "golden_cases": 2,
        "draft_actions": 1,
        "audit_entries": 2 + 2 + 1,  # two conversation audits, two reviews, the start entry
    }
    assert report.compacted == ["clearline.db"]
    for conversation in mine:
        assert (
            count(
                db_path,
                "SELECT COUNT(*) FROM conversations WHERE id = ?",
                conversation.conversation_id,
            )
            == 0
        )
    assert _rows_of(db_path, [theirs.conversation_id, anonymous.conversation_id]) == kept_before
    assert (
        count(db_path, "SELECT COUNT(*) FROM conversations WHERE id = ?", elsewhere.conversation_id)
        == 1
    )
    after = dump(db_path)
    for table, rows in globex_before.items():
        if table in ("privacy_operations",):
            continue
        assert [r for r in rows if "globex" in r] == [r for r in after[table] if "globex" in r]
    with sqlite3.connect(db_path) as db:
        audit = db.execute(
            "SELECT action, actor, detail FROM audit_log WHERE tenant='acme' ORDER BY id"
        ).fetchall()
        everything = b"".join(
            str(row).encode() for t in after for row in after[t] if t != "privacy_operations"
        )
    starts = [json.loads(d) for a, _, d in audit if a == "conversation.start"]
    assert starts == [{"end_user": "[erased]", "channel": "api"}, {"end_user": "u-2000"}]
    erased = [json.loads(d) for a, _, d in audit if a == "privacy.erase"]
    assert erased == [{"operation": report.operation, "counts": report.counts}]
    assert [actor for a, actor, _ in audit if a == "privacy.erase"] == ["key_admin"]
    for value in ("Ana", "parcel", "order 77", *(m.conversation_id for m in mine)):
        assert value.encode() not in everything, value

    again = eraser.erase("acme", "u-1042", actor="key_admin")
    assert again.counts == {} and again.compacted == [] and again.resumed == []


@pytest.mark.parametrize("bad", ["", "   ", "u\x00x", "x" * 201])
def test_an_invalid_end_user_id_is_refused_and_nothing_starts(tmp_path: Path, bad: str) -> None:
    data_dir = tmp_path / "data"
    sessions = control_db(data_dir)
    add_conversation(sessions, end_user_id="u-1")
    before = dump(data_dir / "clearline.db")
    with pytest.raises(BadRequest, match="end_user_id must be"):
        Eraser(places(data_dir, sessions)).erase("acme", bad, actor="cli")
    assert dump(data_dir / "clearline.db") == before


def _rows_of(db_path: Path, conversation_ids: list[str]) -> dict[str, list[object]]:
    marks = tuple(conversation_ids)
    rows: dict[str, list[object]] = {}
    for table, content in dump(db_path).items():
        if table in ("audit_log", "privacy_operations"):
            continue
        rows[table] = [r for r in content if any(m in repr(r) for m in marks)]
    return rows
