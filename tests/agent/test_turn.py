"""One turn of the agent end to end on a real store: steps, decisions, verification, trace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentConfig
from agent.llm.chat import ChatMessage
from agent.llm.testing import ScriptedChatModel
from agent.replies import ConversationState, TenantAgent
from agent.trace import STEPS, InMemoryTraceStore
from agent.turn import Agent
from knowledge.query import Turn
from knowledge.records import Chunk
from knowledge.retrieve import Retriever
from knowledge.store import DocumentWrite, KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore

DOCS = {
    "returns.md": (
        "Returns policy",
        [
            "You can return unworn shoes within 30 days of delivery for a full refund.",
            "Returned items must be sent back in their original box with the receipt.",
            "Refunds are paid to the original payment card within five business days.",
        ],
    ),
    "shipping.html": (
        "Shipping",
        [
            "Standard delivery to Canada takes seven to ten business days.",
            "Express shipping to the United States arrives in two business days.",
            "Orders over 50 dollars ship for free within the country.",
        ],
    ),
    "account.md": (
        "Account help",
        [
            "To reset your password, open the sign-in page and choose 'Forgot password'.",
            "We email a reset link that is valid for 24 hours.",
        ],
    ),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> KnowledgeStore:
    root: Path = tmp_path_factory.mktemp("turn")
    store = KnowledgeStore(root / "k.db", ChromaVectorStore(root / "chroma"))
    for doc_id, (title, sentences) in DOCS.items():
        chunks = [Chunk(doc_id, 0, 0, "\n".join(sentences), metadata={"title": title})]
        vectors = minilm.embed([f"{title}\n{c.text}" for c in chunks])
        store.write("acme", DocumentWrite(doc_id, title, doc_id, "md", doc_id), chunks, vectors)
    return store


def make_agent(
    store: KnowledgeStore, minilm: Any, chat: Any = None, corrections: Any = None
) -> tuple[Agent, Any]:
    traces = InMemoryTraceStore()
    agent = Agent(
        lambda tenant: Retriever(store, minilm),
        minilm,
        lambda tenant, words: store.term_weights(tenant, words),
        lambda tenant, words: store.absent_words(tenant, words),
        traces,
        chat=chat,
        models={"embedder": minilm.name},
        corrections=corrections,
    )
    return agent, traces


def tenant(**config: Any) -> TenantAgent:
    return TenantAgent("acme", AgentConfig(**config))


def test_an_answerable_question_is_answered_with_quotes_from_retrieved_passages(
    store: KnowledgeStore, minilm: Any
) -> None:
    agent, traces = make_agent(store, minilm)
    reply = agent.respond(tenant(), ConversationState(), "How long do I have to return shoes?")
    assert reply.decision == "answered", reply.trace.decision
    assert "30 days" in reply.text
    retrieved = {c["document_id"] for c in reply.trace.step("retrieve").outputs["chunks"]}
    for citation in reply.citations:
        assert citation.document_id in retrieved
        passage = "\n".join(DOCS[citation.document_id][1])
        assert citation.quote in passage  # quoted, not invented
    stored = traces.get("acme", reply.trace.trace_id)
    assert stored is not None
    assert [s.name for s in stored.steps] == list(STEPS)
    assert stored.decision is not None and "answer threshold" in stored.decision.rule
    assert traces.get("globex", reply.trace.trace_id) is None


def test_a_question_the_knowledge_does_not_cover_is_not_answered(
    store: KnowledgeStore, minilm: Any
) -> None:
    agent, _ = make_agent(store, minilm)
    reply = agent.respond(
        tenant(), ConversationState(), "Which vaccinations does my dog need before a flight?"
    )
    assert reply.decision in ("clarify", "handoff"), reply.trace.decision
    assert reply.citations == [] or reply.decision == "clarify"


def test_clarify_only_once_then_hand_off(store: KnowledgeStore, minilm: Any) -> None:
    agent, _ = make_agent(store, minilm)
    config = tenant(thresholds={"answer": 1.0, "clarify": 0.0})  # P(answerable) never reaches 1
    question = "How long after delivery can I return shoes?"
    first = agent.respond(config, ConversationState(), question)
    assert first.decision == "clarify"
    # It names the topics it found that share a word with the question (the documents'
    # titles here: they have no headings), the best match first, instead of guessing.
    assert first.text.startswith("I want to make sure I answer the right question. Do you mean")
    assert first.text.index('"Returns policy"') < first.text.index('"Shipping"'), first.text
    assert "naming the topics found" in (first.trace.decision.rule if first.trace.decision else "")
    second = agent.respond(config, ConversationState(last_decision="clarify"), question)
    assert second.decision == "handoff"
    assert second.handoff_summary and "already asked to clarify" in second.handoff_summary


@pytest.mark.parametrize(
    "message",
    [
        "I want to talk to a human",
        "Je veux parler à un humain, s'il vous plaît",
        "Ich möchte mit einem Menschen sprechen",
        "Quiero hablar con una persona",
    ],
)
def test_asking_for_a_human_hands_off_with_a_summary(
    store: KnowledgeStore, minilm: Any, message: str
) -> None:
    agent, _ = make_agent(store, minilm)
    history = (Turn("user", "Where is my refund?"), Turn("assistant", "Refunds take five days."))
    reply = agent.respond(tenant(), ConversationState(history=history), message)
    assert reply.decision == "handoff"
    assert reply.handoff_summary and message in reply.handoff_summary
    assert "Where is my refund?" in reply.handoff_summary
    assert reply.trace.decision is not None and "human" in reply.trace.decision.rule


def test_copilot_holds_the_reply_as_a_draft(store: KnowledgeStore, minilm: Any) -> None:
    agent, _ = make_agent(store, minilm)
    reply = agent.respond(
        tenant(autonomy="copilot"), ConversationState(), "How long do I have to return shoes?"
    )
    assert reply.decision == "draft" and reply.proposed == "answered"
    assert "30 days" not in reply.text and "30 days" in reply.draft_text


def test_switched_off_features_are_skipped_and_the_trace_says_so(
    store: KnowledgeStore, minilm: Any
) -> None:
    agent, _ = make_agent(store, minilm)
    config = tenant(features={"sentiment": False, "intent_prediction": False})
    reply = agent.respond(config, ConversationState(), "How long do I have to return shoes?")
    understand = reply.trace.step("understand")
    assert "sentiment" in understand.reason and "intent_prediction" in understand.reason
    assert understand.outputs["sentiment"]["detail"] == {"skipped": "sentiment is off"}


def test_the_handoff_summary_shows_sentiment_only_when_it_was_estimated(
    store: KnowledgeStore, minilm: Any
) -> None:
    agent, _ = make_agent(store, minilm)
    message = "This is ridiculous, I am still waiting. Let me talk to a human!"
    on = agent.respond(tenant(), ConversationState(), message)
    off = agent.respond(tenant(features={"sentiment": False}), ConversationState(), message)
    assert on.handoff_summary and "sentiment: negative;" in on.handoff_summary
    assert off.handoff_summary and "sentiment: not estimated (off);" in off.handoff_summary


def test_generative_draft_is_verified_and_unsupported_sentences_removed(
    store: KnowledgeStore, minilm: Any
) -> None:
    def answer(messages: Sequence[ChatMessage]) -> str:
        return (
            "You can return unworn shoes within 30 days of delivery for a full refund [1]. "
            "Every customer also gets a free pair of socks with each return [1]."
        )

    chat = ScriptedChatModel(answer)
    agent, _ = make_agent(store, minilm, chat=chat)
    config = tenant(features={"generative_composition": True})
    reply = agent.respond(config, ConversationState(), "How long do I have to return shoes?")
    compose = reply.trace.step("compose")
    assert compose.generative and compose.model and "scripted" in compose.model
    checks = reply.trace.step("verify").outputs["sentences"]
    assert [c["supported"] for c in checks] == [True, False]
    assert "socks" not in reply.text and "30 days" in reply.text


def test_generative_feature_without_a_model_falls_back_and_says_why(
    store: KnowledgeStore, minilm: Any
) -> None:
    agent, _ = make_agent(store, minilm)
    config = tenant(features={"generative_composition": True})
    reply = agent.respond(config, ConversationState(), "How long do I have to return shoes?")
    assert "no chat model is configured" in reply.trace.step("compose").reason
    assert reply.decision == "answered"


def test_per_intent_autonomy_answers_listed_intents_and_drafts_the_rest(
    store: KnowledgeStore, minilm: Any
) -> None:
    from agent.understand.intents import IntentClassifier

    intents = {
        "returns": [
            "how do I return shoes", "can I send back my order", "return window for items",
            "I want a refund for my boots", "how many days do I have to return something",
        ],
        "shipping": [
            "how long does delivery take", "when will my parcel arrive", "shipping to Canada",
            "is express shipping available", "how much is delivery",
        ],
    }  # fmt: skip
    config = AgentConfig(autonomy="per_intent", autonomous_intents=["returns"], intents=intents)
    tenant_agent = TenantAgent("acme", config, IntentClassifier(minilm, intents))
    agent, _ = make_agent(store, minilm)
    returns = agent.respond(
        tenant_agent, ConversationState(), "How long do I have to return shoes?"
    )
    assert returns.intent == "returns" and returns.decision == "answered"
    shipping = agent.respond(
        tenant_agent, ConversationState(), "How long does standard delivery to Canada take?"
    )
    assert shipping.intent == "shipping" and shipping.decision == "draft"
    assert shipping.trace.decision is not None and "per_intent" in shipping.trace.decision.rule


def test_misspelt_words_are_read_as_the_knowledges_in_english_only(
    store: KnowledgeStore, minilm: Any
) -> None:
    """A misspelt English question is searched and read with the knowledge's word; a
    message surely in another language is not corrected (the English word list would take
    its words for typos)."""
    asked: list[str] = []

    def corrections(tenant: str, message: str) -> dict[str, str]:
        asked.append(message)
        return store.corrections(tenant, message)

    agent, _ = make_agent(store, minilm, corrections=corrections)
    reply = agent.respond(tenant(), ConversationState(), "Can I retrun unworn shoes?")
    retrieve = reply.trace.ran("retrieve")
    assert retrieve is not None and retrieve.inputs["spelling"] == {"retrun": "return"}
    assert retrieve.inputs["query"] == "Can I return unworn shoes?"
    assert reply.decision == "answered" and "30 days" in reply.text, reply.text
    german = "Wie lange dauert die Lieferung nach Kanada, bitte?"
    other = agent.respond(tenant(), ConversationState(), german)
    assert asked == ["Can I retrun unworn shoes?"], asked
    spelling = other.trace.ran("retrieve")
    assert spelling is not None and spelling.inputs["spelling"] == {}
