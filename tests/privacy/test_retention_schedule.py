"""The server applies retention on its own schedule (a short interval here), and the admin
API sets, shows and runs policies: only admins, invalid policies refused naming the rule
and field, dry runs through the API change nothing."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.conftest import LiveServer
from tests.privacy.canary import auth, call
from tests.privacy.identified import EndUser, settings

POLICY = """rules:
  - {name: default, applies_to: conversations, older_than_days: 30}
  - {name: disputes, where: {intent: billing_dispute}, older_than_days: 7}
"""


def put_policy(url: str, key: str, text: str) -> httpx.Response:
    return httpx.put(
        f"{url}/v1/privacy/retention",
        content=text.encode(),
        timeout=60,
        headers={**auth(key), "Content-Type": "application/yaml"},
    )


def backdate(db_path: Path, conversation_id: str, days: float) -> None:
    """Make a conversation's whole history `days` old, as if the clock had moved on."""
    then = (datetime.now(UTC) - timedelta(days=days)).replace(tzinfo=None)
    stamp = then.isoformat(sep=" ", timespec="microseconds")
    with sqlite3.connect(db_path, timeout=30) as db:
        db.execute(
            "UPDATE conversations SET created_at = ?, updated_at = ? WHERE id = ?",
            (stamp, stamp, conversation_id),
        )
        db.execute(
            "UPDATE messages SET created_at = ? WHERE conversation_id = ?", (stamp, conversation_id)
        )


def test_the_server_applies_retention_on_its_schedule(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LiveServer(settings(data_dir, retention_interval_s=0.5)) as live:
        runtime, url = live.runtime, live.url
        runtime.tenants.create("acme", "eu")
        admin = runtime.tenants.create_key("acme", "admin")
        agent = runtime.tenants.create_key("acme", "agent")
        qa_lead = runtime.tenants.create_key("acme", "qa_lead")
        backend = runtime.tenants.create_key("acme", "end_user", asserts_identity=True)

        assert put_policy(url, qa_lead, POLICY).status_code == 403
        assert call(url, qa_lead, "GET", "/v1/privacy/retention").status_code == 403
        empty = call(url, admin, "GET", "/v1/privacy/retention").json()
        assert empty["version"] is None and empty["policy"] == {"rules": []}
        refused = put_policy(url, admin, POLICY.replace("intent:", "intents:"))
        assert refused.status_code == 400
        assert (
            "rule 'disputes' (rules[1]), field 'where.intents'"
            in refused.json()["error"]["message"]
        )
        assert call(url, admin, "GET", "/v1/privacy/retention").json()["version"] is None
        as_json = json.dumps({"rules": [{"name": "default", "older_than_days": 30}]})
        assert put_policy(url, admin, as_json).json()["version"] == 1
        stored = put_policy(url, admin, POLICY)
        assert stored.status_code == 200, stored.text
        assert stored.json()["version"] == 2
        shown = call(url, admin, "GET", "/v1/privacy/retention").json()
        assert [r["name"] for r in shown["policy"]["rules"]] == ["default", "disputes"]

        old = EndUser(url, backend, "cust-old").start()
        old.say("Do you ship to Canada?")
        recent = EndUser(url, backend, "cust-recent").start()
        recent.say("Do you ship to Norway?")
        backdate(data_dir / "regions" / "eu" / "clearline.db", old.conversation_id, days=31)

        deadline = time.monotonic() + 60
        path = f"/v1/conversations/{old.conversation_id}"
        while call(url, agent, "GET", path).status_code != 404:
            assert time.monotonic() < deadline, "the schedule never removed the old conversation"
            time.sleep(0.25)
        assert (
            call(url, agent, "GET", f"/v1/conversations/{recent.conversation_id}").status_code
            == 200
        )

        # An admin's dry run through the API counts the recent one a month on; nothing goes.
        future = (datetime.now(UTC) + timedelta(days=31)).isoformat()
        dry = call(
            url, admin, "POST", "/v1/privacy/retention/runs", json={"now": future, "dry_run": True}
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["counts"]["conversations"] == 1 and dry.json()["operation"] is None
        assert (
            call(url, agent, "GET", f"/v1/conversations/{recent.conversation_id}").status_code
            == 200
        )
        assert call(url, qa_lead, "POST", "/v1/privacy/retention/runs", json={}).status_code == 403
        time.sleep(1.5)  # several more scheduled runs with nothing to remove

    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        runs = db.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'privacy.retention'"
        ).fetchall()
        sets = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'retention.set'")
        assert sets.fetchone()[0] == 2
    assert len(runs) == 1, "runs with nothing to remove must leave no audit entry"
    assert runs[0][0] == "retention-schedule"
    assert json.loads(runs[0][1])["counts"]["conversations"] == 1
