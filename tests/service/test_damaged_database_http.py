"""A damaged knowledge database under a running server, over HTTP: `knowledge.db` overwritten
or cut short (a failed copy from a backup, a disk fault) while the server was stopped. The
server starts (it opens a region's knowledge on first use) and conversations still start.

Before, every request that needed the knowledge answered 500 "internal error", and the log
held a traceback that named no file. Now the API answers 503 `damaged_database` without the
server's paths, the operator's log names the file to restore, nothing is written to the
file, and the restored file works again. (A damaged control database stops the server at
start, naming the file; tests/service/test_cli_bad_input.py covers the CLI's line.)
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from control.models import Job
from control.regional import in_region
from service.errors import DAMAGED
from service.runtime import Runtime
from tests.conftest import DATA, LiveServer
from tests.service.helpers import auth, wait_job

CONTACT = DATA / "valid" / "contact.txt"


def _set_up(make_settings: Any) -> tuple[Any, str, str]:
    """A data directory with one tenant, its keys and one ingested file."""
    settings = make_settings()
    with LiveServer(settings) as live:
        live.runtime.tenants.create("acme", "eu")
        admin = live.runtime.tenants.create_key("acme", "admin")
        user = live.runtime.tenants.create_key("acme", "end_user")
        sent = httpx.post(
            f"{live.url}/v1/knowledge/sources", headers=auth(admin),
            files=[("files", (CONTACT.name, CONTACT.read_bytes()))], timeout=60,
        )  # fmt: skip
        assert sent.status_code == 202, sent.text
        assert wait_job(live.url, admin, sent.json()["id"])["status"] == "succeeded"
    return settings, admin, user


def _sources(url: str, admin: str) -> httpx.Response:
    return httpx.get(f"{url}/v1/knowledge/sources", headers=auth(admin), timeout=60)


def _ask(url: str, user: str, conversation: dict[str, str], text: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/conversations/{conversation['conversation_id']}/messages",
        headers={**auth(user), "X-Conversation-Token": conversation["conversation_token"]},
        json={"text": text}, timeout=60,
    )  # fmt: skip


def _damaged_reply(response: httpx.Response, data_dir: Path) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "damaged_database"
    assert error["message"] == DAMAGED
    assert error["message"].startswith("a data file of this service is damaged")
    assert str(data_dir) not in response.text  # the server's paths stay in its log


@pytest.mark.parametrize(
    "damage",
    [lambda good: b"\x00 not a database " * 400, lambda good: good[: len(good) // 3]],
    ids=["overwritten", "cut-short"],
)
def test_a_damaged_knowledge_database_gives_503_and_the_log_names_the_file(
    make_settings: Any, caplog: pytest.LogCaptureFixture, damage: Any
) -> None:
    settings, admin, user = _set_up(make_settings)
    path = settings.data_dir / "regions" / "eu" / "knowledge.db"
    good = path.read_bytes()
    path.write_bytes(damage(good))
    damaged = path.read_bytes()

    with caplog.at_level(logging.ERROR), LiveServer(make_settings()) as live:
        _damaged_reply(_sources(live.url, admin), settings.data_dir)
        sent = httpx.post(
            f"{live.url}/v1/knowledge/sources", headers=auth(admin),
            files=[("files", ("more.txt", b"Refunds take five working days."))], timeout=60,
        )  # fmt: skip
        _damaged_reply(sent, settings.data_dir)
        started = httpx.post(f"{live.url}/v1/conversations", headers=auth(user), json={})
        assert started.status_code == 201, started.text  # a conversation starts
        conversation = started.json()
        asked = _ask(live.url, user, conversation, "When do you answer phone calls?")
        _damaged_reply(asked, settings.data_dir)  # its first question needs the knowledge
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(
        f"the database {path} is damaged" in line and "restore the file from a backup" in line
        for line in logged
    ), logged
    assert path.read_bytes() == damaged  # left as it is, for the operator to restore

    path.write_bytes(good)  # restored from the backup: the same requests work again
    with LiveServer(make_settings()) as live:
        listed = _sources(live.url, admin)
        assert listed.status_code == 200, listed.text
        assert [s["document_id"] for s in listed.json()["sources"]] == [CONTACT.name]
        asked = _ask(live.url, user, conversation, "When do you answer phone calls?")
        assert asked.status_code == 200, asked.text  # the same conversation goes on
        assert asked.json()["decision"] == "answered"


def test_an_upload_waiting_when_the_knowledge_database_was_damaged_fails_with_the_same_line(
    make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A job left queued by a stopped server resumes on start; with its region's knowledge
    database damaged meanwhile it fails with the API's line, not the server's path."""
    settings, admin, _ = _set_up(make_settings)
    runtime = Runtime(settings)
    work_dir = runtime.uploads_dir("acme") / "job-1" / "0"
    work_dir.mkdir(parents=True)
    shutil.copy(CONTACT, work_dir / "more.txt")
    with in_region("eu"), runtime.sessions.begin() as session:
        session.add(Job(id="job-1", tenant="acme", status="queued", work_dir=str(work_dir.parent)))
    runtime.close()
    path = settings.data_dir / "regions" / "eu" / "knowledge.db"
    path.write_bytes(b"\x00 not a database " * 400)

    with caplog.at_level(logging.ERROR), LiveServer(make_settings()) as live:
        job = wait_job(live.url, admin, "job-1")
    assert job["status"] == "failed"
    assert job["error"] == DAMAGED
    assert any(
        f"job job-1 failed: the database {path} is damaged" in r.getMessage()
        for r in caplog.records
    )
    assert path.read_bytes() == b"\x00 not a database " * 400
