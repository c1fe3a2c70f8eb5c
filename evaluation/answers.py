"""Answer evaluation: every question through the agent, then what the replies were worth.

Definitions (all in the summary):
- answered: the agent answered (or drafted an answer, in copilot mode); declined: it asked
  to clarify or handed off. Answered rates count answerable questions except those
  labelled underspecified (`answerability` UNDERSPECIFIED, as in mtrag): those should get
  a clarifying question, and `clarify_rate_underspecified` is the share that did.
- correctness: token F1 and embedding cosine of the answer against `reference_answer`
  (answered, answerable questions that have one).
- groundedness: mean over answered replies of the reply's groundedness from the check
  independent of the reply filter (evaluation.entailment: the answerability model as
  entailment + number/negation check, weakest sentence decides), against the cited chunks'
  text as the turn's trace recorded it; `groundedness_detail` has the share of replies and of
  sentences at or over its threshold.
- verifier_citation_support: share of citations whose quote the agent's own verifier
  supports in the chunks of its document (the old "groundedness"): the verifier filtered
  these replies with the same threshold, so this is 1.0 by construction unless the
  verifier changed; kept only as a consistency check.
- citation validity: share of citations whose document exists in the tenant and was among
  the chunks retrieved for that turn.
- a reply is "right" when it answers an answerable question citing one of its reference
  documents (or, without reference documents, with token F1 >= 0.5), or declines an
  unanswerable one; calibration is the expected calibration error of `confidence` against
  that, in 10 bins.
- tradeoff: answered and declined rates if the answer threshold were each of several values
  (same replies, re-decided from the recorded P(answerable) and verified sentences; knowledge
  replies only: a procedure or a human request is decided by other rules).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.answer.verify import Verifier
from agent.replies import ConversationState, Reply, TenantAgent
from agent.trace import Trace
from agent.turn import Agent
from evaluation.entailment import EntailmentCheck
from evaluation.grounding import CachedEmbedder, answer_sentences, sentence_pieces
from evaluation.questions import Question
from evaluation.retrieval import percentile
from knowledge.protocols import Embedder
from knowledge.store import KnowledgeStore

THRESHOLDS = (0.3, 0.35, 0.37, 0.39, 0.41, 0.43, 0.45, 0.5, 0.55, 0.6, 0.7)
_TOKEN = re.compile(r"[a-z0-9]+")


def token_f1(answer: str, reference: str) -> float:
    a = _TOKEN.findall(answer.lower())
    r = _TOKEN.findall(reference.lower())
    if not a or not r:
        return 0.0
    common = sum((Counter(a) & Counter(r)).values())
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    if not confidences:
        return 0.0
    conf = np.asarray(confidences, dtype=float)
    right = np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for i in range(bins):
        upper = conf <= edges[i + 1] if i == bins - 1 else conf < edges[i + 1]
        members = (conf >= edges[i]) & upper
        if members.any():
            total += members.mean() * abs(conf[members].mean() - right[members].mean())
    return float(total)


@dataclass(frozen=True)
class Outcome:
    question: Question
    reply: Reply
    elapsed_ms: float

    @property
    def answered(self) -> bool:
        return self.reply.proposed == "answered"

    @property
    def cited(self) -> list[str]:
        return sorted({c.document_id for c in self.reply.citations})


def run(
    agent: Agent, tenant: TenantAgent, questions: Sequence[Question],
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:  # fmt: skip
    outcomes = []
    for done, question in enumerate(questions, 1):
        state = ConversationState(history=question.query.history, scenario=question.query.scenario)
        started = time.perf_counter()
        reply = agent.respond(tenant, state, question.query.text)
        outcomes.append(Outcome(question, reply, (time.perf_counter() - started) * 1000))
        if progress:
            progress(done)
    return outcomes


def _right(outcome: Outcome) -> bool:
    q = outcome.question
    if q.answerable is False:
        return not outcome.answered
    if not outcome.answered:
        return False
    if q.reference_doc_ids:
        return bool(set(q.reference_doc_ids) & set(outcome.cited))
    return token_f1(outcome.reply.draft_text, q.reference_answer or "") >= 0.5


def _verified(trace: Trace) -> bool:
    """Whether at least one draft sentence survived verification in that turn."""
    step = trace.ran("verify")
    checks = step.outputs.get("sentences", []) if step else []
    return any(bool(c.get("supported")) for c in checks)


def _answerability(trace: Trace) -> float | None:
    step = trace.ran("retrieve")
    value = step.scores.get("answerability") if step else None
    return None if value is None else float(value)


def citation_support(outcomes: Sequence[Outcome], verifier: Verifier) -> tuple[int, int]:
    """(supported, total) citations of the answered outcomes, each quote checked again by
    the verifier against the chunks of its document retrieved in that turn."""
    supported = total = 0
    for o in outcomes:
        if not o.answered:
            continue
        passages = o.reply.trace.passages_by_document()
        for citation in o.reply.citations:
            total += 1
            texts = passages.get(citation.document_id, [])
            supported += any(
                verifier.support(citation.quote, t) >= verifier.threshold for t in texts
            )
    return supported, total


def trace_evidence(trace: Trace) -> tuple[list[str], list[tuple[str, str]]]:
    """(retrieved passages, (sent sentence, text of the chunks it cites)) as the trace
    recorded them, as the QA loop scores a stored reply (evaluation.worker)."""
    chunks = {str(c["chunk_id"]): str(c.get("text", "")) for c in trace.retrieved()}
    step = trace.ran("verify")
    checks = step.outputs.get("sentences", []) if step else []
    citations = [
        (str(c["text"]), "\n".join(chunks[i] for i in c.get("chunk_ids", []) if i in chunks))
        for c in checks
        if c.get("supported")
    ]
    return list(chunks.values()), citations


def groundedness(
    outcomes: Sequence[Outcome], check: EntailmentCheck, embedder: Embedder
) -> dict[str, Any]:
    """The independent check's groundedness of the answered outcomes (module docstring)."""
    values: list[float] = []
    sentences_supported = sentences_total = 0
    for o in outcomes:
        if not o.answered:
            continue
        contexts, citations = trace_evidence(o.reply.trace)
        sentences = answer_sentences(o.reply.draft_text, [s for s, _ in citations])
        texts = [*sentences, *(s for p in contexts for s in sentence_pieces(p))]
        score = check.score(sentences, contexts, citations, CachedEmbedder(embedder, texts))
        if score.value is None:
            continue
        values.append(score.value)
        support = score.detail["sentence_support"]
        sentences_supported += sum(v >= check.threshold for v in support)
        sentences_total += len(support)
    return {
        "value": _mean(values),
        "evaluator": check.name,
        "threshold": check.threshold,
        "replies": len(values),
        "supported_replies": _rate([v >= check.threshold for v in values]),
        "supported_sentences": (
            round(sentences_supported / sentences_total, 4) if sentences_total else None
        ),
    }


def summarise(
    outcomes: Sequence[Outcome], store: KnowledgeStore, tenant: str, embedder: Embedder,
    verifier: Verifier, check: EntailmentCheck | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The figures of the module docstring; `check` (built from `embedder` when None) scores
    groundedness independently of `verifier`, which only re-checks citations."""
    underspecified = [o for o in outcomes if o.question.underspecified]
    answerable = [
        o for o in outcomes if o.question.answerable is not False and not o.question.underspecified
    ]
    unanswerable = [o for o in outcomes if o.question.answerable is False]
    answered = [o for o in outcomes if o.answered]
    f1s: list[float] = []
    pairs: list[tuple[str, str]] = []
    for o in answerable:
        if o.answered and o.question.reference_answer:
            f1s.append(token_f1(o.reply.draft_text, o.question.reference_answer))
            pairs.append((o.reply.draft_text, o.question.reference_answer))
    similarities: list[float] = []
    if pairs:
        vectors = np.asarray(embedder.embed([t for pair in pairs for t in pair]))
        similarities = [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(pairs))]
    supported, citations = citation_support(answered, verifier)
    grounded = groundedness(answered, check or EntailmentCheck(embedder), embedder)
    valid = 0
    for o in answered:
        passages = o.reply.trace.passages_by_document()
        for citation in o.reply.citations:
            exists = store.get(tenant, citation.document_id) is not None
            valid += int(exists and citation.document_id in passages)
    tradeoff = []
    for threshold in THRESHOLDS:

        def would_answer(o: Outcome, t: float = threshold) -> bool:
            p = _answerability(o.reply.trace)
            return p is not None and p >= t and _verified(o.reply.trace)

        tradeoff.append({
            "threshold": threshold,
            "answered_rate": _rate([would_answer(o) for o in answerable]),
            "declined_rate": _rate([not would_answer(o) for o in unanswerable]),
        })  # fmt: skip
    latencies = [o.elapsed_ms for o in outcomes]
    return {
        "answered_rate": _rate([o.answered for o in answerable]),
        "declined_rate": _rate([not o.answered for o in unanswerable]),
        "clarify_rate_underspecified": _rate(
            [o.reply.proposed == "clarify" for o in underspecified]
        ),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_underspecified": len(underspecified),
        "decisions": dict(Counter(o.reply.decision for o in outcomes)),
        "correctness": {
            "token_f1": _mean(f1s),
            "embedding_similarity": _mean(similarities),
            "n": len(f1s),
            "right_rate": _rate([_right(o) for o in outcomes]),
        },
        "groundedness": grounded.pop("value"),
        "groundedness_detail": grounded,
        "verifier_citation_support": round(supported / citations, 4) if citations else None,
        "citation_validity": round(valid / citations, 4) if citations else None,
        "citations": citations,
        "calibration": {
            "ece": round(
                expected_calibration_error(
                    [o.reply.confidence for o in outcomes], [_right(o) for o in outcomes]
                ),
                4,
            ),
            "definition": "a reply is right when it answers an answerable question citing a "
            "reference document, or declines an unanswerable one",
        },
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5), 1),
            "p95": round(percentile(latencies, 0.95), 1),
        },
        "tradeoff": tradeoff,
    }


def results(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    return [
        {
            "id": o.question.id,
            "decision": o.reply.decision,
            "confidence": round(o.reply.confidence, 4),
            "answer": o.reply.draft_text,
            "citations": o.cited,
            "trace_id": o.reply.trace.trace_id,
        }
        for o in outcomes
    ]


def _rate(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None
