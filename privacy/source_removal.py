"""Deleting a knowledge source so that no byte of its text remains.

    remover = SourceRemover(places)
    report = remover.delete("acme", "returns.md", actor="cli", with_replies=False)

Steps (recorded in an intent row, each safe to run again; the row names the document, so a
killed run is finished by the next privacy command without being asked): (1) the document's
sentences are gathered from its chunks and from the passages traces recorded of it; (2) the
document leaves the knowledge store (registry, chunks, keyword index, vectors); (3) in one
transaction of the control database, every retrieved-passage record of the document in the
tenant's traces gets the text `[removed: source deleted]`, and its sentences quoted anywhere
else in those traces get the same marker, except the reply shown to the end user;
with `with_replies` the sentences also leave the replies: trace replies and every other
text of the tenant's rows (messages, reviews, golden cases...); (4) re-embedding, vector
rebuild into fresh files and compaction (privacy.purge).

Removing the document before scrubbing traces means no new trace can quote it in between;
its sentences stay known from the traces' own passages until step 3 replaces them.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from control import audit
from control.regional import tenant_regions
from knowledge.errors import DocumentNotFound
from privacy.databases import connect, reseal_audit
from privacy.operations import Operation, OperationLog
from privacy.places import DataPlaces
from privacy.purge import purge
from privacy.scrub import rewrite_json, rewrite_tenant_rows

logger = logging.getLogger(__name__)

MARKER = "[removed: source deleted]"
KIND = "delete_source"
# A sentence is removed wherever it is quoted when it is this long: shorter pieces ("Yes.",
# a heading) are too common to say they came from this source.
MIN_SENTENCE_CHARS = 20
MIN_SENTENCE_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class SourceRemovalReport:
    """What deleting a source changed (counts only)."""

    operation: str
    tenant: str
    document_id: str
    with_replies: bool
    chunks: int = 0
    traces: int = 0
    passages: int = 0
    quotes: int = 0
    replies: dict[str, int] = field(default_factory=dict)
    reembedded: int = 0
    compacted: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def sentences(text: str) -> list[str]:
    """The sentences of `text` long enough to be recognised where they are quoted."""
    found = []
    for part in _SENTENCE_END.split(text):
        sentence = part.strip()
        if len(sentence) >= MIN_SENTENCE_CHARS and len(sentence.split()) >= MIN_SENTENCE_WORDS:
            found.append(sentence)
    return found


class SentenceRewrite:
    """Replaces any of a set of sentences (flexible whitespace, case-insensitive)."""

    def __init__(self, known: set[str], marker: str = MARKER) -> None:
        self._marker = marker
        ordered = sorted(known, key=len, reverse=True)
        self._pattern = (
            re.compile(
                "|".join(r"\s+".join(re.escape(w) for w in s.split()) for s in ordered),
                re.IGNORECASE,
            )
            if ordered
            else None
        )

    def __call__(self, text: str) -> tuple[str, int]:
        if self._pattern is None:
            return text, 0
        return self._pattern.subn(self._marker, text)


@tenant_regions
class SourceRemover:
    """Deletes knowledge sources with their text in traces (one at a time)."""

    def __init__(self, places: DataPlaces) -> None:
        self._places = places
        self._log = OperationLog(places.sessions)

    def delete(
        self, tenant: str, document_id: str, actor: str, with_replies: bool = False
    ) -> SourceRemovalReport:
        """Remove the source everywhere (see the module docstring). DocumentNotFound if the
        tenant has no such source and no interrupted deletion of it."""
        with self._places.lock:
            resumed = self.resume_interrupted()
            if self._places.knowledge(tenant).get(tenant, document_id) is None:
                raise DocumentNotFound(tenant, document_id)
            operation = self._log.start(
                tenant, KIND, actor, subject=document_id, options={"with_replies": with_replies}
            )
            report = self._run(operation)
            report.resumed = resumed
        return report

    def resume_interrupted(self) -> list[str]:
        """Finish deletions a killed process left running; returns their operation ids."""
        done = []
        for operation in self._log.unfinished(kind=KIND):
            self._run(operation)
            done.append(operation.id)
        return done

    def _run(self, operation: Operation) -> SourceRemovalReport:
        tenant, document_id = operation.tenant, operation.subject
        with_replies = bool(operation.options.get("with_replies", False))
        report = SourceRemovalReport(operation.id, tenant, document_id, with_replies)
        store = self._places.knowledge(tenant)
        known = {s for chunk in store.document_chunks(tenant, document_id)
                 for s in sentences(chunk.text)}  # fmt: skip
        known |= self._quoted_sentences(tenant, document_id)
        if store.get(tenant, document_id) is not None:
            report.chunks = len(store.document_chunks(tenant, document_id))
            store.delete(tenant, document_id)
        self._log.step(operation, "knowledge", {"chunks": report.chunks})
        self._scrub_control(report, SentenceRewrite(known))
        self._log.step(operation, "traces", {"traces": report.traces,
                                             "passages": report.passages,
                                             "replies": report.replies})  # fmt: skip
        self._places.forget(tenant, list(report.replies))
        purged = purge(self._places, tenant)
        report.reembedded, report.compacted = purged.reembedded, purged.compacted
        self._log.step(operation, "purged", asdict(purged))
        audit.record(
            self._places.sessions, tenant, operation.actor, "knowledge.delete",
            document_id=document_id, operation=operation.id, chunks=report.chunks,
            traces=report.traces, passages=report.passages, with_replies=with_replies,
            replies=sum(report.replies.values()),
        )  # fmt: skip
        self._log.finish(operation)
        return report

    def _quoted_sentences(self, tenant: str, document_id: str) -> set[str]:
        found: set[str] = set()
        for _, body in self._traces_of(self._connect(tenant), tenant, document_id, close=True):
            for passage in _passages(body, document_id):
                found.update(sentences(str(passage.get("text", ""))))
        return found

    def _connect(self, tenant: str) -> sqlite3.Connection:
        return connect(self._places.control_db(tenant))

    def _traces_of(
        self, db: sqlite3.Connection, tenant: str, document_id: str, close: bool = False
    ) -> list[tuple[str, dict[str, Any]]]:
        needles = {json.dumps(document_id), json.dumps(document_id, ensure_ascii=False)}
        try:
            rows = db.execute("SELECT id, body FROM traces WHERE tenant=?", (tenant,)).fetchall()
        finally:
            if close:
                db.close()
        return [(i, json.loads(b)) for i, b in rows if any(n in b for n in needles)]

    def _scrub_control(self, report: SourceRemovalReport, rewrite: SentenceRewrite) -> None:
        db = self._connect(report.tenant)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                for trace_id, body in self._traces_of(db, report.tenant, report.document_id):
                    passages, quotes = _scrub_trace(
                        body, report.document_id, rewrite, report.with_replies
                    )
                    if passages or quotes:
                        report.traces += 1
                        report.passages += passages
                        report.quotes += quotes
                        db.execute(
                            "UPDATE traces SET body=? WHERE id=?",
                            (json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                             trace_id),
                        )  # fmt: skip
                if report.with_replies:
                    result = rewrite_tenant_rows(db, report.tenant, rewrite, skip=("traces",))
                    reseal_audit(db, report.tenant, result)
                    report.replies = result.replaced
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()


def _passages(body: dict[str, Any], document_id: str) -> list[dict[str, Any]]:
    found = []
    for step in body.get("steps", []):
        for chunk in (step.get("outputs") or {}).get("chunks", []) or []:
            if isinstance(chunk, dict) and chunk.get("document_id") == document_id:
                found.append(chunk)
    return found


def _scrub_trace(
    body: dict[str, Any], document_id: str, rewrite: SentenceRewrite, with_replies: bool
) -> tuple[int, int]:
    """In place: the document's passages become the marker; its sentences quoted elsewhere
    too (the shown reply only `with_replies`). Returns (passages, quotes) changed."""
    passages = 0
    for chunk in _passages(body, document_id):
        if chunk.get("text") != MARKER:
            chunk["text"] = MARKER
            passages += 1
    quotes = 0
    for key, value in list(body.items()):
        if key == "reply" and not with_replies:
            continue
        new, count = rewrite_json(value, rewrite)
        if count:
            body[key] = new
            quotes += count
    return passages, quotes
