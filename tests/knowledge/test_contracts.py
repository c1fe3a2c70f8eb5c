"""One contract class per Protocol, run against the real implementation and the fake."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge import vector_chroma
from knowledge.embed_onnx import OnnxMiniLMEmbedder
from knowledge.keyword_fts import SqliteKeywordIndex
from knowledge.records import Chunk
from knowledge.testing import HashEmbedder, InMemoryKeywordIndex, InMemoryVectorStore
from knowledge.vector_chroma import ChromaVectorStore

TEXTS = [
    "Refunds are issued to the original card within five business days.",
    "Shipping to Canada takes seven to ten days.",
    "You can reset your password from the sign-in page.",
]


def _chunks(document_id: str = "doc", version: int = 1) -> list[Chunk]:
    return [Chunk(document_id, version, i, text) for i, text in enumerate(TEXTS)]


def dot(x: list[float], y: list[float]) -> float:
    return sum(p * q for p, q in zip(x, y, strict=True))


class EmbedderContract:
    @pytest.fixture
    def embedder(self) -> Any:
        raise NotImplementedError

    def test_vectors_have_the_declared_dimension_and_unit_length(self, embedder: Any) -> None:
        vectors = embedder.embed(TEXTS)
        assert len(vectors) == len(TEXTS)
        for vector in vectors:
            assert len(vector) == embedder.dimension
            assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-3)

    def test_same_text_same_vector_and_related_text_is_closer(self, embedder: Any) -> None:
        a, b = embedder.embed(["refund to my card", "refund to my card"])
        assert a == pytest.approx(b, abs=1e-5)
        query, refund, shipping = embedder.embed(["refunds issued card", TEXTS[0], TEXTS[1]])
        assert dot(query, refund) > dot(query, shipping)

    def test_a_text_gets_the_same_vector_whatever_it_is_embedded_with(self, embedder: Any) -> None:
        """Ingest batches depend on timing; a chunk's vector must not."""
        alone = embedder.embed([TEXTS[1]])[0]
        crowded = embedder.embed(["a much longer neighbour " * 40, TEXTS[1], "short"])[1]
        assert crowded == pytest.approx(alone, abs=1e-5)

    def test_empty_input_and_token_count(self, embedder: Any) -> None:
        assert embedder.embed([]) == []
        assert embedder.count_tokens("three short words") >= 3


class TestMiniLMEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self, minilm: Any) -> Any:
        return minilm


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


class TestOnnxInt8Embedder(EmbedderContract):
    @pytest.fixture
    def embedder(self, onnx_cache: Path) -> Any:
        return OnnxMiniLMEmbedder(onnx_cache, "int8")

    def test_close_to_the_pytorch_model(self, embedder: Any, minilm: Any) -> None:
        for a, b in zip(embedder.embed(TEXTS), minilm.embed(TEXTS), strict=True):
            assert dot(a, b) > 0.9
        assert embedder.count_tokens(TEXTS[0]) == minilm.count_tokens(TEXTS[0])


class TestOnnxFp32Embedder(EmbedderContract):
    @pytest.fixture
    def embedder(self, onnx_cache: Path) -> Any:
        return OnnxMiniLMEmbedder(onnx_cache, "fp32")

    def test_same_vectors_as_the_pytorch_model(self, embedder: Any, minilm: Any) -> None:
        for a, b in zip(embedder.embed(TEXTS), minilm.embed(TEXTS), strict=True):
            assert dot(a, b) > 0.999


class TestHashEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> Any:
        return HashEmbedder()


class VectorStoreContract:
    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        raise NotImplementedError

    def test_query_returns_nearest_first_with_cosine_scores(self, store: Any) -> None:
        embedder = HashEmbedder()
        chunks = _chunks()
        store.add("acme", chunks, embedder.embed(TEXTS))
        hits = store.query("acme", embedder.embed([TEXTS[1]])[0], 2)
        assert hits[0].chunk_id == chunks[1].chunk_id
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert len(hits) == 2 and hits[0].score >= hits[1].score

    def test_add_is_idempotent_and_delete_version_removes_only_that_version(
        self, store: Any
    ) -> None:
        embedder = HashEmbedder()
        store.add("acme", _chunks(version=1), embedder.embed(TEXTS))
        store.add("acme", _chunks(version=1), embedder.embed(TEXTS))
        store.add("acme", _chunks(version=2), embedder.embed(TEXTS))
        assert len(store.ids("acme")) == 6 == store.count("acme")
        store.delete_version("acme", "doc", 1)
        assert store.ids("acme") == {c.chunk_id for c in _chunks(version=2)}
        assert store.count("acme") == 3 and store.count("globex") == 0

    def test_tenants_never_see_each_other(self, store: Any) -> None:
        embedder = HashEmbedder()
        store.add("acme", _chunks(), embedder.embed(TEXTS))
        assert store.query("globex", embedder.embed([TEXTS[0]])[0], 5) == []
        assert store.ids("globex") == set()
        store.drop_tenant("acme")
        assert store.ids("acme") == set() and store.count("acme") == 0

    def test_tenants_are_those_with_a_collection(self, store: Any) -> None:
        embedder = HashEmbedder()
        assert store.tenants() == set()
        store.add("acme", _chunks(), embedder.embed(TEXTS))
        store.add("globex-eu", _chunks()[:1], embedder.embed(TEXTS[:1]))
        assert store.tenants() == {"acme", "globex-eu"}
        store.drop_tenant("acme")
        assert store.tenants() == {"globex-eu"}

    def test_rebuild_keeps_what_it_is_told_with_fresh_vectors(self, store: Any) -> None:
        embedder = HashEmbedder()
        chunks = _chunks()
        store.add("acme", chunks, embedder.embed(TEXTS))
        store.add("globex", chunks[:1], embedder.embed(TEXTS[:1]))
        dropped = chunks[2].chunk_id
        fresh = {"acme": {chunks[0].chunk_id: embedder.embed([TEXTS[1]])[0]}}
        store.rebuild(lambda tenant, chunk_id, doc, version: chunk_id != dropped, fresh)
        assert store.ids("acme") == {chunks[0].chunk_id, chunks[1].chunk_id}
        assert store.ids("globex") == {chunks[0].chunk_id}
        hits = store.query("acme", embedder.embed([TEXTS[1]])[0], 2)
        assert {h.chunk_id for h in hits} == {chunks[0].chunk_id, chunks[1].chunk_id}
        assert all(h.score == pytest.approx(1.0, abs=1e-4) for h in hits)
        store.add("acme", chunks[2:], embedder.embed(TEXTS[2:]))  # still writable
        assert dropped in store.ids("acme")

    def test_a_deep_query_returns_the_exact_nearest(self, store: Any) -> None:
        """The retriever asks for 100 hits and fuses over all of them (knowledge.retrieve):
        the set must be the true 100 nearest, not an approximation that varies by process.
        1,900 vectors in 30 clusters (like a corpus's topics), added 20 at a time as
        document-by-document ingest does; 40 queries. Chroma got the exact set for 0 of them
        at its default search width (100) and for 37 at 400."""
        rng = np.random.default_rng(7)
        centres = rng.normal(size=(30, 128))
        points = centres[rng.integers(0, 30, 1900)] + rng.normal(size=(1900, 128))
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        chunks = [Chunk("doc", 1, i, f"text {i}") for i in range(len(points))]
        for start in range(0, len(points), 20):
            store.add("acme", chunks[start : start + 20], points[start : start + 20].tolist())
        for point in points[:40]:
            query = point + rng.normal(scale=0.3, size=128)
            query /= np.linalg.norm(query)
            exact = {chunks[j].chunk_id for j in np.argsort(-(points @ query))[:100]}
            assert {h.chunk_id for h in store.query("acme", query.tolist(), 100)} == exact


class TestChromaVectorStore(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        return ChromaVectorStore(tmp_path / "chroma")

    def test_a_collection_made_with_the_default_width_is_widened(self, tmp_path: Path) -> None:
        """Data directories made before the search width was set keep working, exactly."""
        client = vector_chroma._open(tmp_path / "chroma")
        old = client.create_collection(
            "t_acme", embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        old.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.6, 0.8]])
        assert old.configuration_json["hnsw"]["ef_search"] == 100  # Chroma's default
        vector_chroma._close(client, tmp_path / "chroma")
        store = ChromaVectorStore(tmp_path / "chroma")
        assert [h.chunk_id for h in store.query("acme", [0.0, 1.0], 2)] == ["b", "a"]
        widened = store._collection("acme", create=False).configuration_json["hnsw"]
        assert widened["ef_search"] == vector_chroma.SEARCH_EF
        assert widened["space"] == "cosine"


class TestInMemoryVectorStore(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        return InMemoryVectorStore()


class KeywordIndexContract:
    @pytest.fixture
    def index(self, tmp_path: Path) -> Any:
        raise NotImplementedError

    def test_search_ranks_matching_chunks_first(self, index: Any) -> None:
        chunks = _chunks()
        index.add("acme", chunks)
        hits = index.search("acme", "how long does shipping to Canada take?", 3)
        assert hits[0].chunk_id == chunks[1].chunk_id
        assert all(h.score > 0 for h in hits)

    def test_delete_and_ids(self, index: Any) -> None:
        chunks = _chunks()
        index.add("acme", chunks)
        index.delete("acme", [chunks[0].chunk_id])
        assert index.ids("acme") == {c.chunk_id for c in chunks[1:]}
        hits = index.search("acme", "refunds original card shipping", 3)
        assert hits and all(h.chunk_id != chunks[0].chunk_id for h in hits)

    def test_query_syntax_is_not_interpreted(self, index: Any) -> None:
        index.add("acme", _chunks())
        assert index.search("acme", 'password" OR NOT (sign-in* AND', 3)
        assert index.search("acme", "", 3) == []

    def test_tenants_never_see_each_other(self, index: Any) -> None:
        index.add("acme", _chunks())
        assert index.search("globex", "refunds", 3) == []
        assert index.ids("globex") == set()


class TestSqliteKeywordIndex(KeywordIndexContract):
    @pytest.fixture
    def index(self, tmp_path: Path) -> Any:
        return SqliteKeywordIndex(sqlite3.connect(tmp_path / "kw.db"))


class TestInMemoryKeywordIndex(KeywordIndexContract):
    @pytest.fixture
    def index(self, tmp_path: Path) -> Any:
        return InMemoryKeywordIndex()


def test_fts_drops_the_most_common_words_past_the_postings_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import knowledge.keyword_fts as fts

    index = SqliteKeywordIndex(sqlite3.connect(tmp_path / "kw.db"))
    chunks = [Chunk("doc", 1, i, f"order number {i} shipped") for i in range(40)]
    chunks.append(Chunk("doc", 1, 40, "order refunded to the original card"))
    index.add("acme", chunks)
    monkeypatch.setattr(fts, "POSTINGS_BUDGET", 10)
    kept = index._selective("kw_acme", ["orders", "shipped", "refunded", "card", "unknown"])
    # "orders" (in every chunk) goes first, absent words never count; at least 3 terms stay.
    assert kept == ["shipped", "refunded", "card"]
    hits = index.search("acme", "orders shipped refunded card", 3)
    assert hits[0].chunk_id == chunks[40].chunk_id
