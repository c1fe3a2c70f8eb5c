"""Bad input found by probing the CLI (and the same input over HTTP): each gets a message
that names what is wrong and what to do, and the data already stored is left as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DATA, free_port
from tests.service.helpers import acme_server, auth, upload, wait_job

RESTORE = "and was left as it is; stop Clearline, restore the file from a backup of the data "


def clearline(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True,
        env={**os.environ, "CLEARLINE_DATA_DIR": str(data_dir)}, timeout=600,
    )  # fmt: skip


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from service.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_damaged_database_gets_one_error_line_and_is_left_as_it_is(tmp_path: Path) -> None:
    """Found by probing: garbage in clearline.db, or a region database cut short, gave a
    traceback on every command."""
    data_dir = tmp_path / "data"
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    directory, region = data_dir / "clearline.db", data_dir / "regions" / "eu" / "clearline.db"
    good = directory.read_bytes()
    directory.write_bytes(b"\x8f garbage, not a database \x00" * 200)
    damaged = directory.read_bytes()
    for args in (("tenant", "list"), ("sources", "--tenant", "acme"),
                 ("qa", "golden-export", "--tenant", "acme", "--json")):  # fmt: skip
        failed = clearline(*args, data_dir=data_dir)
        assert failed.returncode == 1, (args, failed.stderr)
        assert failed.stderr == (
            f"error: the database {directory} is damaged (file is not a database) {RESTORE}"
            "directory, and run the command again\n"
        ), args
        assert directory.read_bytes() == damaged
    assert json.loads(failed.stdout)["error"]["code"] == "damaged_database"

    directory.write_bytes(good)  # restored from the backup: it works again
    region_bytes = region.read_bytes()
    region.write_bytes(region_bytes[: len(region_bytes) // 3])  # cut short
    cut = region.read_bytes()
    failed = clearline("sources", "--tenant", "acme", data_dir=data_dir)
    assert failed.returncode == 1 and failed.stderr == (
        f"error: the database {region} is damaged (database disk image is malformed) "
        f"{RESTORE}directory, and run the command again\n"
    )
    assert region.read_bytes() == cut
    region.write_bytes(region_bytes)
    listed = clearline("sources", "--tenant", "acme", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr

    knowledge = data_dir / "regions" / "eu" / "knowledge.db"  # opened by sqlite3 itself
    knowledge.write_bytes(b"\x00 not a database either " * 400)
    failed = clearline("sources", "--tenant", "acme", data_dir=data_dir)
    assert failed.returncode == 1 and failed.stderr == (
        f"error: the database {knowledge} is damaged (file is not a database) {RESTORE}"
        "directory, and run the command again\n"
    )
    assert knowledge.read_bytes() == b"\x00 not a database either " * 400


def test_serve_on_a_damaged_database_gets_one_error_line_then_serves_once_restored(
    tmp_path: Path,
) -> None:
    """Found by probing: `clearline serve` on a damaged control database printed the
    lifespan's traceback (about 180 lines) before the line that names the file."""
    data_dir = tmp_path / "data"
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    region = data_dir / "regions" / "eu" / "clearline.db"
    good = region.read_bytes()
    region.write_bytes(b"\x8f garbage, not a database \x00" * 200)
    port = str(free_port())
    failed = clearline("serve", "--port", port, data_dir=data_dir)
    assert failed.returncode == 1
    assert failed.stderr == (
        f"error: the database {region} is damaged (file is not a database) {RESTORE}"
        "directory, and run the command again\n"
    )
    region.write_bytes(good)  # restored: the same command serves, and its lock was let go
    env = {**os.environ, "CLEARLINE_DATA_DIR": str(data_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", port],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "serve did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).is_success:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert "acme" in clearline("tenant", "list", data_dir=data_dir).stdout


def test_an_emptied_database_is_refused_not_taken_for_a_new_one(tmp_path: Path) -> None:
    """A database file cut to 0 bytes (a full disk, a failed copy from a backup) was opened
    by SQLite as a new, empty database: `tenant list` printed no tenants and carried on,
    and the tenants, keys and conversations were gone without a word. A new data directory
    still starts with no files at all."""
    data_dir = tmp_path / "data"
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    contact = str(DATA / "valid" / "contact.txt")
    assert clearline("ingest", contact, "--tenant", "acme", data_dir=data_dir).returncode == 0
    region_dir = data_dir / "regions" / "eu"
    for path, beside in (
        (data_dir / "clearline.db", "regions"),
        (region_dir / "clearline.db", "knowledge.db, chroma"),
        (region_dir / "knowledge.db", "chroma"),
    ):
        kept = path.read_bytes()
        path.write_bytes(b"")
        failed = clearline("sources", "--tenant", "acme", data_dir=data_dir)
        assert failed.returncode == 1, (path, failed.stderr)
        assert failed.stderr == (
            f"error: the database {path} is damaged (it is empty, 0 bytes, beside {beside} "
            f"written with it) {RESTORE}directory, and run the command again\n"
        ), failed.stderr
        assert path.read_bytes() == b""  # left as it is for the restore
        path.write_bytes(kept)  # restored from the backup: it works again
        listed = clearline("sources", "--tenant", "acme", data_dir=data_dir)
        assert listed.returncode == 0 and "contact.txt" in listed.stdout, listed.stderr


GOOD = {"id": "q1", "question": "How long do returns take?", "answerable": True}


def _lines(*records: dict[str, Any] | str) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


BAD_GOLDEN: tuple[tuple[str, str], ...] = (
    (_lines({"id": "a", "question": "A?"}, {"id": "b", "question": "B?"},
            {"id": "a", "question": "A again?"}),
     "g.jsonl line 3 repeats the id 'a' of line 1; give each question its own id "
     "(nothing was imported)"),
    (_lines({"id": "a", "question": "A?"}, '{"id": "b", "question": "B?", "score": NaN}'),
     "g.jsonl line 2 holds NaN, which is not a JSON value; write a number or null"),
    (_lines('{"id": "b", "question": "B?", "metadata": {"x": -Infinity}}'),
     "g.jsonl line 1 holds -Infinity, which is not a JSON value; write a number or null"),
    (_lines({"id": "i" * 201, "question": "B?"}),
     f"g.jsonl line 1: the id '{'i' * 57}...' is 201 characters; keep ids to 200"),
    (_lines({"id": "b", "question": "why? " * 801}),
     "g.jsonl line 1: the question is 4,005 characters; keep it to 4,000, as the API does "
     "for questions asked"),
)  # fmt: skip
BAD_GOLDEN_IDS = ("repeated-id", "nan", "infinity", "long-id", "long-question")


@pytest.mark.parametrize(("text", "message"), BAD_GOLDEN, ids=BAD_GOLDEN_IDS)
def test_golden_import_refuses_repeated_ids_nan_and_overlong_values(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by probing: two lines with one id reported "imported 2" and stored one; NaN
    and Infinity were stored; ids and questions had no length limit."""
    data = ("--data-dir", str(tmp_path / "data"))
    assert _main(capsys, "tenant", "create", "acme", "--region", "eu", *data)[0] == 0
    golden = tmp_path / "g.jsonl"
    golden.write_text(_lines(GOOD))
    assert _main(capsys, "qa", "golden-import", str(golden), "--tenant", "acme", *data)[:2] == (
        0, "imported 1 golden cases\n")  # fmt: skip
    exported = tmp_path / "before.jsonl"
    _main(capsys, "qa", "golden-export", "--tenant", "acme", "--out", str(exported), *data)
    golden.write_text(text)
    code, out, err = _main(capsys, "qa", "golden-import", str(golden), "--tenant", "acme", *data)
    assert (code, out, err) == (1, "", f"error: {message}\n")
    after = tmp_path / "after.jsonl"
    _main(capsys, "qa", "golden-export", "--tenant", "acme", "--out", str(after), *data)
    assert after.read_text() == exported.read_text()


def test_qa_report_keeps_the_old_report_when_the_new_one_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by probing: `qa report --out` wrote the page in place, so a write that failed
    half way (here: text that cannot be encoded) left neither the old report nor a new one."""
    import evaluation.report

    data = ("--data-dir", str(tmp_path / "data"))
    assert _main(capsys, "tenant", "create", "acme", "--region", "eu", *data)[0] == 0
    report = tmp_path / "reports" / "quality.html"
    written = _main(capsys, "qa", "report", "--tenant", "acme", "--out", str(report), *data)
    assert written[0] == 0 and report.read_text().startswith("<!")
    old = report.read_bytes()

    class Broken:
        def render(self, context: object) -> str:
            return "<html>" + "x" * 100_000 + "\ud800</html>"  # a lone surrogate

    monkeypatch.setattr(evaluation.report, "_template", lambda: Broken())
    with pytest.raises(UnicodeEncodeError):
        _main(capsys, "qa", "report", "--tenant", "acme", "--out", str(report), *data)
    assert report.read_bytes() == old
    assert sorted(p.name for p in report.parent.iterdir()) == ["quality.html"]


@pytest.mark.slow
def test_ingest_reports_special_entries_escapes_names_and_says_it_made_the_tenant(
    tmp_path: Path,
) -> None:
    """Found by probing: a FIFO, a link loop and a dangling link in a folder were skipped
    without a word; a file name holding a newline was printed raw, as two lines (it is now
    refused as a document id, and printed escaped); and `--tenant <typo>` made a new tenant
    silently."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "faq.md").write_text("# FAQ\n\nReturns take 30 days.\n")
    (docs / "two\nlines.md").write_text("# Two\n\nShipping is free.\n")
    os.mkfifo(docs / "pipe.md")
    (docs / "loop-a.md").symlink_to(docs / "loop-b.md")
    (docs / "loop-b.md").symlink_to(docs / "loop-a.md")
    (docs / "gone.md").symlink_to(docs / "missing.md")
    data_dir = tmp_path / "data"
    done = clearline("ingest", str(docs), "--tenant", "acmee", data_dir=data_dir)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        "created tenant 'acmee' in region eu (it did not exist; "
        "CLEARLINE_AUTO_CREATE_TENANTS=false refuses instead)\n"
    )
    loop = "it is a link that loops back on itself; fix or remove the link"
    assert done.stdout.splitlines() == [
        f"ingested     1  {docs}/faq.md",
        f"failed       0  {docs}/gone.md",
        f"          skipped '{docs}/gone.md': it links to {docs}/missing.md, which does not "
        "exist; fix or remove the link",
        f"failed       0  {docs}/loop-a.md",
        f"          skipped '{docs}/loop-a.md': {loop}",
        f"failed       0  {docs}/loop-b.md",
        f"          skipped '{docs}/loop-b.md': {loop}",
        f"failed       0  {docs}/pipe.md",
        f"          skipped '{docs}/pipe.md': it is a named pipe (FIFO), not a file; copy the "
        "document in as a regular file",
        f"failed       0  {docs}/two\\nlines.md",  # a newline cannot be in a document id
        f"          cannot ingest '{docs}/two\\nlines.md': its document id 'two\\nlines.md' "
        "contains a control character, line break or bytes that are not UTF-8 text; document "
        "ids must be one line of printable text; rename the file",
        "1 ingested, 0 unchanged, 0 replaced, 5 failed, 6 documents, 1 chunks",
    ]
    again = clearline("ingest", str(docs / "faq.md"), "--tenant", "acmee", data_dir=data_dir)
    assert again.returncode == 0 and "created tenant" not in again.stderr
    listed = clearline("sources", "--tenant", "acmee", data_dir=data_dir)
    assert [line.split("  ")[0] for line in listed.stdout.splitlines()] == ["faq.md"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with acme_server(tmp_path_factory, "bad-cli-input", ("admin", "qa_lead")) as live:
        yield live


def _sources(server: Any) -> dict[str, tuple[int, str]]:
    listed = httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(server.keys["admin"]))
    return {s["document_id"]: (s["version"], s["type"]) for s in listed.json()["sources"]}


@pytest.mark.slow
def test_an_uploaded_corpus_gets_the_same_id_rules_as_the_cli(server: Any, tmp_path: Path) -> None:
    admin = server.keys["admin"]
    faq = tmp_path / "faq.md"
    faq.write_text("# FAQ\n\nReturns take 30 days.\n")
    first = wait_job(server.url, admin, upload(server.url, admin, faq).json()["id"])
    assert first["status"] == "succeeded", first
    before = _sources(server)
    corpus = tmp_path / "kb.jsonl"
    records = ({"id": "kb-1", "text": "Gift cards never expire."},
               {"id": "../../etc/passwd", "text": "root"},
               {"id": "faq.md", "text": "Returns take 2 days."})  # fmt: skip
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    job = wait_job(server.url, admin, upload(server.url, admin, corpus).json()["id"])
    assert job["status"] == "partial", job
    errors = {r["document_id"]: r["error"] for r in job["results"] if r["status"] == "failed"}
    assert errors == {
        "kb.jsonl line 2": "kb.jsonl line 2: the id '../../etc/passwd' starts with a slash or "
        "has a '.' or '..' path segment; ids must not read as a path out of a folder (use e.g. "
        "a URL or a name)",
        "faq.md": "kb.jsonl line 3 (id 'faq.md'): the document id 'faq.md' is already taken by "
        "the file 'faq.md', so this corpus record cannot replace it; give it another id, or "
        "delete 'faq.md' first (`clearline delete-source`)",
    }
    assert _sources(server) == {**before, "kb-1": (1, "corpus-text")}


@pytest.mark.parametrize(("text", "message"), BAD_GOLDEN, ids=BAD_GOLDEN_IDS)
def test_an_http_golden_import_gets_the_same_checks_as_the_cli(
    text: str, message: str, server: Any
) -> None:
    qa = auth(server.keys["qa_lead"])
    url = f"{server.url}/v1/qa/golden"
    assert httpx.post(url, headers=qa, json={"jsonl": _lines(GOOD)}).json() == {"imported": 1}
    before = httpx.get(url, headers=qa).json()
    refused = httpx.post(url, headers=qa, json={"jsonl": text}, timeout=60)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["message"] == message.replace("g.jsonl", "upload")
    assert httpx.get(url, headers=qa).json() == before
