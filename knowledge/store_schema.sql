-- The knowledge store's tables (SQLite). Applied with executescript when a store opens.
CREATE TABLE IF NOT EXISTS documents (
    tenant TEXT NOT NULL,
    document_id TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    flagged TEXT NOT NULL DEFAULT '[]',  -- FlaggedSentence list (JSON), added in version 3
    PRIMARY KEY (tenant, document_id)
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, chunk_id)
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (tenant, document_id, version);
CREATE TABLE IF NOT EXISTS cleanup (
    tenant TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, document_id, version)
);
-- Chunks whose text was rewritten (knowledge.rewrite) and whose vector is not yet re-embedded.
CREATE TABLE IF NOT EXISTS stale_vectors (
    tenant TEXT NOT NULL,
    chunk_id TEXT NOT NULL,
    PRIMARY KEY (tenant, chunk_id)
);
