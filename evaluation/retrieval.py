"""Retrieval evaluation at document level: nDCG@10, recall@5/10, MRR and latency."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evaluation.questions import Question
from knowledge.retrieve import DEFAULT_METHOD, METHODS, Method, Retriever


@dataclass(frozen=True)
class MethodScores:
    ndcg_at_10: float
    recall_at_5: float
    recall_at_10: float
    mrr: float
    p50_ms: float
    p95_ms: float

    def as_json(self) -> dict[str, float]:
        return {
            "ndcg@10": round(self.ndcg_at_10, 4),
            "recall@5": round(self.recall_at_5, 4),
            "recall@10": round(self.recall_at_10, 4),
            "mrr": round(self.mrr, 4),
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
        }


def ndcg(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    gain = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return gain / ideal if ideal else 0.0


def recall(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    return next((1 / (i + 1) for i, d in enumerate(ranked) if d in relevant), 0.0)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def _mean(
    metric: Callable[[Sequence[str], set[str]], float],
    rankings: Sequence[Sequence[str]],
    relevant: Sequence[set[str]],
) -> float:
    pairs = zip(rankings, relevant, strict=True)
    return sum(metric(r, rel) for r, rel in pairs) / max(len(rankings), 1)


def evaluate(
    retriever: Retriever,
    tenant: str,
    questions: Sequence[Question],
    methods: Sequence[Method] = METHODS,
    depth: int = 20,
) -> dict[str, object]:
    """Run every method on the answerable questions that name reference documents."""
    usable = [q for q in questions if q.answerable is not False and q.reference_doc_ids]
    results: list[dict[str, object]] = []
    per_method: dict[str, list[tuple[list[str], float]]] = {m: [] for m in methods}
    for question in usable:
        ranked_ids: dict[str, list[str]] = {}
        for method in methods:
            result = retriever.search(tenant, question.query, k=depth, method=method)
            ids = [d.document_id for d in result.documents]
            ranked_ids[method] = ids
            per_method[method].append((ids, result.elapsed_ms))
        results.append({"id": question.id, "ranked_doc_ids": ranked_ids})
    relevant = [set(q.reference_doc_ids) for q in usable]
    scores: dict[str, dict[str, float]] = {}
    for name, runs in per_method.items():
        rankings = [ranked for ranked, _ in runs]
        timings = [elapsed for _, elapsed in runs]

        scores[name] = MethodScores(
            ndcg_at_10=_mean(ndcg, rankings, relevant),
            recall_at_5=_mean(lambda r, rel: recall(r, rel, 5), rankings, relevant),
            recall_at_10=_mean(lambda r, rel: recall(r, rel, 10), rankings, relevant),
            mrr=_mean(reciprocal_rank, rankings, relevant),
            p50_ms=percentile(timings, 0.5),
            p95_ms=percentile(timings, 0.95),
        ).as_json()
    return {"default": DEFAULT_METHOD, "n": len(usable), "methods": scores, "results": results}
