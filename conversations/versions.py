"""Versions of a tenant's agent: compare-and-set changes, never lost updates.

The configuration row's `version` counts every change of the tenant's agent (configuration,
feature switches, procedures, action connections); traces record it and the per-tenant
agent cache is keyed by it. Each procedure also has its own version. A change starts by
incrementing the configuration version in its transaction: that write takes the
database's write lock first, so the reads and checks that follow in the same transaction
see the latest committed state and no other change can commit in between. A caller that
names the version it read (If-Match) gets VersionConflict, and nothing changes, when the
stored one has moved on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from agent.config import AgentConfig
from control.errors import Conflict
from control.models import TenantConfig


class VersionConflict(Conflict):
    """The stored version is not the one the change was based on."""

    def __init__(self, what: str, current: int) -> None:
        if current:
            message = (
                f"{what} is at version {current}, not the version your change was based on; "
                f"read it again (GET gives its ETag), reapply your change and send it with "
                f'If-Match: "{current}"'
            )
        else:
            message = f"{what} does not exist (any more); create it with If-None-Match: *"
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class StoredProcedure:
    id: str
    source: str
    version: int


def check(what: str, expected: int | None, current: int) -> None:
    """VersionConflict unless `expected` is None (no condition) or equals `current`
    (0 means: must not exist yet)."""
    if expected is not None and expected != current:
        raise VersionConflict(what, current)


def bump(session: Session, tenant: str) -> int:
    """Increment the tenant's agent version in `session`'s transaction (creating the
    configuration row with the defaults if there is none); returns the new version. Call
    it first in a transaction: its write takes the lock that serialises changes."""
    now = datetime.now(UTC)
    result = session.execute(
        update(TenantConfig)
        .where(TenantConfig.tenant == tenant)
        .values(version=TenantConfig.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount == 0:
        defaults = AgentConfig()
        version = defaults.version + 1
        session.add(
            TenantConfig(
                tenant=tenant, version=version, config=defaults.model_dump_json(), updated_at=now
            )
        )
        session.flush()
        return version
    new: int = session.scalars(
        select(TenantConfig.version).where(TenantConfig.tenant == tenant)
    ).one()
    return new


def current(session: Session, tenant: str) -> int:
    """The tenant's agent version as stored now (the default when never changed)."""
    version = session.scalars(
        select(TenantConfig.version).where(TenantConfig.tenant == tenant)
    ).one_or_none()
    return version if version is not None else AgentConfig().version
