"""Check every sentence of a draft against the passages it cites.

A sentence's support score is 1.0 when it is quoted from a cited passage; otherwise the
mean of (a) the share of its content words the passage contains and (b) its best cosine
similarity to one of the passage's sentences. Sentences under the support threshold are
removed; a sentence that cites nothing is checked against every passage offered and cites
the one that supports it best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from agent.answer.compose import Draft, DraftSentence
from agent.answer.reading import content_terms, split_sentences
from knowledge.protocols import Embedder

_SPACE = re.compile(r"\s+")


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


@dataclass(frozen=True)
class SentenceCheck:
    text: str
    chunk_ids: tuple[str, ...]
    support: float
    supported: bool


@dataclass(frozen=True)
class Verification:
    checks: list[SentenceCheck]

    @property
    def kept(self) -> list[SentenceCheck]:
        return [c for c in self.checks if c.supported]

    @property
    def groundedness(self) -> float:
        """Share of the draft's sentences that are supported (1.0 for an empty draft)."""
        return len(self.kept) / len(self.checks) if self.checks else 1.0


class Verifier:
    def __init__(self, embedder: Embedder, threshold: float = 0.6) -> None:
        self._embedder = embedder
        self.threshold = threshold

    def support(self, sentence: str, passage: str) -> float:
        if _normal(sentence) in _normal(passage):
            return 1.0
        words = content_terms(sentence)
        if not words:
            return 0.0
        present = set(content_terms(passage))
        lexical = sum(1 for t in words if t in present) / len(words)
        pieces = split_sentences(passage) or [passage]
        vectors = np.asarray(self._embedder.embed([sentence, *pieces]))
        semantic = float(max(0.0, (vectors[1:] @ vectors[0]).max()))
        return round(0.5 * lexical + 0.5 * semantic, 4)

    def check(self, draft: Draft) -> Verification:
        checks: list[SentenceCheck] = []
        for sentence in draft.sentences:
            checks.append(self._check(sentence, draft))
        return Verification(checks)

    def _check(self, sentence: DraftSentence, draft: Draft) -> SentenceCheck:
        cited = [cid for cid in sentence.chunk_ids if cid in draft.chunks]
        candidates = cited or list(draft.chunks)
        best_id, best = "", 0.0
        for chunk_id in candidates:
            score = self.support(sentence.text, draft.chunks[chunk_id].chunk.text)
            if score > best:
                best_id, best = chunk_id, score
            if best >= 1.0:
                break
        ids = tuple(cited) if cited and best >= self.threshold else ((best_id,) if best_id else ())
        return SentenceCheck(sentence.text, ids, best, best >= self.threshold)
