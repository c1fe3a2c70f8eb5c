"""The passage reader: sentence similarity with and without the conversation before."""

from __future__ import annotations

from typing import Any

import pytest

from agent.answer.compose import ExtractiveComposer
from agent.answer.reading import PassageReader, answerability
from knowledge.records import Chunk, ScoredChunk

PASSAGE = (
    "Standard delivery to Canada takes seven to ten business days. "
    "Express shipping arrives in two days."
)
QUESTION = "How long does delivery to Canada take?"
UNRELATED = (
    "I forgot my password and cannot sign in to my account. "
    "Reset your password from the sign-in page using the link in your email."
)


@pytest.fixture(scope="module")
def reader(minilm: Any) -> PassageReader:
    return PassageReader(minilm, lambda words: {w: 1.0 for w in words})


def chunks() -> list[ScoredChunk]:
    return [ScoredChunk(Chunk("shipping", 0, 0, PASSAGE), 0.9, "Shipping")]


def test_the_best_sentence_is_the_one_that_answers(reader: PassageReader) -> None:
    reading = reader.read(QUESTION, "", chunks())
    assert reading.evidence[0].sentence.startswith("Standard delivery to Canada")
    assert reading.coverage == pytest.approx(0.75) and reading.missing_terms == ["long"]
    expected = answerability(reading.similarity, reading.coverage, 0.9)
    assert reading.answerability == pytest.approx(expected)


def test_the_current_turn_keeps_an_earlier_subject_from_hiding_the_answer(
    reader: PassageReader,
) -> None:
    whole = reader.read(QUESTION, UNRELATED, chunks())
    with_turn = reader.read(QUESTION, UNRELATED, chunks(), current=QUESTION)
    alone = reader.read(QUESTION, "", chunks())
    # The unrelated earlier turn pulls the similarity down; the current turn wins part back.
    assert whole.similarity < with_turn.similarity < alone.similarity + 1e-6
    assert with_turn.answerability > whole.answerability


def test_no_passages_read_as_unanswerable(reader: PassageReader) -> None:
    reading = reader.read(QUESTION, "", [])
    assert reading.evidence == [] and reading.answerability == pytest.approx(answerability(0, 0, 0))


def test_a_page_for_customers_is_read_before_the_agents_guidelines(minilm: Any) -> None:
    """The reader reads its top chunks, those written for customers first: the demo's "What
    is your return policy?" read four chunks of the product guideline and missed the help
    centre's returns section, seventh in retrieval (session 34)."""
    from knowledge.audience import AGENT, AUDIENCE

    guideline = "Ask the customer for the purchase date. Check the customer's membership level."
    steps = [
        ScoredChunk(Chunk("guideline", 0, i, guideline, metadata={AUDIENCE: AGENT}), 0.9, "G")
        for i in range(3)
    ]
    page = ScoredChunk(Chunk("shipping", 0, 0, PASSAGE), 0.5, "Shipping")
    reading = PassageReader(minilm, lambda w: {x: 1.0 for x in w}, top_chunks=2).read(
        QUESTION, "", [*steps, page]
    )
    read = {e.chunk.chunk.document_id for e in reading.evidence}
    assert read == {"shipping", "guideline"}, read
    assert reading.evidence[0].sentence.startswith("Standard delivery to Canada")


def test_a_sentence_whose_last_clause_answers_comes_first_for_the_composer(
    reader: PassageReader,
) -> None:
    """Found in the demo (session 45): "How long is the link valid?" quoted the return periods
    ("How long you have depends on your membership level:"), since the sentence that answers
    it reads far from the question as a whole (0.27); its clause after the semicolon is close
    (0.64). The reader scores each clause too; the reading's features keep the whole
    sentence's similarity."""
    passage = (
        "If you forgot your password, choose Forgot password on the sign-in page and we email "
        "you a link to set a new one; the link is valid for 24 hours. "
        "How long you have depends on your membership level.\n"
        "If a code says it is invalid and it is less than 7 days old, contact us."
    )
    read = reader.read("How long is the link valid?", "", [
        ScoredChunk(Chunk("help", 0, 0, passage), 0.9, "Help")
    ])  # fmt: skip
    closest = max(read.evidence, key=lambda e: e.closest)
    assert closest.sentence.endswith("the link is valid for 24 hours."), read.evidence
    assert closest.clause > closest.similarity
    assert read.similarity == max(e.similarity for e in read.evidence)  # features unchanged
    one_part = next(e for e in read.evidence if e.sentence.startswith("If a code"))
    assert one_part.clause == 0.0 and one_part.closest == one_part.similarity
    draft = ExtractiveComposer().compose("How long is the link valid?", read, [])
    assert "valid for 24 hours" in draft.sentences[0].text, draft
