"""Quality scores of one reply: groundedness, answer relevance, context relevance, correctness.

Without a judge every score is computed locally and fast:
- groundedness: the weakest answer sentence's P(supported) by the passages it cites, from
  the answerability model in an entailment role, capped where a number or the negation
  differs from the source (evaluation.entailment: independent of the verifier that filtered
  the reply, whose re-check would be true by construction). None for a reply that is not an
  answer (no citations, unless `answered=True`).
- answer relevance: cosine of question and answer embeddings, clipped to [0, 1].
- context relevance: for each retrieved passage its best sentence's cosine to the question;
  the value is the mean over passages (the max is in `detail`).
- correctness (only with a reference answer): ragas ROUGE-L recall of the reference
  (evaluation.ragas_scores).

With a judge (any agent.llm.chat.ChatModel) the ragas LLM metrics replace them; a judged
metric that fails falls back to the local value, and the Score's evaluator and `detail` say
so (evaluation.ragas_scores). `detail` holds numbers and indices, never reply text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent.llm.chat import ChatModel
from evaluation.entailment import ENTAILMENT, SUPPORT_THRESHOLD, EntailmentCheck
from evaluation.grounding import CachedEmbedder, answer_sentences, sentence_pieces
from evaluation.ragas_scores import CORRECTNESS, RagasScores, judged_evaluators
from evaluation.records import SCORE_NAMES, Score
from knowledge.protocols import Embedder


class ReplyScorer:
    """Scores one reply; see the module docstring for what each score means. Loads the
    answerability model's head once (for groundedness).

    scorer = ReplyScorer(embedder)
    scores = scorer.score(question, answer, contexts, citations, reference=None)
    scores["groundedness"].value, scores["groundedness"].evaluator
    """

    def __init__(
        self, embedder: Embedder, support_threshold: float = SUPPORT_THRESHOLD,
        judge: ChatModel | None = None, *, judge_timeout: float = 120.0,
    ) -> None:  # fmt: skip
        self._embedder = embedder
        self._grounding = EntailmentCheck(embedder, support_threshold)
        self._judge = judge
        self._ragas = RagasScores(embedder, judge, judge_timeout)

    @property
    def evaluators(self) -> dict[str, str]:
        """Score name -> evaluator name (the judged one when a judge is set)."""
        if self._judge is None:
            return self._local_evaluators()
        return judged_evaluators(self._judge.name, self._embedder.name)

    def score(
        self, question: str, answer: str, contexts: Sequence[str],
        citations: Sequence[tuple[str, str]], reference: str | None = None,
        *, answered: bool | None = None,
    ) -> dict[str, Score]:  # fmt: skip
        """Scores keyed by SCORE_NAMES; `answered` defaults to "the reply cites something"."""
        is_answer = bool(citations) if answered is None else answered
        sentences = answer_sentences(answer, [s for s, _ in citations])
        passages = list(dict.fromkeys([*(p for _, p in citations), *contexts]))
        cache = CachedEmbedder(
            self._embedder,
            [question, answer, *sentences, *(s for p in passages for s in sentence_pieces(p))],
        )
        scores = {
            "groundedness": (
                self._grounding.score(sentences, contexts, citations, cache)
                if is_answer
                else Score(
                    "groundedness", None, ENTAILMENT, {"reason": "the reply is not an answer"}
                )
            ),
            "answer_relevance": self._answer_relevance(question, answer, cache),
            "context_relevance": self._context_relevance(question, contexts, cache),
            "correctness": self._ragas.correctness(question, answer, reference, cache),
        }
        if self._judge is not None:
            scores = self._ragas.judged(
                scores, self.evaluators, question, answer, passages, contexts, reference,
                is_answer,
            )  # fmt: skip
        return {name: scores[name] for name in SCORE_NAMES}

    def _answer_relevance(self, question: str, answer: str, cache: CachedEmbedder) -> Score:
        evaluator = self._local_evaluators()["answer_relevance"]
        if not answer.strip() or not question.strip():
            return Score("answer_relevance", 0.0, evaluator, {"reason": "empty question or answer"})
        q, a = cache.matrix([question, answer])
        value = float(np.clip(q @ a, 0.0, 1.0))
        return Score("answer_relevance", value, evaluator, {"cosine": round(float(q @ a), 4)})

    def _context_relevance(
        self, question: str, contexts: Sequence[str], cache: CachedEmbedder
    ) -> Score:
        evaluator = self._local_evaluators()["context_relevance"]
        if not contexts:
            return Score("context_relevance", None, evaluator, {"reason": "nothing was retrieved"})
        q = cache.matrix([question])[0]
        best = [
            float(np.clip((cache.matrix(sentence_pieces(c)) @ q).max(), 0.0, 1.0)) for c in contexts
        ]
        return Score("context_relevance", float(np.mean(best)), evaluator, {
            "aggregate": "mean over passages of the best sentence's cosine to the question",
            "per_passage": [round(b, 4) for b in best],
            "max": round(max(best), 4),
        })  # fmt: skip

    def _local_evaluators(self) -> dict[str, str]:
        cosine = f"clearline.embedding_cosine({self._embedder.name})"
        return {
            "groundedness": ENTAILMENT,
            "answer_relevance": cosine,
            "context_relevance": cosine,
            "correctness": CORRECTNESS,
        }
