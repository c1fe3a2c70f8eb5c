"""The audit log over HTTP and the CLI: entries chained by hash, pages, and tampering found.

Editing one entry in the database makes `audit verify` (HTTP and CLI) name that entry as
the first broken one; an untouched log verifies."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth


def _get(live: Any, path: str, key: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(live.url + path, headers=auth(key), params=params, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    from service.cli import main

    code = main(list(argv))
    return code, capsys.readouterr().out


def test_audit_chain_pages_and_tampering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", port=free_port())
    with LiveServer(settings) as live:
        runtime = live.runtime
        for name in ("acme", "globex"):
            runtime.tenants.create(name, "eu")
        admin = runtime.tenants.create_key("acme", "admin")
        other = runtime.tenants.create_key("globex", "admin")
        for enabled in (True, False, True, False, True):
            response = httpx.put(f"{live.url}/v1/features/sentiment", headers=auth(admin),
                                 json={"enabled": enabled}, timeout=30)  # fmt: skip
            assert response.status_code == 200, response.text
        httpx.put(f"{live.url}/v1/features/sentiment", headers=auth(other),
                  json={"enabled": False}, timeout=30)  # fmt: skip

        first = _get(live, "/v1/audit", admin, limit=2)
        assert len(first["entries"]) == 2 and first["next_after"] is not None
        rest = _get(live, "/v1/audit", admin, after=first["next_after"], limit=100)
        lines = first["entries"] + rest["entries"]
        assert rest["next_after"] is None
        switches = [e for e in lines if e["action"] == "feature.switch"]
        assert [e["detail"]["enabled"] for e in switches] == [True, False, True, False, True]
        assert all(e["actor"] for e in switches)
        for before, after in itertools.pairwise(lines):
            assert after["prev_hash"] == before["hash"]  # one tenant's chain, in order
        assert lines[0]["prev_hash"] == "0" * 64
        assert _get(live, "/v1/audit", other)["entries"][0]["action"] == "feature.switch"
        assert len(_get(live, "/v1/audit", other)["entries"]) == 1  # only its own tenant
        future = _get(live, "/v1/audit", admin, since="2999-01-01T00:00:00Z")
        assert future["entries"] == []
        bad = httpx.get(f"{live.url}/v1/audit", headers=auth(admin), params={"since": "soon"})
        assert bad.status_code == 400 and "ISO-8601" in bad.text
        edge = "0001-01-01T00:00:00+01:00"  # before year 1 in UTC: overflowed (500) before
        early = httpx.get(f"{live.url}/v1/audit", headers=auth(admin), params={"since": edge})
        assert early.status_code == 400, early.text
        assert early.json()["error"]["message"] == (
            f"since '{edge}' is outside the years 1-9999 in UTC; write e.g. 2026-12-01T00:00:00Z"
        )
        assert httpx.get(f"{live.url}/v1/audit", timeout=30).status_code == 401

        intact = _get(live, "/v1/audit/verify", admin)
        assert intact["ok"] is True and intact["entries"] == len(lines)

        victim = switches[2]["id"]
        with sqlite3.connect(settings.region_db("eu")) as db:
            db.execute("UPDATE audit_log SET detail = ? WHERE id = ?",
                       (json.dumps({"name": "sentiment", "enabled": False}), victim))  # fmt: skip
        broken = _get(live, "/v1/audit/verify", admin)
        assert broken["ok"] is False and broken["first_broken"]["id"] == victim
        assert _get(live, "/v1/audit/verify", other)["ok"] is True  # other tenant untouched

    data_dir = str(settings.data_dir)
    code, out = _cli(
        capsys, "audit", "verify", "--tenant", "acme", "--json", "--data-dir", data_dir
    )
    report = json.loads(out)
    assert code == 1 and report["first_broken"]["id"] == victim
    code, out = _cli(capsys, "audit", "verify", "--tenant", "globex", "--json",
                     "--data-dir", data_dir)  # fmt: skip
    assert code == 0 and json.loads(out)["ok"] is True

    exported = tmp_path / "acme-audit.jsonl"
    code, _ = _cli(capsys, "audit", "export", "--tenant", "acme", "--out", str(exported),
                   "--data-dir", data_dir)  # fmt: skip
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    assert code == 0 and [r["id"] for r in rows] == [e["id"] for e in lines]
    code, _ = _cli(capsys, "audit", "export", "--tenant", "acme", "--since", "2999-01-01",
                   "--out", str(tmp_path / "none.jsonl"), "--data-dir", data_dir)  # fmt: skip
    assert code == 0 and (tmp_path / "none.jsonl").read_text() == ""


def test_reseal_after_a_legitimate_rewrite(tmp_path: Path) -> None:
    """A privacy rewrite of old entries followed by reseal (in the same transaction) keeps
    the chain verifiable; the same rewrite without reseal is reported."""
    from control.audit_chain import reseal, verify
    from control.regional import in_region
    from knowledge.testing import HashEmbedder
    from service.runtime import Runtime
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    runtime = Runtime(settings, embedder=HashEmbedder())
    try:
        runtime.tenants.create("acme", "eu")
        for number in range(4):
            runtime.audit("acme", "key1", "knowledge.upload", files=[f"file{number}.md"])
        ids = [r[0] for r in sqlite3.connect(settings.region_db("eu")).execute(
            "SELECT id FROM audit_log WHERE tenant='acme' ORDER BY id")]  # fmt: skip
        db = sqlite3.connect(settings.region_db("eu"), isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE audit_log SET detail = '{\"files\": [\"[erased]\"]}' WHERE id = ?",
                   (ids[1],))  # fmt: skip
        assert reseal(db, "acme", ids[1]) == len(ids) - 1
        db.execute("COMMIT")
        with in_region("eu"), runtime.sessions() as session:
            assert verify(session, "acme").ok
        db.execute("UPDATE audit_log SET detail = '{}' WHERE id = ?", (ids[2],))
        with in_region("eu"), runtime.sessions() as session:
            report = verify(session, "acme")
        assert not report.ok and report.first_broken is not None
        assert report.first_broken.id == ids[2]
        db.close()
    finally:
        runtime.close()
