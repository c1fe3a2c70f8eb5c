"""A control database: a SQLAlchemy engine, migrated by Alembic to the latest schema.

The service opens SQLite files: the directory `<data-dir>/clearline.db` and one database per
region, `<data-dir>/regions/<region>/clearline.db`, all with this schema (control/regional.py
says which rows go where); nothing here depends on SQLite beyond the connection settings, so
another SQLAlchemy database URL can be passed to make_engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from knowledge.errors import DamagedFile

MIGRATIONS = Path(__file__).parent / "migrations"
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26  # primary result codes of a damaged file
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # another connection held the lock past the busy timeout


class DamagedDatabase(DamagedFile):
    """A database file that SQLite cannot read as a database: overwritten or cut short.
    Nothing is written to it, so a backup can replace it."""

    code = "damaged_database"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(
            path,
            f"the database {path} is damaged ({problem}) and was left as it is; stop "
            "Clearline, restore the file from a backup of the data directory, and run the "
            "command again",
        )


def refuse_emptied(path: Path, written_with: Sequence[Path]) -> None:
    """Raise DamagedDatabase for a database file of 0 bytes beside files that only an
    earlier run with it can have written (`written_with`): a full disk or a failed copy
    emptied it. SQLite would open it as a new, empty database, and Clearline would carry on
    without its tenants, keys or conversations."""
    if path.is_file() and path.stat().st_size == 0 and any(p.exists() for p in written_with):
        shown = ", ".join(p.name for p in written_with if p.exists())
        raise DamagedDatabase(str(path), f"it is empty, 0 bytes, beside {shown} written with it")


def is_damaged(error: BaseException) -> bool:
    """Whether `error` is SQLite saying a file is not a database or is malformed."""
    code = getattr(error, "sqlite_errorcode", None)
    return (
        isinstance(error, sqlite3.DatabaseError)
        and code is not None
        and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    )


def is_busy(error: BaseException | None) -> bool:
    """Whether `error` is SQLite giving up on a lock another connection held (longer than
    the busy timeout), as it is or as the `orig` of SQLAlchemy's wrapper."""
    error = getattr(error, "orig", error)
    code = getattr(error, "sqlite_errorcode", None)
    return (
        isinstance(error, sqlite3.OperationalError)
        and code is not None
        and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    )


def _name_damaged_file(context: ExceptionContext) -> None:
    """Say which file is damaged: SQLite's own message names none."""
    error = context.original_exception
    if is_damaged(error) and context.engine is not None:
        raise DamagedDatabase(str(context.engine.url.database), str(error)) from error


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted content is overwritten, and a new page starts zeroed rather than holding
    # whatever its page-cache buffer held before (older text of this or another page).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False} if url.startswith("sqlite") else {}
    )
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _name_damaged_file)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
