"""Reading the retrieved passages: which sentences answer the question, and how likely it
is that the passages hold an answer at all.

Retrieval similarity alone cannot tell "the right page, but it does not say" from "the
page that says it". The reader looks at sentences: how close the best sentence comes to the
question (with the end user's scenario and earlier turns), and how much of the question's
rare vocabulary one stretch of a passage covers; and at whether keyword and dense search
agree on the best passage (its fused score). A logistic model turns the three into
P(answerable). Its weights were fitted on synthetic negatives (the same questions with their
reference documents removed from the results), never on the unanswerable questions
themselves; `bench/answerability_fit.py` refits them and prints what it measured.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.audience import for_the_agent
from knowledge.keyword_fts import STOPWORDS
from knowledge.protocols import Embedder
from knowledge.records import ScoredChunk

# P(answerable) = sigmoid(INTERCEPT + W_SIMILARITY * similarity + W_COVERAGE * coverage
#                         + W_AGREEMENT * agreement), fitted by bench/answerability_fit.py
# (see docs/benchmarks.md for the run).
INTERCEPT = -6.32
W_SIMILARITY = 3.45
W_COVERAGE = 1.39
W_AGREEMENT = 3.62
# The reply's confidence with this reader, P(the reply is right) = sigmoid(a * logit(P) + b)
# for (a, b) of answered and of declined replies, fitted on ConditionalQA dev and mtrag_dev
# together by bench/calibration_fit.py (agent.answer.answerability.ReplyCalibration).
FEATURES_REPLY_ANSWERED = (1.6336, 1.4211)
FEATURES_REPLY_DECLINED = (-0.8685, -1.9201)

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘(])|\n+")
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ing", "ed", "es", "s")
MIN_SENTENCE_CHARS = 12
_CLAUSE = re.compile(r";\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a passage (chunks keep one element or sentence a line)."""
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) >= MIN_SENTENCE_CHARS]


def clauses(sentence: str) -> list[str]:
    """The parts of a sentence that semicolons join, when it has several ("..., we email you a
    link to set a new one; the link is valid for 30 minutes"); none otherwise."""
    parts = [p.strip() for p in _CLAUSE.split(sentence) if len(p.strip()) >= MIN_SENTENCE_CHARS]
    return parts if len(parts) > 1 else []


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> dict[str, str]:
    """Stem -> first surface word, for the content words of `text`."""
    terms: dict[str, str] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and len(word) > 1:
            terms.setdefault(stem(word), word)
    return terms


@dataclass(frozen=True)
class Evidence:
    """One sentence of a retrieved chunk and how close it is to the question: `similarity`,
    the whole sentence's (the reading's features use it), and `clause`, its closest part
    between semicolons (0.0 for a sentence of one part)."""

    sentence: str
    chunk: ScoredChunk
    position: int  # index of the sentence within its chunk
    similarity: float
    clause: float = 0.0

    @property
    def closest(self) -> float:
        """How close the sentence comes to answering: the higher of the whole sentence's
        similarity and its closest clause's (a long sentence whose last clause answers reads
        far from the question as a whole; the composer ranks with this)."""
        return max(self.similarity, self.clause)


@dataclass(frozen=True)
class Reading:
    evidence: list[Evidence]  # best first
    similarity: float  # best sentence's cosine similarity to question + context, or turn
    coverage: float  # share of the question's idf-weighted terms in the best window
    agreement: float  # the best chunk's hybrid score: 1.0 = first for BM25 and dense alike
    answerability: float  # P(the passages hold the answer)
    missing_terms: list[str] = field(default_factory=list)

    def features(self) -> dict[str, float]:
        return {
            "similarity": round(self.similarity, 4),
            "coverage": round(self.coverage, 4),
            "agreement": round(self.agreement, 4),
            "answerability": round(self.answerability, 4),
        }


def answerability(similarity: float, coverage: float, agreement: float) -> float:
    z = INTERCEPT + W_SIMILARITY * similarity + W_COVERAGE * coverage + W_AGREEMENT * agreement
    return 1.0 / (1.0 + math.exp(-z))


def customers_first(chunks: Sequence[ScoredChunk]) -> list[ScoredChunk]:
    """The chunks written for customers, then those written for the company's agents, each
    group in retrieval order (a stable sort; a chunk with no recorded audience counts as
    written for customers)."""
    return sorted(chunks, key=lambda c: for_the_agent(c.chunk))


class PassageReader:
    """Scores the sentences of the top chunks against the question, those written for
    customers first (`customers_first`): a guideline written for the agent is quoted for its
    facts only, so its steps must not take the place of a help page that answers. (The
    demo's "What is your return policy?" read four chunks of the product guideline and the
    refunds section, and quoted the refund time; the returns section ranked seventh.)

    `term_weights` gives the idf of words in the tenant's knowledge (KnowledgeStore.
    term_weights); rare words the passages lack weigh most.
    """

    def __init__(
        self,
        embedder: Embedder,
        term_weights: Callable[[Sequence[str]], dict[str, float]],
        top_chunks: int = 5,
    ) -> None:
        self._embedder = embedder
        self._term_weights = term_weights
        self._top_chunks = top_chunks

    def read(
        self,
        question: str,
        context: str,
        chunks: Sequence[ScoredChunk],
        current: str | None = None,
    ) -> Reading:
        """`context`: the scenario and earlier turns. `current`, given when there are earlier
        turns: this turn alone (question + scenario). A sentence's similarity is then the
        higher of its similarity to the whole probe and to this turn alone, so that an
        earlier, different subject does not lower it (measured against adding the two
        embeddings, as retrieval does: better on both conversation variants in
        docs/benchmarks.md)."""
        sentences: list[tuple[str, ScoredChunk, int]] = []
        for scored in customers_first(chunks)[: self._top_chunks]:
            for position, sentence in enumerate(split_sentences(scored.chunk.text)):
                sentences.append((sentence, scored, position))
        if not sentences:
            return Reading([], 0.0, 0.0, 0.0, answerability(0.0, 0.0, 0.0))
        probes = [f"{question} {context}".strip()] + ([current] if current else [])
        parts = [(at, part) for at, (s, _, _) in enumerate(sentences) for part in clauses(s)]
        texts = probes + [s for s, _, _ in sentences] + [part for _, part in parts]
        vectors = np.asarray(self._embedder.embed(texts))
        near = (vectors[len(probes) :] @ vectors[: len(probes)].T).max(axis=1)
        similarities, clause = near[: len(sentences)], np.zeros(len(sentences))
        for (at, _), sim in zip(parts, near[len(sentences) :], strict=True):
            clause[at] = max(clause[at], sim)
        evidence = sorted(
            (
                Evidence(sentence, scored, position, float(sim), float(part))
                for (sentence, scored, position), sim, part in zip(
                    sentences, similarities, clause, strict=True
                )
            ),
            key=lambda e: -e.similarity,
        )
        coverage, missing = self._coverage(question, sentences)
        best = evidence[0].similarity
        agreement = chunks[0].score
        return Reading(
            evidence, best, coverage, agreement, answerability(best, coverage, agreement), missing
        )

    def _coverage(
        self, question: str, sentences: list[tuple[str, ScoredChunk, int]]
    ) -> tuple[float, list[str]]:
        """Best share of question terms (idf-weighted) found in 3 neighbouring sentences."""
        asked = content_terms(question)
        if not asked:
            return 0.0, []
        weights = self._term_weights(list(asked.values()))
        weight = {s: weights.get(w, 0.0) for s, w in asked.items()}
        total = sum(weight.values()) or 1.0
        terms = [set(content_terms(s)) for s, _, _ in sentences]
        best = 0.0
        for i in range(len(sentences)):
            window: set[str] = set()
            for j in range(max(0, i - 1), min(len(sentences), i + 2)):
                if sentences[j][1] is sentences[i][1]:
                    window |= terms[j]
            best = max(best, sum(weight[t] for t in asked if t in window) / total)
        seen = set().union(*terms)
        missing = [asked[t] for t in asked if t not in seen]
        return best, missing
