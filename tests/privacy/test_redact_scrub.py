"""The removal primitives on real SQLite files and a real Chroma store: replacing a value in
a tenant's rows (JSON included), compaction that leaves no old byte, and vector rebuilds into
fresh files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from knowledge.records import Chunk
from knowledge.rewrite import rebuild_vectors, rewrite_text, stale_chunks
from knowledge.store import DocumentWrite, KnowledgeStore
from knowledge.testing import HashEmbedder
from knowledge.vector_chroma import ChromaVectorStore
from privacy.proof import find_bytes
from privacy.scrub import ValueReplacer, compact_sqlite, rewrite_tenant_rows

VALUE = "Zoë Quillfeather"


def _bytes_of(path: Path, needle: bytes) -> int:
    total = 0
    for suffix in ("", "-wal"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            total += file.read_bytes().count(needle)
    return total


def test_replacer_matches_any_case_any_spacing_and_inside_json_escapes() -> None:
    replacer = ValueReplacer(VALUE, "[PERSON]")
    assert replacer.rewrite("Hi zoë  QUILLFEATHER!") == ("Hi [PERSON]!", 1)
    escaped = json.dumps({"who": f"{VALUE}\nagain"})  # ensure_ascii: "Zo\\u00eb"
    assert VALUE not in escaped and replacer.holds(escaped)
    new, count = replacer.rewrite_cell(escaped)
    assert count == 1 and json.loads(new) == {"who": "[PERSON]\nagain"}
    assert replacer.rewrite_cell("Zoë Quill") == ("Zoë Quill", 0)


def test_rewrite_touches_only_the_tenants_rows_and_never_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, tenant TEXT, scenario TEXT);"
        "CREATE TABLE messages (id TEXT PRIMARY KEY, conversation_id TEXT, text TEXT);"
        "CREATE TABLE golden (id TEXT, tenant TEXT, body TEXT, PRIMARY KEY (id, tenant));"
        "CREATE TABLE loose (note TEXT);"
    )
    db.execute("INSERT INTO conversations VALUES ('c1', 'acme', ?)", (f"about {VALUE}",))
    db.execute("INSERT INTO conversations VALUES ('c2', 'globex', '')")
    db.execute("INSERT INTO messages VALUES ('m1', 'c1', ?)", (f"I am {VALUE}",))
    db.execute("INSERT INTO messages VALUES ('m2', 'c2', ?)", (f"I am {VALUE}",))
    db.execute("INSERT INTO golden VALUES (?, 'acme', ?)", (VALUE, json.dumps({"q": VALUE})))
    db.execute("INSERT INTO loose VALUES (?)", (VALUE,))
    replacer = ValueReplacer(VALUE, "[PERSON]")

    report = rewrite_tenant_rows(db, "acme", replacer.rewrite, replacer.holds)

    assert report.replaced == {"conversations.scenario": 1, "messages.text": 1, "golden.body": 1}
    assert report.unscoped == ["loose"]
    rows = dict(db.execute("SELECT id, text FROM messages").fetchall())
    assert rows == {"m1": "I am [PERSON]", "m2": f"I am {VALUE}"}
    assert db.execute("SELECT id FROM golden").fetchone()[0] == VALUE  # a key stays
    again = rewrite_tenant_rows(db, "acme", replacer.rewrite, replacer.holds)
    assert again.total == 0


def test_compaction_leaves_no_old_bytes_in_the_file_wal_or_keyword_index(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE notes (tenant TEXT, text TEXT)")
    db.execute("CREATE VIRTUAL TABLE kw USING fts5(text)")
    for i in range(300):
        db.execute("INSERT INTO notes VALUES ('acme', ?)", (f"note {i} by Quillfeather",))
        db.execute("INSERT INTO kw VALUES (?)", (f"note {i} by quillfeather",))
    db.execute("UPDATE notes SET text = replace(text, 'Quillfeather', '[PERSON]')")
    db.execute("DELETE FROM kw")
    assert _bytes_of(path, b"uillfeather") > 0  # still in free pages, WAL and FTS segments

    compact_sqlite(path)

    assert _bytes_of(path, b"uillfeather") == 0
    assert db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 300  # still readable
    assert find_bytes(tmp_path, ["Quillfeather"]) == []


def _write(store: KnowledgeStore, embedder: HashEmbedder, doc: str, texts: list[str]) -> None:
    chunks = [Chunk(doc, 0, i, t, metadata={"title": doc}) for i, t in enumerate(texts)]
    store.write("acme", DocumentWrite(doc, doc, doc, "md", f"h-{doc}"), chunks,
                embedder.embed(texts))  # fmt: skip


def test_knowledge_rewrite_reembeds_into_fresh_vector_files(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    root = tmp_path / "region"
    store = KnowledgeStore(root / "knowledge.db", ChromaVectorStore(root / "chroma"))
    _write(store, embedder, "contacts", [f"Escalations go to {VALUE} on Mondays.", "Refunds."])
    _write(store, embedder, "old", ["Retired text about parcels."])
    store.delete("acme", "old")  # Chroma keeps deleted vectors in its files
    legacy = sorted(p.name for p in (root / "chroma").iterdir())
    replacer = ValueReplacer(VALUE, "[PERSON]")

    changed = rewrite_text(store, "acme", replacer.rewrite)
    assert (changed.chunks, changed.replacements) == (1, 1)
    stale = stale_chunks(store)["acme"]
    assert [c.text for c in stale] == ["Escalations go to [PERSON] on Mondays."]
    assert store.keyword_search("acme", "Quillfeather", 5) == []
    fresh = {"acme": {c.chunk_id: embedder.embed([c.text])[0] for c in stale}}

    assert rebuild_vectors(store, fresh) == 0
    assert store.consistency_problems("acme") == []
    files = sorted(p.name for p in (root / "chroma").iterdir())
    assert files == ["CURRENT", "g1"] and not set(legacy) & set(files)
    hit = store.vectors.query("acme", fresh["acme"][stale[0].chunk_id], 1)[0]
    assert hit.chunk_id == stale[0].chunk_id and hit.score > 0.999
    store.close()

    # A rebuild interrupted before its switch leaves a generation that the next open removes.
    (root / "chroma" / "g7").mkdir()
    reopened = KnowledgeStore(root / "knowledge.db", ChromaVectorStore(root / "chroma"))
    assert reopened.consistency_problems("acme") == []
    assert sorted(p.name for p in (root / "chroma").iterdir()) == ["CURRENT", "g1"]
    reopened.close()
