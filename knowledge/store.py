"""The knowledge store: document registry, chunk table, keyword index and vectors.

Consistency rule: SQLite is the source of truth for what is visible. A chunk is visible
only while its row is in `chunks`; the registry row, the chunk rows and the keyword index
of a version change together in one SQLite transaction. Vectors live in Chroma, which
cannot join that transaction, so every Chroma write is bracketed by an intent row in
`cleanup`: written before vectors of a new version are added, and before vectors of an old
version are removed. `recover()` (run when the store opens) finishes every such intent, so
a process killed at any point leaves no half document visible and no stray vectors.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from knowledge.errors import DocumentNotFound
from knowledge.keyword_fts import SqliteKeywordIndex, rekey_keyword_tables
from knowledge.protocols import VectorStore
from knowledge.records import Chunk, DocumentRecord, ScoredId
from knowledge.records import DocumentWrite as DocumentWrite  # re-exported for callers
from knowledge.records import WriteResult as WriteResult
from knowledge.spelling import corrections
from knowledge.tenancy import validate_tenant

SCHEMA_VERSION = 3  # 2: keyword rows keyed by a hash of the chunk id; 3: flagged sentences
_SCHEMA = (Path(__file__).parent / "store_schema.sql").read_text(encoding="utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class KnowledgeStore:
    """Per-region store of every tenant's documents, chunks and indexes.

    Thread-safe: one lock serialises access to the SQLite connection; the slow work of
    ingestion (parsing, embedding) happens before `write` is called.
    """

    def __init__(self, db_path: Path, vectors: VectorStore) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.path = db_path
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA secure_delete=ON")  # no old text in freed or new pages
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        self._db.executescript(_SCHEMA)
        if version == 1:
            rekey_keyword_tables(self._db)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if "flagged" not in columns:  # stores written before version 3
            self._db.execute("ALTER TABLE documents ADD COLUMN flagged TEXT NOT NULL DEFAULT '[]'")
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._lock = threading.RLock()
        self.vectors = vectors
        self.keywords = SqliteKeywordIndex(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the store's connection, for maintenance such as
        knowledge.rewrite (rolled back if the block raises)."""
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------

    def get(self, tenant: str, document_id: str) -> DocumentRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM documents WHERE tenant=? AND document_id=?",
                (validate_tenant(tenant), document_id),
            ).fetchone()
        return DocumentRecord.from_row(row) if row else None

    def list_documents(self, tenant: str) -> list[DocumentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM documents WHERE tenant=? ORDER BY document_id",
                (validate_tenant(tenant),),
            ).fetchall()
        return [DocumentRecord.from_row(row) for row in rows]

    def chunks(self, tenant: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Visible chunks by id; ids of invisible (pending or retired) chunks are absent."""
        found: dict[str, Chunk] = {}
        with self._lock:
            for start in range(0, len(chunk_ids), 500):
                part = list(chunk_ids[start : start + 500])
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    "SELECT chunk_id, document_id, version, ordinal, text, section, page, "
                    f"metadata FROM chunks WHERE tenant=? AND chunk_id IN ({marks})",
                    (tenant, *part),
                ).fetchall()
                for row in rows:
                    found[row[0]] = Chunk(
                        document_id=row[1],
                        version=row[2],
                        ordinal=row[3],
                        text=row[4],
                        section=row[5],
                        page=row[6],
                        metadata=json.loads(row[7]),
                    )
        return found

    def document_chunks(self, tenant: str, document_id: str) -> list[Chunk]:
        with self._lock:
            ids = [
                row[0]
                for row in self._db.execute(
                    "SELECT chunk_id FROM chunks WHERE tenant=? AND document_id=? ORDER BY ordinal",
                    (tenant, document_id),
                )
            ]
        found = self.chunks(tenant, ids)
        return [found[i] for i in ids]

    def keyword_search(self, tenant: str, query: str, k: int) -> list[ScoredId]:
        with self._lock:
            return self.keywords.search(validate_tenant(tenant), query, k)

    def term_weights(self, tenant: str, words: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each word in the tenant's chunks (BM25's idf, >= 0)."""
        with self._lock:
            counts, total = self.keywords.document_frequencies(validate_tenant(tenant), words)
        return {
            w: max(0.0, math.log((total - n + 0.5) / (n + 0.5) + 1.0)) for w, n in counts.items()
        }

    def corrections(self, tenant: str, message: str) -> dict[str, str]:
        """Misspelt words of `message` -> the words of the tenant's chunks they stand for
        (knowledge.spelling)."""
        with self._lock:
            words = self.keywords.words(validate_tenant(tenant))
        return corrections(message, words)

    def absent_words(self, tenant: str, words: Sequence[str]) -> list[str]:
        """The words no chunk of the tenant holds (after the keyword index's stemming)."""
        with self._lock:
            counts, _ = self.keywords.document_frequencies(validate_tenant(tenant), words)
        return [w for w in dict.fromkeys(words) if counts.get(w, 0) == 0]

    # -- writing -------------------------------------------------------------------------

    def write(
        self,
        tenant: str,
        document: DocumentWrite,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
    ) -> WriteResult:
        """Make `chunks` the visible content of the document, replacing any old version.

        `chunks` must carry version 0; the store assigns the real version number.
        """
        return self.write_many(tenant, [(document, chunks, vectors)])[0]

    def write_many(
        self,
        tenant: str,
        items: Sequence[tuple[DocumentWrite, Sequence[Chunk], Sequence[Sequence[float]]]],
    ) -> list[WriteResult]:
        """`write` for several documents with one vector upsert and one commit.

        Each document still switches atomically from its old version to its new one.
        """
        validate_tenant(tenant)
        plans: list[tuple[DocumentWrite, DocumentRecord | None, int, list[Chunk]]] = []
        results: dict[str, WriteResult] = {}
        all_chunks: list[Chunk] = []
        all_vectors: list[Sequence[float]] = []
        for document, chunks, vectors in items:
            current = self.get(tenant, document.document_id)
            if current is not None and current.content_hash == document.content_hash:
                results[document.document_id] = WriteResult(
                    "unchanged", current.version, current.chunk_count
                )
                continue
            version = (current.version if current else 0) + 1
            versioned = [
                Chunk(
                    document_id=document.document_id,
                    version=version,
                    ordinal=c.ordinal,
                    text=c.text,
                    section=c.section,
                    page=c.page,
                    metadata={**c.metadata, "title": document.title},
                )
                for c in chunks
            ]
            plans.append((document, current, version, versioned))
            all_chunks.extend(versioned)
            all_vectors.extend(vectors)
        if plans:
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO cleanup VALUES (?, ?, ?, 'pending', ?)",
                    [(tenant, d.document_id, v, _now()) for d, _, v, _ in plans],
                )
            self.vectors.add(tenant, all_chunks, all_vectors)
            with self._transaction() as db:
                for document, current, version, versioned in plans:
                    self._switch(db, tenant, document, current, version, versioned)
            for document, current, version, versioned in plans:
                if current is not None:
                    self._finish_cleanup(tenant, document.document_id, current.version)
                results[document.document_id] = WriteResult(
                    "replaced" if current else "ingested", version, len(versioned)
                )
        return [results[document.document_id] for document, _, _ in items]

    def _switch(
        self,
        db: sqlite3.Connection,
        tenant: str,
        document: DocumentWrite,
        current: DocumentRecord | None,
        version: int,
        versioned: list[Chunk],
    ) -> None:
        """Inside a transaction: retire the old version, make the new one visible."""
        created = current.created_at.isoformat() if current else _now()
        if current is not None:
            self._remove_visible(db, tenant, document.document_id, current.version)
            db.execute(
                "INSERT OR REPLACE INTO cleanup VALUES (?, ?, ?, 'superseded', ?)",
                (tenant, document.document_id, current.version, _now()),
            )
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    c.chunk_id,
                    tenant,
                    c.document_id,
                    c.version,
                    c.ordinal,
                    c.text,
                    c.section,
                    c.page,
                    json.dumps(c.metadata),
                    _now(),
                )
                for c in versioned
            ],
        )
        self.keywords.add(tenant, versioned)
        db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tenant,
                document.document_id,
                document.title,
                document.source,
                document.doc_type,
                document.content_hash,
                version,
                len(versioned),
                json.dumps(document.metadata),
                created,
                _now(),
                json.dumps([f.as_dict() for f in document.flagged]),
            ),
        )
        db.execute(
            "DELETE FROM cleanup WHERE tenant=? AND document_id=? AND version=?",
            (tenant, document.document_id, version),
        )

    def delete(self, tenant: str, document_id: str) -> None:
        """Remove a document from the registry and from every index."""
        current = self.get(tenant, document_id)
        if current is None:
            raise DocumentNotFound(tenant, document_id)
        with self._transaction() as db:
            self._remove_visible(db, tenant, document_id, current.version)
            db.execute(
                "DELETE FROM documents WHERE tenant=? AND document_id=?", (tenant, document_id)
            )
            db.execute(
                "INSERT OR REPLACE INTO cleanup VALUES (?, ?, ?, 'deleted', ?)",
                (tenant, document_id, current.version, _now()),
            )
        self._finish_cleanup(tenant, document_id, current.version)

    def _remove_visible(
        self, db: sqlite3.Connection, tenant: str, document_id: str, version: int
    ) -> None:
        ids = [
            row[0]
            for row in db.execute(
                "SELECT chunk_id FROM chunks WHERE tenant=? AND document_id=? AND version=?",
                (tenant, document_id, version),
            )
        ]
        self.keywords.delete(tenant, ids)
        db.execute(
            "DELETE FROM chunks WHERE tenant=? AND document_id=? AND version=?",
            (tenant, document_id, version),
        )

    def _finish_cleanup(self, tenant: str, document_id: str, version: int) -> None:
        self.vectors.delete_version(tenant, document_id, version)
        with self._transaction() as db:
            db.execute(
                "DELETE FROM cleanup WHERE tenant=? AND document_id=? AND version=?",
                (tenant, document_id, version),
            )

    def drop_tenant(self, tenant: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM chunks WHERE tenant=?", (tenant,))
            db.execute("DELETE FROM documents WHERE tenant=?", (tenant,))
            db.execute("DELETE FROM cleanup WHERE tenant=?", (tenant,))
            self.keywords.drop_tenant(tenant)
        self.vectors.drop_tenant(tenant)

    # -- recovery ------------------------------------------------------------------------

    def recover(self) -> int:
        """Finish every interrupted write or delete; returns how many were finished."""
        with self._lock:
            pending = self._db.execute(
                "SELECT tenant, document_id, version FROM cleanup"
            ).fetchall()
        for tenant, document_id, version in pending:
            self._finish_cleanup(tenant, document_id, version)
        return len(pending)

    def consistency_problems(self, tenant: str) -> list[str]:
        """Disagreements between registry, chunk table, keyword index and vectors."""
        problems: list[str] = []
        with self._lock:
            chunk_ids = {
                row[0]
                for row in self._db.execute("SELECT chunk_id FROM chunks WHERE tenant=?", (tenant,))
            }
            counts = dict(
                self._db.execute(
                    "SELECT document_id, chunk_count FROM documents WHERE tenant=?", (tenant,)
                ).fetchall()
            )
            actual = dict(
                self._db.execute(
                    "SELECT c.document_id, COUNT(*) FROM chunks c JOIN documents d "
                    "ON c.tenant=d.tenant AND c.document_id=d.document_id "
                    "AND c.version=d.version WHERE c.tenant=? GROUP BY c.document_id",
                    (tenant,),
                ).fetchall()
            )
            keyword_ids = self.keywords.ids(tenant)
            leftovers = self._db.execute(
                "SELECT COUNT(*) FROM cleanup WHERE tenant=?", (tenant,)
            ).fetchone()[0]
        vector_ids = self.vectors.ids(tenant)
        if counts != actual:
            problems.append(f"registry chunk counts {counts} != chunk rows {actual}")
        if keyword_ids != chunk_ids:
            problems.append(f"keyword index differs by {len(keyword_ids ^ chunk_ids)} ids")
        if vector_ids != chunk_ids:
            problems.append(f"vector store differs by {len(vector_ids ^ chunk_ids)} ids")
        if leftovers:
            problems.append(f"{leftovers} unfinished cleanup intents")
        return problems
