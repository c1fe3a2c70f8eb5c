"""Found by probing: a corpus JSONL could name documents `../../etc/passwd`, ids holding NUL
or newlines, or of 5,000 characters, and a record could silently replace an uploaded file
of the same name. Each such record now fails on its own, naming its line and the rule (as
any bad corpus line does); the other records and the documents already stored are kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from ingest.sources import expand
from knowledge.store import KnowledgeStore
from knowledge.testing import HashEmbedder, InMemoryVectorStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KnowledgeStore]:
    store = KnowledgeStore(tmp_path / "k.db", InMemoryVectorStore())
    yield store
    store.close()


def _corpus(path: Path, *ids: object) -> Path:
    lines = [json.dumps({"id": i, "title": "T", "text": f"Returns take {n} days."})
             for n, i in enumerate(ids, 1)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(store: KnowledgeStore) -> dict[str, tuple[int, str, str]]:
    return {d.document_id: (d.version, d.content_hash, d.source)
            for d in store.list_documents("acme")}  # fmt: skip


def test_bad_corpus_ids_fail_naming_the_line_and_the_rule(
    store: KnowledgeStore, tmp_path: Path
) -> None:
    with Ingestor(store, HashEmbedder()) as ingestor:
        ingestor.run("acme", expand([_corpus(tmp_path / "old.jsonl", "kept")]))
        before = _state(store)
        corpus = _corpus(
            tmp_path / "kb.jsonl",
            "https://example.test/returns",  # a URL, kept verbatim
            "../../etc/passwd",
            "a\x00b",
            "two\nlines",
            "x" * 5000,
            "/etc/shadow",
            "docs/./faq",
            "x" * 200,
        )
        results = ingestor.run("acme", expand([corpus]))
    errors = {r.document_id: r.error for r in results if r.status == "failed"}
    path_rule = "starts with a slash or has a '.' or '..' path segment"
    assert errors == {
        "kb.jsonl line 2": f"kb.jsonl line 2: the id '../../etc/passwd' {path_rule}; ids must "
        "not read as a path out of a folder (use e.g. a URL or a name)",
        "kb.jsonl line 3": "kb.jsonl line 3: the id 'a\\x00b' contains a control character "
        "or line break (NUL, tab, newline...); ids must be one line of printable text",
        "kb.jsonl line 4": "kb.jsonl line 4: the id 'two\\nlines' contains a control "
        "character or line break (NUL, tab, newline...); ids must be one line of printable "
        "text",
        "kb.jsonl line 5": f"kb.jsonl line 5: the id '{'x' * 57}...' is 5,000 characters; "
        "keep ids to 200 characters, as uploaded file names are",
        "kb.jsonl line 6": f"kb.jsonl line 6: the id '/etc/shadow' {path_rule}; ids must "
        "not read as a path out of a folder (use e.g. a URL or a name)",
        "kb.jsonl line 7": f"kb.jsonl line 7: the id 'docs/./faq' {path_rule}; ids must "
        "not read as a path out of a folder (use e.g. a URL or a name)",
    }
    assert [(r.document_id, r.status) for r in results if r.status != "failed"] == [
        ("https://example.test/returns", "ingested"),
        ("x" * 200, "ingested"),
    ]
    after = _state(store)
    assert {k: after[k] for k in before} == before  # what was stored before is untouched
    assert sorted(after) == sorted([*before, "https://example.test/returns", "x" * 200])


def test_a_corpus_record_cannot_replace_a_file_document_of_the_same_id(
    store: KnowledgeStore, tmp_path: Path
) -> None:
    faq = tmp_path / "faq.md"
    faq.write_text("# FAQ\n\nReturns take 30 days.\n", encoding="utf-8")
    with Ingestor(store, HashEmbedder()) as ingestor:
        [filed] = ingestor.run("acme", expand([faq]))
        [recorded] = ingestor.run("acme", expand([_corpus(tmp_path / "a.jsonl", "notes.md")]))
        assert filed.status == recorded.status == "ingested"
        before = _state(store)
        corpus = _corpus(tmp_path / "kb.jsonl", "faq.md")
        [record] = ingestor.run("acme", expand([corpus]))
        notes = tmp_path / "notes.md"
        notes.write_text("# Notes\n\nShipping is free.\n", encoding="utf-8")
        [file] = ingestor.run("acme", expand([notes]))
        [again] = ingestor.run("acme", expand([faq]))  # a file may still replace a file
    assert record.status == "failed" and record.error == (
        "kb.jsonl line 1 (id 'faq.md'): the document id 'faq.md' is already taken by the "
        f"file '{faq}', so this corpus record cannot replace it; give it another id, or "
        "delete 'faq.md' first (`clearline delete-source`)"
    )
    assert file.status == "failed" and file.error == (
        f"{notes}: the document id 'notes.md' is already taken by the corpus record "
        "'a.jsonl line 1 (id 'notes.md')', so this file cannot replace it; give it another "
        "id, or delete 'notes.md' first (`clearline delete-source`)"
    )
    assert again.status == "unchanged"
    assert _state(store) == before
    text = " ".join(c.text for c in store.document_chunks("acme", "faq.md"))
    assert "30 days" in text
