"""The ragas side of reply scoring: correctness without a model, and the LLM-judged metrics.

- correctness (only with a reference answer): ragas RougeScore ROUGE-L recall, the share of
  the reference the reply contains in order (references are often short spans, so
  precision-based scores punish full-sentence replies); ROUGE-L F1, ragas
  NonLLMStringSimilarity and embedding cosine are in `detail`.
- with a judge (any agent.llm.chat.ChatModel): Faithfulness, ResponseRelevancy,
  LLMContextPrecisionWith(out)Reference and AnswerCorrectness replace the local scores. A
  judged metric that fails (unparseable output, error, timeout) falls back to the local value,
  and the Score's evaluator and `detail` say so.

Metrics are built on first use, once per instance (thread-safe).

    ragas = RagasScores(embedder, judge=None, judge_timeout=120.0)
    ragas.correctness(question, answer, reference, cache)
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from agent.llm.chat import ChatModel
from evaluation.grounding import CachedEmbedder
from evaluation.ragas_compat import import_ragas
from evaluation.records import Score
from knowledge.protocols import Embedder

logger = logging.getLogger(__name__)
T = TypeVar("T")
CORRECTNESS = "ragas.RougeScore(rougeL,recall)"
_SUFFIX = {"precision": "WithoutReference", "precision_with_reference": "WithReference"}


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
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

    context = contextvars.copy_context()  # the caller's region picks the model endpoint
    thread = threading.Thread(target=context.run, args=(worker,), name="ragas-score")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def judged_evaluators(judge_name: str, embedder_name: str) -> dict[str, str]:
    """Score name -> the ragas metric that judges it (with its judge and embeddings)."""
    judge = f"judge={judge_name}"
    with_embeddings = f"{judge},embeddings={embedder_name}"
    return {
        "groundedness": f"ragas.Faithfulness({judge})",
        "answer_relevance": f"ragas.ResponseRelevancy({with_embeddings})",
        "context_relevance": f"ragas.LLMContextPrecisionWith(out)Reference({judge})",
        "correctness": f"ragas.AnswerCorrectness({with_embeddings})",
    }


class RagasScores:
    """The ragas metrics of one ReplyScorer: local correctness, and the judged scores."""

    def __init__(self, embedder: Embedder, judge: ChatModel | None, judge_timeout: float) -> None:
        self._embedder = embedder
        self._judge = judge
        self._judge_timeout = judge_timeout
        self._local: dict[str, Any] | None = None
        self._judged: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def correctness(
        self, question: str, answer: str, reference: str | None, cache: CachedEmbedder
    ) -> Score:
        """ROUGE-L recall of the reference in the answer; None without a reference."""
        if reference is None or not reference.strip():
            return Score("correctness", None, CORRECTNESS, {"reason": "no reference answer"})
        metrics = self._local_metrics()
        sample = metrics["sample"](user_input=question, response=answer, reference=reference)
        names = ("rouge_recall", "rouge_f1", "string_similarity")

        async def all_three() -> list[float]:
            return list(
                await asyncio.gather(*(metrics[n].single_turn_ascore(sample) for n in names))
            )

        recall, f1, similarity = run_sync(all_three)
        a, r = cache.matrix([answer, reference])
        return Score("correctness", float(recall), CORRECTNESS, {
            "ragas.RougeScore(rougeL,fmeasure)": round(float(f1), 4),
            "ragas.NonLLMStringSimilarity(levenshtein)": round(float(similarity), 4),
            f"clearline.embedding_cosine({self._embedder.name})": round(float(a @ r), 4),
        })  # fmt: skip

    def judged(
        self, local: dict[str, Score], evaluators: dict[str, str], question: str, answer: str,
        passages: Sequence[str], contexts: Sequence[str], reference: str | None, is_answer: bool,
    ) -> dict[str, Score]:  # fmt: skip
        """The judged scores, each falling back to its `local` score when the judge fails or
        has nothing to judge; `evaluators` are the judged evaluator names."""
        metrics = self._judged_metrics()
        sample_type = self._local_metrics()["sample"]
        result = dict(local)
        for name, step in _plan(question, answer, passages, contexts, reference, is_answer):
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

    def _judged_metrics(self) -> dict[str, Any]:
        with self._lock:
            if self._judged is None:
                if self._judge is None:
                    raise ValueError("no judge: construct ReplyScorer with judge=<a ChatModel>")
                from evaluation.judge import judged_metrics

                self._judged = judged_metrics(self._judge, self._embedder, self._judge_timeout)
            return self._judged

    def _judged_value(self, metric: Any, sample: Any) -> float:
        async def one() -> float:
            return float(await metric.single_turn_ascore(sample, timeout=self._judge_timeout))

        value = run_sync(one)
        if math.isnan(value):
            raise ValueError("the judge's answer gave no score (NaN)")
        return value


Step = tuple[str, dict[str, Any]] | str  # (metric key, sample fields), or why it is skipped


def _plan(
    question: str, answer: str, passages: Sequence[str], contexts: Sequence[str],
    reference: str | None, is_answer: bool,
) -> list[tuple[str, Step]]:  # fmt: skip
    """For each score: which judged metric runs on which sample fields, or why none does."""
    base: dict[str, Any] = {"user_input": question, "response": answer}
    groundedness: Step = (
        ("faithfulness", {**base, "retrieved_contexts": list(passages)})
        if is_answer and passages else "the reply is not an answer or cites nothing"
    )  # fmt: skip
    relevance: Step = ("relevancy", base) if answer.strip() else "the reply is empty"
    context: Step
    if not contexts:
        context = "nothing was retrieved"
    elif reference:
        ref = {**base, "retrieved_contexts": list(contexts), "reference": reference}
        context = ("precision_with_reference", ref)
    elif is_answer:
        context = ("precision", {**base, "retrieved_contexts": list(contexts)})
    else:
        context = "the reply is not an answer and there is no reference"
    correctness: Step = (
        ("correctness", {**base, "reference": reference}) if reference else "no reference"
    )
    return [
        ("groundedness", groundedness),
        ("answer_relevance", relevance),
        ("context_relevance", context),
        ("correctness", correctness),
    ]


def _fallback(local: Score, judged_evaluator: str, error: Exception) -> Score:
    message = str(error).splitlines()[0][:200] if str(error) else ""
    detail = {
        **local.detail,
        "fallback": f"{judged_evaluator} failed; this is the local score",
        "judge_error": f"{type(error).__name__}: {message}".rstrip(": "),
    }
    return Score(local.name, local.value, f"{local.evaluator} (fallback)", detail)
