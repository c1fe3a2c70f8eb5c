"""Erasure of an end user (GDPR article 17): every conversation that came from them, with
everything derived from it, leaves the tenant's data, and no byte of it remains.

    eraser = Eraser(places)
    report = eraser.erase("acme", "u-42", actor="cli")
    report.counts   # {"conversations": 2, "messages": 9, "traces": 4, "reviews": 1, ...}

Steps: (1) an intent row (privacy.operations, kind `erase`) is written before anything
changes; it never holds the end-user id; (2) in one transaction of the control database,
the end user's conversations go with everything derived from them (privacy.cascade), the
audit entries lose the end-user id and the removed ids, and the intent row records the
counts; (3) in-memory copies are forgotten; (4) the databases that can hold conversations
are compacted (VACUUM with secure_delete, WAL truncated); (5) an audit entry with the
counts (never the end-user id) closes the operation.

A process killed before step 2 commits changes nothing; after it, the data is already
consistent and only value-free steps remain: the next erasure or retention run (or the
re-run of the same command, which then finds nothing left to remove) finishes them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from control import audit
from control.models import AuditEntry
from control.regional import tenant_regions
from conversations.identity import check_end_user_id
from privacy.cascade import compact_conversation_stores, connect, remove_conversations
from privacy.operations import Operation, OperationLog
from privacy.places import DataPlaces

logger = logging.getLogger(__name__)

KIND = "erase"
STEP_REMOVED = "removed"
# Every kind of operation that ends with the value-free finish below.
FINISHED_HERE = ("erase", "retention")


@dataclass
class ErasureReport:
    """What an erasure removed, by kind; never the end-user id."""

    operation: str
    tenant: str
    counts: dict[str, int] = field(default_factory=dict)
    compacted: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@tenant_regions
class Eraser:
    """Erases end users of one installation (one privacy operation at a time)."""

    def __init__(self, places: DataPlaces) -> None:
        self._places = places
        self._log = OperationLog(places.sessions)

    def erase(self, tenant: str, end_user_id: str, actor: str) -> ErasureReport:
        """Remove every conversation of `end_user_id` in `tenant` (see the module docstring).
        Erasing an end user with nothing left is not an error: the counts are zero."""
        end_user_id = check_end_user_id(end_user_id)
        with self._places.lock:
            resumed = finish_interrupted(self._places, self._log)
            operation = self._log.start(tenant, KIND, actor)
            db = connect(self._places.control_db(tenant))
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    ids = [
                        str(r[0])
                        for r in db.execute(
                            "SELECT id FROM conversations WHERE tenant = ? AND end_user_id = ?",
                            (tenant, end_user_id),
                        )
                    ]
                    removed = remove_conversations(db, tenant, ids, end_user_id=end_user_id)
                    record_step(db, operation, STEP_REMOVED, removed.counts)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                db.close()
            report = ErasureReport(operation.id, tenant, dict(removed.counts), resumed=resumed)
            report.compacted = finish(self._places, self._log, operation)
        logger.info("erasure %s in %s: %s", operation.id, tenant, report.counts)
        return report


def record_step(db: Any, operation: Operation, step: str, counts: dict[str, int]) -> None:
    """Record a finished step in the intent row, inside the caller's transaction (so the
    row says `removed` exactly when the removal committed)."""
    operation.steps[step] = counts
    db.execute(
        "UPDATE privacy_operations SET step = ?, counts = ? WHERE id = ?",
        (step, json.dumps(operation.steps), operation.id),
    )


def finish(places: DataPlaces, log: OperationLog, operation: Operation) -> list[str]:
    """The value-free end of an erasure or retention run: forget in-memory copies, compact
    (when something was removed), write the audit entry (once), close the intent row.
    Returns the compacted files."""
    removed = operation.steps.get(STEP_REMOVED)
    places.forget(operation.tenant, ["messages", "traces"])
    compacted = []
    if removed:  # nothing removed (or the removal never committed): no bytes to clear
        compacted = [
            places.relative(p)
            for p in compact_conversation_stores(
                places.data_dir, places.control_db(operation.tenant)
            )
        ]
    if not _audited(places, operation.id):
        action = f"privacy.{operation.kind}"
        if removed is None:  # killed before the removal committed: nothing changed
            action += ".abandoned"
        detail: dict[str, Any] = {"operation": operation.id, "counts": removed or {}}
        detail.update({k: v for k, v in operation.steps.items() if k != STEP_REMOVED})
        detail.update({k: v for k, v in operation.options.items() if k not in detail})
        audit.record(places.sessions, operation.tenant, operation.actor, action, **detail)
    log.finish(operation)
    return compacted


def finish_interrupted(places: DataPlaces, log: OperationLog) -> list[str]:
    """Finish erasures and retention runs a killed process left running; their ids."""
    done = []
    for kind in FINISHED_HERE:
        for operation in log.unfinished(kind=kind):
            finish(places, log, operation)
            done.append(operation.id)
    if done:
        logger.warning("finished %d interrupted privacy operations: %s", len(done), done)
    return done


def _audited(places: DataPlaces, operation_id: str) -> bool:
    with places.sessions() as session:
        rows = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.detail.contains(operation_id))
        ).all()
    return bool(rows)
