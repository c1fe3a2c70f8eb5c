"""The groundedness check independent of the reply filter (evaluation.entailment), and the
`eval answers` figure built on it: a planted unsupported sentence scores low, a quoted one
high, and the summary keeps the verifier's re-check only under its own, labelled name."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from agent.answer.answerability import MODEL_DIR, read_card
from agent.answer.verify import Verifier
from agent.replies import Citation, Reply
from agent.trace import Decision, Step, Trace
from evaluation.answers import Outcome, groundedness, trace_evidence
from evaluation.entailment import ENTAILMENT, ENTAILMENT_DIR, SUPPORT_THRESHOLD, EntailmentCheck
from evaluation.grounding import CONFLICT_CAP, CachedEmbedder, sentence_pieces
from evaluation.questions import Question
from knowledge.query import Query

REFUNDS = (
    "You can ask for a refund within 30 days of delivery. "
    "Refunds are paid to the card you used for the order. "
    "Sale items cannot be returned unless they arrive damaged."
)
PENSIONS = (
    "Your pension statement is sent every April to your home address. "
    "You can claim the State Pension when you reach State Pension age."
)
QUOTED = "You can ask for a refund within 30 days of delivery."
PLANTED = "Your pension statement is sent every April to your home address."


@pytest.fixture(scope="module")
def check(minilm: Any) -> EntailmentCheck:
    return EntailmentCheck(minilm)


def test_the_check_reads_with_its_own_frozen_model_not_the_agents_tuned_one() -> None:
    """The frozen-encoder model measured better in this role (docs/benchmarks.md); it ships
    beside the agent's model with its own manifest and checksums."""
    card = read_card(ENTAILMENT_DIR)
    assert card.encoder is None and read_card(MODEL_DIR).encoder is not None
    for name, digest in card.files.items():
        assert hashlib.sha256((ENTAILMENT_DIR / name).read_bytes()).hexdigest() == digest


def _score(check: EntailmentCheck, minilm: Any, sentences: list[str], cited: str) -> Any:
    texts = [*sentences, *sentence_pieces(REFUNDS), *sentence_pieces(PENSIONS)]
    citations = [(s, cited) for s in sentences]
    return check.score(sentences, [REFUNDS, PENSIONS], citations, CachedEmbedder(minilm, texts))


def test_quoted_sentence_scores_high_and_planted_one_low(
    check: EntailmentCheck, minilm: Any
) -> None:
    quoted = _score(check, minilm, [QUOTED], REFUNDS)
    planted = _score(check, minilm, [QUOTED, PLANTED], REFUNDS)  # cites REFUNDS, says otherwise
    assert quoted.evaluator == planted.evaluator == ENTAILMENT
    assert quoted.value >= 0.9 and quoted.detail["unsupported_sentences"] == []
    assert planted.value < SUPPORT_THRESHOLD and planted.detail["unsupported_sentences"] == [1]
    # the weakest sentence decides; the first is as supported as on its own
    assert planted.detail["sentence_support"][0] == pytest.approx(quoted.value, abs=0.02)


def test_the_check_is_its_own_not_the_verifier(check: EntailmentCheck, minilm: Any) -> None:
    """A verbatim quote is not 1.0 by fiat (the verifier's rule); the value is the model's
    calibrated probability, and the threshold is the check's, not thresholds.support."""
    quoted = _score(check, minilm, [QUOTED], REFUNDS)
    assert Verifier(minilm).support(QUOTED, REFUNDS) == 1.0
    assert 0.0 < quoted.value < 1.0
    assert quoted.detail["threshold"] == SUPPORT_THRESHOLD
    assert quoted.detail["model_support"] == quoted.detail["sentence_support"]


def test_a_changed_number_is_capped(check: EntailmentCheck, minilm: Any) -> None:
    edited = "You can ask for a refund within 90 days of delivery."
    altered = _score(check, minilm, [edited], REFUNDS)
    assert altered.detail["model_support"][0] >= SUPPORT_THRESHOLD  # the model reads topic
    assert altered.value <= CONFLICT_CAP
    assert altered.detail["conflicts"] == [{"sentence": 0, "kind": "number"}]


def _outcome(text: str, supported: list[str]) -> Outcome:
    chunks = [
        {"chunk_id": "c1", "document_id": "refunds.md", "text": REFUNDS},
        {"chunk_id": "c2", "document_id": "pensions.md", "text": PENSIONS},
    ]
    sentences = [{"text": s, "chunk_ids": ["c1"], "supported": True} for s in supported]
    trace = Trace(
        tenant="t", question="How long do I have to ask for a refund?",
        steps=[Step(name="retrieve", outputs={"chunks": chunks}),
               Step(name="verify", outputs={"sentences": sentences})],
        decision=Decision(decision="answered", proposed="answered", confidence=0.9, rule="test"),
        reply=text,
    )  # fmt: skip
    reply = Reply(
        text=text, draft_text=text, decision="answered", proposed="answered", confidence=0.9,
        citations=[Citation("refunds.md", "Refunds", s) for s in supported], trace=trace,
        procedure_state=None, handoff_summary=None, intent=None,
    )  # fmt: skip
    question = Question("q", Query(trace.question), None, ("refunds.md",), True)
    return Outcome(question, reply, 1.0)


def test_eval_answers_groundedness_comes_from_the_independent_check(
    check: EntailmentCheck, minilm: Any
) -> None:
    good = _outcome(QUOTED, [QUOTED])
    # a reply whose second sentence the trace says the verifier kept, citing REFUNDS
    bad = _outcome(f"{QUOTED} {PLANTED}", [QUOTED, PLANTED])
    contexts, citations = trace_evidence(bad.reply.trace)
    assert contexts == [REFUNDS, PENSIONS] and citations == [(QUOTED, REFUNDS), (PLANTED, REFUNDS)]
    both = groundedness([good, bad], check, minilm)
    alone = groundedness([good], check, minilm)
    assert both["evaluator"] == ENTAILMENT and both["replies"] == 2
    assert alone["supported_replies"] == 1.0 and both["supported_replies"] == 0.5
    assert both["supported_sentences"] == pytest.approx(2 / 3, abs=1e-3)
    assert both["value"] < alone["value"] - 0.3
