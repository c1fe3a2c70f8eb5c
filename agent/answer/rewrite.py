"""Generative query rewriting: one standalone search question from a conversation turn.

Used only when a ChatModel is configured. A follow-up such as "and for children?" is turned
into "What is the passport fee for children?" using the earlier turns and the scenario, so
retrieval searches for what the end user means. The rewriter never fails a turn: on any
model error or an unusable answer the original query is returned unchanged.
"""

from __future__ import annotations

import logging
import re

from agent.llm.chat import ChatMessage, ChatModel, ChatModelError
from knowledge.query import Query

logger = logging.getLogger(__name__)

MAX_TURNS = 6
MAX_TURN_CHARS = 600
MAX_SCENARIO_CHARS = 1500
MAX_ANSWER_CHARS = 300

_INSTRUCTION = (
    "You rewrite a customer's latest message as one standalone question for searching a "
    "help centre. Use the conversation and the customer's situation to fill in what the "
    "latest message leaves out (topic, product, who it is for). Keep the customer's "
    "meaning; do not answer it. Reply with the question only, on one line."
)
_LABEL = re.compile(r"^(?:standalone\s+)?(?:search\s+)?(?:question|query)\s*:\s*", re.IGNORECASE)


def rewrite_prompt(query: Query) -> list[ChatMessage]:
    """The messages that ask for a standalone question."""
    lines: list[str] = []
    if query.scenario.strip():
        lines.append(f"Customer's situation: {query.scenario.strip()[:MAX_SCENARIO_CHARS]}")
    turns = [t for t in query.history if t.text.strip()][-MAX_TURNS:]
    if turns:
        lines.append("Conversation so far:")
        for turn in turns:
            speaker = "Customer" if turn.role == "user" else "Agent"
            lines.append(f"{speaker}: {' '.join(turn.text.split())[:MAX_TURN_CHARS]}")
    lines.append(f"Latest message: {query.text.strip()}")
    lines.append("Standalone question:")
    return [ChatMessage("system", _INSTRUCTION), ChatMessage("user", "\n".join(lines))]


def clean_answer(answer: str) -> str:
    """The question out of a model answer: first non-empty line, without labels or quotes."""
    line = next((ln.strip() for ln in answer.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip()
    if len(line) >= 2 and line[0] == line[-1] and line[0] in "\"'`":
        line = line[1:-1].strip()
    return line


def rewrite_query(chat: ChatModel, query: Query, max_tokens: int = 80) -> Query:
    """`query` with its text rewritten as a standalone question, or `query` itself.

    Queries without history or scenario are returned as they are (nothing to resolve).
    """
    has_history = any(t.text.strip() for t in query.history)
    if not query.text.strip() or not (has_history or query.scenario.strip()):
        return query
    try:
        answer = chat.complete(rewrite_prompt(query), max_tokens=max_tokens, temperature=0.0)
    except ChatModelError as exc:
        logger.warning("query rewrite skipped, chat model failed: %s", exc)
        return query
    rewritten = clean_answer(answer)
    if not rewritten or len(rewritten) > MAX_ANSWER_CHARS:
        logger.warning(
            "query rewrite skipped: unusable answer of %d characters from %s",
            len(answer),
            chat.name,
        )
        return query
    return Query(text=rewritten, history=query.history, scenario=query.scenario)
