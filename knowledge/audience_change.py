"""An admin's correction of who a stored document is written for, without uploading it
again (PATCH /v1/knowledge/sources/{id}, `clearline set-audience`).

Detection (knowledge.audience) is a rule of thumb; a guideline taken for a help page would
have its steps quoted to end users. The correction is recorded as stated by the admin, on the
document and on every chunk of its current version, in one transaction; the next question
reads it (answers read a chunk's audience when they quote it). No text or vector changes.

The document's content hash then carries the stated audience, as an upload stating it does
(ingest.pipeline), so that uploading the same file again with the same choice is reported
unchanged, and uploading it without one decides from its text again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from knowledge.audience import AGENT, AUDIENCE, AUDIENCE_STATED, CUSTOMER
from knowledge.records import DocumentRecord
from knowledge.store import KnowledgeStore


@dataclass(frozen=True)
class Restated:
    """The document as stored after the change, and the verdict it replaced."""

    record: DocumentRecord
    was: str | None  # the previous audience (None: not recorded)
    was_stated: bool  # whether the previous one was stated rather than detected

    def audit_detail(self) -> dict[str, object]:
        """The audit entry's detail (action `source.audience`)."""
        return {
            "document_id": self.record.document_id,
            "audience": self.record.metadata[AUDIENCE],
            "was": self.was,
            "was_stated": self.was_stated,
        }


def restate_audience(
    store: KnowledgeStore, tenant: str, document_id: str, audience: str
) -> Restated | None:
    """Record `audience` (AGENT or CUSTOMER) as stated for the document; None when the
    tenant has no such document."""
    if audience not in (AGENT, CUSTOMER):
        raise ValueError(f"audience must be {AGENT!r} or {CUSTOMER!r}")
    with store.transaction() as db:
        row = db.execute(
            "SELECT content_hash, metadata, version FROM documents "
            "WHERE tenant=? AND document_id=?",
            (tenant, document_id),
        ).fetchone()
        if row is None:
            return None
        content_hash, metadata, version = row[0], json.loads(row[1]), row[2]
        was, was_stated = metadata.get(AUDIENCE), bool(metadata.get(AUDIENCE_STATED))
        metadata.update({AUDIENCE: audience, AUDIENCE_STATED: True})
        base = content_hash.split(f"|{AUDIENCE}=", 1)[0]
        db.execute(
            "UPDATE documents SET metadata=?, content_hash=?, updated_at=? "
            "WHERE tenant=? AND document_id=?",
            (json.dumps(metadata), f"{base}|{AUDIENCE}={audience}",
             datetime.now(UTC).isoformat(), tenant, document_id),
        )  # fmt: skip
        db.execute(
            f"UPDATE chunks SET metadata=json_set(metadata, '$.{AUDIENCE}', ?) "
            "WHERE tenant=? AND document_id=? AND version=?",
            (audience, tenant, document_id, version),
        )
    record = store.get(tenant, document_id)
    assert record is not None  # written just now, under the store's lock
    return Restated(record, was, was_stated)
