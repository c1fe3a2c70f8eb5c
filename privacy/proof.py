"""The proof that a removal worked: a raw byte scan of every file under a directory for the
forms a value can take on disk (UTF-8, any case, UTF-16 in both byte orders). Findings name
files and which value, never the value itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    """A file under the scanned directory that still holds one of the values' forms."""

    path: Path
    value_index: int  # which of the scanned values (never the value itself)
    form: str  # "utf-8", "lower", "utf-16-le", "utf-16-be"


def byte_forms(value: str) -> dict[str, bytes]:
    """The encodings a value can sit in on disk."""
    return {
        "utf-8": value.encode("utf-8"),
        "lower": value.lower().encode("utf-8"),
        "utf-16-le": value.encode("utf-16-le"),
        "utf-16-be": value.encode("utf-16-be"),
    }


def find_bytes(root: Path, values: Sequence[str]) -> list[Finding]:
    """Every (file, value, form) where a value's bytes occur in a file under `root`. The
    lower-case form is also searched in the lower-cased file bytes (any case matches)."""
    findings: list[Finding] = []
    forms = [byte_forms(v) for v in values]
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        lowered = data.lower()
        for index, value_forms in enumerate(forms):
            for form, needle in value_forms.items():
                haystack = lowered if form == "lower" else data
                if needle and needle in haystack:
                    findings.append(Finding(path, index, form))
    return findings
