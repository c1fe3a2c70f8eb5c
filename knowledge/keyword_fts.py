"""BM25 keyword index on SQLite FTS5: one virtual table per tenant.

The index shares the knowledge database connection so that its writes commit in the same
transaction as the document registry (see knowledge.store). It never commits by itself.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from knowledge.records import Chunk, ScoredId
from knowledge.tenancy import partition_name

_WORD = re.compile(r"\w+", re.UNICODE)
_LOWER_WORDS = re.compile(r"[a-z]+")
STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")


def load_stopwords(path: Path = STOPWORDS_FILE) -> frozenset[str]:
    """The words of a stop-word file: one a line, "#" starts a comment line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#"))


# English function words (stopwords.txt), read once: they match nearly every chunk, add almost
# nothing to BM25 and make an OR-query score the whole index (measured: bench/query.py).
STOPWORDS = load_stopwords()

TOKENIZER = "porter unicode61 remove_diacritics 2"
# An OR-query costs about one step per posting (term occurrence in a chunk) it reads. Past
# this many postings, the most common query terms are dropped first: they separate least
# (lowest IDF) and cost most. Small collections never reach it.
POSTINGS_BUDGET = 20_000
MIN_TERMS = 3


def query_words(text: str, max_terms: int = 64) -> list[str]:
    """Distinct content words of `text` in order of appearance (the question comes first)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in seen and word not in STOPWORDS:
            seen[word] = None
        if len(seen) >= max_terms:
            break
    return list(seen)


def fts_query(text: str, max_terms: int = 64) -> str:
    """An FTS5 OR-query of the content words of `text`, each quoted (no operators leak)."""
    return _or(query_words(text, max_terms))


def _or(words: Sequence[str]) -> str:
    return " OR ".join(f'"{word}"' for word in words)


class SqliteKeywordIndex:
    """KeywordIndex over FTS5 tables named after the tenant (`kw_<tenant>`)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        # Per table: chunk count and document frequency by query word; dropped on any write.
        self._sizes: dict[str, int] = {}
        self._frequencies: dict[str, dict[str, int]] = {}
        self._words: dict[str, Counter[str]] = {}  # per table: its lower-case words
        self._probe_ready = False
        self._vocabularies: set[str] = set()  # tables whose fts5vocab view exists

    def _table(self, tenant: str, create: bool = False) -> str:
        table = "kw_" + partition_name(tenant)
        if create:
            self._db.execute(
                f'CREATE VIRTUAL TABLE IF NOT EXISTS "{table}" USING fts5('
                f"chunk_id UNINDEXED, text, tokenize='{TOKENIZER}')"
            )
            self._forget(table)
        return table

    def _exists(self, table: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
        ).fetchone()
        return row is not None

    def add(self, tenant: str, chunks: Sequence[Chunk]) -> None:
        table = self._table(tenant, create=True)
        self.delete(tenant, [c.chunk_id for c in chunks])
        self._db.executemany(
            f'INSERT INTO "{table}" (rowid, chunk_id, text) VALUES (?, ?, ?)',
            [(_rowid(c.chunk_id), c.chunk_id, _indexed_text(c)) for c in chunks],
        )

    def delete(self, tenant: str, chunk_ids: Sequence[str]) -> None:
        table = self._table(tenant)
        if not chunk_ids or not self._exists(table):
            return
        self._forget(table)
        # By rowid: FTS5 cannot index chunk_id, and a scan per id is quadratic at scale.
        self._db.executemany(
            f'DELETE FROM "{table}" WHERE rowid = ?', [(_rowid(cid),) for cid in chunk_ids]
        )

    def search(self, tenant: str, query: str, k: int) -> list[ScoredId]:
        table = self._table(tenant)
        words = query_words(query)
        if not words or not self._exists(table):
            return []
        if len(words) > MIN_TERMS:
            words = self._selective(table, words)
        match = _or(words)
        if not match:
            return []
        rows = self._db.execute(
            f'SELECT chunk_id, bm25("{table}") AS rank FROM "{table}" '
            f'WHERE "{table}" MATCH ? ORDER BY rank LIMIT ?',
            (match, k),
        ).fetchall()
        # FTS5's bm25() is negated so that ORDER BY ascending puts the best first.
        return [ScoredId(chunk_id=row[0], score=-float(row[1])) for row in rows]

    def _selective(self, table: str, words: list[str]) -> list[str]:
        """Keep the query within POSTINGS_BUDGET by dropping its most common words."""
        size = self._sizes.get(table)
        if size is None:
            size = self._db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            self._sizes[table] = size
        if size * len(words) <= POSTINGS_BUDGET:
            return words  # cannot exceed the budget: skip the lookups
        frequencies = self._document_frequencies(table, words)
        present = [w for w in words if frequencies[w]]
        total = sum(frequencies[w] for w in present)
        dropped: set[str] = set()
        for word in sorted(present, key=lambda w: -frequencies[w]):
            if total <= POSTINGS_BUDGET or len(present) - len(dropped) <= MIN_TERMS:
                break
            dropped.add(word)
            total -= frequencies[word]
        return [w for w in present if w not in dropped]

    def document_frequencies(self, tenant: str, words: Sequence[str]) -> tuple[dict[str, int], int]:
        """Per word, how many of the tenant's chunks hold it (after stemming); and the total."""
        table = self._table(tenant)
        if not self._exists(table) or not words:
            return {w: 0 for w in words}, 0
        size = self._sizes.get(table)
        if size is None:
            size = self._db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            self._sizes[table] = size
        return self._document_frequencies(table, list(dict.fromkeys(words))), int(size)

    def words(self, tenant: str) -> Counter[str]:
        """Each lower-case word of the tenant's indexed text (chunks, their titles and
        headings) with how often it occurs; read once, and again after any write."""
        table = self._table(tenant)
        found = self._words.get(table)
        if found is None:
            found = Counter()
            if self._exists(table):
                for (text,) in self._db.execute(f'SELECT text FROM "{table}"'):
                    found.update(_LOWER_WORDS.findall(text.lower()))
            self._words[table] = found
        return found

    def forget(self, tenant: str) -> None:
        """Drop the tenant's cached counts (they hold query words; the next search re-reads)."""
        self._forget(self._table(tenant))

    def _forget(self, table: str) -> None:
        self._sizes.pop(table, None)
        self._frequencies.pop(table, None)
        self._words.pop(table, None)

    def _document_frequencies(self, table: str, words: list[str]) -> dict[str, int]:
        """How many chunks hold each word, after the index's own tokenizer (stemming)."""
        known = self._frequencies.setdefault(table, {})
        missing = [w for w in words if w not in known]
        if missing:
            known.update(self._look_up_frequencies(table, missing))
        return {w: known[w] for w in words}

    def _look_up_frequencies(self, table: str, words: list[str]) -> dict[str, int]:
        db = self._db
        if not self._probe_ready:
            # A scratch FTS5 table with the same tokenizer tells us each word's indexed term.
            db.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.clearline_probe USING fts5("
                f"word, tokenize='{TOKENIZER}')"
            )
            db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.clearline_probe_terms USING "
                "fts5vocab(temp, 'clearline_probe', 'instance')"
            )
            self._probe_ready = True
        if table not in self._vocabularies:
            db.execute(
                f'CREATE VIRTUAL TABLE IF NOT EXISTS "{table}_terms" USING '
                f"fts5vocab('{table}', 'row')"
            )
            self._vocabularies.add(table)
        db.execute("DELETE FROM temp.clearline_probe")
        db.executemany(
            "INSERT INTO temp.clearline_probe (rowid, word) VALUES (?, ?)", list(enumerate(words))
        )
        terms = dict(
            (row, term)
            for term, row in db.execute("SELECT term, doc FROM temp.clearline_probe_terms")
        )
        db.execute("DELETE FROM temp.clearline_probe")
        frequencies: dict[str, int] = {}
        for index, word in enumerate(words):
            found = db.execute(
                f'SELECT doc FROM "{table}_terms" WHERE term = ?', (terms.get(index, word),)
            ).fetchone()
            frequencies[word] = int(found[0]) if found else 0
        return frequencies

    def ids(self, tenant: str) -> set[str]:
        table = self._table(tenant)
        if not self._exists(table):
            return set()
        return {row[0] for row in self._db.execute(f'SELECT chunk_id FROM "{table}"')}

    def drop_tenant(self, tenant: str) -> None:
        table = self._table(tenant)
        self._forget(table)
        self._vocabularies.discard(table)
        self._db.execute(f'DROP TABLE IF EXISTS "{table}_terms"')
        self._db.execute(f'DROP TABLE IF EXISTS "{table}"')


def rekey_keyword_tables(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2: give every keyword row the rowid `_rowid(chunk_id)`, in place."""
    db.create_function("clearline_rowid", 1, _rowid, deterministic=True)
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'kw\\_%' ESCAPE '\\' "
            "AND sql LIKE '%USING fts5(%'"
        )
    ]
    db.execute("BEGIN IMMEDIATE")
    for table in tables:
        rows = db.execute(f'SELECT chunk_id, text FROM "{table}"').fetchall()
        db.execute(f'DELETE FROM "{table}"')
        db.executemany(
            f'INSERT INTO "{table}" (rowid, chunk_id, text) VALUES (clearline_rowid(?), ?, ?)',
            [(chunk_id, chunk_id, text) for chunk_id, text in rows],
        )
    db.execute("COMMIT")


def _rowid(chunk_id: str) -> int:
    """A stable 60-bit row id per chunk id (collisions are negligible at any real scale)."""
    return int(hashlib.sha1(chunk_id.encode("utf-8")).hexdigest()[:15], 16)


def _indexed_text(chunk: Chunk) -> str:
    """Headings are indexed with the body: a question often names the section."""
    title = str(chunk.metadata.get("title", ""))
    return " \n".join(part for part in (title, chunk.section, chunk.text) if part)
