"""Console sign-ins: browser sessions and one-time login links, stored hashed.

A browser never holds an API key: `POST /ui/login` checks the key once and opens a session
whose random id goes into an HttpOnly cookie; only the SHA-256 of that id is stored here.
One-time login links (printed by `clearline demo`, or asked for with a key through
`POST /ui/links`) are stored the same way, expire, and can be redeemed once.

Sessions live in their own small SQLite file beside the control database
(`<data-dir>/ui_sessions.db`): they are short-lived and need no migrations; deleting the
file signs everyone out and loses nothing else.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Float, String, Text, create_engine, delete, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

from control.errors import Unauthorized

SESSION_TTL_S = 12 * 3600
LINK_TTL_S = 24 * 3600
FILE_NAME = "ui_sessions.db"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class _Base(DeclarativeBase):
    pass


class _SessionRow(_Base):
    __tablename__ = "ui_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    tenant: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    csrf: Mapped[str] = mapped_column(String(64))
    embed: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class _LinkRow(_Base):
    __tablename__ = "ui_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    tenant: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    embed: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float, default=None)


@dataclass(frozen=True)
class Grant:
    """What a session or link lets its holder be: the key (by id), its tenant and role."""

    key_id: str
    tenant: str
    role: str


@dataclass(frozen=True)
class UiSession:
    id_hash: str
    grant: Grant
    csrf: str
    embed: bool
    data: dict[str, Any]
    expires_at: float


class UiStore:
    """Sessions and login links of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        # NullPool: every use opens and closes its own connection, so nothing is left open
        # when the app stops (the store has no close of its own).
        engine = create_engine(
            f"sqlite:///{data_dir / FILE_NAME}",
            connect_args={"check_same_thread": False, "timeout": 10},
            poolclass=NullPool,
        )
        _Base.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._lock = threading.Lock()

    # -- sessions ----------------------------------------------------------------------

    def open(self, grant: Grant, embed: bool = False) -> tuple[str, UiSession]:
        """A new session for `grant`; returns the secret for the cookie and the session."""
        secret = secrets.token_urlsafe(32)
        now = time.time()
        row = _SessionRow(
            id_hash=_hash(secret), key_id=grant.key_id, tenant=grant.tenant, role=grant.role,
            csrf=secrets.token_urlsafe(32), embed=embed, data="{}", created_at=now,
            expires_at=now + SESSION_TTL_S,
        )  # fmt: skip
        with self._sessions.begin() as session:
            session.execute(delete(_SessionRow).where(_SessionRow.expires_at < now))
            session.add(row)
        return secret, _view(row)

    def find(self, secret: str) -> UiSession | None:
        """The live session with this secret, or None (unknown or expired)."""
        if not secret or len(secret) > 200:
            return None
        with self._sessions() as session:
            row = session.get(_SessionRow, _hash(secret))
        if row is None or row.expires_at < time.time():
            return None
        return _view(row)

    def close(self, secret: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(_SessionRow).where(_SessionRow.id_hash == _hash(secret)))

    def change_data(
        self, ui_session: UiSession, change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """Apply `change` to the session's server-side data (one writer at a time)."""
        with self._lock, self._sessions.begin() as session:
            row = session.get(_SessionRow, ui_session.id_hash)
            if row is None:
                raise Unauthorized("your session has ended; sign in again at /ui/login")
            data: dict[str, Any] = json.loads(row.data)
            change(data)
            row.data = json.dumps(data)
        return data

    def revoke_key(self, key_id: str) -> None:
        """End every session opened with this key."""
        with self._sessions.begin() as session:
            session.execute(delete(_SessionRow).where(_SessionRow.key_id == key_id))

    # -- one-time login links ----------------------------------------------------------

    def issue_link(self, grant: Grant, ttl_s: float = LINK_TTL_S, embed: bool = False) -> str:
        """A one-time login token for `grant`, valid for `ttl_s` seconds."""
        token = secrets.token_urlsafe(32)
        row = _LinkRow(
            token_hash=_hash(token), key_id=grant.key_id, tenant=grant.tenant,
            role=grant.role, embed=embed, expires_at=time.time() + ttl_s,
        )  # fmt: skip
        with self._sessions.begin() as session:
            session.add(row)
        return token

    def redeem_link(self, token: str) -> tuple[Grant, bool]:
        """The grant of a login token, marking it used; Unauthorized if it is unknown,
        used or expired. Concurrent redemptions of one token: exactly one succeeds."""
        token_hash = _hash(token) if token and len(token) <= 200 else ""
        now = time.time()
        with self._sessions.begin() as session:
            used = session.execute(
                update(_LinkRow)
                .where(
                    _LinkRow.token_hash == token_hash,
                    _LinkRow.used_at.is_(None),
                    _LinkRow.expires_at >= now,
                )
                .values(used_at=now)
            )
            row = session.get(_LinkRow, token_hash)
        if row is None:
            raise Unauthorized("this login link is not valid; sign in with your API key instead")
        if getattr(used, "rowcount", 0) != 1:
            why = "was already used" if row.used_at is not None else "has expired"
            raise Unauthorized(
                f"this login link {why}; links work once. Sign in with your API key, or ask "
                "for a new link"
            )
        return Grant(row.key_id, row.tenant, row.role), row.embed


def _view(row: _SessionRow) -> UiSession:
    return UiSession(
        id_hash=row.id_hash,
        grant=Grant(row.key_id, row.tenant, row.role),
        csrf=row.csrf,
        embed=row.embed,
        data=json.loads(row.data),
        expires_at=row.expires_at,
    )


def issue_login_links(data_dir: Path, tenant: str, keys: Mapping[str, str]) -> dict[str, str]:
    """One-time login tokens for keys just made (role -> key secret): role -> token."""
    store = UiStore(data_dir)
    return {
        role: store.issue_link(Grant(secret.split("_", 2)[1], tenant, role))
        for role, secret in keys.items()
    }


def console_links(url: str, tokens: Mapping[str, str]) -> str:
    """The lines `clearline demo` prints: one link per console, each opens it signed in."""
    names = {"end_user": "chat (end user)", "agent": "inbox (human agent)",
             "admin": "admin", "qa_lead": "QA review (QA lead)"}  # fmt: skip
    lines = [f"    {names.get(role, role) + ':':<22} {url}/ui/login?token={token}"
             for role, token in tokens.items()]  # fmt: skip
    return (
        "Web consoles (one-time links; each opens its console signed in, once; later, sign in\n"
        f"at {url}/ui/login with a key above):\n" + "\n".join(lines) + "\n"
    )
