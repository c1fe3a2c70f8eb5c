"""Reading a questions JSONL (the ARCHITECTURE contract) into typed records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.errors import ClearlineError
from knowledge.query import Query, Turn


class InvalidQuestions(ClearlineError):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    query: Query
    reference_answer: str | None
    reference_doc_ids: tuple[str, ...]
    answerable: bool | None
    # the dataset's finer label where it has one (mtrag: ANSWERABLE, UNANSWERABLE,
    # UNDERSPECIFIED, PARTIAL); an underspecified turn should get a clarifying question
    answerability: str | None = None

    @property
    def underspecified(self) -> bool:
        return (self.answerability or "").upper() == "UNDERSPECIFIED"


def load_questions(path: Path) -> list[Question]:
    """Parse every line; a bad line stops with its number and what is wrong."""
    if path.is_dir():
        raise InvalidQuestions(f"questions file '{path}' is a folder; name a JSONL file in it")
    if not path.is_file():
        raise InvalidQuestions(f"questions file '{path}' does not exist")
    questions = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                questions.append(parse_question(line, f"{path.name} line {number}"))
    if not questions:
        raise InvalidQuestions(f"questions file '{path}' holds no questions")
    return questions


def parse_question(line: str, where: str) -> Question:
    """One questions-JSONL record; `where` names it in errors ("q.jsonl line 3")."""
    try:
        data: Any = json.loads(line)
    except ValueError as error:
        raise InvalidQuestions(f"{where} is not valid JSON ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        raise InvalidQuestions(f"{where} needs an object with a 'question' string")
    history = []
    for turn in data.get("history") or []:
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            raise InvalidQuestions(f"{where}: each history turn needs role user|assistant")
        history.append(Turn(role=turn["role"], text=str(turn.get("text", ""))))
    return Question(
        id=str(data.get("id", where)),
        query=Query(
            text=data["question"], history=tuple(history), scenario=str(data.get("scenario") or "")
        ),
        reference_answer=data.get("reference_answer"),
        reference_doc_ids=tuple(str(d) for d in data.get("reference_doc_ids") or ()),
        answerable=data.get("answerable"),
        answerability=str(data["answerability"]) if data.get("answerability") else None,
    )


def check_labels(data: dict[str, Any], where: str) -> None:
    """`answerable` is a boolean and `reference_doc_ids` a list of strings, where given (what
    a golden case must hold; `eval answers` reads question files as they come)."""
    answerable = data.get("answerable")
    if answerable is not None and not isinstance(answerable, bool):
        raise InvalidQuestions(
            f"{where}: 'answerable' must be true or false, not {_shown(answerable)}"
        )
    doc_ids = data.get("reference_doc_ids")
    if doc_ids is not None and (
        not isinstance(doc_ids, list) or not all(isinstance(d, str) for d in doc_ids)
    ):
        raise InvalidQuestions(
            f"{where}: 'reference_doc_ids' must be a list of document id strings, "
            f"not {_shown(doc_ids)}"
        )


def _shown(value: Any, limit: int = 80) -> str:
    """`value` as JSON for an error message, cut to `limit` characters."""
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
