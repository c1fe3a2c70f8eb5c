"""Retention runs on a real control database: which conversations go (the most specific
matching rule decides, by intent, decision, tag and channel), QA data rules, counts by kind
and by rule, a dry run that changes nothing, the audit entry, and no orphans left behind."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from privacy.retention import RetentionPolicies, RetentionRunner
from tests.privacy.conversation_rows import (
    NOW,
    add_conversation,
    assert_consistent,
    control_db,
    count,
    dump,
    places,
)

POLICY = """
rules:
  - {name: default, applies_to: conversations, older_than_days: 30}
  - {name: disputes, applies_to: conversations, where: {intent: billing_dispute},
     older_than_days: 7}
  - {name: widget-handoffs, where: {channel: widget, decision: handoff}, older_than_days: 90}
  - {name: complaints, where: {tag: complaint}, older_than_days: 3}
  - {name: scores, applies_to: scores, older_than_days: 20}
  - {name: reviews, applies_to: reviews, older_than_days: 25}
  - {name: golden, applies_to: golden_cases, older_than_days: 25}
"""


def test_retention_applies_the_most_specific_rule_and_dry_run_changes_nothing(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    sessions = control_db(data_dir, ("acme", "globex"))
    db_path = data_dir / "clearline.db"
    made = {
        "old_default": add_conversation(sessions, age_days=31, turns=2),
        "young_default": add_conversation(sessions, age_days=29),
        "dispute_8": add_conversation(sessions, age_days=8, intent="billing_dispute"),
        "dispute_6": add_conversation(sessions, age_days=6, intent="billing_dispute"),
        "widget_handoff_60": add_conversation(
            sessions, age_days=60, channel="widget", decision="handoff"
        ),
        "widget_answered_60": add_conversation(sessions, age_days=60, channel="widget"),
        "complaint_4": add_conversation(sessions, age_days=4, labels=("complaint",)),
        "styled_26": add_conversation(sessions, age_days=26, labels=("style",)),
        "other_tenant": add_conversation(sessions, "globex", age_days=400),
    }
    gone = ("old_default", "dispute_8", "widget_answered_60", "complaint_4")
    RetentionPolicies(sessions).set("acme", POLICY, actor="test")
    runner = RetentionRunner(places(data_dir, sessions))

    before = dump(db_path)
    dry = runner.run("acme", NOW, dry_run=True, actor="test")
    assert dump(db_path) == before, "a dry run changed the database"
    expected = {
        "conversations": 4,
        "messages": 10,
        "traces": 5,
        "queue_items": 5,
        "scores": 5 + 3,  # the removed traces' scores, and those of 3 kept old traces
        "reviews": 1 + 1,
        "golden_cases": 1 + 1,
        "audit_entries": 4 + 1,  # entries naming a removed conversation or trace
    }
    assert dry.counts == expected
    assert dry.rules == {
        "default": 2,
        "disputes": 1,
        "complaints": 1,
        "scores": 3,
        "reviews": 1,
        "golden": 1,
    }
    assert dry.operation is None

    report = runner.run("acme", NOW, dry_run=False, actor="test")
    assert report.counts == expected and report.rules == dry.rules
    assert report.compacted == ["clearline.db"]
    left = {c[0] for c in sqlite3.connect(db_path).execute("SELECT id FROM conversations")}
    for name, conversation in made.items():
        assert (conversation.conversation_id in left) == (name not in gone), name
    assert_consistent(db_path)
    # QA rules: kept conversations lose old scores, reviews and golden cases, nothing else.
    styled = made["styled_26"].trace_ids[0]
    body = json.loads(
        sqlite3.connect(db_path)
        .execute("SELECT body FROM traces WHERE id = ?", (styled,))
        .fetchone()[0]
    )
    assert body["scores"] == {} and body["question"].startswith("How long")
    assert count(db_path, "SELECT COUNT(*) FROM qa_reviews WHERE trace_id = ?", styled) == 0
    young = made["dispute_6"].trace_ids[0]
    assert (
        count(
            db_path,
            "SELECT COUNT(*) FROM traces WHERE id = ? AND body LIKE '%faithfulness%'",
            young,
        )
        == 1
    )
    _audited(db_path, made[gone[0]].conversation_id, expected)

    again = runner.run("acme", NOW, dry_run=False, actor="test")
    assert again.counts == {} and again.compacted == []
    later = runner.run("acme", NOW + timedelta(days=2), dry_run=True, actor="test")
    assert later.counts["conversations"] == 2  # dispute_6 turns 8 days old, young_default 31


def _audited(db_path: Path, gone_conversation: str, counts: dict[str, int]) -> None:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT action, actor, detail FROM audit_log").fetchall()
        operations = db.execute("SELECT kind, status, step FROM privacy_operations").fetchall()
    details = " ".join(d for _, _, d in rows)
    assert gone_conversation not in details and "[erased]" in details
    runs = [json.loads(d) for action, actor, d in rows if action == "privacy.retention"]
    assert len(runs) == 1 and runs[0]["counts"] == counts and runs[0]["policy_version"] == 1
    assert runs[0]["rules"]["default"] == 2 and "How long" not in json.dumps(runs[0])
    assert [a for a, _, _ in rows].count("retention.set") == 1
    assert operations[0] == ("retention", "done", "finished")
