"""Helpers for HTTP tests against a live server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, free_port


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def console_sign_in(client: httpx.Client, key: str) -> str:
    """Sign `client` in to the console with `key` (a session cookie); the CSRF token of the
    console page the sign-in leads to."""
    signed_in = client.post("/ui/login", data={"key": key})
    assert signed_in.status_code == 303, signed_in.text
    page = client.get(signed_in.headers["location"])
    assert page.status_code == 200, page.text
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert match, "the console page has no CSRF token"
    return match.group(1)


def upload(url: str, key: str, *paths: Path) -> httpx.Response:
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    return httpx.post(f"{url}/v1/knowledge/sources", headers=auth(key), files=files, timeout=60)


def wait_job(url: str, key: str, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(f"{url}/v1/jobs/{job_id}", headers=auth(key)).json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


RETURNS_POLICY = (
    "You can return a defective item within 30 days of delivery for a full refund.",
    "Refunds are paid to the original payment card within five business days.",
    "Gold members can return items at any time.",
)


def seed_returns_policy(runtime: Any, tenant: str) -> None:
    """Write one small document (`returns.md`) straight into the tenant's store."""
    from knowledge.records import Chunk
    from knowledge.store import DocumentWrite

    chunk = Chunk("returns.md", 0, 0, "\n".join(RETURNS_POLICY), metadata={"title": "Returns"})
    runtime.store(tenant).write(
        tenant,
        DocumentWrite("returns.md", "Returns", "returns.md", "md", "h"),
        [chunk],
        runtime.embedder.embed([f"Returns\n{chunk.text}"]),
    )


@contextmanager
def acme_server(
    tmp_path_factory: pytest.TempPathFactory, name: str, roles: tuple[str, ...], seed: bool = False
) -> Iterator[Any]:
    """A live server whose data directory holds tenant `acme` (region eu) with one key per
    role in `live.keys`; with `seed`, the small returns policy in its store."""
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp(name), port=free_port())
    with LiveServer(settings) as live:
        live.runtime.tenants.create("acme", "eu")
        if seed:
            seed_returns_policy(live.runtime, "acme")
        live.keys = {role: live.runtime.tenants.create_key("acme", role) for role in roles}
        yield live
