"""Retention schedules: each tenant's policy (privacy.retention_policy), stored and applied.

    policies = RetentionPolicies(sessions)
    policies.set("acme", yaml_text, actor="cli")          # validated, versioned, audited
    runner = RetentionRunner(places, policies)
    report = runner.run("acme", now=None, dry_run=False, actor="cli")
    report.counts   # {"conversations": 3, "messages": 12, "traces": 6, "scores": 6, ...}

A run selects, in one transaction of the control database: conversations older than the
rule that applies to each (removed with everything derived from them, privacy.cascade),
scores, reviews and golden cases from corrections older than their rules. A real run is
recorded first as an intent (kind `retention`) and ends like an erasure: the databases that
can hold conversations are compacted and an audit entry lists the counts by kind and by
rule (privacy.erase.finish). A dry run computes the same counts in a transaction it rolls
back: nothing changes, not even the audit log. `now` stands in for the clock.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from control import audit
from control.models import utcnow
from control.models_retention import RetentionPolicyRecord
from control.regional import tenant_regions
from privacy.cascade import connect, remove_conversations
from privacy.erase import STEP_REMOVED, finish, finish_interrupted, record_step
from privacy.operations import OperationLog
from privacy.places import DataPlaces
from privacy.retention_conversations import select_conversations, stamp
from privacy.retention_policy import (
    RetentionPolicy,
    dump_policy,
    parse_policy,
    refuse_empty,
    rule_for,
    run_moment,
)

KIND = "retention"
# Traces the conversation rules removed (or, dry, would remove): QA rules leave them out,
# so a dry run counts nothing twice.
_GONE_TRACES = "(SELECT id FROM temp.gone_traces)"


@dataclass(frozen=True)
class StoredPolicy:
    tenant: str
    policy: RetentionPolicy
    source: str
    version: int
    updated_by: str
    updated_at: datetime
    last_run_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant, "version": self.version, "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat(),
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "policy": dump_policy(self.policy), "source": self.source,
        }  # fmt: skip


@tenant_regions
class RetentionPolicies:
    """The `retention_policies` table: one policy per tenant, as the YAML that was set."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def set(self, tenant: str, source: str, actor: str) -> StoredPolicy:
        """Validate and store (RetentionPolicyError and nothing changed if invalid or
        empty)."""
        refuse_empty(source)
        policy = parse_policy(source)
        with self._sessions.begin() as session:
            row = session.get(RetentionPolicyRecord, tenant)
            if row is None:
                row = RetentionPolicyRecord(tenant=tenant, source=source, version=1,
                                            updated_by=actor, updated_at=utcnow())  # fmt: skip
                session.add(row)
            else:
                row.source, row.version = source, row.version + 1
                row.updated_by, row.updated_at = actor, utcnow()
            version = row.version
        audit.record(
            self._sessions, tenant, actor, "retention.set", version=version,
            rules=[{"name": r.name, "applies_to": r.applies_to, "where": r.where.given(),
                    "older_than_days": r.older_than_days} for r in policy.rules],
        )  # fmt: skip
        stored = self.get(tenant)
        assert stored is not None
        return stored

    def get(self, tenant: str) -> StoredPolicy | None:
        with self._sessions() as session:
            row = session.get(RetentionPolicyRecord, tenant)
        if row is None:
            return None
        return StoredPolicy(
            row.tenant, parse_policy(row.source), row.source, row.version, row.updated_by,
            row.updated_at, row.last_run_at,
        )  # fmt: skip

    def tenants(self) -> list[str]:
        """Tenants with a policy."""
        with self._sessions() as session:
            return list(session.scalars(select(RetentionPolicyRecord.tenant)).all())

    def ran(self, tenant: str, when: datetime) -> None:
        with self._sessions.begin() as session:
            row = session.get(RetentionPolicyRecord, tenant)
            if row is not None:
                row.last_run_at = when


@dataclass
class RetentionReport:
    """What a retention run removed (or, dry, would remove), by kind and by rule."""

    tenant: str
    now: str
    dry_run: bool
    policy_version: int | None
    operation: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)
    compacted: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@tenant_regions
class RetentionRunner:
    """Applies tenants' retention policies (one privacy operation at a time)."""

    def __init__(self, places: DataPlaces, policies: RetentionPolicies | None = None) -> None:
        self._places = places
        self.policies = policies or RetentionPolicies(places.sessions)
        self._log = OperationLog(places.sessions)

    def finish_interrupted(self) -> list[str]:
        """Finish erasures and retention runs a killed process left running."""
        with self._places.lock:
            return finish_interrupted(self._places, self._log)

    def run(self, tenant: str, now: datetime | None, dry_run: bool, actor: str) -> RetentionReport:
        """Apply the tenant's policy as of `now` (default: the clock). A tenant without a
        policy keeps everything: the report's `policy_version` is None."""
        now = _aware(run_moment(now) or datetime.now(UTC))
        stored = self.policies.get(tenant)
        version = stored.version if stored is not None else None
        report = RetentionReport(tenant, now.isoformat(), dry_run, version)
        if stored is None:
            return report
        with self._places.lock:
            if not dry_run:
                report.resumed = finish_interrupted(self._places, self._log)
            operation = None
            if not dry_run:
                options = {"now": report.now, "policy_version": stored.version}
                operation = self._log.start(tenant, KIND, actor, options=options)
                report.operation = operation.id
            db = connect(self._places.control_db(tenant))
            try:
                db.execute("BEGIN" if dry_run else "BEGIN IMMEDIATE")
                try:
                    self._apply(db, tenant, stored.policy, now, dry_run, report)
                    if operation is not None:
                        record_step(db, operation, "rules", report.rules)
                        record_step(db, operation, STEP_REMOVED, report.counts)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("ROLLBACK" if dry_run else "COMMIT")
            finally:
                db.close()
            if operation is not None:
                report.compacted = finish(self._places, self._log, operation)
                self.policies.ran(tenant, now)
        return report

    def _apply(
        self,
        db: sqlite3.Connection,
        tenant: str,
        policy: RetentionPolicy,
        now: datetime,
        dry_run: bool,
        report: RetentionReport,
    ) -> None:
        by_rule = select_conversations(db, tenant, policy, now)
        ids = [c for chosen in by_rule.values() for c in chosen]
        removed = remove_conversations(db, tenant, ids, dry_run=dry_run)
        report.counts.update(removed.counts)
        report.rules.update({name: len(chosen) for name, chosen in by_rule.items() if chosen})
        for kind, expire in (("scores", _expire_scores), ("reviews", _expire_reviews),
                             ("golden_cases", _expire_golden)):  # fmt: skip
            rule = rule_for(policy, kind)
            if rule is None:
                continue
            cutoff = stamp(now - timedelta(days=rule.older_than_days))
            count = expire(db, tenant, cutoff, dry_run)
            if count:
                report.rules[rule.name] = report.rules.get(rule.name, 0) + count
                report.counts[kind] = report.counts.get(kind, 0) + count


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _expire_scores(db: sqlite3.Connection, tenant: str, cutoff: str, dry_run: bool) -> int:
    """Scores leave traces scored before `cutoff` (the trace stays scored: never re-scored)."""
    rows = db.execute(
        f"SELECT id, body FROM traces WHERE tenant = ? AND scored_at IS NOT NULL "
        f"AND scored_at < ? AND id NOT IN {_GONE_TRACES}",
        (tenant, cutoff),
    ).fetchall()
    count = 0
    for trace_id, body in rows:
        data = json.loads(body)
        if not data.get("scores"):
            continue
        count += 1
        if not dry_run:
            data["scores"] = {}
            db.execute("UPDATE traces SET body = ? WHERE id = ?", (json.dumps(data), trace_id))
    return count


def _expire_reviews(db: sqlite3.Connection, tenant: str, cutoff: str, dry_run: bool) -> int:
    where = (
        f"FROM qa_reviews WHERE tenant = ? AND created_at < ? AND trace_id NOT IN {_GONE_TRACES}"
    )
    if dry_run:
        return int(db.execute(f"SELECT COUNT(*) {where}", (tenant, cutoff)).fetchone()[0])
    return db.execute(f"DELETE {where}", (tenant, cutoff)).rowcount


def _expire_golden(db: sqlite3.Connection, tenant: str, cutoff: str, dry_run: bool) -> int:
    where = (
        "FROM golden_cases WHERE tenant = ? AND source = 'correction' AND created_at < ? "
        f"AND COALESCE(json_extract(body, '$.source_trace_id'), '') NOT IN {_GONE_TRACES}"
    )
    if dry_run:
        return int(db.execute(f"SELECT COUNT(*) {where}", (tenant, cutoff)).fetchone()[0])
    return db.execute(f"DELETE {where}", (tenant, cutoff)).rowcount
