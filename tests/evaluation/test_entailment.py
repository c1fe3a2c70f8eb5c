"""The groundedness check independent of the reply filter (evaluation.entailment), and the
`eval answers` figure built on it: a planted unsupported sentence scores low, a quoted one
high, and the summary keeps the verifier's re-check only under its own, labelled name. Both
checks' full details are pinned on one reply (evaluation.grounding.verifier_support)."""

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
from evaluation.grounding import (
    CONFLICT_CAP,
    VERIFIER,
    CachedEmbedder,
    sentence_pieces,
    verifier_support,
)
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


# A reply with a changed number (1), an uncited sentence that drops a negation (2; it is
# checked against every retrieved passage) and a verbatim fragment whose source sentence is
# negated (3: the verifier scores a verbatim quote 1.0 and checks no conflict, this check does).
MIXED = [
    QUOTED,
    "You can ask for a refund within 90 days of delivery.",
    "Sale items can be returned.",
    "be returned unless they arrive damaged.",
]


def _mixed_detail(detail: dict[str, Any], expected: dict[str, Any]) -> None:
    assert list(detail) == list(expected)
    for key, value in expected.items():
        exact = key in ("aggregate", "conflicts")
        assert detail[key] == (value if exact else pytest.approx(value, abs=1e-3)), key


def _mixed_args(
    minilm: Any,
) -> tuple[list[str], list[str], list[tuple[str, str]], CachedEmbedder]:
    texts = [*MIXED, *sentence_pieces(REFUNDS), *sentence_pieces(PENSIONS)]
    citations = [(s, REFUNDS) for i, s in enumerate(MIXED) if i != 2]
    return MIXED, [REFUNDS, PENSIONS, REFUNDS], citations, CachedEmbedder(minilm, texts)


def test_the_details_of_a_reply_with_conflicts_and_an_uncited_sentence(
    check: EntailmentCheck, minilm: Any
) -> None:
    score = check.score(*_mixed_args(minilm))
    assert (score.name, score.evaluator, score.value) == ("groundedness", ENTAILMENT, CONFLICT_CAP)
    _mixed_detail(score.detail, {
        "aggregate": "min over sentences of P(supported) by the best cited passage "
        "(answerability model as entailment), capped at 0.3 where a number or the negation "
        "differs from the source",
        "threshold": SUPPORT_THRESHOLD,
        "sentence_support": [0.9987, 0.3, 0.3, 0.3],
        "model_support": [0.9987, 0.9971, 0.9834, 0.9581],
        "conflicts": [
            {"sentence": 1, "kind": "number"},
            {"sentence": 2, "kind": "negation"},
            {"sentence": 3, "kind": "negation"},
        ],
        "mean_support": 0.4747,
        "supported_share": 0.25,
        "unsupported_sentences": [1, 2, 3],
        "uncited_sentences": [2],
    })  # fmt: skip


def test_the_verifiers_details_of_the_same_reply(minilm: Any) -> None:
    score = verifier_support(*_mixed_args(minilm), 0.6)
    assert (score.name, score.evaluator, score.value) == ("verifier_support", VERIFIER, 0.3)
    _mixed_detail(score.detail, {
        "aggregate": "min over sentences of the verifier's support, capped at 0.3 where a "
        "number or the negation differs from the source",
        "threshold": 0.6,
        "sentence_support": [1.0, 0.3, 0.3, 1.0],
        "verifier_support": [1.0, 0.8876, 0.9259, 1.0],
        "conflicts": [{"sentence": 1, "kind": "number"}, {"sentence": 2, "kind": "negation"}],
        "mean_support": 0.65,
        "supported_share": 0.5,
        "unsupported_sentences": [1, 2],
        "uncited_sentences": [2],
    })  # fmt: skip


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
