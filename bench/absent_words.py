"""Would "the question's words are in no passage of the knowledge" tell unanswerable
questions apart? For each question of a dev set, the share of its content words that no
chunk of the tenant holds (KnowledgeStore.absent_words), against its label and the decision
an `eval answers --json` run made. Prints, per cut, how many questions of each label reach
it and how many of those are answered now: a decline rule at that cut would turn the
answered ones into declines.

    .venv/bin/python -m bench.absent_words --data-dir D --tenant T \\
        --questions questions.jsonl --answers answers.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.offline import go_offline

go_offline()  # before any library reads its settings at import

from agent.answer.reading import content_terms  # noqa: E402
from evaluation.questions import Question, load_questions  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402

CUTS = (0.25, 0.34, 0.5)


def _label(question: Question) -> str:
    if question.underspecified:
        return "underspecified"
    return "unanswerable" if question.answerable is False else "answerable"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--answers", type=Path, required=True, help="eval answers --json output")
    args = parser.parse_args(argv)
    decisions = {r["id"]: r["decision"] for r in json.loads(args.answers.read_text())["results"]}
    runtime = Runtime(Settings(data_dir=args.data_dir))
    try:
        store = runtime.store(args.tenant)
        rows: list[tuple[str, float, str]] = []
        for question in load_questions(args.questions):
            words = list(content_terms(question.query.text).values())
            absent = store.absent_words(args.tenant, words) if words else []
            share = len(absent) / len(words) if words else 0.0
            rows.append((_label(question), share, decisions[question.id]))
    finally:
        runtime.close()
    for cut in CUTS:
        for label in ("answerable", "unanswerable", "underspecified"):
            of_label = [r for r in rows if r[0] == label]
            if not of_label:
                continue
            reach = [r for r in of_label if r[1] >= cut]
            answered = sum(r[2] == "answered" for r in reach)
            print(
                f"absent share >= {cut:.2f}  {label:15} {len(reach):3} of {len(of_label):3}"
                f"  answered now {answered}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
