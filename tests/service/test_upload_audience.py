"""Who an uploaded file is written for, over HTTP: detected from its text, or stated by the
admin with `?audience=`; shown on every source of GET /v1/knowledge/sources. A document
written for the agent is quoted for its facts only (knowledge/audience.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DATA, LiveServer
from tests.service.helpers import auth, wait_job

CONTACT = DATA / "valid" / "contact.txt"
GUIDELINE = "\n".join(
    [
        "Refund requests",
        "Ask the customer for their order number.",
        "Check that the customer bought the item in the last 30 days.",
        "If the customer is a gold member, the return is always possible.",
        "Tell the customer that the refund takes 5 working days.",
        "Thank the customer and end the conversation.",
        "Refunds go back to the card used to pay.",
    ]
)


@pytest.fixture
def server(make_settings: Any) -> Any:
    with LiveServer(make_settings()) as live:
        live.runtime.tenants.create("acme", "eu")
        live.admin = live.runtime.tenants.create_key("acme", "admin")
        yield live


def _upload(server: Any, path: Path, audience: str | None = None) -> httpx.Response:
    params = {"audience": audience} if audience is not None else {}
    return httpx.post(
        f"{server.url}/v1/knowledge/sources", headers=auth(server.admin), params=params,
        files=[("files", (path.name, path.read_bytes()))], timeout=60,
    )  # fmt: skip


def _ingest(server: Any, path: Path, audience: str | None = None) -> dict[str, Any]:
    response = _upload(server, path, audience)
    assert response.status_code == 202, response.text
    job = wait_job(server.url, server.admin, response.json()["id"])
    assert job["status"] == "succeeded", job
    return job


def _sources(server: Any) -> dict[str, dict[str, Any]]:
    body = httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(server.admin)).json()
    return {s["document_id"]: s for s in body["sources"]}


def _chunk_audiences(server: LiveServer, document_id: str) -> set[str]:
    store = server.runtime.store("acme")
    return {c.metadata["audience"] for c in store.document_chunks("acme", document_id)}


def test_the_audience_is_detected_and_shown(server: Any, tmp_path: Path) -> None:
    guideline = tmp_path / "refunds-guideline.txt"
    guideline.write_text(GUIDELINE, encoding="utf-8")
    _ingest(server, CONTACT)
    _ingest(server, guideline)
    sources = _sources(server)
    assert sources["contact.txt"]["audience"] == "customer"
    assert sources["refunds-guideline.txt"]["audience"] == "agent"
    assert not sources["contact.txt"]["audience_stated"]
    assert not sources["refunds-guideline.txt"]["audience_stated"]


def test_an_admin_states_the_audience_and_the_same_file_is_processed_again(
    server: Any, tmp_path: Path
) -> None:
    """A detected verdict can be wrong (a help page for shop owners about their own
    customers reads like a guideline); the admin uploads the same file stating who it is
    for. The file's bytes are the same, so without the stated audience in its hash it
    would be reported unchanged and keep the old verdict."""
    guideline = tmp_path / "refunds-guideline.txt"
    guideline.write_text(GUIDELINE, encoding="utf-8")
    _ingest(server, guideline)
    assert _chunk_audiences(server, "refunds-guideline.txt") == {"agent"}
    job = _ingest(server, guideline, audience="customer")
    assert [r["status"] for r in job["results"]] == ["replaced"], job
    shown = _sources(server)["refunds-guideline.txt"]
    assert shown["audience"] == "customer" and shown["audience_stated"], shown
    assert _chunk_audiences(server, "refunds-guideline.txt") == {"customer"}
    again = _ingest(server, guideline, audience="customer")
    assert [r["status"] for r in again["results"]] == ["unchanged"], again


@pytest.mark.parametrize("value", ["agents", "Customer", "", "x" * 500])
def test_an_unknown_audience_is_refused_and_nothing_changes(
    server: Any, tmp_path: Path, value: str
) -> None:
    _ingest(server, CONTACT, audience="agent")
    before = _sources(server)
    changed = tmp_path / "contact.txt"
    changed.write_text("A new text that must not be stored.", encoding="utf-8")
    response = _upload(server, changed, value)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_upload"
    assert "use 'agent'" in error["message"] and "'customer'" in error["message"], error
    assert "nothing was uploaded" in error["message"]
    assert len(error["message"]) < 300  # a long value is not echoed whole
    assert _sources(server) == before
    assert _chunk_audiences(server, "contact.txt") == {"agent"}
