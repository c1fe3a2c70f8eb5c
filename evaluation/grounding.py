"""The verifier's view of one reply, and the helpers both groundedness checks share.

`verifier_support` re-scores each answer sentence with the verifier that filtered the reply
(agent.answer.verify) against the passages it cites (all retrieved passages for a sentence
that cites nothing), weakest sentence decides, capped at CONFLICT_CAP where a number or the
negation differs from the source. With the same threshold as the agent it is true by
construction for a sent reply (the verifier already removed every sentence under it), so it
is NOT the groundedness score: that comes from evaluation.entailment, a check independent of
the verifier. bench/groundedness_auc.py reports both.

    cache = CachedEmbedder(embedder, texts)
    old = verifier_support(answer_sentences(answer, cited), contexts, citations, cache, 0.6)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agent.answer.reading import split_sentences
from agent.answer.verify import Verifier
from evaluation.records import Score
from knowledge.protocols import Embedder

# A sentence that contradicts its source on a number or a negation is unsupported however
# close its words and embedding are (the verifier alone scores such edits ~0.9).
CONFLICT_CAP = 0.3
VERIFIER = "clearline.verifier+number_negation_check (the reply filter's own check)"
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|none|nor|without)\b|n[’']t\b", re.I)


class CachedEmbedder:
    """Embeds every text once per scoring call, in one batch (the verifier asks repeatedly)."""

    def __init__(self, embedder: Embedder, texts: Sequence[str]) -> None:
        self._embedder = embedder
        unique = list(dict.fromkeys(t for t in texts if t))
        self._vectors = dict(zip(unique, embedder.embed(unique), strict=True))

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    @property
    def name(self) -> str:
        return self._embedder.name

    def warm_up(self) -> None:
        self._embedder.warm_up()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed(missing), strict=True))
        return [self._vectors[t] for t in texts]

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)

    def matrix(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.asarray(self.embed(texts), dtype=float).reshape(len(texts), -1)


def sentence_pieces(passage: str) -> list[str]:
    """A passage's sentences (the whole passage when it has no sentence boundary)."""
    return split_sentences(passage) or [passage]


def answer_sentences(answer: str, cited: Sequence[str]) -> list[str]:
    """The answer's sentences: the cited sentences where they occur (the composer's own
    boundaries), and the rest of the text split into sentences, in answer order."""
    found: list[tuple[int, str]] = []
    rest = answer
    for sentence in dict.fromkeys(c.strip() for c in cited):
        at = rest.find(sentence) if sentence else -1
        if at >= 0:
            found.append((at, sentence))
            rest = rest[:at] + "\n" * len(sentence) + rest[at + len(sentence) :]
    for match in re.finditer(r"[^\n]+", rest):
        found.extend((match.start(), s) for s in split_sentences(match.group()))
    if not found and answer.strip():
        found.append((0, answer.strip()))
    return [s for _, s in sorted(found, key=lambda x: x[0])]


def verifier_support(
    sentences: Sequence[str], contexts: Sequence[str], citations: Sequence[tuple[str, str]],
    cache: CachedEmbedder, threshold: float,
) -> Score:  # fmt: skip
    """The verifier's support of an answer's sentences, weakest decides (see the module
    docstring: not independent of the reply filter)."""
    if not sentences:
        return Score("verifier_support", None, VERIFIER, {"reason": "the answer is empty"})
    verifier = Verifier(cache, threshold)
    supports, detail = sentence_supports(
        sentences, contexts, citations, cache, threshold, "verifier_support",
        lambda sentence, passages: [(verifier.support(sentence, p), p) for p in passages],
        # 1.0 is a verbatim quote of the source (the verifier's rule), so it is not checked
        lambda support, _source: 0.0 < support < 1.0,
    )  # fmt: skip
    return Score("verifier_support", min(supports), VERIFIER, {
        "aggregate": "min over sentences of the verifier's support, capped at "
        f"{CONFLICT_CAP} where a number or the negation differs from the source",
        "threshold": threshold,
        **detail,
    })  # fmt: skip


def sentence_supports(
    sentences: Sequence[str], contexts: Sequence[str], citations: Sequence[tuple[str, str]],
    cache: CachedEmbedder, threshold: float, raw_key: str,
    scored: Callable[[str, Sequence[str]], Sequence[tuple[float, str]]],
    checks: Callable[[float, str], bool],
) -> tuple[list[float], dict[str, Any]]:  # fmt: skip
    """Each sentence's support, and the detail fields both groundedness checks report.

    `scored` gives a sentence's (support, passage) pairs over the passages it cites (every
    context for a sentence that cites nothing); the best pair's support is capped at
    CONFLICT_CAP where `checks(support, passage)` holds and a number or negation conflicts.
    The uncapped supports are reported under `raw_key`."""
    supports: list[float] = []
    raw: list[float] = []
    conflicts: list[dict[str, Any]] = []
    uncited: list[int] = []
    for index, sentence in enumerate(sentences):
        cited = [p for s, p in citations if cites(s, sentence)]
        if not cited:
            uncited.append(index)
        pairs = scored(sentence, cited or contexts)
        support, source = max(pairs, key=lambda x: x[0], default=(0.0, ""))
        raw.append(support)
        kind = conflict(sentence, source, cache) if checks(support, source) else None
        if kind:
            conflicts.append({"sentence": index, "kind": kind})
            support = min(support, CONFLICT_CAP)
        supports.append(support)
    supported = [s >= threshold for s in supports]
    return supports, {
        "sentence_support": [round(s, 4) for s in supports],
        raw_key: [round(s, 4) for s in raw],
        "conflicts": conflicts,
        "mean_support": round(float(np.mean(supports)), 4),
        "supported_share": round(sum(supported) / len(supported), 4),
        "unsupported_sentences": [i for i, ok in enumerate(supported) if not ok],
        "uncited_sentences": uncited,
    }


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def conflict(sentence: str, source: str, cache: CachedEmbedder) -> str | None:
    """'number' if the sentence states a number its source lacks; 'negation' if the source
    sentence closest to it has the opposite polarity; else None. A quote of several lines (a
    lead-in and its list, agent.answer.lists) is compared line by line: one item's "not"
    is that item's, not the lead-in's."""
    if _numbers(sentence) - _numbers(source):
        return "number"
    pieces = sentence_pieces(source)
    vectors = cache.matrix(pieces)
    for claim in [line for line in sentence.split("\n") if line.strip()] or [sentence]:
        closest = pieces[int(np.argmax(vectors @ cache.matrix([claim])[0]))]
        if _negated(claim) != _negated(closest):
            return "negation"
    return None


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def cites(cited_sentence: str, sentence: str) -> bool:
    a, b = _normal(cited_sentence), _normal(sentence)
    return bool(a and b) and (a == b or a in b or b in a)
