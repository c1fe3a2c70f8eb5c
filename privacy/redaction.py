"""Permanent redaction: a value becomes its typed placeholder everywhere a tenant's data holds
it, and no byte of it remains under the data directory.

    redactor = Redactor(places, detector)
    report = redactor.redact("acme", [RedactValue("ana@example.com")], actor="cli")
    report.stores   # {"messages": 2, "traces": 5, "knowledge_chunks": 1, ...}

Steps, each recorded in the operation's intent row (privacy.operations) and each safe to run
again: (1) every text column of the tenant's rows in every SQLite database of the data
directory except the knowledge stores (control database: messages, traces with their
inputs, outputs, retrieved passages and scores, reviews, golden cases, queue items, audit
entries, job results, configuration; the console's session store); (2) the knowledge store:
chunk rows, registry, keyword index (one transaction, rewritten chunks marked stale);
(3) in-memory copies are forgotten; (4) stale chunks re-embedded and the vector store
rebuilt into fresh files; (5) every SQLite database compacted (privacy.purge); (6) a byte
scan of the data directory proves what is left (other tenants' copies are reported, by
file, never by value); (7) an audit entry with counts. A process killed at any point leaves
consistent data; running the same command again finishes the job.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from control import audit
from control.errors import BadRequest
from control.regional import tenant_regions
from knowledge.rewrite import rewrite_text
from privacy.databases import rewrite_database
from privacy.detect import PiiDetector
from privacy.operations import Operation, OperationLog
from privacy.places import DataPlaces
from privacy.proof import find_bytes
from privacy.purge import purge
from privacy.redact import placeholder
from privacy.scrub import Rewrite, ValueReplacer, sqlite_databases
from privacy.spans import ENTITY_TYPES

logger = logging.getLogger(__name__)

GENERIC = "REDACTED"
MIN_CHARACTERS = 4


class RedactionError(BadRequest):
    """A redaction request that cannot be carried out as given."""


@dataclass(frozen=True)
class RedactValue:
    """One value to redact; `entity_type` None means: ask the detector (else REDACTED)."""

    value: str
    entity_type: str | None = None


@dataclass
class RedactionReport:
    """What a redaction changed, by store; never the values themselves."""

    operation: str
    tenant: str
    values: int
    placeholders: list[str]
    stores: dict[str, int] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)
    reembedded: int = 0
    compacted: list[str] = field(default_factory=list)
    unscoped_tables: list[str] = field(default_factory=list)
    remaining_files: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@tenant_regions
class Redactor:
    """Runs permanent redactions of one installation (one at a time)."""

    def __init__(self, places: DataPlaces, detector: PiiDetector | None = None) -> None:
        self._places = places
        self._detector = detector
        self._log = OperationLog(places.sessions)

    def placeholder_for(self, item: RedactValue) -> str:
        """`[TYPE]` for the value: the given type, else the detected type of a span covering
        most of it, else `[REDACTED]`."""
        if item.entity_type is not None:
            if item.entity_type not in (*ENTITY_TYPES, GENERIC):
                raise RedactionError(
                    f"unknown entity type '{item.entity_type}': use one of "
                    f"{', '.join((*ENTITY_TYPES, GENERIC))}"
                )
            return placeholder(item.entity_type)
        kind = GENERIC
        if self._detector is not None:
            spans = self._detector.detect(item.value)
            covered = max((s.end - s.start for s in spans), default=0)
            if spans and covered >= 0.6 * len(item.value.strip()):
                kind = max(spans, key=lambda s: s.end - s.start).entity_type
        return placeholder(kind)

    def redact(self, tenant: str, items: Sequence[RedactValue], actor: str) -> RedactionReport:
        """Replace each value everywhere in the tenant's data (see the module docstring)."""
        rewrites = [self._replacer(item) for item in items]
        if not rewrites:
            raise RedactionError("no value to redact; pass at least one --value")
        with self._places.lock:
            resumed = self.resume_interrupted()
            operation = self._log.start(
                tenant, "redact", actor, options={"values": len(items),
                                                  "placeholders": [r.replacement for r in rewrites]}
            )  # fmt: skip
            report = RedactionReport(
                operation.id, tenant, len(items), [r.replacement for r in rewrites],
                resumed=resumed,
            )  # fmt: skip
            self._rewrite(operation, tenant, rewrites, report)
            self._finish(operation, tenant, report)
            findings = find_bytes(self._places.data_dir, [item.value for item in items])
            report.remaining_files = sorted({self._places.relative(f.path) for f in findings})
            audit.record(
                self._places.sessions, tenant, actor, "privacy.redact",
                operation=operation.id, values=len(items), placeholders=report.placeholders,
                stores=report.stores, reembedded=report.reembedded,
                remaining_files=len(report.remaining_files),
            )  # fmt: skip
            self._log.finish(operation)
        if report.remaining_files:
            logger.warning("redaction %s: %d files still hold a value (other tenants' data?)",
                           operation.id, len(report.remaining_files))  # fmt: skip
        return report

    def resume_interrupted(self) -> list[str]:
        """Finish the value-free steps of redactions a killed process left running (their
        values are not stored: re-running the redaction with the value redoes the rest)."""
        finished = []
        for operation in self._log.unfinished(kind="redact"):
            report = RedactionReport(operation.id, operation.tenant, 0, [])
            self._finish(operation, operation.tenant, report)
            self._log.finish(operation)
            audit.record(
                self._places.sessions, operation.tenant, operation.actor, "privacy.redact.resumed",
                operation=operation.id, reembedded=report.reembedded,
            )  # fmt: skip
            finished.append(operation.id)
        return finished

    def _replacer(self, item: RedactValue) -> ValueReplacer:
        value = item.value.strip()
        if len("".join(value.split())) < MIN_CHARACTERS:
            raise RedactionError(
                f"a value to redact needs at least {MIN_CHARACTERS} characters; a shorter one "
                "would match inside unrelated words (give the whole name, number or sentence)"
            )
        replacement = self.placeholder_for(item)
        replacer = ValueReplacer(value, replacement)
        if replacer.holds(replacement):
            replacer = ValueReplacer(value, placeholder(GENERIC))
            if replacer.holds(replacer.replacement):
                raise RedactionError(
                    "the value is part of its own placeholder; redact a longer value"
                )
        return replacer

    def _rewrite(
        self,
        operation: Operation,
        tenant: str,
        replacers: Sequence[ValueReplacer],
        report: RedactionReport,
    ) -> None:
        places = self._places
        rewrite = _chain(replacers)

        def holds(text: str) -> bool:
            return any(r.holds(text) for r in replacers)

        knowledge = places.knowledge(tenant)
        databases = [p for p in sqlite_databases(places.data_dir) if p != knowledge.path]
        changed: list[str] = []
        for path in databases:
            result = rewrite_database(path, tenant, rewrite, holds)
            name = places.relative(path)
            for column, count in result.replaced.items():
                report.columns[f"{name}:{column}"] = count
                table = column.split(".")[0]
                report.stores[table] = report.stores.get(table, 0) + count
                changed.append(column)
            report.unscoped_tables += [f"{name}:{t}" for t in result.unscoped]
        self._log.step(operation, "databases", report.columns)
        rewritten = rewrite_text(knowledge, tenant, rewrite)
        knowledge.keywords.forget(tenant)
        if rewritten.chunks:
            report.stores["knowledge_chunks"] = rewritten.chunks
            report.stores["keyword_index"] = rewritten.chunks
        if rewritten.documents:
            report.stores["knowledge_sources"] = rewritten.documents
        self._log.step(operation, "knowledge", asdict(rewritten))
        places.forget(tenant, changed)

    def _finish(self, operation: Operation, tenant: str, report: RedactionReport) -> None:
        purged = purge(self._places, tenant)
        report.reembedded = purged.reembedded
        if purged.reembedded:
            report.stores["vector_store"] = purged.reembedded
        report.compacted = purged.compacted
        self._log.step(operation, "purged", asdict(purged))


def _chain(replacers: Sequence[ValueReplacer]) -> Rewrite:
    """One rewrite applying every replacer in turn (longest values first, so a value inside
    another is not replaced before the longer one)."""
    ordered = sorted(replacers, key=lambda r: -r.length)

    def rewrite(text: str) -> tuple[str, int]:
        total = 0
        for replacer in ordered:
            text, count = replacer.rewrite(text)
            total += count
        return text, total

    return rewrite
