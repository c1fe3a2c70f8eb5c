"""Golden sets: each tenant's questions with reference answers, imported as a questions
JSONL or added from a QA lead's correction; the quality gate and the scorer's correctness
read them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.trace import Trace
from control.errors import BadRequest
from control.models import GoldenCase, Message
from control.regional import tenant_regions
from evaluation.questions import InvalidQuestions, Question, check_labels, parse_question

MAX_CASE_ID_CHARS = 200  # the width of golden_cases.id
MAX_QUESTION_CHARS = 4000  # what the API takes as a question (service.agent_schemas.MAX_TEXT)


@tenant_regions
class GoldenSets:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def import_jsonl(self, tenant: str, text: str, where: str = "upload") -> int:
        """Import a questions JSONL in one transaction: a bad line, or two lines with one
        id, stops the import and nothing is stored. A case already stored under an id of the
        file is replaced."""
        records: list[dict[str, Any]] = []
        first_line: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            record = _golden_record(line, f"{where} line {number}")
            earlier = first_line.setdefault(record["id"], number)
            if earlier != number:
                raise InvalidQuestions(
                    f"{where} line {number} repeats the id '{_shown_id(record['id'])}' of line "
                    f"{earlier}; give each question its own id (nothing was imported)"
                )
            records.append(record)
        if not records:
            raise BadRequest(f"{where} holds no questions")
        with self._sessions.begin() as session:
            for record in records:
                _put(session, tenant, record, "import")
        return len(records)

    def add_correction(self, trace: Trace, verdict: str, corrected: str) -> None:
        """A reviewed reply becomes a case: the corrected answer, or unanswerable when the
        verdict says the agent should have handed off."""
        unanswerable = verdict == "should_have_handed_off"
        record: dict[str, Any] = {
            "id": f"correction-{trace.trace_id}",
            "question": trace.question,
            "history": self._history(trace),
            "reference_answer": "" if unanswerable else corrected,
            "answerable": not unanswerable,
            "source_trace_id": trace.trace_id,
        }
        with self._sessions.begin() as session:
            _put(session, trace.tenant, record, "correction")

    def cases(self, tenant: str) -> list[dict[str, Any]]:
        """Every case as its questions-JSONL record, with `golden_source` (import|correction)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(GoldenCase)
                .where(GoldenCase.tenant == tenant)
                .order_by(GoldenCase.created_at)
            ).all()
        out = []
        for row in rows:
            record = json.loads(row.body)
            record["golden_source"] = row.source
            out.append(record)
        return out

    def questions(self, tenant: str) -> list[Question]:
        return [parse_question(json.dumps(r), f"golden case {r['id']}") for r in self.cases(tenant)]

    def reference_for(self, tenant: str, question: str) -> str | None:
        """The reference answer of the case asking exactly `question`, if any."""
        for record in self.cases(tenant):
            if record.get("question", "").strip() == question.strip():
                answer = record.get("reference_answer")
                return str(answer) if answer else None
        return None

    def _history(self, trace: Trace) -> list[dict[str, str]]:
        """The visible turns of the conversation before the traced reply's question."""
        if not trace.conversation_id or not trace.message_id:
            return []
        with self._sessions() as session:
            reply = session.get(Message, trace.message_id)
            if reply is None:
                return []
            rows = session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == trace.conversation_id,
                    Message.visible.is_(True),
                    Message.created_at < reply.created_at,
                )
                .order_by(Message.created_at)
            ).all()
        turns = [
            {"role": "user" if m.role == "user" else "assistant", "text": m.text} for m in rows
        ]
        if turns and turns[-1]["role"] == "user" and turns[-1]["text"] == trace.question:
            turns = turns[:-1]  # the question itself
        return turns


def _golden_record(line: str, where: str) -> dict[str, Any]:
    """One line of a golden-set import, checked as a question (a clear error otherwise),
    with the id and the non-blank question a golden case needs."""
    parse_question(line, where)
    record: dict[str, Any] = json.loads(line, parse_constant=_not_json(where))
    check_labels(record, where)
    case_id = record.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise InvalidQuestions(
            f"{where} needs an 'id' string that is not empty; give each question its own id"
        )
    if len(case_id) > MAX_CASE_ID_CHARS:
        raise InvalidQuestions(
            f"{where}: the id '{_shown_id(case_id)}' is {len(case_id):,} characters; keep "
            f"ids to {MAX_CASE_ID_CHARS}"
        )
    question: str = record["question"]
    if not question.strip():
        raise InvalidQuestions(f"{where} needs a 'question' string that is not blank")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestions(
            f"{where}: the question is {len(question):,} characters; keep it to "
            f"{MAX_QUESTION_CHARS:,}, as the API does for questions asked"
        )
    return record


def _not_json(where: str) -> Callable[[str], Any]:
    """json.loads reads NaN and Infinity, which JSON does not have and no score can use."""

    def refuse(constant: str) -> Any:
        raise InvalidQuestions(
            f"{where} holds {constant}, which is not a JSON value; write a number or null"
        )

    return refuse


def _shown_id(case_id: str, limit: int = 60) -> str:
    shown = json.dumps(case_id, ensure_ascii=False)[1:-1]  # control characters escaped
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _put(session: Session, tenant: str, record: dict[str, Any], source: str) -> None:
    """Store `record` as the tenant's case of its id, replacing any case of that id."""
    row = session.get(GoldenCase, (str(record["id"]), tenant))
    if row is None:
        session.add(GoldenCase(id=str(record["id"]), tenant=tenant, body=json.dumps(record),
                               source=source))  # fmt: skip
    else:
        row.body = json.dumps(record)
        row.source = source
