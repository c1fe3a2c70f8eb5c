"""`clearline privacy`: personal data in text.

    clearline privacy detect --input FILE.jsonl [--json]

Each input line is `{"id": ..., "text": "..."}` (blank lines are skipped). With --json it
prints `{"results": [{"id", "spans": [{"start", "end", "entity_type", "score"}]}]}`, offsets
being character offsets into `text`. The whole file is checked before anything is detected:
a bad line stops the command with an error naming the line.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge.errors import ClearlineError
from privacy.detect import PiiDetector
from privacy.spans import Span
from service import cli_erase, cli_redact
from service.cli_output import emit
from service.settings import Settings

_SHAPE = 'each line must be a JSON object {"id": "...", "text": "..."}'


class PrivacyInputError(ClearlineError):
    """The input file of a privacy command cannot be used as it is."""


@dataclass(frozen=True)
class Record:
    id: str | int
    text: str


def read_records(path: Path) -> list[Record]:
    """The records of a JSONL file; PrivacyInputError names the first bad line."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise PrivacyInputError(f"{path}: no such file; pass an existing JSONL file") from error
    except UnicodeDecodeError as error:
        raise PrivacyInputError(
            f"{path}: not UTF-8 text ({error.reason}); save it as UTF-8"
        ) from error
    records: list[Record] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise PrivacyInputError(f"{where}: not valid JSON ({error.msg}); {_SHAPE}") from error
        if not isinstance(row, dict):
            raise PrivacyInputError(
                f"{where}: a JSON {type(row).__name__}, not an object; {_SHAPE}"
            )
        record_id, text = row.get("id"), row.get("text")
        if isinstance(record_id, bool) or not isinstance(record_id, (str, int)):
            raise PrivacyInputError(
                f'{where}: "id" is missing or not a string or integer; {_SHAPE}'
            )
        if not isinstance(text, str):
            raise PrivacyInputError(f'{where}: "text" is missing or not a string; {_SHAPE}')
        records.append(Record(record_id, text))
    return records


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    records = read_records(Path(args.input))
    detector = PiiDetector()
    found = detector.detect_many([r.text for r in records]) if records else []
    results = [
        {"id": r.id, "spans": [asdict(s) for s in spans]}
        for r, spans in zip(records, found, strict=True)
    ]
    emit(args, {"results": results}, _human(records, found))
    return 0


def _human(records: list[Record], found: list[list[Span]]) -> str:
    lines: list[str] = []
    for record, spans in zip(records, found, strict=True):
        lines.append(f"{record.id}: {len(spans)} span(s)")
        for s in spans:
            value = record.text[s.start : s.end]
            lines.append(f"  {s.start}-{s.end}  {s.entity_type:<18} {s.score:.2f}  {value!r}")
    return "\n".join(lines) or "no records"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("privacy", parents=[common], help="find personal data")
    privacy_sub = p.add_subparsers(dest="action", required=True)
    detect = privacy_sub.add_parser(
        "detect", parents=[common], help="personal data in each line of a JSONL file"
    )
    detect.add_argument("--input", required=True, help='JSONL file of {"id", "text"} lines')
    detect.set_defaults(func=cmd_detect)
    cli_redact.register(privacy_sub, common)
    cli_erase.register(privacy_sub, common)
