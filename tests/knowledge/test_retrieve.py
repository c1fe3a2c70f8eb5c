"""Hybrid retrieval: fusion, score ranges, filters, follow-ups, tenant isolation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from knowledge.query import Query, Turn, resolve
from knowledge.records import Chunk, ScoredId
from knowledge.retrieve import METHODS, Filters, Retriever
from knowledge.store import DocumentWrite, KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore

DOCS = {
    "returns": (
        "Returns policy",
        "md",
        ["returns"],
        [
            "You can return unworn shoes within 30 days for a full refund.",
            "Returned items must be in their original box.",
        ],
    ),
    "shipping": (
        "Shipping",
        "html",
        ["delivery"],
        [
            "Standard delivery to Canada takes seven to ten business days.",
            "Express shipping arrives in two days.",
        ],
    ),
    "children": (
        "Children's clothing",
        "pdf",
        ["returns", "kids"],
        [
            "Children's clothing can be exchanged for a different size for free.",
            "School uniforms cannot be returned once worn.",
        ],
    ),
    "password": (
        "Account help",
        "md",
        ["account"],
        ["Reset your password from the sign-in page using the link in your email."],
    ),
}


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, minilm: Any) -> Retriever:
    root: Path = tmp_path_factory.mktemp("retrieve")
    store = KnowledgeStore(root / "k.db", ChromaVectorStore(root / "chroma"))
    for tenant in ("acme", "globex"):
        for doc_id, (title, kind, tags, texts) in DOCS.items():
            if tenant == "globex" and doc_id != "password":
                continue
            chunks = [Chunk(doc_id, 0, i, t) for i, t in enumerate(texts)]
            vectors = minilm.embed([f"{title}\n{t}" for t in texts])
            store.write(
                tenant,
                DocumentWrite(doc_id, title, doc_id, kind, "h", {"tags": tags}),
                chunks,
                vectors,
            )
    return Retriever(store, minilm)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_finds_the_right_document_with_scores_in_range(
    retriever: Retriever, method: Any
) -> None:
    result = retriever.search("acme", Query("how long does delivery to Canada take"), method=method)
    assert result.documents[0].document_id == "shipping"
    assert all(0.0 <= c.score <= 1.0 for c in result.chunks)
    assert [c.score for c in result.chunks] == sorted(
        (c.score for c in result.chunks), reverse=True
    )


def test_fusion_rewards_agreement(retriever: Retriever) -> None:
    a = [ScoredId("x", 1.0), ScoredId("y", 0.9), ScoredId("z", 0.8)]
    b = [ScoredId("y", 1.0), ScoredId("z", 0.9), ScoredId("x", 0.1)]
    fused = retriever._fuse([a, b])
    assert fused[0].chunk_id == "y"
    top = retriever._fuse([[ScoredId("q", 1.0)], [ScoredId("q", 1.0)]])
    assert top[0].score == pytest.approx(1.0)


@pytest.mark.parametrize("method", METHODS)
def test_filters(retriever: Retriever, method: Any) -> None:
    query = Query("can I return it")
    only_kids = retriever.search(
        "acme", query, method=method, filters=Filters(tags=frozenset({"kids"}))
    )
    assert {d.document_id for d in only_kids.documents} == {"children"}
    by_type = retriever.search(
        "acme", query, method=method, filters=Filters(doc_types=frozenset({"md"}))
    )
    assert {d.document_id for d in by_type.documents} <= {"returns", "password"}
    by_id = retriever.search(
        "acme", query, method=method, filters=Filters(document_ids=frozenset({"shipping"}))
    )
    assert {d.document_id for d in by_id.documents} <= {"shipping"}


def test_follow_up_uses_history_and_scenario(retriever: Retriever) -> None:
    follow_up = Query(
        "and for children?",
        history=(
            Turn("user", "Can I return clothes that don't fit?"),
            Turn("assistant", "Yes, within 30 days."),
        ),
    )
    resolved = resolve(follow_up)
    assert "return clothes" in resolved.full and resolved.question == "and for children?"
    result = retriever.search("acme", follow_up)
    assert result.documents[0].document_id == "children"
    with_scenario = retriever.search(
        "acme", Query("how long will it take?", scenario="I ordered a coat to Canada.")
    )
    assert with_scenario.documents[0].document_id == "shipping"


@pytest.mark.parametrize("method", METHODS)
def test_tenant_isolation_of_every_method(retriever: Retriever, method: Any) -> None:
    result = retriever.search(
        "globex", Query("return unworn shoes for a refund"), method=method, k=10
    )
    assert {d.document_id for d in result.documents} <= {"password"}
    assert retriever.search("nobody-here", Query("refund"), method=method).chunks == []
