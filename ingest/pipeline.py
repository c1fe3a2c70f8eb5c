"""The ingestion pipeline: check -> parse (in the worker) -> screen -> chunk -> embed -> write.

The screen step cuts sentences that read as planted instructions out of the document
(ingest.planted) and hands them to the store as the document's flagged sentences.

One failed source never stops the others; a source is visible only once fully written
(knowledge.store guarantees the atomic switch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from ingest.chunk import ChunkingConfig, chunk_elements
from ingest.errors import IngestError
from ingest.guards import Limits, check_source
from ingest.ids import printable, shown_id
from ingest.parse import ParsedElement
from ingest.planted import DocumentScreen
from ingest.redaction import TextRedaction, redact_document
from ingest.sources import BadSource, Source
from ingest.worker import Budget, ParseWorker
from knowledge.audience import AUDIENCE, AUDIENCE_STATED, audience_of, stated_audience
from knowledge.audience import signature as audience_signature
from knowledge.planted import PlantedInstructionClassifier
from knowledge.protocols import Embedder
from knowledge.records import Chunk, FlaggedSentence
from knowledge.store import DocumentWrite, KnowledgeStore

logger = logging.getLogger(__name__)

Outcome = Literal["ingested", "unchanged", "replaced", "failed"]


@dataclass(frozen=True)
class IngestResult:
    """What happened to one source; `error` says what to do when status is failed."""

    source: str
    document_id: str
    status: Outcome
    chunks: int = 0
    error: str | None = None
    flagged: int = 0  # sentences kept out as planted instructions (listed on the source)


@dataclass
class _Ready:
    index: int
    source: Source
    content_hash: str
    chunks: list[Chunk]
    flagged: list[FlaggedSentence] = field(default_factory=list)


def _with_verdict(source: Source, elements: list[ParsedElement]) -> Source:
    """The source with who it is written for in its metadata (stored on the document and on
    every chunk): the audience it states, else the one its text shows (knowledge.audience);
    `audience_stated` says which."""
    stated = stated_audience(source.metadata)
    audience = stated or audience_of(e.text for e in elements)
    extra = {AUDIENCE: audience, AUDIENCE_STATED: stated is not None}
    return replace(source, metadata={**source.metadata, **extra})


class Ingestor:
    """Runs sources of one tenant through the pipeline and reports each result."""

    def __init__(
        self,
        store: KnowledgeStore,
        embedder: Embedder,
        limits: Limits | None = None,
        budget: Budget | None = None,
        chunking: ChunkingConfig | None = None,
        embed_batch: int = 64,
        screen: DocumentScreen | None = None,
        redaction: TextRedaction | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._screen = screen or DocumentScreen(PlantedInstructionClassifier(embedder))
        self._redaction = redaction
        self._limits = limits or Limits()
        self._budget = budget or Budget()
        self._chunking = chunking or ChunkingConfig()
        self._embed_batch = embed_batch
        self._worker = ParseWorker(self._budget)

    def warm_up(self) -> None:
        """Load the embedding model and start the parse worker (both take seconds)."""
        self._embedder.warm_up()
        self._screen.warm_up()
        self._worker.warm_up()

    def close(self) -> None:
        self._worker.close()

    def __enter__(self) -> Ingestor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def signature(self) -> str:
        """Changes whenever the same bytes would produce different chunks or vectors."""
        signature = (
            f"{self._chunking.signature}|{self._embedder.name}|{self._screen.signature}"
            f"|{audience_signature()}"
        )
        if self._redaction is not None:
            signature += f"|{self._redaction.signature}"
        return signature

    def run(
        self,
        tenant: str,
        items: Iterable[Source | BadSource],
        on_result: Callable[[IngestResult], None] | None = None,
    ) -> list[IngestResult]:
        results: dict[int, IngestResult] = {}

        def report(index: int, result: IngestResult) -> None:
            results[index] = result
            if result.status == "failed":
                shown = printable(result.source), printable(result.error or "")
                logger.info("ingest failed for %s: %s", *shown)
            if on_result is not None:
                on_result(result)

        to_parse = self._triage(tenant, items, report)
        hashes = {id(source): (index, content_hash) for index, source, content_hash in to_parse}
        batch: list[_Ready] = []

        def flush() -> None:
            self._write_batch(tenant, batch, report)
            batch.clear()

        # Embed whenever parsing has nothing ready (so neither side waits for the other),
        # and at most every 4 embedding batches: bigger calls pad less (length sorting).
        parsed_sources = self._worker.parse_all((s for _, s, _ in to_parse), idle=flush)
        for source, parsed in parsed_sources:
            index, content_hash = hashes[id(source)]
            if isinstance(parsed, IngestError):
                report(index, _failed(source, parsed))
                continue
            if self._redaction is not None:  # personal data never reaches the store
                source, parsed = redact_document(self._redaction, source, parsed)
            screened = self._screen.screen(parsed)
            source = _with_verdict(source, screened.elements)
            chunks = self._chunk(source, screened.elements)
            batch.append(_Ready(index, source, content_hash, chunks, screened.flagged))
            if sum(len(r.chunks) for r in batch) >= 4 * self._embed_batch:
                flush()
        flush()
        return [results[i] for i in sorted(results)]

    def _triage(
        self,
        tenant: str,
        items: Iterable[Source | BadSource],
        report: Callable[[int, IngestResult], None],
    ) -> list[tuple[int, Source, str]]:
        """Report bad and unchanged sources at once; return the rest with their hashes."""
        to_parse: list[tuple[int, Source, str]] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            if isinstance(item, BadSource):
                report(
                    index,
                    IngestResult(item.display, item.document_id, "failed", error=str(item.error)),
                )
                continue
            if item.document_id in seen:
                report(
                    index,
                    _failed(
                        item,
                        IngestError(
                            f"{item.display}: document id '{item.document_id}' appears twice "
                            "in this ingestion; give every source a unique id"
                        ),
                    ),
                )
                continue
            seen.add(item.document_id)
            try:
                check_source(item, self._limits)
                content_hash = f"{item.content_hash()}|{self.signature()}"
                stated = stated_audience(item.metadata)
                if item.path is not None and stated:
                    # a file's hash is its bytes: the same file stated for another audience
                    # must be processed again, not reported unchanged
                    content_hash += f"|{AUDIENCE}={stated}"
            except IngestError as error:
                report(index, _failed(item, error))
                continue
            except OSError as error:
                report(
                    index,
                    _failed(
                        item,
                        IngestError(
                            f"cannot read '{item.display}': {error.strerror}; check the path"
                        ),
                    ),
                )
                continue
            current = self._store.get(tenant, item.document_id)
            if current is not None and _origin(current.doc_type) != _origin(item.kind):
                report(index, _failed(item, _taken(item, current.source, current.doc_type)))
                continue
            if current is not None and current.content_hash == content_hash:
                report(
                    index,
                    IngestResult(
                        item.display,
                        item.document_id,
                        "unchanged",
                        current.chunk_count,
                        flagged=len(current.flagged),
                    ),
                )
                continue
            if not to_parse:
                self._worker.start()
            to_parse.append((index, item, content_hash))
        return to_parse

    def _chunk(self, source: Source, elements: list[ParsedElement]) -> list[Chunk]:
        chunks = chunk_elements(
            source.document_id, elements, self._embedder.count_tokens, self._chunking
        )
        added = {
            "screened_by": self._screen.screened_by,  # answer time skips a second pass
            AUDIENCE: source.metadata[AUDIENCE],
        }
        return [replace(c, metadata={**c.metadata, **added}) for c in chunks]

    def _write_batch(
        self, tenant: str, batch: list[_Ready], report: Callable[[int, IngestResult], None]
    ) -> None:
        if not batch:
            return
        texts = [embedding_text(r.source.title, c) for r in batch for c in r.chunks]
        vectors = self._embedder.embed(texts)
        items = []
        offset = 0
        for ready in batch:
            document = DocumentWrite(
                document_id=ready.source.document_id,
                title=ready.source.title,
                source=ready.source.display,
                doc_type=ready.source.kind,
                content_hash=ready.content_hash,
                metadata=ready.source.metadata,
                flagged=tuple(ready.flagged),
            )
            items.append((document, ready.chunks, vectors[offset : offset + len(ready.chunks)]))
            offset += len(ready.chunks)
        try:
            written = self._store.write_many(tenant, items)
        except Exception as error:  # a storage failure fails this batch, not the run
            logger.exception("storing a batch of %d documents failed", len(batch))
            for ready in batch:
                report(
                    ready.index,
                    _failed(
                        ready.source,
                        IngestError(
                            f"cannot store '{ready.source.display}': {error}; retry the ingestion"
                        ),
                    ),
                )
            return
        for ready, result in zip(batch, written, strict=True):
            report(
                ready.index,
                IngestResult(
                    ready.source.display,
                    ready.source.document_id,
                    result.status,
                    result.chunk_count,
                    flagged=len(ready.flagged),
                ),
            )


def embedding_text(title: str, chunk: Chunk) -> str:
    """The text a chunk is embedded as: its document title and section give it context."""
    heading = " > ".join(part for part in (title, chunk.section) if part)
    return f"{heading}\n{chunk.text}" if heading else chunk.text


def _origin(kind: str) -> str:
    return "corpus record" if kind.startswith("corpus-") else "file"


def _taken(item: Source, existing: str, existing_kind: str) -> IngestError:
    """A corpus record never silently replaces a file document of the same id, nor a file
    a corpus record: the two are different sources that happen to share a name."""
    shown = shown_id(item.document_id)
    return IngestError(
        f"{printable(item.display)}: the document id '{shown}' is already taken by the "
        f"{_origin(existing_kind)} '{printable(existing)}', so this {_origin(item.kind)} "
        f"cannot replace it; give it another id, or delete '{shown}' first "
        "(`clearline delete-source`)"
    )


def _failed(source: Source, error: IngestError) -> IngestResult:
    return IngestResult(source.display, source.document_id, "failed", error=str(error))
