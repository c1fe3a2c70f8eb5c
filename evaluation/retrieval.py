"""Retrieval evaluation at document level: nDCG@10, recall@5/10, MRR and latency."""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    scores: dict[str, dict[str, float]] = {}
    for name, runs in per_method.items():
        relevant = [set(q.reference_doc_ids) for q in usable]
        n = max(len(runs), 1)
        scores[name] = MethodScores(
            ndcg_at_10=sum(ndcg(r, rel) for (r, _), rel in zip(runs, relevant, strict=True)) / n,
            recall_at_5=sum(recall(r, rel, 5) for (r, _), rel in zip(runs, relevant, strict=True))
            / n,
            recall_at_10=sum(recall(r, rel, 10) for (r, _), rel in zip(runs, relevant, strict=True))
            / n,
            mrr=sum(reciprocal_rank(r, rel) for (r, _), rel in zip(runs, relevant, strict=True))
            / n,
            p50_ms=percentile([t for _, t in runs], 0.5),
            p95_ms=percentile([t for _, t in runs], 0.95),
        ).as_json()
    return {"default": DEFAULT_METHOD, "n": len(usable), "methods": scores, "results": results}
