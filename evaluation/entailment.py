"""Groundedness from a check independent of the verifier that filtered the reply.

The agent's verifier (agent.answer.verify) removes draft sentences whose support (a verbatim
quote scores 1.0; otherwise the mean of word overlap and best sentence cosine) is under
`thresholds.support`, so re-scoring a sent reply with that verifier and threshold finds every
sentence supported by construction. This check shares neither the formula nor the threshold:
Clearline's answerability model (agent.answer.answerability) is used in an entailment role,
in its frozen-encoder version (ENTAILMENT_DIR: the answerability model shipped until
2026-12-02, `python -m training.answerability --tune-epochs 0 --out
agent/answer/models/entailment`), which measured better in this role than the fine-tuned
one the agent decides with (bench/groundedness_auc.py; docs/benchmarks.md).
Each answer sentence is the claim (in the model's question slot), each passage it cites (every
retrieved passage for a sentence that cites nothing) the evidence; the model's head scores
the claim against the passage's best window, and its Platt calibration turns the logit into
P(supported). A sentence's support is its best passage's; a sentence that states a number its
source lacks, or whose closest source sentence has the opposite negation, is capped at
CONFLICT_CAP (the model reads topic, not numbers or polarity). The reply's value is the
weakest sentence's support.

What it is not: an entailment model. The head was trained to tell whether passages answer a
question, from the MiniLM embeddings (or, for a tuned model, its fine-tuned copy) and the word
overlap the verifier also looks at, so the two checks are correlated; a sentence quoted from
a passage scores high under this check as under any other (with the extractive composer,
quoted sentences are supported by construction, whoever checks). bench/groundedness_auc.py
measures it against planted unsupported sentences on ConditionalQA dev and mtrag_dev
(docs/benchmarks.md).

    check = EntailmentCheck(embedder)          # loads the model's head once
    score = check.score(sentences, contexts, citations, cache)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from agent.answer.answerability import (
    MODEL_DIR,
    AnswerabilityModel,
    Head,
    features,
    passage_window,
)
from evaluation.grounding import CONFLICT_CAP, CachedEmbedder, sentence_supports
from evaluation.records import Score
from knowledge.protocols import Embedder
from knowledge.query import Query

# P(supported) at or above this counts a sentence as supported. Chosen with
# bench/groundedness_auc.py on ConditionalQA dev and mtrag_dev together (mean balanced
# accuracy of supported vs planted-unsupported answers; docs/benchmarks.md).
SUPPORT_THRESHOLD = 0.5
ENTAILMENT_DIR = MODEL_DIR.parent / "entailment"
ENTAILMENT = "clearline.answerability_model_as_entailment+number_negation_check"


class EntailmentCheck:
    """P(supported) of each answer sentence by the passages it cites; see the module
    docstring. The model's head is loaded (and its checksum checked) on construction."""

    def __init__(
        self, embedder: Embedder, threshold: float = SUPPORT_THRESHOLD,
        directory: Path = ENTAILMENT_DIR,
    ) -> None:  # fmt: skip
        model = AnswerabilityModel(embedder, directory)
        card = model.card  # loads the head once and checks it against the manifest's checksum
        self._head = Head.load(directory / card.head)
        # the head reads the model's own encoder when it has one, not the agent's embedder
        self._encoder = model.encoder if card.encoder is not None else None
        self._a, self._b = card.calibration.a, card.calibration.b
        self.threshold = threshold
        self.name = ENTAILMENT

    def supports(self, claim: str, passages: Sequence[str], cache: CachedEmbedder) -> list[float]:
        """P(supported) of `claim` by each passage (one embedding batch for the windows)."""
        if not passages:
            return []
        query = Query(claim)
        embedder = cache if self._encoder is None else CachedEmbedder(self._encoder, [])
        embedder.embed([passage_window("", p, claim, embedder) for p in passages])
        logits = self._head.logits(features(embedder, query, [("", p) for p in passages]))
        return [_sigmoid(self._a * float(x) + self._b) for x in logits]

    def score(
        self, sentences: Sequence[str], contexts: Sequence[str],
        citations: Sequence[tuple[str, str]], cache: CachedEmbedder,
    ) -> Score:  # fmt: skip
        """The groundedness Score of an answer's sentences; the caller decides whether the
        reply is an answer at all."""
        if not sentences:
            return Score("groundedness", None, self.name, {"reason": "the answer is empty"})
        supports, detail = sentence_supports(
            sentences, contexts, citations, cache, self.threshold, "model_support",
            lambda sentence, passages: self._scored(sentence, passages, cache),
            lambda _support, source: bool(source),
        )  # fmt: skip
        return Score("groundedness", min(supports), self.name, {
            "aggregate": "min over sentences of P(supported) by the best cited passage "
            "(answerability model as entailment), capped at "
            f"{CONFLICT_CAP} where a number or the negation differs from the source",
            "threshold": self.threshold,
            **detail,
        })  # fmt: skip

    def _scored(
        self, claim: str, passages: Sequence[str], cache: CachedEmbedder
    ) -> list[tuple[float, str]]:
        """(P(supported), passage) for each distinct passage, scored in one batch."""
        evidence = list(dict.fromkeys(passages))
        return list(zip(self.supports(claim, evidence, cache), evidence, strict=True))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 60.0), -60.0)))
