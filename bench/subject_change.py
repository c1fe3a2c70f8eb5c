"""How the change-of-subject rule (agent/understand/subject.py) moves the answers on a
multi-turn question set, and how much that depends on its two word counts.

Runs every turn of the set twice through the real agent (as `clearline eval answers` does):
once with its history and the rule off, once with its history removed. A turn the rule
flags is answered exactly as in the second run (it is searched and read without the earlier
turns, and turns are answered one by one), so the rule is replayed at each MIN_WORDS x
MIN_SUBJECT_WORDS from the two runs. Prints the answered, declined and underspecified-clarify
rates (as `eval answers` defines them) for each; the shipped values are marked `*`.

    clearline ingest ../shared/data/mtrag_dev/corpus.jsonl --tenant mtrag --data-dir D
    .venv/bin/python -m bench.subject_change --data-dir D --tenant mtrag \\
        --questions ../shared/data/mtrag_dev/questions.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from unittest import mock

from service.offline import go_offline

go_offline()

import agent.understand.subject as subject  # noqa: E402
from agent.understand.language import detect_language  # noqa: E402
from evaluation.answers import Outcome, run  # noqa: E402
from evaluation.questions import Question, load_questions  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402

KEPT = subject.SubjectReading(False, "rule off (bench.subject_change)")


def _rates(questions: Sequence[Question], pick: Callable[[Question], Outcome]) -> str:
    def share(rows: list[Question], test: Callable[[Outcome], bool]) -> str:
        return f"{sum(test(pick(q)) for q in rows) / len(rows):.4f}" if rows else "-"

    unclear = [q for q in questions if q.underspecified]
    unanswerable = [q for q in questions if q.answerable is False and not q.underspecified]
    answerable = [q for q in questions if q.answerable is not False and not q.underspecified]
    return (
        f"answered {share(answerable, lambda o: o.answered)}  "
        f"declined {share(unanswerable, lambda o: not o.answered)}  "
        f"clarify (underspecified) {share(unclear, lambda o: o.reply.proposed == 'clarify')}"
    )


def _pick(
    flagged: set[str], alone: dict[str, Outcome], kept: dict[str, Outcome], q: Question
) -> Outcome:
    return (alone if q.id in flagged else kept)[q.id]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--questions", type=Path, required=True)
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)
    bare = [replace(q, query=replace(q.query, history=())) for q in questions]
    runtime = Runtime(Settings(data_dir=args.data_dir))
    try:
        tenant = runtime.agents.agent(args.tenant)
        with mock.patch("agent.turn.read_subject", return_value=KEPT):
            kept = {o.question.id: o for o in run(runtime.evaluation_agent, tenant, questions)}
        alone = {o.question.id: o for o in run(runtime.evaluation_agent, tenant, bare)}
    finally:
        runtime.close()
    languages = {q.id: detect_language(q.query.text).label for q in questions}
    shipped = (subject.MIN_WORDS, subject.MIN_SUBJECT_WORDS)
    print(f"{len(questions)} turns, {sum(bool(q.query.history) for q in questions)} with history")
    print(f"  history kept on every turn:    {_rates(questions, lambda q: kept[q.id])}")
    print(f"  history removed on every turn: {_rates(questions, lambda q: alone[q.id])}")
    for words in (3, 4, 5, 6):
        for subject_words in (1, 2, 3):
            subject.MIN_WORDS, subject.MIN_SUBJECT_WORDS = words, subject_words
            flagged = {
                q.id for q in questions
                if subject.read_subject(q.query.text, q.query.history, languages[q.id]).new
            }  # fmt: skip
            rates = _rates(questions, partial(_pick, flagged, alone, kept))
            mark = "*" if (words, subject_words) == shipped else " "
            print(f"{mark} MIN_WORDS {words}, MIN_SUBJECT_WORDS {subject_words}: "
                  f"{len(flagged):3d} flagged  {rates}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
