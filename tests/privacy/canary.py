"""Canary values and a raw byte scan of a data directory, for the redaction tests.

The scan is written here, independently of privacy.scrub, so a bug in the code under test
cannot hide in the proof: every file under the directory is read as bytes and searched for
each value as UTF-8, lower-case UTF-8 (in the lower-cased bytes), UTF-16 (both byte orders)
and for distinctive word stems (what a keyword index keeps of a name).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

NAME = "Zebulon Quillfeather"
EMAIL = "zebulon.quillfeather@marmaladeport.net"
PHONE = "415-555-0199"
SENTENCE = "The violet lighthouse keeper trades marmalade for brass telescopes every Thursday."
# Word stems that survive tokenising and stemming; none is an English word or a substring of
# anything else the tests write.
STEMS = ("zebulo", "quillf", "marmaladep")

DOCUMENT = f"""# Escalations

{NAME} ({EMAIL}, {PHONE}) approves refunds over 500 dollars.

For escalations, contact {NAME} at {EMAIL} or call {PHONE} on weekdays.

{SENTENCE}

# Returns

You can return a defective item within 30 days of delivery for a full refund.
Refunds are paid to the original payment card within five business days.
"""

SHIPPING = """# Shipping

Standard shipping to Canada takes seven to ten business days.
Express shipping within the country arrives the next business day.
"""


def forms(value: str) -> list[bytes]:
    return [
        value.encode("utf-8"),
        value.encode("utf-16-le"),
        value.encode("utf-16-be"),
    ]


def occurrences(data_dir: Path, values: tuple[str, ...]) -> list[str]:
    """'<file>: <value index> <form>' for every place a value's bytes still occur."""
    found: list[str] = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        lowered = data.lower()
        name = str(path.relative_to(data_dir))
        for index, value in enumerate(values):
            for form, needle in zip(("utf-8", "utf-16-le", "utf-16-be"), forms(value), strict=True):
                if needle in data:
                    found.append(f"{name}: value {index} {form}")
            if value.lower().encode("utf-8") in lowered:
                found.append(f"{name}: value {index} any case")
    return found


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def call(url: str, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = kwargs.pop("headers", None) or auth(key)
    return httpx.request(method, url + path, headers=headers, timeout=300, **kwargs)


def wait_job(url: str, key: str, job_id: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = call(url, key, "GET", f"/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


def upload(url: str, key: str, files: dict[str, str]) -> dict[str, Any]:
    parts = [("files", (name, text.encode("utf-8"))) for name, text in files.items()]
    response = httpx.post(f"{url}/v1/knowledge/sources", headers=auth(key), files=parts,
                          timeout=120)  # fmt: skip
    assert response.status_code == 202, response.text
    job = wait_job(url, key, response.json()["id"])
    assert job["status"] == "succeeded", job
    return job


def converse(url: str, key: str, questions: list[str]) -> tuple[str, list[dict[str, Any]]]:
    started = call(url, key, "POST", "/v1/conversations", json={})
    assert started.status_code == 201, started.text
    conversation: str = started.json()["conversation_id"]
    token = {"X-Conversation-Token": started.json()["conversation_token"]}
    replies = []
    for question in questions:
        response = call(url, key, "POST", f"/v1/conversations/{conversation}/messages",
                        json={"text": question}, headers={**auth(key), **token})  # fmt: skip
        assert response.status_code == 200, response.text
        replies.append(response.json())
    return conversation, replies


def clearline(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CLEARLINE_DATA_DIR": str(data_dir),
                   "CLEARLINE_EMBEDDER": "torch", **env}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True, text=True, env=environment, timeout=900,
    )  # fmt: skip
