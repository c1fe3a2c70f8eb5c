"""Fit the reader's answerability weights (agent/answer/reading.py) and show what they do.

Positives: each answerable question with what hybrid retrieval returns. Negatives: the same
question searched again with its reference documents filtered out, as if the knowledge base
lacked them: passages that are on topic but do not hold the answer, scored the way a search
without the answer scores them. No unanswerable question is used for fitting; they are
only scored at the end, with the trade-off between answering and declining.

    .venv/bin/python bench/answerability_fit.py --data-dir D --tenant T --questions Q.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # noqa: E402
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # noqa: E402

from agent.answer.reading import PassageReader, answerability  # noqa: E402
from evaluation.questions import load_questions  # noqa: E402
from knowledge.retrieve import Filters, Retriever  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--questions", type=Path, required=True)
    args = parser.parse_args()
    runtime = Runtime(Settings(data_dir=args.data_dir))
    store = runtime.store(args.tenant)
    retriever = Retriever(store, runtime.embedder)
    all_ids = {d.document_id for d in store.list_documents(args.tenant)}
    reader = PassageReader(runtime.embedder, lambda w: store.term_weights(args.tenant, w))
    fit_x: list[list[float]] = []
    fit_y: list[int] = []
    real_x: list[list[float]] = []
    real_y: list[int] = []
    for question in load_questions(args.questions):
        result = retriever.search(args.tenant, question.query, k=30)
        gold = set(question.reference_doc_ids)
        ctx = result.resolved.context
        current = result.resolved.current if result.resolved.has_history else None
        reading = reader.read(question.query.text, ctx, result.chunks, current)
        row = [reading.similarity, reading.coverage, reading.agreement]
        real_x.append(row)
        real_y.append(0 if question.answerable is False else 1)
        if question.answerable is not False and gold:
            fit_x.append(row)
            fit_y.append(1)
            without = Filters(document_ids=frozenset(all_ids - gold))
            others = retriever.search(args.tenant, question.query, k=30, filters=without)
            negative = reader.read(question.query.text, ctx, others.chunks, current)
            fit_x.append([negative.similarity, negative.coverage, negative.agreement])
            fit_y.append(0)
    model = LogisticRegression(max_iter=1000).fit(np.array(fit_x), np.array(fit_y))
    print(
        json.dumps(
            {
                "intercept": round(float(model.intercept_[0]), 3),
                "w_similarity": round(float(model.coef_[0][0]), 3),
                "w_coverage": round(float(model.coef_[0][1]), 3),
                "w_agreement": round(float(model.coef_[0][2]), 3),
                "fit_auc": round(float(roc_auc_score(fit_y, model.predict_proba(fit_x)[:, 1])), 3),
            }
        )
    )
    labels = np.array(real_y)
    fitted = model.predict_proba(np.array(real_x))[:, 1]
    shipped = np.array([answerability(s, c, a) for s, c, a in real_x])
    for name, probabilities in (("shipped", shipped), ("fitted", fitted)):
        if 0 < labels.sum() < len(labels):
            print(f"real AUC ({name} weights) {roc_auc_score(labels, probabilities):.3f}")
        for threshold in (0.30, 0.35, 0.38, 0.40, 0.42, 0.45, 0.50, 0.55):
            answered = float((probabilities[labels == 1] >= threshold).mean())
            declined = (
                float((probabilities[labels == 0] < threshold).mean()) if (labels == 0).any() else 0
            )
            print(f"  threshold {threshold:.2f}: answered {answered:.3f}  declined {declined:.3f}")
    runtime.close()


if __name__ == "__main__":
    main()
