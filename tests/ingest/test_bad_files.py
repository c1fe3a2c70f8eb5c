"""Every bad file fails with a message naming it and saying what to do; nothing is lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.guards import Limits
from ingest.pipeline import Ingestor
from ingest.sources import expand
from ingest.worker import Budget
from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore
from tests.conftest import DATA

EXPECTED = {
    "empty.txt": "the file is empty",
    "blank.md": "only blank space",
    "corrupt.pdf": "corrupt or truncated",
    "truncated.pdf": "corrupt or truncated",
    "encrypted.pdf": "encrypted (password protected); upload an unencrypted copy",
    "scanned-no-text.pdf": "no text layer",
    "zip-bomb.docx": "zip bomb",
    "entity-bomb.docx": "entity bomb",
    "not-a-docx.docx": "not a valid DOCX",
    "image.png": "unsupported file type .png",
    "archive.zip": "unsupported file type .zip",
    "binary.txt": "binary data, not text",
    "bad-lines.jsonl line 2": "is not valid JSON",
    "bad-lines.jsonl line 3": "has neither 'text' nor 'html'",
}


@pytest.fixture
def store(tmp_path: Path) -> KnowledgeStore:
    return KnowledgeStore(tmp_path / "k.db", ChromaVectorStore(tmp_path / "chroma"))


def test_bad_files_fail_one_by_one_and_prior_data_is_intact(
    store: KnowledgeStore, minilm: Any
) -> None:
    with Ingestor(store, minilm) as ingestor:
        first = ingestor.run("acme", expand([DATA / "valid"]))
        before = {d.document_id: (d.version, d.chunk_count) for d in store.list_documents("acme")}
        results = ingestor.run("acme", expand([DATA / "bad"]))
    assert all(r.status == "ingested" and r.chunks > 0 for r in first)

    failed = {r.document_id: r.error for r in results if r.status == "failed"}
    assert set(failed) == set(EXPECTED)
    for document_id, fragment in EXPECTED.items():
        message = failed[document_id] or ""
        assert fragment in message, (document_id, message)
        assert document_id.split(" ")[0] in message  # the message names the file
    ok = [r for r in results if r.status != "failed"]
    assert [(r.document_id, r.status) for r in ok] == [("ok-1", "ingested")]

    after = {d.document_id: (d.version, d.chunk_count) for d in store.list_documents("acme")}
    assert after == {**before, "ok-1": after["ok-1"]}
    assert store.consistency_problems("acme") == []


def test_size_limit_is_checked_before_parsing(store: KnowledgeStore, minilm: Any) -> None:
    with Ingestor(store, minilm, limits=Limits(max_file_bytes=1000)) as ingestor:
        results = ingestor.run("acme", expand([DATA / "valid" / "returns-policy.pdf"]))
    assert results[0].status == "failed"
    assert "over the 0.000954 MB limit; split it or raise CLEARLINE_MAX_FILE_MB" in (
        results[0].error or ""
    )
    assert "returns-policy.pdf" in (results[0].error or "")
    assert store.list_documents("acme") == []


def test_time_budget(store: KnowledgeStore, minilm: Any, tmp_path: Path) -> None:
    with Ingestor(store, minilm, budget=Budget(seconds=0.001)) as ingestor:
        results = ingestor.run("acme", expand([DATA / "valid" / "shipping.docx"]))
    assert results[0].status == "failed"
    assert "took longer than the 0.001 s budget" in (results[0].error or "")
    assert "shipping.docx" in (results[0].error or "")


def test_memory_budget_and_the_next_file_still_goes_through(
    store: KnowledgeStore, minilm: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rows = "".join(f"<p>Rule {i}: items of type {i} may be returned.</p>" for i in range(200_000))
    (folder / "a-huge.html").write_text(f"<html><body><h1>Rules</h1>{rows}</body></html>")
    (folder / "b-small.html").write_bytes((DATA / "valid" / "warranty.html").read_bytes())
    with Ingestor(store, minilm, budget=Budget(memory_mb=64)) as ingestor:
        results = ingestor.run("acme", expand([folder]))
    assert [r.status for r in results] == ["failed", "ingested"]
    assert "a-huge.html" in (results[0].error or "")
    assert "memory budget" in (results[0].error or "")
    assert [d.document_id for d in store.list_documents("acme")] == ["b-small.html"]
