"""Correcting who a stored source is written for, over HTTP, without uploading it again
(PATCH /v1/knowledge/sources/{id}; knowledge/audience_change.py). Before, the only way was
to upload the same file again stating the audience, which needs the file at hand.

A guideline taken for a help page has its steps quoted to end users; this test's document
reads as a help page (it never names "the customer"), so it is detected as one, and its
step is quoted until the admin states that it is written for the agents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.service.helpers import auth, wait_job

EXCHANGES = (
    "Exchanges\n"
    "Open the exchange form and enter the order number and the date of purchase.\n"
    "Exchanges of unworn items are free within 30 days of delivery.\n"
)
QUESTION = "How do I start an exchange?"
STEP = "Open the exchange form and enter the order number and the date of purchase."


@pytest.fixture
def server(make_settings: Any, tmp_path: Path) -> Any:
    with LiveServer(make_settings()) as served:
        live: Any = served  # with the test's keys and file
        live.runtime.tenants.create("acme", "eu")
        live.admin = live.runtime.tenants.create_key("acme", "admin")
        live.user = live.runtime.tenants.create_key("acme", "end_user")
        live.qa = live.runtime.tenants.create_key("acme", "qa_lead")
        live.file = tmp_path / "exchanges.txt"
        live.file.write_text(EXCHANGES, encoding="utf-8")
        job = _upload(live, live.file)
        assert [r["status"] for r in job["results"]] == ["ingested"], job
        yield live


def _upload(server: Any, path: Path, audience: str | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/v1/knowledge/sources", headers=auth(server.admin),
        params={"audience": audience} if audience else {},
        files=[("files", (path.name, path.read_bytes()))], timeout=60,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    job = wait_job(server.url, server.admin, response.json()["id"])
    assert job["status"] == "succeeded", job
    return job


def _restate(server: Any, document_id: str, body: object, key: str | None = None) -> Any:
    return httpx.patch(
        f"{server.url}/v1/knowledge/sources/{document_id}",
        headers=auth(key or server.admin), json=body, timeout=60,
    )  # fmt: skip


def _quoted(server: Any) -> list[str]:
    """The sentences the composer quoted for QUESTION, from the reply's reasoning trace (a
    QA lead's view; what the reply then says also depends on P(answerable), which this tiny
    knowledge base keeps low)."""
    started = httpx.post(
        f"{server.url}/v1/conversations", headers=auth(server.user), json={}
    ).json()
    reply = httpx.post(
        f"{server.url}/v1/conversations/{started['conversation_id']}/messages",
        headers={**auth(server.user), "X-Conversation-Token": started["conversation_token"]},
        json={"text": QUESTION}, timeout=120,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    trace = httpx.get(
        f"{server.url}/v1/traces/{reply.json()['trace_id']}", headers=auth(server.qa)
    ).json()
    compose = next(s for s in trace["steps"] if s["name"] == "compose")
    return [s["text"] for s in compose["outputs"]["sentences"]]


def _stored(server: LiveServer) -> tuple[Any, set[str]]:
    store = server.runtime.store("acme")
    chunks = store.document_chunks("acme", "exchanges.txt")
    return store.get("acme", "exchanges.txt"), {c.metadata["audience"] for c in chunks}


def test_an_admin_restates_the_audience_and_the_next_answer_follows_it(server: Any) -> None:
    assert STEP in _quoted(server)  # detected as a help page: its step is an answer
    record, _ = _stored(server)
    texts = [c.text for c in server.runtime.store("acme").document_chunks("acme", "exchanges.txt")]

    changed = _restate(server, "exchanges.txt", {"audience": "agent"})
    assert changed.status_code == 200, changed.text
    shown = changed.json()
    assert shown["audience"] == "agent" and shown["audience_stated"] is True
    assert shown["version"] == record.version and shown["chunks"] == record.chunk_count
    after, audiences = _stored(server)
    assert audiences == {"agent"} and after.metadata["audience_stated"] is True
    assert [c.text for c in server.runtime.store("acme").document_chunks(
        "acme", "exchanges.txt")] == texts  # fmt: skip
    quoted = _quoted(server)
    assert STEP not in quoted  # written for the agents: quoted for its facts only
    assert "Exchanges of unworn items are free within 30 days of delivery." in quoted

    listed = httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(server.admin)).json()
    assert [(s["audience"], s["audience_stated"]) for s in listed["sources"]] == [("agent", True)]
    audit = httpx.get(f"{server.url}/v1/audit", headers=auth(server.admin), timeout=30).json()
    entries = [e for e in audit["entries"] if e["action"] == "source.audience"]
    assert len(entries) == 1, audit  # the audit log names who changed what
    assert entries[0]["detail"] == {
        "document_id": "exchanges.txt", "audience": "agent", "was": "customer",
        "was_stated": False,
    }  # fmt: skip

    # the same file uploaded again with the same choice is unchanged; without one, its text
    # decides again, as an upload does
    again = _upload(server, server.file, audience="agent")
    assert [r["status"] for r in again["results"]] == ["unchanged"], again
    detected = _upload(server, server.file)
    assert [r["status"] for r in detected["results"]] == ["replaced"], detected
    assert _stored(server)[1] == {"customer"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"audience": "agents"}, "audience"),
        ({"audience": "Customer"}, "audience"),
        ({}, "audience"),
        ({"audience": "agent", "title": "x"}, "title"),
        (["agent"], "object"),
    ],
)
def test_a_bad_audience_is_refused_and_nothing_changes(
    server: Any, body: object, says: str
) -> None:
    before = _stored(server)
    refused = _restate(server, "exchanges.txt", body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_request" and says in error["message"], error
    assert _stored(server) == before


def test_an_unknown_source_or_a_non_admin_changes_nothing(server: Any) -> None:
    before = _stored(server)
    missing = _restate(server, "no-such-file.txt", {"audience": "agent"})
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["message"] == (
        "source 'no-such-file.txt' is not in this tenant's knowledge; "
        "GET /v1/knowledge/sources lists them"
    )
    forbidden = _restate(server, "exchanges.txt", {"audience": "agent"}, key=server.user)
    assert forbidden.status_code == 403, forbidden.text
    other = server.runtime.tenants.create("globex", "eu")
    globex = server.runtime.tenants.create_key(other.name, "admin")
    elsewhere = _restate(server, "exchanges.txt", {"audience": "agent"}, key=globex)
    assert elsewhere.status_code == 404, elsewhere.text  # another tenant's source is absent
    assert _stored(server) == before


def test_the_cli_restates_it_too(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    data_dir, file = tmp_path / "data", tmp_path / "exchanges.txt"
    file.write_text(EXCHANGES, encoding="utf-8")

    def clearline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True,
            env={**os.environ, "CLEARLINE_DATA_DIR": str(data_dir)}, timeout=600,
        )  # fmt: skip

    assert clearline("tenant", "create", "acme", "--region", "eu").returncode == 0
    assert clearline("ingest", str(file), "--tenant", "acme").returncode == 0
    done = clearline("set-audience", "exchanges.txt", "agent", "--tenant", "acme")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "exchanges.txt: for agent (stated)\n"
    listed = json.loads(clearline("--json", "sources", "--tenant", "acme").stdout)["sources"]
    assert [(s["audience"], s["audience_stated"]) for s in listed] == [("agent", True)]
    missing = clearline("set-audience", "nope.txt", "customer", "--tenant", "acme")
    assert missing.returncode == 1
    assert missing.stderr == (
        "error: source 'nope.txt' is not in the knowledge of tenant 'acme'; "
        "`clearline sources --tenant acme` lists them\n"
    )
    wrong = clearline("set-audience", "exchanges.txt", "agents", "--tenant", "acme")
    assert wrong.returncode == 2 and "invalid choice: 'agents'" in wrong.stderr
