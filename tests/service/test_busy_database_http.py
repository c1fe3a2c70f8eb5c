"""A request that waits for a busy database does not hold up the other requests.

SQLite lets one writer at a time; the others wait (up to the stores' 10 s busy timeout). A
route that did its database work on the server's event loop froze every request while it
waited: a sign-in during a long write, and nobody's chat was answered. Each test here holds
one database's write lock from outside the server, sends a request that must write to it,
and asks for `/v1/health` while that request waits; it then lets the lock go and the
waiting request finishes as usual.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.helpers import acme_server, auth, console_sign_in, wait_job

Send = Callable[[], httpx.Response]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with acme_server(tmp_path_factory, "busy-db", ("admin", "end_user")) as server:
        yield server


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Hold `path`'s write lock (as another process in the middle of a write would)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
    finally:
        db.rollback()
        db.close()


def served_while_waiting(live: Any, database: Path, send: Send) -> httpx.Response:
    """Send a request while `database` is write-locked and ask for `/v1/health` every
    quarter second for 2.5 s; then release the lock and return the request's response.

    Had the request blocked the event loop, a health check would have waited with it until
    its busy timeout ran out, and the request would have failed ("database is locked")."""
    done: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: done.append(send()))
    with write_locked(database):
        worker.start()
        for _ in range(10):
            assert httpx.get(f"{live.url}/v1/health").status_code == 200
            time.sleep(0.25)
        early = f"{done[0].status_code} {done[0].text[:300]}" if done else ""
        assert not done, f"the request finished while the database was locked: {early}"
    worker.join(timeout=60)
    assert done, "the request never finished"
    return done[0]


def _ui_sessions(live: Any) -> Path:
    return Path(live.settings.data_dir) / "ui_sessions.db"


def test_a_sign_in_waiting_for_the_session_store_holds_up_no_one(live: Any) -> None:
    with httpx.Client(base_url=live.url, headers={"Origin": live.url}, timeout=60) as client:
        send = lambda: client.post("/ui/login", data={"key": live.keys["admin"]})  # noqa: E731
        signed_in = served_while_waiting(live, _ui_sessions(live), send)
        assert signed_in.status_code == 303, signed_in.text
        assert client.get("/ui/admin").status_code == 200  # the session works


def test_a_sign_out_waiting_for_the_session_store_holds_up_no_one(live: Any) -> None:
    with httpx.Client(base_url=live.url, headers={"Origin": live.url}, timeout=60) as client:
        csrf = console_sign_in(client, live.keys["admin"])
        send = lambda: client.post("/ui/logout", data={"csrf": csrf})  # noqa: E731
        signed_out = served_while_waiting(live, _ui_sessions(live), send)
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/ui/login"
        after = client.get("/ui/admin")
        assert after.status_code == 303 and after.headers["location"].startswith("/ui/login")


def test_the_chat_page_waiting_for_the_session_store_holds_up_no_one(live: Any) -> None:
    with httpx.Client(base_url=live.url, headers={"Origin": live.url}, timeout=60) as client:
        csrf = console_sign_in(client, live.keys["end_user"])
        send = lambda: client.post("/ui/chat/api/start", headers={"X-CSRF-Token": csrf})  # noqa: E731
        started = served_while_waiting(live, _ui_sessions(live), send)
        assert started.status_code == 201, started.text
        shown = client.get("/ui/chat/api/conversation", headers={"X-CSRF-Token": csrf})
        assert shown.status_code == 200 and shown.json()["conversation"] is not None


def test_an_upload_waiting_for_the_jobs_database_holds_up_no_one(live: Any) -> None:
    files = [("files", ("returns.md", b"# Returns\n\nReturns are free within 30 days.\n"))]

    def send() -> httpx.Response:
        return httpx.post(
            f"{live.url}/v1/knowledge/sources", headers=auth(live.keys["admin"]), files=files
        )

    regional = live.settings.region_db("eu")
    accepted = served_while_waiting(live, regional, send)
    assert accepted.status_code == 202, accepted.text
    job = httpx.get(f"{live.url}/v1/jobs/{accepted.json()['id']}", headers=auth(live.keys["admin"]))
    assert job.status_code == 200 and job.json()["status"] in ("queued", "running", "succeeded")


def _busy(response: httpx.Response) -> None:
    """A 503 that says the database was busy and when to try again."""
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "busy"
    assert "busy" in error["message"] and "try again" in error["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_an_upload_that_waits_too_long_gets_503_keeps_no_files_and_can_be_sent_again(
    live: Any,
) -> None:
    """Past the stores' busy timeout the upload is refused as busy (503, Retry-After), not
    as an internal error, and its received files are not left in the uploads folder."""
    files = [("files", ("busy.md", b"# Busy\n\nGift wrapping costs $4 per item.\n"))]
    uploads = live.runtime.uploads_dir("acme")
    waiting = set(uploads.iterdir()) if uploads.exists() else set()

    def send() -> httpx.Response:
        return httpx.post(
            f"{live.url}/v1/knowledge/sources", headers=auth(live.keys["admin"]), files=files
        )

    with write_locked(live.settings.region_db("eu")):
        _busy(send())
    assert set(uploads.iterdir()) == waiting
    accepted = send()
    assert accepted.status_code == 202, accepted.text


def test_a_message_that_waits_too_long_gets_503_and_the_conversation_goes_on(live: Any) -> None:
    """A chat message refused as busy leaves the conversation as it was, and the same
    message sent again is answered (the one-turn-at-a-time guard is released)."""
    headers = auth(live.keys["end_user"])
    started = httpx.post(f"{live.url}/v1/conversations", headers=headers, json={})
    assert started.status_code == 201, started.text
    body = started.json()
    if body.get("conversation_token"):
        headers["X-Conversation-Token"] = body["conversation_token"]
    path = f"{live.url}/v1/conversations/{body['conversation_id']}"
    first = httpx.post(f"{path}/messages", headers=headers, json={"text": "Hello"})
    assert first.status_code == 200, first.text
    before = httpx.get(path, headers=headers).json()["messages"]

    with write_locked(live.settings.region_db("eu")):
        _busy(httpx.post(f"{path}/messages", headers=headers, json={"text": "Is shipping free?"}))
    assert httpx.get(path, headers=headers).json()["messages"][: len(before)] == before
    again = httpx.post(f"{path}/messages", headers=headers, json={"text": "Is shipping free?"})
    assert again.status_code == 200, again.text


def test_a_job_that_waits_too_long_for_the_database_runs_again_and_succeeds(live: Any) -> None:
    """The job runner gives up on a locked database as a request does; the job is not failed
    for that (ingestion is idempotent) but runs again once the database is free."""
    from control.models import Job
    from control.regional import in_region

    job_id, work_dir = live.jobs.new_work_dir("acme")
    (work_dir / "0").mkdir()
    (work_dir / "0" / "wrapping.md").write_text("# Wrapping\n\nGift wrapping costs $4.\n")
    with in_region("eu"), live.runtime.sessions.begin() as session:
        session.add(Job(id=job_id, tenant="acme", status="queued", work_dir=str(work_dir)))
    # The runner looks for queued jobs every 2 s: it meets the lock whenever it starts.
    with write_locked(live.settings.region_db("eu")):
        time.sleep(12)  # past the 10 s busy timeout
    job = wait_job(live.url, live.keys["admin"], job_id, timeout=120)
    assert job["status"] == "succeeded", job
    assert [r["status"] for r in job["results"]] == ["ingested"]
