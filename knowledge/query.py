"""Conversation-aware queries: a follow-up means something only with what came before.

No generative model is needed by default: the question is searched together with the end
user's scenario and their earlier turns. On the ConditionalQA dev questions, searching the
question alone gave nDCG@10 0.64 (dense) / 0.66 (BM25), with this context 0.89 / 0.81
(docs/benchmarks.md). A generative rewriter can later produce the same record. The agent
leaves the earlier turns out when a message changes the subject (agent/understand/subject.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str


def without_exchanges(
    history: tuple[Turn, ...], leave_out: Callable[[str, tuple[Turn, ...]], bool]
) -> tuple[Turn, ...]:
    """`history` without the end user's turns that `leave_out` names (by their text and the
    turns before them) and the agent's replies to them."""
    kept: list[Turn] = []
    leaving = False
    for at, turn in enumerate(history):
        if turn.role == "user":
            leaving = leave_out(turn.text, history[:at])
        if not leaving:
            kept.append(turn)
    return tuple(kept)


@dataclass(frozen=True)
class Query:
    """What the end user asked, with the conversation so far and any scenario they gave."""

    text: str
    history: tuple[Turn, ...] = ()
    scenario: str = ""


@dataclass(frozen=True)
class ResolvedQuery:
    """The texts each retrieval method searches with."""

    question: str
    context: str = ""
    scenario: str = ""

    @property
    def full(self) -> str:
        """Question first: the embedder truncates long inputs, never the question."""
        return f"{self.question}\n{self.context}".strip()

    @property
    def current(self) -> str:
        """This turn alone: the question and the scenario given with it, no history."""
        return f"{self.question}\n{self.scenario}".strip()

    @property
    def has_history(self) -> bool:
        """Earlier turns are part of the context (so `current` differs from `full`)."""
        return self.current != self.full


def resolve(query: Query, max_turns: int = 3, max_chars: int = 1500) -> ResolvedQuery:
    """Context = scenario + the user's recent earlier turns (+ the last assistant reply).

    Earlier user turns carry the topic a follow-up leaves out ("and for children?"); the
    last assistant reply often names it too. Context is capped so that it cannot drown the
    question itself.
    """
    parts: list[str] = []
    if query.scenario.strip():
        parts.append(query.scenario.strip())
    user_turns = [t.text.strip() for t in query.history if t.role == "user" and t.text.strip()]
    parts.extend(user_turns[-max_turns:])
    assistant = [t.text.strip() for t in query.history if t.role == "assistant" and t.text.strip()]
    if assistant:
        parts.append(assistant[-1][:400])
    context = " ".join(parts)[-max_chars:]
    return ResolvedQuery(
        question=query.text.strip(), context=context, scenario=query.scenario.strip()
    )
