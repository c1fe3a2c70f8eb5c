"""Deterministic in-memory fakes of the knowledge Protocols, for tests.

Each fake passes the same contract tests as the real implementation
(tests/knowledge/test_contracts.py).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from knowledge.records import Chunk, ScoredId
from knowledge.tenancy import validate_tenant

_WORD = re.compile(r"\w+")


class HashEmbedder:
    """Bag-of-words vectors from hashed tokens: similar wording, similar vector."""

    def __init__(self, dimension: int = 64) -> None:
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def name(self) -> str:
        return f"hash-{self._dimension}"

    def warm_up(self) -> None:
        return None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            vector = [0.0] * self._dimension
            for word in _WORD.findall(text.lower()):
                slot = int(hashlib.md5(word.encode()).hexdigest(), 16) % self._dimension
                vector[slot] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))


class InMemoryVectorStore:
    """VectorStore in dictionaries, exact cosine search."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, tuple[list[float], str, int]]] = {}

    def add(self, tenant: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        space = self._data.setdefault(validate_tenant(tenant), {})
        for chunk, vector in zip(chunks, vectors, strict=True):
            space[chunk.chunk_id] = (list(vector), chunk.document_id, chunk.version)

    def delete_version(self, tenant: str, document_id: str, version: int) -> None:
        space = self._data.get(tenant, {})
        for key in [k for k, v in space.items() if v[1] == document_id and v[2] == version]:
            del space[key]

    def query(self, tenant: str, vector: Sequence[float], k: int) -> list[ScoredId]:
        space = self._data.get(validate_tenant(tenant), {})
        scored = [
            ScoredId(chunk_id=key, score=sum(a * b for a, b in zip(vector, value[0], strict=True)))
            for key, value in space.items()
        ]
        return sorted(scored, key=lambda s: -s.score)[:k]

    def ids(self, tenant: str) -> set[str]:
        return set(self._data.get(tenant, {}))

    def count(self, tenant: str) -> int:
        return len(self._data.get(tenant, {}))

    def drop_tenant(self, tenant: str) -> None:
        self._data.pop(tenant, None)

    def tenants(self) -> set[str]:
        return set(self._data)

    def rebuild(
        self,
        keep: Callable[[str, str, str, int], bool],
        fresh: Mapping[str, Mapping[str, Sequence[float]]],
    ) -> None:
        self._data = {
            tenant: {
                key: (list(fresh.get(tenant, {}).get(key, value[0])), value[1], value[2])
                for key, value in space.items()
                if keep(tenant, key, value[1], value[2])
            }
            for tenant, space in self._data.items()
        }


class InMemoryKeywordIndex:
    """KeywordIndex with a plain Okapi BM25 (k1=1.2, b=0.75) over lowercase words."""

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, Counter[str]]] = {}

    def add(self, tenant: str, chunks: Sequence[Chunk]) -> None:
        space = self._docs.setdefault(validate_tenant(tenant), {})
        for chunk in chunks:
            space[chunk.chunk_id] = Counter(_WORD.findall(chunk.text.lower()))

    def delete(self, tenant: str, chunk_ids: Sequence[str]) -> None:
        space = self._docs.get(tenant, {})
        for chunk_id in chunk_ids:
            space.pop(chunk_id, None)

    def search(self, tenant: str, query: str, k: int) -> list[ScoredId]:
        space = self._docs.get(validate_tenant(tenant), {})
        if not space:
            return []
        n = len(space)
        average = sum(sum(c.values()) for c in space.values()) / n
        terms = set(_WORD.findall(query.lower()))
        scored = []
        for chunk_id, counts in space.items():
            length = sum(counts.values())
            score = 0.0
            for term in terms:
                tf = counts.get(term, 0)
                if not tf:
                    continue
                df = sum(1 for c in space.values() if term in c)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average))
            if score > 0:
                scored.append(ScoredId(chunk_id=chunk_id, score=score))
        return sorted(scored, key=lambda s: -s.score)[:k]

    def ids(self, tenant: str) -> set[str]:
        return set(self._docs.get(tenant, {}))

    def drop_tenant(self, tenant: str) -> None:
        self._docs.pop(tenant, None)
