"""Each region's control database, and which one a session reaches.

A tenant's rows (conversations, messages, traces, drafts, audit log, settings...) live in
its region's database, `<data-dir>/regions/<region>/clearline.db`; the directory,
`<data-dir>/clearline.db`, holds only tenants and API keys (which say where each tenant
lives). Every database has the same schema; a region's `tenants` table mirrors the
directory's rows of its own tenants, for its foreign keys.

A session from `RegionalSessions` reads and writes tenants and keys in the directory and
every other table in the database of the current region. The current region is entered
with `in_region(region)` (a turn, background work going region by region) or
`tenant_scope(tenant)` (a CLI command); every public method of the domain classes that takes
a `tenant` enters that tenant's region itself (`tenant_regions`, `tenant_region`); for an
HTTP request it is set once its caller is known (`request_scope()` around the request,
`enter_region()` after authentication). Outside any region a session can still reach the
directory, and touching any other table raises `NoRegion`: a programming error, never a
silent write to the wrong region.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import Session, sessionmaker

from control.models import ApiKey, Tenant

DIRECTORY_TABLES = ("tenants", "api_keys")


class NoRegion(RuntimeError):
    """A tenant's table was touched outside any region (a programming error)."""


@dataclass
class _Scope:
    region: str | None = None
    tenant: str | None = None  # the region is this tenant's, once it exists


_SCOPE: ContextVar[_Scope | None] = ContextVar("clearline_region", default=None)


@contextmanager
def in_region(region: str) -> Iterator[None]:
    """Run the block in `region`: its sessions reach that region's database."""
    token = _SCOPE.set(_Scope(region))
    try:
        yield
    finally:
        _SCOPE.reset(token)


@contextmanager
def tenant_scope(tenant: str | None) -> Iterator[None]:
    """Run the block in the region of `tenant` (looked up when a session needs it, so the
    tenant may be created inside the block); with None, in no region."""
    token = _SCOPE.set(_Scope(tenant=tenant))
    try:
        yield
    finally:
        _SCOPE.reset(token)


@contextmanager
def request_scope() -> Iterator[None]:
    """An empty scope for one request; `enter_region` fills it in once the caller is known
    (the scope object is shared with the worker threads the request's code runs in)."""
    token = _SCOPE.set(_Scope())
    try:
        yield
    finally:
        _SCOPE.reset(token)


def enter_region(region: str) -> None:
    """Set the region of the current request scope (its caller's tenant's region)."""
    scope = _SCOPE.get()
    if scope is None:
        raise NoRegion("no request scope to enter a region in (wrap the request in one)")
    if scope.region is not None and scope.region != region:
        raise NoRegion(f"this request is already in region {scope.region!r}, not {region!r}")
    scope.region = region


def current_region() -> str | None:
    """The region entered, or, in a `tenant_scope`, its tenant's region once known (set by
    the first session that looked it up)."""
    scope = _SCOPE.get()
    return scope.region if scope is not None else None


def _scope_tenant() -> _Scope | None:
    scope = _SCOPE.get()
    return scope if scope is not None and scope.region is None and scope.tenant else None


F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


def tenant_region(function: F) -> F:
    """Run `function` in the region of its `tenant` argument (when one is given): callers
    outside a request (the CLI, background work, tests) reach the right database."""
    position = list(inspect.signature(function).parameters).index("tenant")

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tenant = kwargs["tenant"] if "tenant" in kwargs else (
            args[position] if len(args) > position else None
        )  # fmt: skip
        if not isinstance(tenant, str):
            return function(*args, **kwargs)
        with tenant_scope(tenant):
            return function(*args, **kwargs)

    return cast(F, wrapper)


def tenant_regions(cls: C) -> C:
    """Class decorator: `tenant_region` on every public method with a `tenant` parameter."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        if "tenant" in inspect.signature(member).parameters:
            setattr(cls, name, tenant_region(member))
    return cls


class _RoutedSession(Session):
    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
        try:
            return super().get_bind(mapper, **kw)
        except UnboundExecutionError:
            raise NoRegion(
                "a tenant's table was used outside any region; enter the tenant's region "
                "first (control.regional.in_region)"
            ) from None


class RegionalSessions(sessionmaker[Session]):
    """Sessions bound to the directory for tenants and keys and to the current region's
    database for everything else. `engine_of(region)` opens (and migrates) a region's
    database on first use."""

    def __init__(self, directory: Engine, engine_of: Callable[[str], Engine]) -> None:
        super().__init__(
            class_=_RoutedSession,
            expire_on_commit=False,
            binds={Tenant: directory, ApiKey: directory},
        )
        self.directory = directory
        self._engine_of = engine_of
        self._mirrored: set[str] = set()
        self._regions: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, **local_kw: Any) -> Session:
        pending = _scope_tenant()
        if pending is not None and pending.tenant is not None:
            pending.region = self._region_of(pending.tenant)
        region = current_region()
        if region is not None and "bind" not in local_kw:
            local_kw["bind"] = self._engine_of(region)
        return super().__call__(**local_kw)

    def _region_of(self, tenant: str) -> str | None:
        region = self._regions.get(tenant)  # a tenant never changes region
        if region is None:
            with Session(self.directory) as session:
                found = session.get(Tenant, tenant)
            if found is None:
                return None
            region = self._regions[tenant] = found.region
        return region

    def regions(self) -> list[str]:
        """The regions that have tenants, in order."""
        with Session(self.directory) as session:
            return sorted(set(session.scalars(select(Tenant.region))))

    def each_region(self) -> Iterator[str]:
        """Enter each region with tenants in turn (for work over all tenants)."""
        for region in self.regions():
            with in_region(region):
                yield region

    def mirror_tenants(self) -> None:
        """Copy each tenant's directory row into its region's database (idempotent), so the
        region's foreign keys hold."""
        with Session(self.directory) as session:
            tenants = list(session.scalars(select(Tenant)))
        for tenant in tenants:
            self.mirror(tenant)

    def mirror(self, tenant: Tenant) -> None:
        with self._lock:
            if tenant.name in self._mirrored:
                return
            with self._engine_of(tenant.region).begin() as connection:
                connection.execute(
                    insert(Tenant)
                    .prefix_with("OR IGNORE", dialect="sqlite")
                    .values(name=tenant.name, region=tenant.region, created_at=tenant.created_at)
                )
            self._mirrored.add(tenant.name)
