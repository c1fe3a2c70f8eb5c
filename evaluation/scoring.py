"""Quality scores of one reply: groundedness, answer relevance, context relevance, correctness.

Without a judge every score is computed locally and fast:
- groundedness: the verifier's support (agent.answer.verify) of each answer sentence against the
  passages it cites (all retrieved passages for a sentence that cites nothing); the value is
  the weakest sentence's support, so one unsupported sentence pulls the reply down. A
  sentence that states a number its source lacks, or whose closest source sentence has the
  opposite negation, is capped at CONFLICT_CAP (the verifier alone scores such edits ~0.9).
  None for a reply that is not an answer (no citations, unless `answered=True`).
- answer relevance: cosine of question and answer embeddings, clipped to [0, 1].
- context relevance: for each retrieved passage its best sentence's cosine to the question;
  the value is the mean over passages (the max is in `detail`).
- correctness (only with a reference answer): ragas RougeScore ROUGE-L recall, the share of
  the reference the reply contains in order (references are often short spans, so
  precision-based scores punish full-sentence replies); ROUGE-L F1, ragas
  NonLLMStringSimilarity and embedding cosine are in `detail`.

With a judge (any agent.llm.chat.ChatModel) the ragas LLM metrics replace them: Faithfulness,
ResponseRelevancy, LLMContextPrecisionWith(out)Reference and AnswerCorrectness. A judged
metric that fails (unparseable output, error, timeout) falls back to the local value, and the
Score's evaluator and `detail` say so. `detail` holds numbers and indices, never reply text.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from agent.answer.reading import split_sentences
from agent.answer.verify import Verifier
from agent.llm.chat import ChatModel
from evaluation.ragas_compat import import_ragas
from evaluation.records import SCORE_NAMES, Score
from knowledge.protocols import Embedder

logger = logging.getLogger(__name__)
T = TypeVar("T")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|none|nor|without)\b|n[’']t\b", re.I)
# A sentence that contradicts its source on a number or a negation is unsupported however
# close its words and embedding are (the verifier alone scores such edits ~0.9).
CONFLICT_CAP = 0.3

VERIFIER = "clearline.verifier+number_negation_check"
CORRECTNESS = "ragas.RougeScore(rougeL,recall)"
_SUFFIX = {"precision": "WithoutReference", "precision_with_reference": "WithReference"}


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion, also when the caller is inside an event loop."""

    async def main() -> T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(main())
        except BaseException as error:  # re-raised in the caller's thread
            box["error"] = error

    thread = threading.Thread(target=worker, name="ragas-score")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


class _CachedEmbedder:
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


def _pieces(passage: str) -> list[str]:
    return split_sentences(passage) or [passage]


class ReplyScorer:
    """Scores one reply; see the module docstring for what each score means.

    scorer = ReplyScorer(embedder)
    scores = scorer.score(question, answer, contexts, citations, reference=None)
    scores["groundedness"].value, scores["groundedness"].evaluator
    """

    def __init__(
        self, embedder: Embedder, support_threshold: float = 0.6, judge: ChatModel | None = None,
        *, judge_timeout: float = 120.0,
    ) -> None:  # fmt: skip
        self._embedder = embedder
        self._threshold = support_threshold
        self._judge = judge
        self._judge_timeout = judge_timeout
        self._local: dict[str, Any] | None = None
        self._judged: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def evaluators(self) -> dict[str, str]:
        """Score name -> evaluator name (the judged one when a judge is set)."""
        local = self._local_evaluators()
        if self._judge is None:
            return local
        judge = f"judge={self._judge.name}"
        with_embeddings = f"{judge},embeddings={self._embedder.name}"
        return {
            "groundedness": f"ragas.Faithfulness({judge})",
            "answer_relevance": f"ragas.ResponseRelevancy({with_embeddings})",
            "context_relevance": f"ragas.LLMContextPrecisionWith(out)Reference({judge})",
            "correctness": f"ragas.AnswerCorrectness({with_embeddings})",
        }

    def score(
        self, question: str, answer: str, contexts: Sequence[str],
        citations: Sequence[tuple[str, str]], reference: str | None = None,
        *, answered: bool | None = None,
    ) -> dict[str, Score]:  # fmt: skip
        """Scores keyed by SCORE_NAMES; `answered` defaults to "the reply cites something"."""
        is_answer = bool(citations) if answered is None else answered
        sentences = answer_sentences(answer, [s for s, _ in citations])
        passages = list(dict.fromkeys([*(p for _, p in citations), *contexts]))
        cache = _CachedEmbedder(
            self._embedder,
            [question, answer, *sentences, *(s for p in passages for s in _pieces(p))],
        )
        scores = {
            "groundedness": self._groundedness(sentences, contexts, citations, is_answer, cache),
            "answer_relevance": self._answer_relevance(question, answer, cache),
            "context_relevance": self._context_relevance(question, contexts, cache),
            "correctness": self._correctness(question, answer, reference, cache),
        }
        if self._judge is not None:
            scores = self._judge_scores(
                scores, question, answer, passages, contexts, reference, is_answer
            )
        return {name: scores[name] for name in SCORE_NAMES}

    # -- local scores ---------------------------------------------------------------------

    def _groundedness(
        self, sentences: Sequence[str], contexts: Sequence[str],
        citations: Sequence[tuple[str, str]], is_answer: bool, cache: _CachedEmbedder,
    ) -> Score:  # fmt: skip
        if not is_answer:
            return Score("groundedness", None, VERIFIER, {"reason": "the reply is not an answer"})
        if not sentences:
            return Score("groundedness", None, VERIFIER, {"reason": "the answer is empty"})
        verifier = Verifier(cache, self._threshold)
        raw: list[float] = []
        supports: list[float] = []
        conflicts: list[dict[str, Any]] = []
        uncited: list[int] = []
        for index, sentence in enumerate(sentences):
            cited = [p for s, p in citations if _cites(s, sentence)]
            if not cited:
                uncited.append(index)
            scored = [(verifier.support(sentence, p), p) for p in (cited or contexts)]
            support, source = max(scored, key=lambda x: x[0], default=(0.0, ""))
            raw.append(support)
            kind = _conflict(sentence, source, cache) if 0.0 < support < 1.0 else None
            if kind:
                conflicts.append({"sentence": index, "kind": kind})
                support = min(support, CONFLICT_CAP)
            supports.append(support)
        supported = [s >= self._threshold for s in supports]
        return Score("groundedness", min(supports), VERIFIER, {
            "aggregate": "min over sentences of the verifier's support, capped at "
            f"{CONFLICT_CAP} where a number or the negation differs from the source",
            "threshold": self._threshold,
            "sentence_support": [round(s, 4) for s in supports],
            "verifier_support": [round(s, 4) for s in raw],
            "conflicts": conflicts,
            "mean_support": round(float(np.mean(supports)), 4),
            "supported_share": round(sum(supported) / len(supported), 4),
            "unsupported_sentences": [i for i, ok in enumerate(supported) if not ok],
            "uncited_sentences": uncited,
        })  # fmt: skip

    def _answer_relevance(self, question: str, answer: str, cache: _CachedEmbedder) -> Score:
        evaluator = self._local_evaluators()["answer_relevance"]
        if not answer.strip() or not question.strip():
            return Score("answer_relevance", 0.0, evaluator, {"reason": "empty question or answer"})
        q, a = cache.matrix([question, answer])
        value = float(np.clip(q @ a, 0.0, 1.0))
        return Score("answer_relevance", value, evaluator, {"cosine": round(float(q @ a), 4)})

    def _context_relevance(
        self, question: str, contexts: Sequence[str], cache: _CachedEmbedder
    ) -> Score:
        evaluator = self._local_evaluators()["context_relevance"]
        if not contexts:
            return Score("context_relevance", None, evaluator, {"reason": "nothing was retrieved"})
        q = cache.matrix([question])[0]
        best = [float(np.clip((cache.matrix(_pieces(c)) @ q).max(), 0.0, 1.0)) for c in contexts]
        return Score("context_relevance", float(np.mean(best)), evaluator, {
            "aggregate": "mean over passages of the best sentence's cosine to the question",
            "per_passage": [round(b, 4) for b in best],
            "max": round(max(best), 4),
        })  # fmt: skip

    def _correctness(
        self, question: str, answer: str, reference: str | None, cache: _CachedEmbedder
    ) -> Score:
        if reference is None or not reference.strip():
            return Score("correctness", None, CORRECTNESS, {"reason": "no reference answer"})
        metrics = self._local_metrics()
        sample = metrics["sample"](user_input=question, response=answer, reference=reference)
        names = ("rouge_recall", "rouge_f1", "string_similarity")

        async def all_three() -> list[float]:
            return list(
                await asyncio.gather(*(metrics[n].single_turn_ascore(sample) for n in names))
            )

        recall, f1, similarity = _run(all_three)
        a, r = cache.matrix([answer, reference])
        return Score("correctness", float(recall), CORRECTNESS, {
            "ragas.RougeScore(rougeL,fmeasure)": round(float(f1), 4),
            "ragas.NonLLMStringSimilarity(levenshtein)": round(float(similarity), 4),
            f"clearline.embedding_cosine({self._embedder.name})": round(float(a @ r), 4),
        })  # fmt: skip

    def _local_evaluators(self) -> dict[str, str]:
        cosine = f"clearline.embedding_cosine({self._embedder.name})"
        return {
            "groundedness": VERIFIER,
            "answer_relevance": cosine,
            "context_relevance": cosine,
            "correctness": CORRECTNESS,
        }

    def _local_metrics(self) -> dict[str, Any]:
        with self._lock:
            if self._local is None:
                import_ragas()
                from ragas.dataset_schema import SingleTurnSample
                from ragas.metrics._rouge_score import RougeScore
                from ragas.metrics._string import NonLLMStringSimilarity

                self._local = {
                    "sample": SingleTurnSample,
                    "rouge_recall": RougeScore(rouge_type="rougeL", mode="recall"),
                    "rouge_f1": RougeScore(rouge_type="rougeL", mode="fmeasure"),
                    "string_similarity": NonLLMStringSimilarity(),
                }
            return self._local

    # -- judged scores --------------------------------------------------------------------

    def _judged_metrics(self) -> dict[str, Any]:
        with self._lock:
            if self._judged is None:
                assert self._judge is not None
                from evaluation.judge import judged_metrics

                self._judged = judged_metrics(self._judge, self._embedder, self._judge_timeout)
            return self._judged

    def _judge_scores(
        self, local: dict[str, Score], question: str, answer: str, passages: Sequence[str],
        contexts: Sequence[str], reference: str | None, is_answer: bool,
    ) -> dict[str, Score]:  # fmt: skip
        metrics = self._judged_metrics()
        sample_type = self._local_metrics()["sample"]
        base = {"user_input": question, "response": answer}
        plan: dict[str, tuple[str, dict[str, Any]] | str] = {}
        plan["groundedness"] = (
            ("faithfulness", {**base, "retrieved_contexts": list(passages)})
            if is_answer and passages else "the reply is not an answer or cites nothing"
        )  # fmt: skip
        plan["answer_relevance"] = ("relevancy", base) if answer.strip() else "the reply is empty"
        if not contexts:
            plan["context_relevance"] = "nothing was retrieved"
        elif reference:
            ref = {**base, "retrieved_contexts": list(contexts), "reference": reference}
            plan["context_relevance"] = ("precision_with_reference", ref)
        elif is_answer:
            plan["context_relevance"] = (
                "precision",
                {**base, "retrieved_contexts": list(contexts)},
            )
        else:
            plan["context_relevance"] = "the reply is not an answer and there is no reference"
        plan["correctness"] = (
            ("correctness", {**base, "reference": reference}) if reference else "no reference"
        )
        evaluators = self.evaluators
        result = dict(local)
        for name, step in plan.items():
            if isinstance(step, str):
                detail = {**local[name].detail, "judge_skipped": step}
                result[name] = Score(name, local[name].value, local[name].evaluator, detail)
                continue
            key, fields = step
            try:
                value = self._judged_value(metrics[key], sample_type(**fields))
            except Exception as error:  # any judge failure falls back to the local value
                logger.warning("judged %s failed (%s); using the local score", name, type(error))
                result[name] = _fallback(local[name], evaluators[name], error)
                continue
            detail = {"local": local[name].as_json()}
            evaluator = evaluators[name].replace("With(out)Reference", _SUFFIX.get(key, ""))
            result[name] = Score(name, min(1.0, max(0.0, value)), evaluator, detail)
        return result

    def _judged_value(self, metric: Any, sample: Any) -> float:
        async def one() -> float:
            return float(await metric.single_turn_ascore(sample, timeout=self._judge_timeout))

        value = _run(one)
        if math.isnan(value):
            raise ValueError("the judge's answer gave no score (NaN)")
        return value


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


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _conflict(sentence: str, source: str, cache: _CachedEmbedder) -> str | None:
    """'number' if the sentence states a number its source lacks; 'negation' if the source
    sentence closest to it has the opposite polarity; else None."""
    if _numbers(sentence) - _numbers(source):
        return "number"
    pieces = _pieces(source)
    closest = pieces[int(np.argmax(cache.matrix(pieces) @ cache.matrix([sentence])[0]))]
    return "negation" if _negated(sentence) != _negated(closest) else None


def _cites(cited_sentence: str, sentence: str) -> bool:
    a, b = _normal(cited_sentence), _normal(sentence)
    return bool(a and b) and (a == b or a in b or b in a)


def _fallback(local: Score, judged_evaluator: str, error: Exception) -> Score:
    message = str(error).splitlines()[0][:200] if str(error) else ""
    detail = {
        **local.detail,
        "fallback": f"{judged_evaluator} failed; this is the local score",
        "judge_error": f"{type(error).__name__}: {message}".rstrip(": "),
    }
    return Score(local.name, local.value, f"{local.evaluator} (fallback)", detail)
