"""Turning the paths a user gives into sources: one per file or corpus record."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.errors import IngestError, InvalidRecord, UnsupportedType
from ingest.ids import check_file_id, check_record_id, printable
from knowledge.audience import AGENT, AUDIENCE, CUSTOMER, stated_audience

KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
}
CORPUS_SUFFIX = ".jsonl"
SUPPORTED = "PDF, DOCX, HTML, Markdown, plain text (.txt) or a corpus .jsonl"


@dataclass(frozen=True)
class Source:
    """One document to ingest: a file on disk, or a record of a corpus JSONL."""

    document_id: str
    display: str
    kind: str
    title: str
    path: Path | None = None
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        digest = hashlib.sha256()
        if self.path is not None:
            with self.path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        else:
            payload = {"title": self.title, "text": self.text, "metadata": self.metadata}
            digest.update(json.dumps(payload, sort_keys=True).encode("utf-8"))
        return digest.hexdigest()


@dataclass(frozen=True)
class BadSource:
    """A path or record that was refused before parsing."""

    document_id: str
    display: str
    error: IngestError


def with_audience(item: Source | BadSource, audience: str | None) -> Source | BadSource:
    """`item` stated as written for `audience` (an admin's choice for a whole ingestion or
    upload), unless it states its own (a corpus record's metadata)."""
    if audience is None or isinstance(item, BadSource) or AUDIENCE in item.metadata:
        return item
    return replace(item, metadata={**item.metadata, AUDIENCE: audience})


def kind_of(path: Path) -> str:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        suffix = path.suffix or "(no extension)"
        raise UnsupportedType(
            f"cannot ingest '{path.name}': unsupported file type {suffix}; upload {SUPPORTED}"
        )
    return kind


def expand(paths: Sequence[Path]) -> Iterator[Source | BadSource]:
    """Files as given; folders recursively (ids relative to the folder); corpora by record.

    Inside a folder, hidden entries are passed over; links to folders, to files outside it,
    and entries that are not regular files come out as BadSource saying why."""
    for path in paths:
        if path.is_dir():
            folder = path.resolve()
            for child in sorted(path.rglob("*")):
                document_id = child.relative_to(path).as_posix()
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if child.is_dir():
                    if child.is_symlink():
                        yield BadSource(document_id, str(child), _folder_link(child))
                    continue  # a real folder's files come on their own
                if not child.is_file():
                    yield BadSource(document_id, str(child), _not_a_file(child))
                    continue
                if not child.resolve().is_relative_to(folder):
                    yield BadSource(document_id, str(child), _outside(child))
                    continue
                yield from sources_for_file(child, document_id)
        elif path.is_file():
            yield from sources_for_file(path, path.name)
        else:
            error = IngestError(f"cannot ingest '{path}': no such file or folder; check the path")
            yield BadSource(str(path), str(path), error)


def _outside(link: Path) -> IngestError:
    """A folder's link to a file outside it is not ingested: whoever can drop a link into a
    documents folder could otherwise put any file of this machine into the agent's answers."""
    return IngestError(
        f"cannot ingest '{link}': it links to {link.resolve()}, outside the folder; copy the "
        "file into the folder to ingest it"
    )


def _folder_link(link: Path) -> IngestError:
    """A link to a folder inside an ingested folder is not followed (it could lead anywhere on
    this machine, or back into the folder). It is reported as a failed source, as a named
    pipe or a dangling link is, rather than passed over like a hidden file: the user may have
    meant its documents to be ingested, so the run lists it and exits 1 until they decide."""
    return IngestError(
        f"skipped '{printable(str(link))}': it is a link to the folder "
        f"{printable(str(link.resolve()))}; links to folders are not followed; ingest that "
        "folder on its own, or copy its files in"
    )


def _not_a_file(child: Path) -> IngestError:
    """Why a folder entry that is neither a file nor a folder was skipped."""
    try:
        mode = child.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            reason = "it is a link that loops back on itself; fix or remove the link"
        elif error.errno == errno.ENOENT and child.is_symlink():
            target = printable(os.readlink(child))
            reason = f"it links to {target}, which does not exist; fix or remove the link"
        else:
            reason = f"it cannot be read ({error.strerror}); check its permissions"
    else:
        kinds = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                 (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))  # fmt: skip
        what = next((name for test, name in kinds if test(mode)), "a special file")
        reason = f"it is {what}, not a file; copy the document in as a regular file"
    return IngestError(f"skipped '{printable(str(child))}': {reason}")


def sources_for_file(path: Path, document_id: str) -> Iterator[Source | BadSource]:
    """One source for a document file (a BadSource when its type is not supported or its id
    breaks the rules of ingest.ids), or one per record for a corpus JSONL."""
    if path.suffix.lower() == CORPUS_SUFFIX:
        yield from corpus_records(path)
        return
    try:
        kind = kind_of(path)
        check_file_id(document_id, path)
    except IngestError as error:
        yield BadSource(document_id, str(path), error)
        return
    yield Source(document_id, str(path), kind, title=path.stem.replace("-", " "), path=path)


def corpus_records(path: Path) -> Iterator[Source | BadSource]:
    """Records of a corpus JSONL: {"id", "title", "text" | "html", "metadata"}."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        yield BadSource(path.name, str(path), IngestError(f"cannot read '{path}': {error}"))
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                yield _record(json.loads(line), where)
            except (ValueError, InvalidRecord) as error:
                message = (
                    str(error)
                    if isinstance(error, InvalidRecord)
                    else (f"{where} is not valid JSON ({error}); fix or remove that line")
                )
                yield BadSource(where, where, InvalidRecord(message))


def _record(data: Any, where: str) -> Source:
    if not isinstance(data, dict):
        raise InvalidRecord(f"{where} is not a JSON object; each line must be one record")
    doc_id = data.get("id")
    if not isinstance(doc_id, str | int) or str(doc_id).strip() == "":
        raise InvalidRecord(f"{where} has no 'id'; every record needs a unique id")
    doc_id = check_record_id(str(doc_id), where)
    text, html = data.get("text"), data.get("html")
    if not isinstance(text, str) and not isinstance(html, str):
        raise InvalidRecord(
            f"{where} (id '{doc_id}') has neither 'text' nor 'html'; add the content"
        )
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidRecord(f"{where} (id '{doc_id}'): 'metadata' must be an object")
    if AUDIENCE in metadata and stated_audience(metadata) is None:
        raise InvalidRecord(
            f"{where} (id '{doc_id}'): metadata '{AUDIENCE}' must be '{AGENT}' or '{CUSTOMER}' "
            "(who the document is written for); leave it out to have it detected"
        )
    kind = "corpus-html" if isinstance(html, str) and not isinstance(text, str) else "corpus-text"
    return Source(
        document_id=str(doc_id),
        display=f"{where} (id '{doc_id}')",
        kind=kind,
        title=str(data.get("title") or doc_id),
        text=text if isinstance(text, str) else html,
        metadata=metadata,
    )
