"""Redaction suggestions for one conversation: the personal data the detector finds in each
message (its text and the end user's rating comment) and each trace (question, reply,
retrieved passages), with a stable id per span.

    found = suggest(sessions, detector, "acme", conversation_id)
    chosen = [s for s in found if s.id in ids]
    redactor.redact("acme", values_of(chosen), actor)   # permanent, everywhere

Applying a suggestion redacts its value everywhere in the tenant's data (privacy.redaction),
not only at that span: the same value elsewhere would otherwise still be there.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from control.errors import NotFound, quoted
from control.models import Conversation, Message, TraceRecord
from control.regional import tenant_region
from privacy.detect import PiiDetector
from privacy.redact import placeholder
from privacy.redaction import MIN_CHARACTERS, RedactValue

Where = Literal["message", "trace"]
# Placeholders and markers that redactions leave ("[PHONE_NUMBER]", "[removed: ...]").
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]|\[removed: [^\]]*\]")


@dataclass(frozen=True)
class Suggestion:
    """A detected span in a message's text or in a field of a trace."""

    id: str
    source: Where
    record_id: str
    field: str  # "text", "rating_comment" (message); "question", "reply", "passage:<id>" (trace)
    start: int
    end: int
    entity_type: str
    score: float
    text: str

    @property
    def placeholder(self) -> str:
        return placeholder(self.entity_type)


@dataclass(frozen=True)
class _Text:
    source: Where
    record_id: str
    field: str
    text: str


def _texts(sessions: sessionmaker[Session], tenant: str, conversation_id: str) -> list[_Text]:
    with sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.tenant != tenant:
            raise NotFound(f"no conversation {quoted(conversation_id)} for this tenant")
        messages = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at)
        ).all()
        traces = session.scalars(
            select(TraceRecord)
            .where(TraceRecord.conversation_id == conversation_id, TraceRecord.tenant == tenant)
            .order_by(TraceRecord.created_at)
        ).all()
        texts: list[_Text] = []
        for m in messages:
            texts.append(_Text("message", m.id, "text", m.text))
            if m.rating_comment:
                texts.append(_Text("message", m.id, "rating_comment", m.rating_comment))
        for trace in traces:
            texts += _trace_texts(trace.id, json.loads(trace.body))
    return texts


def _trace_texts(trace_id: str, body: dict[str, Any]) -> list[_Text]:
    texts = [
        _Text("trace", trace_id, name, str(body.get(name) or "")) for name in ("question", "reply")
    ]
    for step in body.get("steps", []):
        for chunk in (step.get("outputs") or {}).get("chunks", []) or []:
            if isinstance(chunk, dict) and chunk.get("text"):
                field = f"passage:{chunk.get('chunk_id', '')}"
                texts.append(_Text("trace", trace_id, field, str(chunk["text"])))
    return texts


def _span_id(item: _Text, start: int, end: int, entity_type: str) -> str:
    key = f"{item.source}|{item.record_id}|{item.field}|{start}|{end}|{entity_type}"
    return "sg_" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@tenant_region
def suggest(
    sessions: sessionmaker[Session], detector: PiiDetector, tenant: str, conversation_id: str
) -> list[Suggestion]:
    """Every detected span of the conversation's messages (text, then rating comment) and
    traces, in record order."""
    texts = [t for t in _texts(sessions, tenant, conversation_id) if t.text.strip()]
    found = detector.detect_many([t.text for t in texts]) if texts else []
    suggestions: list[Suggestion] = []
    seen: set[str] = set()
    for item, spans in zip(texts, found, strict=True):
        redacted = [m.span() for m in _PLACEHOLDER.finditer(item.text)]
        for span in spans:
            if any(span.start < end and start < span.end for start, end in redacted):
                continue  # a placeholder of an earlier redaction is not personal data
            span_id = _span_id(item, span.start, span.end, span.entity_type)
            if span_id in seen:  # the same passage retrieved twice in one trace
                continue
            seen.add(span_id)
            suggestions.append(
                Suggestion(
                    span_id, item.source, item.record_id, item.field, span.start, span.end,
                    span.entity_type, span.score, item.text[span.start : span.end],
                )
            )  # fmt: skip
    return suggestions


def values_of(chosen: list[Suggestion]) -> tuple[list[RedactValue], list[Suggestion]]:
    """The distinct values to redact (with their types), and the suggestions too short to
    redact safely on their own."""
    values: dict[str, RedactValue] = {}
    too_short: list[Suggestion] = []
    for suggestion in chosen:
        value = suggestion.text.strip()
        if len("".join(value.split())) < MIN_CHARACTERS:
            too_short.append(suggestion)
            continue
        values.setdefault(value.casefold(), RedactValue(value, suggestion.entity_type))
    return list(values.values()), too_short
