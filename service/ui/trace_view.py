"""A trace arranged for reading: the steps as a timeline, the answer's sentences beside the
passages they cite, with the quoted text marked inside each passage, and which passages the
answerability model read with the P it gave each.

Pure presentation of what the trace recorded; nothing is recomputed. Templates render
these records with autoescaping, so every text stays text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agent.trace import Trace


@dataclass(frozen=True)
class StepView:
    name: str
    status: str
    reason: str
    elapsed_ms: float
    model: str | None
    generative: bool
    scores: list[tuple[str, float]]
    inputs: str
    outputs: str
    decides: bool = False


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


@dataclass
class PassageView:
    number: int
    chunk_id: str
    document_id: str
    title: str
    score: float | None
    segments: list[Segment] = field(default_factory=list)
    cited: bool = False
    read: float | None = None  # the answerability model's P for this passage, if it read it


@dataclass(frozen=True)
class SentenceView:
    text: str
    supported: bool
    support: float | None
    passages: list[int]


@dataclass(frozen=True)
class ScoreView:
    name: str
    value: float | None
    evaluator: str
    detail: str


@dataclass(frozen=True)
class TraceView:
    trace: Trace
    steps: list[StepView]
    sentences: list[SentenceView]
    passages: list[PassageView]
    qa_scores: list[ScoreView]
    intent: str
    notes: list[str]
    read: list[int] = field(default_factory=list)  # the passages the model read, in its order


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) if value else ""


def _spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Where `quote` occurs in `text`, ignoring differences in whitespace."""
    words = quote.split()
    if not words:
        return []
    pattern = r"\s+".join(re.escape(w) for w in words)
    return [m.span() for m in re.finditer(pattern, text)]


def _segments(text: str, quotes: list[str]) -> list[Segment]:
    spans = sorted(s for q in quotes for s in _spans(text, q))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out: list[Segment] = []
    position = 0
    for start, end in merged:
        if start > position:
            out.append(Segment(text[position:start], False))
        out.append(Segment(text[start:end], True))
        position = end
    if position < len(text):
        out.append(Segment(text[position:], False))
    return out


def view(trace: Trace) -> TraceView:
    steps = [
        StepView(
            name=s.name, status=s.status, reason=s.reason, elapsed_ms=s.elapsed_ms,
            model=s.model, generative=s.generative,
            scores=[(k, round(v, 4)) for k, v in s.scores.items()],
            inputs=_json(s.inputs), outputs=_json(s.outputs), decides=s.name == "decide",
        )
        for s in trace.steps
    ]  # fmt: skip
    chunks = trace.retrieved()
    numbers = {str(c["chunk_id"]): i for i, c in enumerate(chunks, 1)}
    verify = trace.ran("verify")
    raw = verify.outputs.get("sentences", []) if verify else []
    sentences = [
        SentenceView(
            text=str(s.get("text", "")), supported=bool(s.get("supported")),
            support=s.get("support"),
            passages=[numbers[c] for c in s.get("chunk_ids", []) if c in numbers],
        )
        for s in raw
    ]  # fmt: skip
    quotes: dict[str, list[str]] = {}
    for s in raw:
        if s.get("supported"):
            for chunk_id in s.get("chunk_ids", []):
                quotes.setdefault(str(chunk_id), []).append(str(s.get("text", "")))
    passages = []
    for c in chunks:
        chunk_id = str(c["chunk_id"])
        text = str(c.get("text", ""))
        passages.append(
            PassageView(
                number=numbers[chunk_id], chunk_id=chunk_id,
                document_id=str(c.get("document_id", "")), title=str(c.get("title", "")),
                score=c.get("score"), segments=_segments(text, quotes.get(chunk_id, [])),
                cited=chunk_id in quotes,
            )
        )  # fmt: skip
    read = _read(trace, passages)
    qa_scores = []
    notes = []
    for name, score in trace.scores.items():
        if isinstance(score, dict):
            detail = {k: v for k, v in score.items() if k not in ("value", "evaluator", "name")}
            value = score.get("value")
            qa_scores.append(
                ScoreView(
                    name, value if isinstance(value, (int, float)) else None,
                    str(score.get("evaluator", "")), _json(detail),
                )
            )  # fmt: skip
        else:
            notes.append(f"{name}: {score}")
    understand = trace.ran("understand")
    intent = str(understand.outputs.get("intent", {}).get("label", "")) if understand else ""
    return TraceView(trace, steps, sentences, passages, qa_scores, intent, notes, read)


def _read(trace: Trace, passages: list[PassageView]) -> list[int]:
    """Marks the passages the answerability model read with the P it gave each (the retrieve
    step's `answerability_read`, scored as `passage_0`, `passage_1`...); returns their
    numbers in the order the model read them."""
    retrieve = trace.ran("retrieve")
    if retrieve is None:
        return []
    by_id = {p.chunk_id: p for p in passages}
    numbers = []
    for i, chunk_id in enumerate(retrieve.outputs.get("answerability_read", [])):
        passage = by_id.get(str(chunk_id))
        if passage is None:
            continue
        passage.read = retrieve.scores.get(f"passage_{i}")
        numbers.append(passage.number)
    return numbers
