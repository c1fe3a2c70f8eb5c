"""Checks that run before any parser sees a file: size, type, encryption, bombs.

They read only what they must (headers, zip directory, XML prologues) so that a hostile
file is refused cheaply and a parser never expands it.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import CorruptFile, EmptySource, EncryptedFile, FileTooLarge, UnsafeFile
from ingest.sources import Source

_XML_DANGER = (b"<!DOCTYPE", b"<!ENTITY")
# pypdf logs every repair it attempts; the outcome is reported per file instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Limits:
    """File limits. The two size defaults equal the service's settings (max_file_mb,
    max_unpacked_mb), which the service passes in; the compression ratio is fixed here."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_unpacked_bytes: int = 100 * 1024 * 1024
    max_compression_ratio: int = 100


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.3g} MB"


def check_source(source: Source, limits: Limits) -> None:
    """Raise an IngestError naming the file if it must not be parsed."""
    name = source.display
    if source.path is None:
        if not (source.text or "").strip():
            raise EmptySource(f"{name} has empty content; nothing to ingest")
        if len(source.text.encode("utf-8")) > limits.max_file_bytes:  # type: ignore[union-attr]
            raise FileTooLarge(
                f"{name} is larger than the {_mb(limits.max_file_bytes)} limit; "
                "split the record or raise CLEARLINE_MAX_FILE_MB"
            )
        return
    size = source.path.stat().st_size
    if size > limits.max_file_bytes:
        raise FileTooLarge(
            f"cannot ingest '{name}': it is {_mb(size)}, over the "
            f"{_mb(limits.max_file_bytes)} limit; split it or raise CLEARLINE_MAX_FILE_MB"
        )
    if size == 0:
        raise EmptySource(f"cannot ingest '{name}': the file is empty; nothing to ingest")
    if source.kind == "pdf":
        _check_pdf(source.path, name)
    elif source.kind == "docx":
        _check_docx(source.path, name, limits)
    else:
        _check_text(source.path, name)


def _check_pdf(path: Path, name: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        raise CorruptFile(
            f"cannot ingest '{name}': it is not a PDF (no %PDF header); "
            "check the file or give it its real extension"
        )
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted:
            _ = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise CorruptFile(
            f"cannot ingest '{name}': the PDF is corrupt or truncated ({error}); "
            "export it again from the original program"
        ) from error
    if encrypted:
        raise EncryptedFile(
            f"cannot ingest '{name}': the PDF is encrypted (password protected); "
            "upload an unencrypted copy"
        )


def _check_docx(path: Path, name: str, limits: Limits) -> None:
    if not zipfile.is_zipfile(path):
        raise CorruptFile(
            f"cannot ingest '{name}': it is not a valid DOCX (not a zip package); "
            "save it again from Word as .docx"
        )
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
            names = {m.filename for m in members}
            if "word/document.xml" not in names:
                raise CorruptFile(
                    f"cannot ingest '{name}': it has no word/document.xml, so it is not a "
                    "Word document; save it again from Word as .docx"
                )
            unpacked = sum(m.file_size for m in members)
            if unpacked > limits.max_unpacked_bytes:
                raise UnsafeFile(
                    f"cannot ingest '{name}': it would unpack to {_mb(unpacked)}, over the "
                    f"{_mb(limits.max_unpacked_bytes)} limit (a zip bomb?); it was not opened"
                )
            for member in members:
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
                    raise UnsafeFile(
                        f"cannot ingest '{name}': part {member.filename} is compressed "
                        f"{ratio:.0f}:1 (a zip bomb?); it was not opened"
                    )
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    with package.open(member) as part:
                        prologue = part.read(4096)
                    if any(marker in prologue for marker in _XML_DANGER):
                        raise UnsafeFile(
                            f"cannot ingest '{name}': {member.filename} declares a DTD or XML "
                            "entities, which can expand without bound (an entity bomb?); "
                            "save the document again from Word"
                        )
    except zipfile.BadZipFile as error:
        raise CorruptFile(
            f"cannot ingest '{name}': the DOCX package is corrupt ({error}); "
            "save it again from Word"
        ) from error


def _check_text(path: Path, name: str) -> None:
    with path.open("rb") as handle:
        sample = handle.read(64 * 1024)
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorruptFile(
            f"cannot ingest '{name}': it contains binary data, not text; "
            "upload the document in a supported format"
        )
    if not sample.strip():
        raise EmptySource(f"cannot ingest '{name}': the file holds only blank space")
