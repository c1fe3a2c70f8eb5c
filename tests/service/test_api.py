"""The HTTP API over real HTTP: uploads become jobs, sources are listed and deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DATA, LiveServer
from tests.service.helpers import auth, upload, wait_job


@pytest.fixture
def server(make_settings: Any) -> Any:
    with LiveServer(make_settings(max_file_mb=0.05)) as live:
        live.runtime.tenants.create("acme", "eu")
        live.admin = live.runtime.tenants.create_key("acme", "admin")
        yield live


def test_health_needs_no_key(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/v1/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert "/v1/knowledge/sources" in httpx.get(f"{server.url}/openapi.json").json()["paths"]


def test_upload_job_progress_list_delete(server: Any) -> None:
    response = upload(
        server.url,
        server.admin,
        DATA / "valid" / "warranty.html",
        DATA / "valid" / "contact.txt",
        DATA / "bad" / "encrypted.pdf",
    )
    assert response.status_code == 202, response.text
    job = wait_job(server.url, server.admin, response.json()["id"])
    assert job["status"] == "partial" and job["total"] == 3 and job["progress"] == 1.0
    assert job["created_at"].endswith(("Z", "+00:00"))  # times carry their zone (UTC)
    statuses = {r["document_id"]: r["status"] for r in job["results"]}
    assert statuses == {
        "warranty.html": "ingested",
        "contact.txt": "ingested",
        "encrypted.pdf": "failed",
    }
    assert {r["source"] for r in job["results"]} == {
        "warranty.html",
        "contact.txt",
        "encrypted.pdf",
    }
    failed = next(r for r in job["results"] if r["status"] == "failed")
    assert "encrypted.pdf" in failed["error"] and "unencrypted copy" in failed["error"]

    sources = httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(server.admin)).json()
    assert sorted(s["document_id"] for s in sources["sources"]) == ["contact.txt", "warranty.html"]

    gone = httpx.delete(
        f"{server.url}/v1/knowledge/sources/contact.txt", headers=auth(server.admin)
    )
    assert gone.status_code == 204
    again = httpx.delete(
        f"{server.url}/v1/knowledge/sources/contact.txt", headers=auth(server.admin)
    )
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"
    assert "contact.txt" in again.json()["error"]["message"]
    store = server.runtime.store("acme")
    assert store.consistency_problems("acme") == []


def test_oversized_upload_is_refused_while_streaming(server: Any, tmp_path: Path) -> None:
    ok = upload(server.url, server.admin, DATA / "valid" / "contact.txt")
    wait_job(server.url, server.admin, ok.json()["id"])
    big = tmp_path / "big.txt"
    big.write_text("refund policy text " * 10_000)  # ~190 KB, limit is 0.05 MB

    def body() -> Any:
        boundary = b"xyz"
        yield b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
        yield b"Content-Type: text/plain\r\n\r\n"
        data = big.read_bytes()
        for start in range(0, len(data), 8192):
            yield data[start : start + 8192]
        yield b"\r\n--" + boundary + b"--\r\n"

    response = httpx.post(
        f"{server.url}/v1/knowledge/sources",
        content=body(),
        timeout=60,
        headers={**auth(server.admin), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "'big.txt' is larger than the 0.05 MB limit" in response.json()["error"]["message"]
    uploads = server.settings.data_dir / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []  # nothing kept, nothing parsed
    names = [
        s["document_id"]
        for s in httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(server.admin)).json()[
            "sources"
        ]
    ]
    assert names == ["contact.txt"]  # prior data intact


def test_bad_requests_have_clear_errors(server: Any) -> None:
    no_files = httpx.post(
        f"{server.url}/v1/knowledge/sources",
        headers=auth(server.admin),
        data={"note": "x"},
        files={"other": ("", b"")},
    )
    assert no_files.status_code == 400
    not_multipart = httpx.post(
        f"{server.url}/v1/knowledge/sources", headers=auth(server.admin), json={"files": []}
    )
    assert not_multipart.status_code == 400
    assert "multipart/form-data" in not_multipart.json()["error"]["message"]
    missing_job = httpx.get(f"{server.url}/v1/jobs/nope", headers=auth(server.admin))
    assert missing_job.status_code == 404 and missing_job.json()["error"]["code"] == "not_found"
    unknown_route = httpx.get(f"{server.url}/v1/nothing-here")
    assert unknown_route.status_code == 404 and "error" in unknown_route.json()
    no_key = httpx.get(f"{server.url}/v1/knowledge/sources")
    assert (
        no_key.status_code == 401 and "Authorization: Bearer" in no_key.json()["error"]["message"]
    )


def test_a_cut_off_upload_is_refused_and_the_earlier_version_kept(server: Any) -> None:
    """A multipart body that ends before its closing boundary (a dropped connection, a
    client bug) is refused whole: it never replaces a good document with a truncated one."""
    ok = upload(server.url, server.admin, DATA / "valid" / "contact.txt")
    assert wait_job(server.url, server.admin, ok.json()["id"])["status"] == "succeeded"

    def sources() -> list[tuple[str, int, str]]:
        listed = httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(server.admin))
        return [
            (s["document_id"], s["version"], s["content_hash"]) for s in listed.json()["sources"]
        ]

    before = sources()
    head = b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="contact.txt"\r\n\r\n'
    for cut in (head + b"Call us on weekdays between nine and", head + b"Call us.\r\n--xyz"):
        response = httpx.post(
            f"{server.url}/v1/knowledge/sources",
            content=cut,
            timeout=60,
            headers={**auth(server.admin), "Content-Type": "multipart/form-data; boundary=xyz"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["message"] == (
            "the upload ended before its closing boundary, so its last file may be cut off; "
            "nothing was changed: send it again"
        )
    uploads = server.settings.data_dir / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert sources() == before  # still version 1 of the complete file
    complete = head + b"Call us on weekdays.\r\n--xyz--"  # no CRLF after the closing boundary
    accepted = httpx.post(
        f"{server.url}/v1/knowledge/sources",
        content=complete,
        timeout=60,
        headers={**auth(server.admin), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert accepted.status_code == 202, accepted.text
    assert wait_job(server.url, server.admin, accepted.json()["id"])["status"] == "succeeded"
    assert [(name, version) for name, version, _ in sources()] == [("contact.txt", 2)]
