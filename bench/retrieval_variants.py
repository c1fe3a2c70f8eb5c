"""Write conversation variants of a questions file, to measure retrieval on multi-turn input.

The development questions (ConditionalQA) are single turns with a scenario. Customers
write follow-ups instead, and sometimes change the subject. This script rewrites a
questions JSONL into variants that exercise those cases, so `clearline eval retrieval`
can compare methods on them (docs/benchmarks.md):

- `question-only`: the scenario dropped;
- `scenario-in-history`: the scenario becomes an earlier user turn, followed by a
  generic assistant turn; the question itself is a follow-up;
- `unrelated-earlier-turn`: an earlier exchange about a different document (another
  question with its scenario, and its reference answer) before the question and its own
  scenario: the subject changed;
- `same-document-conversation`: an earlier exchange about the same document (another
  question on it, with its reference answer), then the question without its scenario.

With `--bipia-tables` it also writes a second collection: the BIPIA table contexts as a
corpus JSONL (one document per distinct table) with their questions, and that set's
`same-document-conversation` variant.

    .venv/bin/python bench/retrieval_variants.py --out /tmp/variants \
        --questions ../shared/data/conditionalqa/questions.dev.jsonl \
        --bipia-tables ../shared/data/injection/bipia/table_train.jsonl

Choices are random with a fixed seed; nothing is picked by looking at retrieval results.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

Row = dict[str, Any]
GENERIC_REPLY = "Thanks. What would you like to know?"


def _usable(row: Row) -> bool:
    return row.get("answerable") is not False and bool(row.get("reference_doc_ids"))


def _opening(row: Row) -> str:
    return f"{row.get('scenario') or ''} {row['question']}".strip()


def question_only(rows: list[Row]) -> list[Row]:
    return [dict(r, scenario="") for r in rows]


def scenario_in_history(rows: list[Row]) -> list[Row]:
    return [
        dict(
            r,
            scenario="",
            history=[
                {"role": "user", "text": r.get("scenario") or ""},
                {"role": "assistant", "text": GENERIC_REPLY},
            ],
        )
        for r in rows
    ]


def unrelated_earlier_turn(rows: list[Row], rng: random.Random) -> list[Row]:
    out = []
    for r in rows:
        others = [
            o for o in rows if _usable(o) and o["reference_doc_ids"] != r["reference_doc_ids"]
        ]
        other = rng.choice(others)
        out.append(
            dict(
                r,
                history=[
                    {"role": "user", "text": _opening(other)},
                    {"role": "assistant", "text": str(other["reference_answer"])},
                ],
            )
        )
    return out


def same_document_conversation(rows: list[Row], rng: random.Random) -> list[Row]:
    """Only questions whose document has another question: the rest cannot be paired."""
    by_document: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if _usable(r):
            by_document[r["reference_doc_ids"][0]].append(r)
    out = []
    for r in rows:
        if not _usable(r):
            continue
        mates = [
            o
            for o in by_document[r["reference_doc_ids"][0]]
            if o["id"] != r["id"] and o["question"] != r["question"]
        ]
        if not mates:
            continue
        earlier = rng.choice(mates)
        out.append(
            dict(
                r,
                scenario="",
                history=[
                    {"role": "user", "text": _opening(earlier)},
                    {"role": "assistant", "text": str(earlier["reference_answer"])},
                ],
            )
        )
    return out


def bipia_tables(path: Path) -> tuple[list[Row], list[Row]]:
    """(corpus, questions): one HTML table document per distinct BIPIA table context."""
    corpus: list[Row] = []
    ids: dict[str, str] = {}
    questions: list[Row] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        context = row["context"]
        if context not in ids:
            ids[context] = "table-" + hashlib.sha1(context.encode()).hexdigest()[:10]
            cells = (
                [c.strip() for c in text.strip().strip("|").split("|")]
                for text in context.splitlines()
            )
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in cells
            )
            corpus.append({"id": ids[context], "title": "", "html": f"<table>{body}</table>"})
        questions.append(
            {
                "id": f"table-q{number}",
                "question": str(row["question"]).removeprefix("Q: "),
                "history": [],
                "scenario": "",
                "reference_answer": row["ideal"],
                "reference_doc_ids": [ids[context]],
                "answerable": True,
            }
        )
    return corpus, questions


def _write(path: Path, rows: list[Row]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"{path}: {len(rows)} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bipia-tables", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    _write(args.out / "question-only.jsonl", question_only(rows))
    _write(args.out / "scenario-in-history.jsonl", scenario_in_history(rows))
    _write(
        args.out / "unrelated-earlier-turn.jsonl",
        unrelated_earlier_turn(rows, random.Random(args.seed)),
    )
    _write(
        args.out / "same-document-conversation.jsonl",
        same_document_conversation(rows, random.Random(args.seed)),
    )
    if args.bipia_tables:
        corpus, questions = bipia_tables(args.bipia_tables)
        _write(args.out / "tables-corpus.jsonl", corpus)
        _write(args.out / "tables-questions.jsonl", questions)
        _write(
            args.out / "tables-same-document-conversation.jsonl",
            same_document_conversation(questions, random.Random(args.seed)),
        )


if __name__ == "__main__":
    main()
