"""The compose step of a turn: the composer the tenant's configuration chooses, recorded in
the trace. Extractive by default; generative when the `generative_composition` feature is on
and a chat model is configured, falling back to extractive when the model fails. The
extractive composer does not quote a sentence of the agent's own answer just before again,
unless the message names something it says."""

from __future__ import annotations

from dataclasses import replace

from agent.answer.answer_shape import short_answer
from agent.answer.compose import (
    REPEAT,
    Composer,
    Draft,
    ExtractiveComposer,
    GenerativeComposer,
    said_share,
)
from agent.answer.reading import Reading, content_terms
from agent.config import AgentConfig
from agent.llm.chat import ChatModel, ChatModelError
from agent.trace import Trace
from knowledge.retrieve import SearchResult


def compose_step(
    trace: Trace,
    config: AgentConfig,
    chat: ChatModel | None,
    message: str,
    reading: Reading,
    result: SearchResult,
    said: str = "",
    unlikely: frozenset[str] = frozenset(),
) -> Draft:
    """`said`: the agent's answer just before this message (past any small talk and its line:
    after "thanks", "How long does it take?" quoted the shipping price again), if it answered.
    Its sentences are not quoted again unless they hold a content word of the message: a
    follow-up ("How long does it take?" after "We ship to the United States and Canada only.")
    is read with the turn before it, so the sentence that answered that turn can rank first
    again, and saying it twice answers nothing; but "And on Saturday?" after the support hours
    asks about a part of that answer ("Saturday 9:00 am to 5:00 pm"). A sentence that holds the
    short answer the message asks for (answer_shape.short_answer: an amount for "How much?", a
    duration for "How long?") is quoted again too: "How much?" after the overnight shipping
    answer quoted the standard and Canadian prices, leaving out "Overnight shipping is $25.00
    per order.".
    A sentence of another passage that says the same as the answer just before (`REPEAT` of
    its content words in it, as the composer judges a second document's sentence) counts as
    said: "What about cash?" after "Valid payment methods are credit card, debit card and
    PayPal." quoted "We accept credit cards, debit cards and PayPal.", not "We do not accept
    cash, bank transfers or cryptocurrency.".
    `unlikely`: chunks the answerability model judged more likely not to answer, while
    another it read is likely to (agent.answer.judge `Judged.unlikely`); their sentences are
    not quoted. In the demo, "Do you sell gift cards?" quoted the refunds section's "A gift
    card or paper check is mailed to your address." (its passage at P 0.46) after the gift
    card section's answer (0.93)."""
    asked, before = set(content_terms(message)), set(content_terms(said))

    def again(sentence: str) -> bool:  # worth quoting again, though the answer just said it
        return (
            bool(asked & set(content_terms(sentence)))
            or short_answer(message, [sentence]) is not None
        )

    def restates(sentence: str) -> bool:
        terms = set(content_terms(sentence))
        return sentence.strip() in said or (bool(terms) and said_share(terms, before) >= REPEAT)

    fresh = [
        e for e in reading.evidence if not (said and restates(e.sentence) and not again(e.sentence))
    ]
    repeated = len(reading.evidence) - len(fresh)
    likely = [e for e in fresh if e.chunk.chunk.chunk_id not in unlikely] or fresh
    reading = replace(reading, evidence=likely)
    composer: Composer = ExtractiveComposer()
    reason = "extractive: quotes the best-supported sentences"
    if config.enabled("generative_composition"):
        if chat is None:
            reason = "generative_composition is on but no chat model is configured; extractive"
        else:
            composer = GenerativeComposer(chat)
            reason = "generative (flagged): the chat model answers from numbered passages"
    with trace.timed("compose") as step:
        step.generative = composer.generative
        step.model = composer.name
        try:
            draft = composer.compose(message, reading, result.chunks)
        except ChatModelError as error:
            step.status = "failed"
            reason = f"{error}; fell back to extractive"
            draft = ExtractiveComposer().compose(message, reading, result.chunks)
        extractive = draft.composer == ExtractiveComposer.name
        if repeated and extractive:  # the generative composer reads passages, not sentences
            reason += f"; {repeated} sentence(s) of the answer just before left out"
        if len(likely) < len(fresh) and extractive:
            reason += (
                f"; {len(fresh) - len(likely)} sentence(s) of passages the answerability model "
                "judged unlikely to answer left out"
            )
        if extractive and not draft.sentences:
            reason += (
                "; nothing to quote: no sentence as close to the question as "
                f"{ExtractiveComposer.FLOOR} that is an answer (not a heading, navigation, "
                "a line for the agent or a question)"
            )
        step.reason = reason
        step.outputs = {
            "sentences": [{"text": s.text, "chunk_ids": list(s.chunk_ids)} for s in draft.sentences]
        }
    return draft
