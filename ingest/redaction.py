"""Redaction at ingestion: personal data in a parsed document is replaced before chunking
and embedding, so it never reaches the knowledge store.

Ingestion does not know how personal data is found: the service passes in a
`TextRedaction` (privacy.ingestion builds one from the tenant's privacy settings). The
source record keeps what was replaced, by type, as counts (`metadata["redacted"]`), never
the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from ingest.parse import ParsedElement
from ingest.sources import Source


class TextRedaction(Protocol):
    """Replaces personal data in texts with placeholders."""

    @property
    def signature(self) -> str:
        """Changes whenever the same text would be redacted differently (part of the
        ingestion signature, so a change re-ingests unchanged files)."""
        ...

    def redact(self, texts: Sequence[str]) -> tuple[list[str], dict[str, int]]:
        """The texts with personal data replaced, and how many values of each type."""
        ...


def redact_document(
    redaction: TextRedaction, source: Source, elements: Sequence[ParsedElement]
) -> tuple[Source, list[ParsedElement]]:
    """The source (title redacted, counts in its metadata) and its redacted elements."""
    sections = sorted({e.section for e in elements if e.section})
    texts = [source.title, *sections, *(e.text for e in elements)]
    redacted, counts = redaction.redact(texts)
    title = redacted[0]
    new_sections = dict(zip(sections, redacted[1 : 1 + len(sections)], strict=True))
    bodies = redacted[1 + len(sections) :]
    cleaned = [
        replace(e, text=text, section=new_sections.get(e.section, e.section))
        for e, text in zip(elements, bodies, strict=True)
    ]
    metadata = {**source.metadata, "redacted": dict(sorted(counts.items()))}
    return replace(source, title=title, metadata=metadata), cleaned
