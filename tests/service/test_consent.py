"""Consent over HTTP: with `consent: required` a message before acceptance gets 409 with
the notice and leaves no row behind; after acceptance it is answered; a new notice version
asks again. A tenant that only shows its notice is answered at once."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy

NOTICE = "Acme stores your messages for 30 days to answer you. Notice v1."


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("consent"), port=free_port())
    with LiveServer(settings) as server:
        runtime = server.runtime
        for name in ("acme", "globex"):
            runtime.tenants.create(name, "eu")
            seed_returns_policy(runtime, name)
        server.keys = {
            "admin": runtime.tenants.create_key("acme", "admin"),
            "end_user": runtime.tenants.create_key("acme", "end_user"),
            "other_end_user": runtime.tenants.create_key("globex", "end_user"),
        }
        yield server


def _start(live: Any, key: str) -> tuple[str, dict[str, str]]:
    response = httpx.post(f"{live.url}/v1/conversations", headers=auth(key), timeout=30)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["conversation_id"], {
        **auth(key),
        "X-Conversation-Token": body["conversation_token"],
    }


def _rows(live: Any, tenant: str) -> dict[str, int]:
    with sqlite3.connect(live.settings.region_db("eu")) as db:
        return {
            table: db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE tenant = ?", (tenant,)
            ).fetchone()[0]
            for table in ("messages", "traces", "qa_queue", "consent_acceptances")
        }


def _say(live: Any, conversation: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{live.url}/v1/conversations/{conversation}/messages", headers=headers,
                      json={"text": "Can I return a defective item?"}, timeout=120)  # fmt: skip


def _accept(live: Any, conversation: str, headers: dict[str, str], version: str) -> httpx.Response:
    return httpx.post(f"{live.url}/v1/conversations/{conversation}/consent", headers=headers,
                      json={"notice_version": version}, timeout=30)  # fmt: skip


def test_required_consent_blocks_until_the_current_notice_is_accepted(live: Any) -> None:
    admin = auth(live.keys["admin"])
    required = {"consent": "required", "notice_text": NOTICE, "notice_version": "1"}
    put = httpx.put(f"{live.url}/v1/customer-control", headers=admin, json=required, timeout=30)
    assert put.status_code == 200, put.text
    assert put.json()["consent"] == "required" and put.json()["notice"] == NOTICE

    conversation, headers = _start(live, live.keys["end_user"])
    before = _rows(live, "acme")
    refused = _say(live, conversation, headers)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "consent_required"
    assert error["notice"] == NOTICE and error["notice_version"] == "1"
    assert _rows(live, "acme") == before  # no message, no trace, nothing queued

    stale = _accept(live, conversation, headers, "0")
    assert stale.status_code == 409 and stale.json()["error"]["notice_version"] == "1"
    accepted = _accept(live, conversation, headers, "1")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["notice_version"] == "1" and accepted.json()["accepted_at"]
    answered = _say(live, conversation, headers)
    assert answered.status_code == 200, answered.text
    assert answered.json()["trace_id"]
    assert _rows(live, "acme")["messages"] == before["messages"] + 2

    second = {"notice_version": "2", "notice_text": NOTICE + " Now v2."}
    bumped = httpx.put(f"{live.url}/v1/customer-control", headers=admin, json=second, timeout=30)
    assert bumped.status_code == 200
    middle = _rows(live, "acme")
    again = _say(live, conversation, headers)
    assert again.status_code == 409 and again.json()["error"]["notice_version"] == "2"
    # No message and no trace: the refused message left nothing the QA loop could queue. The
    # loop may still be scoring the earlier answered reply in the background (and may queue
    # it, as a random sample), so the queue is not compared here.
    after = _rows(live, "acme")
    assert {k: v for k, v in after.items() if k != "qa_queue"} == {
        k: v for k, v in middle.items() if k != "qa_queue"
    }
    assert _accept(live, conversation, headers, "2").status_code == 200
    assert _say(live, conversation, headers).status_code == 200

    with sqlite3.connect(live.settings.region_db("eu")) as db:
        versions = [r[0] for r in db.execute(
            "SELECT notice_version FROM consent_acceptances WHERE conversation_id = ? "
            "AND accepted_at IS NOT NULL ORDER BY id", (conversation,))]  # fmt: skip
    assert versions == ["1", "2"]
    actions = [
        e["action"] for e in httpx.get(f"{live.url}/v1/audit", headers=admin).json()["entries"]
    ]
    assert actions.count("customer_control.set") == 2 and actions.count("consent.accept") == 2


def test_someone_elses_conversation_cannot_be_accepted(live: Any) -> None:
    conversation, _ = _start(live, live.keys["end_user"])
    stranger = auth(live.keys["end_user"])  # same tenant, no conversation token
    assert _accept(live, conversation, stranger, "2").status_code == 404
    other_tenant = auth(live.keys["other_end_user"])
    assert _accept(live, conversation, other_tenant, "2").status_code == 404


def test_notice_only_tenant_is_answered_without_acceptance(live: Any) -> None:
    conversation, headers = _start(live, live.keys["other_end_user"])
    assert _say(live, conversation, headers).status_code == 200


def test_bad_settings_change_nothing(live: Any) -> None:
    admin = auth(live.keys["admin"])
    before = httpx.get(f"{live.url}/v1/customer-control", headers=admin).json()
    for body in ({"consent": "maybe"}, {"training_use": "sometimes"}, {"colour": "red"},
                 {"notice_version": ""}):  # fmt: skip
        response = httpx.put(f"{live.url}/v1/customer-control", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
    assert httpx.get(f"{live.url}/v1/customer-control", headers=admin).json() == before
    end_user = auth(live.keys["end_user"])
    assert httpx.get(f"{live.url}/v1/customer-control", headers=end_user).status_code == 403
