"""Per-region control databases (control/regional.py): a tenant's rows go to its region's
database, the directory keeps only tenants and keys, a session outside any region cannot
touch a tenant's table, and rows written by an older version (one control database for
every region) move into their regions at start without loss."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from control.models import Conversation, Message, Tenant
from control.regional import NoRegion, in_region, tenant_scope
from service.runtime import Runtime
from service.settings import Settings


class _NoEmbedder:
    """Runtime needs an embedder object; nothing here embeds."""

    name = "none"


def _runtime(data_dir: Path) -> Runtime:
    return Runtime(Settings(data_dir=data_dir), embedder=_NoEmbedder())  # type: ignore[arg-type]


def _rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute(f"SELECT tenant FROM {table} ORDER BY tenant"))


def test_rows_go_to_the_tenants_region_database(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        runtime.tenants.create("euco", "eu")
        runtime.tenants.create("jpco", "jp")
        runtime.tenants.create_key("euco", "admin")
        for tenant in ("euco", "jpco"):
            with tenant_scope(tenant):
                runtime.conversations.start(tenant, end_user_id=f"user-of-{tenant}")
    finally:
        runtime.close()
    settings = Settings(data_dir=tmp_path)
    assert _rows(settings.region_db("eu"), "conversations") == [("euco",)]
    assert _rows(settings.region_db("jp"), "conversations") == [("jpco",)]
    assert _rows(settings.control_db, "conversations") == []
    assert _rows(settings.control_db, "api_keys") == [("euco",)]  # keys: the directory only
    assert _rows(settings.region_db("eu"), "api_keys") == []
    with sqlite3.connect(settings.control_db) as db:  # the directory knows both tenants
        assert sorted(db.execute("SELECT name, region FROM tenants")) == [
            ("euco", "eu"), ("jpco", "jp"),
        ]  # fmt: skip


def test_a_tenants_table_outside_any_region_is_refused(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        runtime.tenants.create("euco", "eu")
        with runtime.sessions() as session:  # the directory works anywhere
            assert session.get(Tenant, "euco") is not None
            with pytest.raises(NoRegion, match="enter the tenant's region"):
                session.scalars(select(Conversation)).all()
        with in_region("eu"), runtime.sessions() as session:
            assert session.scalars(select(Conversation)).all() == []
    finally:
        runtime.close()


def test_rows_of_the_single_database_layout_move_to_their_regions(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        runtime.tenants.create("euco", "eu")
        runtime.tenants.create("usco", "us")
        # Write as an older version did: every tenant's rows in the data root's database.
        with Session(runtime.engine) as session, session.begin():
            for tenant in ("euco", "usco"):
                conversation = Conversation(id=f"conv-{tenant}", tenant=tenant)
                session.add(conversation)
                session.flush()
                session.add(Message(id=f"msg-{tenant}", tenant=tenant,
                                    conversation_id=conversation.id, role="user",
                                    text=f"canary-{tenant}-wrenfold"))  # fmt: skip
    finally:
        runtime.close()
    settings = Settings(data_dir=tmp_path)
    assert len(_rows(settings.control_db, "messages")) == 2

    runtime = _runtime(tmp_path)  # the next start moves them
    try:
        with in_region("eu"), runtime.sessions() as session:
            eu = session.scalars(select(Message.text)).all()
        with in_region("us"), runtime.sessions() as session:
            us = session.scalars(select(Message.text)).all()
    finally:
        runtime.close()
    assert eu == ["canary-euco-wrenfold"]
    assert us == ["canary-usco-wrenfold"]
    assert _rows(settings.control_db, "messages") == []
    assert _rows(settings.control_db, "conversations") == []
    for path in tmp_path.glob("clearline.db*"):  # deleted for good, not left in free pages
        assert b"wrenfold" not in path.read_bytes(), path
