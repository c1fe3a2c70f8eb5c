"""Which conversations a retention policy removes as of a moment.

Only conversations started before the youngest conversation rule's cutoff are looked at.
For each, the facts `where` selects by are read from the control database (intents from
its traces' understand step, decisions from its replies and status, tags from QA reviews'
labels, the channel), the deciding rule is chosen (privacy.retention_policy.rule_for), and
the conversation goes when its last activity is older than that rule's age.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from privacy.retention_policy import ConversationFacts, RetentionPolicy, rule_for

_CANDIDATES = "temp.retention_candidates"
_CANDIDATES_NAME = "retention_candidates"


def select_conversations(
    db: sqlite3.Connection, tenant: str, policy: RetentionPolicy, now: datetime
) -> dict[str, list[str]]:
    """Rule name -> ids of the tenant's conversations that rule removes as of `now`."""
    rules = policy.rules_for("conversations")
    if not rules:
        return {}
    youngest = min(r.older_than_days for r in rules)
    started_before = stamp(now - timedelta(days=youngest))
    rows = db.execute(
        "SELECT c.id, c.channel, c.status, c.updated_at, MAX(m.created_at) "
        "FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id "
        "WHERE c.tenant = ? AND c.created_at < ? GROUP BY c.id",
        (tenant, started_before),
    ).fetchall()
    if not rows:
        return {}
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_CANDIDATES_NAME} (id TEXT PRIMARY KEY)")
    db.execute(f"DELETE FROM {_CANDIDATES}")
    db.executemany(f"INSERT OR IGNORE INTO {_CANDIDATES} VALUES (?)", [(r[0],) for r in rows])
    wanted = {key for rule in rules for key in rule.where.given()}
    intents = _intents(db, tenant) if "intent" in wanted else {}
    decisions = _decisions(db) if "decision" in wanted else {}
    tags = _tags(db, tenant) if "tag" in wanted else {}
    chosen: dict[str, list[str]] = defaultdict(list)
    for conversation_id, channel, status, updated_at, last_message in rows:
        facts = ConversationFacts(
            intents=frozenset(intents.get(conversation_id, ())),
            decisions=frozenset(decisions.get(conversation_id, set()) |
                                ({"handoff"} if status == "handoff" else set())),
            tags=frozenset(tags.get(conversation_id, ())),
            channel=str(channel),
        )  # fmt: skip
        rule = rule_for(policy, "conversations", facts)
        if rule is None:
            continue
        last = max(_moment(updated_at), _moment(last_message))
        if last < now - timedelta(days=rule.older_than_days):
            chosen[rule.name].append(str(conversation_id))
    db.execute(f"DELETE FROM {_CANDIDATES}")
    return dict(chosen)


def _intents(db: sqlite3.Connection, tenant: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    rows = db.execute(
        f"SELECT conversation_id, body FROM traces WHERE tenant = ? AND "
        f"conversation_id IN (SELECT id FROM {_CANDIDATES})",
        (tenant,),
    )
    for conversation_id, body in rows:
        label = _intent_label(json.loads(body))
        if label:
            found[str(conversation_id)].add(label)
    return found


def _intent_label(trace: dict[str, Any]) -> str | None:
    for step in trace.get("steps", []):
        if step.get("name") == "understand" and step.get("status") == "ran":
            intent = (step.get("outputs") or {}).get("intent")
            if isinstance(intent, dict) and intent.get("label"):
                return str(intent["label"])
    return None


def _decisions(db: sqlite3.Connection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    rows = db.execute(
        f"SELECT DISTINCT conversation_id, decision FROM messages WHERE decision IS NOT NULL "
        f"AND conversation_id IN (SELECT id FROM {_CANDIDATES})"
    )
    for conversation_id, decision in rows:
        found[str(conversation_id)].add(str(decision))
    return found


def _tags(db: sqlite3.Connection, tenant: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    rows = db.execute(
        f"SELECT t.conversation_id, r.labels FROM qa_reviews r JOIN traces t ON t.id = r.trace_id "
        f"WHERE r.tenant = ? AND t.conversation_id IN (SELECT id FROM {_CANDIDATES})",
        (tenant,),
    )
    for conversation_id, labels in rows:
        try:
            values = json.loads(labels)
        except ValueError:
            continue
        if isinstance(values, list):
            found[str(conversation_id)].update(str(v) for v in values)
    return found


def _moment(value: Any) -> datetime:
    """A stored DateTime (text, UTC without offset) as an aware datetime; missing: the epoch."""
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """A moment as SQLAlchemy stores DateTime in SQLite (UTC, no offset), for comparisons."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
