"""Section-aware chunking within a token bound, with overlap between neighbours."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.parse import ParsedElement
from knowledge.records import Chunk

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class ChunkingConfig:
    max_tokens: int = 200
    overlap_tokens: int = 40

    @property
    def signature(self) -> str:
        return f"sections-lines-{self.max_tokens}-{self.overlap_tokens}"


def _pieces(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    """Split text into sentences, and over-long sentences into word windows."""
    out: list[str] = []
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if count(sentence) <= limit:
            out.append(sentence)
            continue
        words = sentence.split()
        step = max(1, int(len(words) * limit / max(count(sentence), 1)))
        out.extend(" ".join(words[i : i + step]) for i in range(0, len(words), step))
    return out


def chunk_elements(
    document_id: str,
    elements: Sequence[ParsedElement],
    count_tokens: Callable[[str], int],
    config: ChunkingConfig | None = None,
) -> list[Chunk]:
    """Group elements by section and page, then pack sentences up to `max_tokens` per chunk.

    A chunk never spans two sections or pages, so its metadata is exact; consecutive chunks
    of one section share up to `overlap_tokens` of trailing sentences.
    """
    config = config or ChunkingConfig()
    groups: list[tuple[str, list[ParsedElement]]] = []
    previous = ""
    for element in elements:
        if element.category == "Title" or element.text == previous:
            continue  # headings live in `section`; parsers sometimes repeat a block
        previous = element.text
        if groups and (groups[-1][0], groups[-1][1][-1].page) == (element.section, element.page):
            groups[-1][1].append(element)
        else:
            groups.append((element.section, [element]))
    if not groups and elements:
        # Only headings: keep them as text rather than losing the document.
        groups = [("", list(elements))]

    chunks: list[Chunk] = []
    for section, members in groups:
        for text, page in _pack(members, count_tokens, config):
            chunks.append(
                Chunk(
                    document_id=document_id,
                    version=0,
                    ordinal=len(chunks),
                    text=text,
                    section=section,
                    page=page,
                )
            )
    return chunks


def _pack(
    members: Sequence[ParsedElement], count: Callable[[str], int], config: ChunkingConfig
) -> list[tuple[str, int | None]]:
    """Texts (with page) of one section's chunks: sentences packed up to the bound."""
    out: list[tuple[str, int | None]] = []
    window: list[tuple[str, int, int | None]] = []  # (sentence, tokens, page)
    size = 0
    fresh = 0  # sentences added since the last flush (overlap alone is not a chunk)

    def emit(items: list[tuple[str, int, int | None]]) -> None:
        page = next((p for _, _, p in items if p is not None), None)
        out.append(("\n".join(s for s, _, _ in items), page))

    for element in members:
        for piece in _pieces(element.text, count, config.max_tokens):
            tokens = count(piece)
            if window and size + tokens > config.max_tokens and fresh:
                emit(window)
                kept: list[tuple[str, int, int | None]] = []
                kept_size = 0
                room = min(config.overlap_tokens, config.max_tokens - tokens)
                for item in reversed(window):
                    if kept_size + item[1] > room:
                        break
                    kept.insert(0, item)
                    kept_size += item[1]
                window, size, fresh = kept, kept_size, 0
            window.append((piece, tokens, element.page))
            size += tokens
            fresh += 1
    if fresh:
        emit(window)
    return out
