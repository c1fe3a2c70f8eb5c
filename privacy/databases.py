"""Rewriting one SQLite database of the data directory in a single transaction.

    report = rewrite_database(control_db, "acme", replacer.rewrite, replacer.holds)

Every text column of the tenant's rows is rewritten (privacy.scrub.rewrite_tenant_rows); if
audit entries changed, the tenant's audit hash chain is resealed from the first of them in
the same transaction (control.audit_chain.reseal), so `clearline audit verify` still passes
and no entry is left half-rewritten.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from control.audit_chain import reseal
from privacy.scrub import Rewrite, RewriteReport, rewrite_tenant_rows

AUDIT_TABLE = "audit_log"


def connect(path: Path, timeout_s: float = 60.0) -> sqlite3.Connection:
    """A plain connection in autocommit mode that waits for other writers."""
    db = sqlite3.connect(path, isolation_level=None, timeout=timeout_s)
    db.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
    db.execute("PRAGMA secure_delete=ON")
    return db


def reseal_audit(db: sqlite3.Connection, tenant: str, report: RewriteReport) -> int:
    """Inside the caller's transaction: reseal the audit chain if the rewrite changed entries;
    returns how many entries were resealed."""
    changed = report.rows.get(AUDIT_TABLE)
    return reseal(db, tenant, min(changed)) if changed else 0


def rewrite_database(
    path: Path,
    tenant: str,
    rewrite: Rewrite,
    holds: Callable[[str], bool] | None = None,
    skip: Iterable[str] = (),
) -> RewriteReport:
    """Rewrite the tenant's rows of one database and reseal its audit chain, atomically."""
    db = connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            report = rewrite_tenant_rows(db, tenant, rewrite, holds, skip)
            reseal_audit(db, tenant, report)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return report
    finally:
        db.close()
