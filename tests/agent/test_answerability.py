"""The shipped answerability model: it loads offline, matches its manifest, tells a passage
that answers from one that does not, and the feature reader stays available as a setting."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from agent.answer.answerability import (
    MODEL_DIR,
    AnswerabilityModel,
    AnswerabilityModelError,
    best_window,
    question_text,
    read_card,
)
from agent.answer.judge import (
    FEATURES_REPLY,
    FEATURES_THRESHOLD,
    AnswerabilityJudge,
)
from agent.answer.reading import Reading, customers_first
from agent.config import AgentConfig
from agent.replies import ConversationState, TenantAgent
from agent.trace import InMemoryTraceStore
from agent.turn import Agent
from knowledge.query import Query, Turn
from knowledge.records import Chunk, ScoredChunk
from knowledge.retrieve import Retriever
from knowledge.store import DocumentWrite, KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore

# Hand-written (question, a passage that answers it, a passage that does not).
CASES = [
    (
        "How many days do I have to return unworn shoes?",
        "You can return unworn shoes within 30 days of delivery for a full refund.",
        "Our stores are closed on public holidays and open again the next working day.",
    ),
    (
        "How do I reset my password?",
        "To reset your password, open the sign-in page and choose 'Forgot password'. We "
        "email you a link that works for 24 hours.",
        "Standard delivery to Canada takes seven to ten business days.",
    ),
    (
        "Can I take my dog on the train?",
        "Dogs travel free on all our trains as long as they are kept on a lead or in a "
        "closed carrier.",
        "Bicycles must be booked in advance on long-distance trains and cost 5 pounds.",
    ),
    (
        "What is the deadline for filing the tax return online?",
        "If you file online, your tax return must reach us by 31 January after the end of "
        "the tax year.",
        "You can pay your tax bill by bank transfer, debit card or cheque.",
    ),
]


@pytest.fixture(scope="module")
def model(minilm: Any) -> AnswerabilityModel:
    model = AnswerabilityModel(minilm)
    model.warm_up()
    return model


def scored(doc: str, text: str, title: str = "") -> ScoredChunk:
    return ScoredChunk(Chunk(doc, 1, 0, text), 0.5, title or doc)


def test_the_shipped_files_match_the_checksums_in_the_manifest() -> None:
    card = read_card(MODEL_DIR)
    assert card.files, "the manifest lists no files"
    for name, digest in card.files.items():
        data = (MODEL_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{name} differs from the manifest"
    assert (MODEL_DIR / card.head).stat().st_size < 1024 * 1024
    assert 0 < card.threshold < 1 and card.top_n >= 1


def test_the_shipped_model_reads_with_its_own_tuned_encoder(
    model: AnswerabilityModel, minilm: Any
) -> None:
    assert model.card.encoder == "encoder-int8.onnx" and model.encoder is not minilm
    assert model.encoder.name == model.card.embedder


def test_without_an_encoder_in_its_manifest_the_model_reads_with_the_agents_embedder(
    tmp_path: Path, minilm: Any
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(MODEL_DIR, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["encoder"], manifest["files"]["encoder-int8.onnx"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    (copy / "encoder-int8.onnx").unlink()
    frozen = AnswerabilityModel(minilm, copy)
    frozen.warm_up()
    assert frozen.card.encoder is None and frozen.encoder is minilm


@pytest.mark.parametrize("damage", ["missing", "changed"])
def test_a_missing_or_changed_encoder_file_is_refused_naming_the_file_and_the_fix(
    tmp_path: Path, minilm: Any, damage: str
) -> None:
    """A model trained with `--tune-epochs` names its own encoder in the manifest; a copy
    whose encoder file is gone or differs from its checksum does not load."""
    copy = tmp_path / "model"
    shutil.copytree(MODEL_DIR, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["encoder"] = "encoder-int8.onnx"
    manifest["files"]["encoder-int8.onnx"] = hashlib.sha256(b"the tuned encoder").hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    if damage == "changed":
        (copy / "encoder-int8.onnx").write_bytes(b"another encoder")
    with pytest.raises(AnswerabilityModelError) as refused:
        AnswerabilityModel(minilm, copy).warm_up()
    message = str(refused.value)
    assert "encoder-int8.onnx" in message and "missing or does not match" in message
    assert "python -m training.answerability" in message


@pytest.mark.parametrize(("question", "answers", "unrelated"), CASES)
def test_a_passage_that_answers_scores_above_one_that_does_not(
    model: AnswerabilityModel, question: str, answers: str, unrelated: str
) -> None:
    query = Query(question)
    yes, no = model.logits(query, [("", answers), ("", unrelated)])
    assert yes > no
    assert (
        model.score(query, [scored("a", answers)]).probability
        > model.score(query, [scored("b", unrelated)]).probability
    )


def test_the_model_reads_passages_written_for_customers_before_agent_guidelines(
    model: AnswerabilityModel,
) -> None:
    """An agent's guideline is quoted for its facts only, so the model scores the passages
    written for customers first; each group keeps retrieval order."""
    question, answers, unrelated = CASES[0]

    def chunk(doc: str, text: str, audience: str | None) -> ScoredChunk:
        metadata = {} if audience is None else {"audience": audience}
        return ScoredChunk(Chunk(doc, 1, 0, text, metadata=metadata), 0.5, doc)

    chunks = [
        chunk("guide-1", unrelated, "agent"),
        chunk("guide-2", CASES[1][2], "agent"),
        chunk("help", answers, "customer"),
        chunk("faq", CASES[2][2], None),
    ]
    reading = Reading([], 0.8, 0.5, 0.9, 0.77)
    judged = AnswerabilityJudge(model).judge(AgentConfig(), Query(question), chunks, reading)
    assert [c.chunk.document_id for c in customers_first(chunks)] == [
        "help", "faq", "guide-1", "guide-2"
    ]  # fmt: skip
    assert (
        judged.model_read
        == tuple(c.chunk.chunk_id for c in customers_first(chunks))[: model.card.top_n]
    )
    alone = model.score(Query(question), customers_first(chunks)).probability
    assert judged.model is not None and judged.model.probability == alone
    assert alone > model.score(Query(question), chunks).probability


def test_overall_probability_comes_from_the_top_passages_and_is_a_probability(
    model: AnswerabilityModel,
) -> None:
    question, answers, unrelated = CASES[0]
    chunks = [scored("b", unrelated), scored("a", answers), scored("c", CASES[1][2])]
    estimate = model.score(Query(question), chunks)
    top = model.card.top_n
    assert len(estimate.passages) == min(top, len(chunks))
    assert all(0.0 <= p <= 1.0 for p in estimate.passages)
    assert 0.0 <= estimate.probability <= 1.0
    if top >= 2:
        assert estimate.probability >= estimate.passages[0]
    assert model.score(Query(question), []).probability == 0.0


def test_the_question_reads_with_its_scenario_and_earlier_turns_newest_first() -> None:
    query = Query(
        "and for children?",
        (
            Turn("user", "What does a passport cost?"),
            Turn("assistant", "An adult passport costs 88 pounds." + " x" * 400),
            Turn("user", "Can I pay by card?"),
        ),
        scenario="I live in Leeds.",
    )
    text = question_text(query)
    assert text.startswith("and for children? | I live in Leeds. | Can I pay by card? | What")
    assert len(text) < 500  # the assistant reply is clipped


def test_the_passage_window_is_the_run_of_sentences_sharing_most_question_terms() -> None:
    lengths = [30, 30, 30, 30]
    shared = [set(), {"refund"}, {"days", "refund"}, set()]
    assert best_window(lengths, shared, 60) == range(1, 3)
    assert best_window(lengths, [set()] * 4, 45) == range(0, 1)  # none shared: the start
    assert best_window([100], [set()], 40) == range(0, 1)  # one long sentence still counts


def test_the_feature_reader_needs_no_model_and_keeps_its_own_threshold(
    tmp_path: Path, minilm: Any
) -> None:
    judge = AnswerabilityJudge(AnswerabilityModel(minilm, tmp_path / "missing"))
    chunks = [scored("a", CASES[0][1])]
    reading = Reading([], 0.8, 0.5, 0.9, 0.77)
    features = AgentConfig(reader="features")
    judged = judge.judge(features, Query(CASES[0][0]), chunks, reading)
    assert judged.model is None and judged.reading.answerability == 0.77
    assert judged.answer == FEATURES_THRESHOLD
    explicit = features.merged({"thresholds": {"answer": 0.5}})
    assert judge.judge(explicit, Query(CASES[0][0]), chunks, reading).answer == 0.5
    with pytest.raises(AnswerabilityModelError, match="reader: features"):
        judge.judge(AgentConfig(reader="model"), Query(CASES[0][0]), chunks, reading)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> KnowledgeStore:
    root = tmp_path_factory.mktemp("answerability")
    store = KnowledgeStore(root / "k.db", ChromaVectorStore(root / "chroma"))
    for number, (_, answers, unrelated) in enumerate(CASES):
        doc = f"doc-{number}.md"
        chunk = Chunk(doc, 0, 0, f"{answers}\n{unrelated}", metadata={"title": doc})
        vectors = minilm.embed([chunk.text])
        store.write("acme", DocumentWrite(doc, doc, doc, "md", doc), [chunk], vectors)
    return store


@pytest.mark.parametrize("reader", ["model", "features"])
def test_a_turn_decides_on_the_configured_reader(
    store: KnowledgeStore, minilm: Any, reader: str
) -> None:
    agent = Agent(
        lambda tenant: Retriever(store, minilm),
        minilm,
        lambda tenant, words: store.term_weights(tenant, words),
        lambda tenant, words: store.absent_words(tenant, words),
        InMemoryTraceStore(),
    )
    tenant = TenantAgent("acme", AgentConfig(reader=reader))
    reply = agent.respond(tenant, ConversationState(), CASES[0][0])
    step = reply.trace.ran("retrieve")
    assert step is not None
    used = step.scores["answerability"]
    assert ("answerability_model" in step.scores) == (reader == "model")
    if reader == "model":  # the model's P blended with the reading's features (manifest)
        blend = AnswerabilityModel(minilm).card.blend
        assert blend is not None and 0 < blend.model_weight < 1
        parts = [step.scores[k] for k in ("similarity", "coverage", "agreement")]
        blended = blend.probability(step.scores["answerability_model"], *parts)
        assert used == pytest.approx(blended, abs=1e-3)  # from inputs rounded to 4 places
        assert abs(used - step.scores["answerability_model"]) > 1e-3
    else:
        assert used == step.scores["answerability_features"]
    # the reply's confidence is P(right), mapped from P(answerable) by the reader's map
    reply_map = (
        AnswerabilityModel(minilm).reply_calibration if reader == "model" else FEATURES_REPLY
    )
    expected = reply_map.confidence(used, reply.proposed == "answered")
    assert reply.confidence == pytest.approx(expected, abs=5e-3)  # P is recorded rounded
    assert reply.trace.decision is not None
    threshold = AnswerabilityModel(minilm).threshold if reader == "model" else FEATURES_THRESHOLD
    assert f"threshold {threshold}" in reply.trace.decision.rule
