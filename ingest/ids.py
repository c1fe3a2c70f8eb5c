"""What a document id may be, and how names are shown in messages.

A corpus id is kept verbatim (often a URL), but it names the document everywhere after:
in `clearline sources`, in traces and citations, and in the URL that deletes it
(`DELETE /v1/knowledge/sources/{id}`). So it must be one printable line, short enough to
show, and addressable in a URL path, where clients and proxies collapse `.` and `..`
segments (an id `../../etc/passwd` could never be deleted over HTTP).

A file's id is its name, or its path inside an ingested folder; it gets the same length and
one-line rules (a file name with bytes that are not UTF-8 cannot even be stored). The path
rule is left out: a path relative to a folder never starts with `/` nor has a `.` or `..`
part.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from ingest.errors import InvalidName, InvalidRecord

# Uploaded file names are cut to 200 characters (service.uploads.safe_name), and golden
# cases, which cite documents by id, have ids of at most 200 characters too.
MAX_ID_CHARS = 200
_NOT_PRINTABLE = {"Cc", "Cs", "Zl", "Zp"}  # control characters, lone surrogates, line breaks


def printable(text: str) -> str:
    """`text` with control characters and line breaks escaped (`\\n`, `\\x00`), so that a
    name read from disk or a file prints as one line and shows what it really holds."""
    if _one_line(text):
        return text
    return "".join(
        c.encode("unicode_escape", "backslashreplace").decode("ascii")
        if unicodedata.category(c) in _NOT_PRINTABLE
        else c
        for c in text
    )


def _one_line(text: str) -> bool:
    return all(unicodedata.category(c) not in _NOT_PRINTABLE for c in text)


def shown_id(document_id: str, limit: int = 60) -> str:
    """An id for a message: escaped, and cut to `limit` characters."""
    text = printable(document_id)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_record_id(document_id: str, where: str) -> str:
    """`document_id` if it may name a document; InvalidRecord naming the line and the rule."""
    shown = shown_id(document_id)
    if len(document_id) > MAX_ID_CHARS:
        raise InvalidRecord(
            f"{where}: the id '{shown}' is {len(document_id):,} characters; keep ids to "
            f"{MAX_ID_CHARS} characters, as uploaded file names are"
        )
    if not _one_line(document_id):
        raise InvalidRecord(
            f"{where}: the id '{shown}' contains a control character or line break (NUL, "
            "tab, newline...); ids must be one line of printable text"
        )
    segments = document_id.replace("\\", "/").split("/")
    if document_id.startswith(("/", "\\")) or any(s in (".", "..") for s in segments):
        raise InvalidRecord(
            f"{where}: the id '{shown}' starts with a slash or has a '.' or '..' path "
            "segment; ids must not read as a path out of a folder (use e.g. a URL or a name)"
        )
    return document_id


def check_file_id(document_id: str, path: Path) -> str:
    """`document_id` (the name of the file at `path`, or its path inside an ingested folder)
    if it may name a document; InvalidName naming the file, the rule and what to rename."""
    shown = printable(str(path))
    if len(document_id) > MAX_ID_CHARS:
        what, fix = ("path in the folder", " or the folders on its path")
        if "/" not in document_id:
            what, fix = "file name", ""
        raise InvalidName(
            f"cannot ingest '{shown}': its document id (its {what}) is {len(document_id):,} "
            f"characters; document ids are at most {MAX_ID_CHARS} characters, as uploaded "
            f"file names are; shorten the file's name{fix}"
        )
    if not _one_line(document_id):
        name_ok = _one_line(document_id.rsplit("/", 1)[-1])
        culprit = "folder on its path that holds it" if name_ok else "file"
        raise InvalidName(
            f"cannot ingest '{shown}': its document id '{shown_id(document_id)}' contains a "
            "control character, line break or bytes that are not UTF-8 text; document ids "
            f"must be one line of printable text; rename the {culprit}"
        )
    return document_id
