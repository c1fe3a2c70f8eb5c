"""The registry, chunk table and both indexes change together, or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from knowledge.errors import DocumentNotFound
from knowledge.records import Chunk
from knowledge.store import DocumentWrite, KnowledgeStore
from knowledge.testing import HashEmbedder
from knowledge.vector_chroma import ChromaVectorStore

EMBED = HashEmbedder()


def _doc(doc_id: str, content_hash: str) -> DocumentWrite:
    return DocumentWrite(
        doc_id, title=doc_id, source=f"{doc_id}.md", doc_type="md", content_hash=content_hash
    )


def _chunks(doc_id: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(doc_id, 0, i, t, section="Intro") for i, t in enumerate(texts)]


@pytest.fixture
def store(tmp_path: Path) -> KnowledgeStore:
    return KnowledgeStore(tmp_path / "k.db", ChromaVectorStore(tmp_path / "chroma"))


def _write(store: KnowledgeStore, doc_id: str, h: str, texts: list[str]) -> Any:
    return store.write("acme", _doc(doc_id, h), _chunks(doc_id, texts), EMBED.embed(texts))


def test_new_unchanged_replaced(store: KnowledgeStore) -> None:
    first = _write(store, "refunds", "h1", ["Refunds take five days.", "Gift cards are final."])
    assert (first.status, first.version, first.chunk_count) == ("ingested", 1, 2)
    again = _write(store, "refunds", "h1", ["Refunds take five days.", "Gift cards are final."])
    assert (again.status, again.version) == ("unchanged", 1)
    changed = _write(store, "refunds", "h2", ["Refunds take ten days."])
    assert (changed.status, changed.version, changed.chunk_count) == ("replaced", 2, 1)
    texts = [c.text for c in store.document_chunks("acme", "refunds")]
    assert texts == ["Refunds take ten days."]
    assert store.consistency_problems("acme") == []
    assert [h.chunk_id for h in store.keyword_search("acme", "gift cards", 5)] == []


def test_delete_removes_from_every_index(store: KnowledgeStore) -> None:
    _write(store, "refunds", "h1", ["Refunds take five days."])
    _write(store, "shipping", "h1", ["Shipping is free over 50 euros."])
    store.delete("acme", "refunds")
    assert [d.document_id for d in store.list_documents("acme")] == ["shipping"]
    assert store.keyword_search("acme", "refunds", 5) == []
    shipping = {c.chunk_id for c in store.document_chunks("acme", "shipping")}
    assert store.vectors.ids("acme") == shipping
    assert store.consistency_problems("acme") == []
    with pytest.raises(DocumentNotFound, match="no knowledge source 'refunds'"):
        store.delete("acme", "refunds")


def test_a_crash_between_vector_write_and_commit_leaves_the_old_version(
    store: KnowledgeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(store, "refunds", "h1", ["Refunds take five days."])

    def crash(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store.keywords, "add", crash)  # dies inside the visibility switch
    with pytest.raises(KeyboardInterrupt):
        _write(store, "refunds", "h2", ["Refunds take ten days.", "New rule."])
    monkeypatch.undo()
    # Readers still see exactly the old version; the new vectors are stray until recovery.
    assert [c.text for c in store.document_chunks("acme", "refunds")] == ["Refunds take five days."]
    assert store.consistency_problems("acme") != []
    store.close()
    reopened = KnowledgeStore(tmp_path / "k.db", ChromaVectorStore(tmp_path / "chroma"))
    assert reopened.recover() == 1
    assert reopened.consistency_problems("acme") == []
    assert reopened.get("acme", "refunds").version == 1  # type: ignore[union-attr]


def test_invalid_tenant_name_is_refused_with_the_rule(store: KnowledgeStore) -> None:
    with pytest.raises(Exception, match="3-40 lowercase letters"):
        store.list_documents("Bad Tenant!")


def test_schema_1_keyword_rows_are_rekeyed_on_open(tmp_path: Path) -> None:
    import sqlite3

    store = KnowledgeStore(tmp_path / "k.db", ChromaVectorStore(tmp_path / "chroma"))
    _write(store, "refunds", "h1", ["Refunds take five days.", "Gift cards are final."])
    store.close()
    db = sqlite3.connect(tmp_path / "k.db")  # make it look like a schema-1 store
    rows = db.execute("SELECT chunk_id, text FROM kw_acme").fetchall()
    db.execute("DELETE FROM kw_acme")
    db.executemany("INSERT INTO kw_acme (chunk_id, text) VALUES (?, ?)", rows)
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    reopened = KnowledgeStore(tmp_path / "k.db", ChromaVectorStore(tmp_path / "chroma"))
    reopened.delete("acme", "refunds")  # deletes keyword rows by their new keys
    assert reopened.consistency_problems("acme") == []
    assert reopened.keyword_search("acme", "refunds gift", 5) == []


def test_corrections_follow_the_knowledge_as_it_changes(store: KnowledgeStore) -> None:
    """Misspelt words are corrected to the tenant's own words, read again after a write."""
    assert store.corrections("acme", "retrun policy") == {}  # nothing to correct to yet
    _write(store, "returns", "h1", ["You can return an item within 30 days."])
    assert store.corrections("acme", "retrun policy") == {"retrun": "return"}
    assert store.corrections("acme", "what about shiping") == {}
    _write(store, "shipping", "h1", ["Shipping is free over 50 euros."])
    assert store.corrections("acme", "what about shiping") == {"shiping": "shipping"}
    assert store.corrections("other", "retrun policy") == {}  # another tenant's words
    store.delete("acme", "returns")
    assert store.corrections("acme", "retrun policy") == {}
