"""Moving rows written before control databases were per region.

Until then one control database (`<data-dir>/clearline.db`, now the directory) held every
tenant's rows. At start, `move_to_regions` moves any such rows into the database of their
tenant's region and deletes them from the directory, table by table in foreign-key order.
Each step is idempotent (copy, ignoring rows already there, then delete), so a move cut
short by a crash finishes at the next start.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from control.models import Base
from control.regional import DIRECTORY_TABLES

logger = logging.getLogger(__name__)


def regional_tables() -> list[str]:
    """Every table that holds a tenant's rows, parents before children."""
    return [t.name for t in Base.metadata.sorted_tables if t.name not in DIRECTORY_TABLES]


def move_to_regions(directory: Path, region_db: Callable[[str], Path]) -> int:
    """Move every regional row of the directory into its tenant's region database; returns
    how many rows moved. The region databases must exist with the current schema."""
    tables = regional_tables()
    db = sqlite3.connect(directory, isolation_level=None, timeout=60)
    try:
        db.execute("PRAGMA secure_delete=ON")
        db.execute("PRAGMA foreign_keys=OFF")
        if not any(db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in tables):
            return 0
        by_region: dict[str, list[str]] = {}
        for name, region in db.execute("SELECT name, region FROM tenants"):
            by_region.setdefault(region, []).append(name)
        moved = 0
        for region, tenants in sorted(by_region.items()):
            moved += _move_region(db, region_db(region), tenants, tables)
        logger.warning("moved %d rows of the control database into region databases", moved)
        return moved
    finally:
        db.close()


def _move_region(
    db: sqlite3.Connection, target: Path, tenants: list[str], tables: list[str]
) -> int:
    marks = ",".join("?" * len(tenants))
    db.execute("ATTACH DATABASE ? AS region", (str(target),))
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            f"INSERT OR IGNORE INTO region.tenants SELECT * FROM main.tenants "
            f"WHERE name IN ({marks})", tenants,
        )  # fmt: skip
        moved = 0
        for table in tables:
            columns = ",".join(
                f'"{row[1]}"' for row in db.execute(f"PRAGMA main.table_info({table})")
            )
            moved += db.execute(
                f"INSERT OR IGNORE INTO region.{table} ({columns}) SELECT {columns} "
                f"FROM main.{table} WHERE tenant IN ({marks})", tenants,
            ).rowcount  # fmt: skip
        for table in reversed(tables):
            db.execute(f"DELETE FROM main.{table} WHERE tenant IN ({marks})", tenants)
        db.execute("COMMIT")
        return moved
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.execute("DETACH DATABASE region")
