"""Fit the feature reader's weights (agent/answer/reading.py features) on ConditionalQA
TRAIN only, and write them with a manifest to training/answerability/results/.

The agent decides with them through the shipped model's blend: `bench/calibration_blend.py
--write` copies them, with the blend weight and threshold it chooses on both dev sets, into
the model's manifest (`blend`). `reader: features` keeps its older constants.

    .venv/bin/python -m training.answerability.feature_weights --data-dir D --tenant T

D is a data directory with the ConditionalQA corpus ingested under tenant T
(`clearline ingest ../shared/data/conditionalqa/corpus.jsonl --tenant T --data-dir D`).

Examples, as the agent reads a turn (search k=10, injection screening, PassageReader on
the top chunks): every answerable train question with its reference documents in the
knowledge (positive); the same question searched again with its reference documents
filtered out, "leave the gold out" (negative: on topic, but not the page that answers);
every unanswerable train question as it is (negative). A logistic regression (C 1, lbfgs:
deterministic; the seed only orders the examples) maps (similarity, coverage, agreement) to
P(answerable). No dev question is read. The per-question features are cached in --cache
so that a re-fit does not search again; the manifest records the questions file's sha256,
the command, the seed, the counts, the fit AUC and the weights file's checksum.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import time
from pathlib import Path
from typing import Any

from service.offline import go_offline

go_offline()  # before any library reads its settings at import

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # noqa: E402
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # noqa: E402

from agent.turn import RETRIEVE_K  # noqa: E402  (the agent searches this many chunks)

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT.parent / "shared" / "data" / "conditionalqa" / "questions.train.jsonl"
OUT = ROOT / "training" / "answerability" / "results" / "feature_weights.json"
NAMES = ("similarity", "coverage", "agreement")

logger = logging.getLogger("training.answerability.feature_weights")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.answerability.feature_weights")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--questions", type=Path, default=TRAIN)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/clearline-feature-weights.jsonl"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=0, help="a seeded sample of N questions")
    return parser.parse_args()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One row per example: question id, kind (gold | left_out | unanswerable), features."""
    from agent.answer.passage_screening import screen_chunks
    from agent.answer.reading import PassageReader
    from evaluation.questions import load_questions
    from knowledge.retrieve import Filters, Retriever
    from service.runtime import Runtime
    from service.settings import Settings

    runtime = Runtime(Settings(data_dir=args.data_dir))
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        store = runtime.store(args.tenant)
        retriever = Retriever(store, runtime.embedder)
        all_ids = {d.document_id for d in store.list_documents(args.tenant)}
        reader = PassageReader(runtime.embedder, lambda w: store.term_weights(args.tenant, w))
        questions = load_questions(args.questions)
        random.Random(args.seed).shuffle(questions)  # --limit N: a seeded sample of N
        questions = questions[: args.limit or None]

        def read(q: Any, filters: Any = None) -> list[float]:
            result = retriever.search(args.tenant, q.query, k=RETRIEVE_K, filters=filters)
            chunks = screen_chunks(result.chunks).chunks
            resolved = result.resolved
            current = resolved.current if resolved.has_history else None
            r = reader.read(q.query.text, resolved.context, chunks, current)
            return [round(r.similarity, 6), round(r.coverage, 6), round(r.agreement, 6)]

        cache = args.cache.open("w", encoding="utf-8")  # streamed: a stopped run keeps rows
        for number, q in enumerate(questions, 1):
            gold = set(q.reference_doc_ids)
            found = []
            if q.answerable is False:
                found.append({"id": q.id, "kind": "unanswerable", "x": read(q)})
            elif gold & all_ids:
                found.append({"id": q.id, "kind": "gold", "x": read(q)})
                without = Filters(document_ids=frozenset(all_ids - gold))
                found.append({"id": q.id, "kind": "left_out", "x": read(q, without)})
            rows.extend(found)
            cache.write("".join(json.dumps(r) + "\n" for r in found))
            cache.flush()
            if number % 100 == 0:
                logger.info("%d/%d %.0f s", number, len(questions), time.perf_counter() - started)
        cache.close()
    finally:
        runtime.close()
    return rows


def fit(rows: list[dict[str, Any]], seed: int) -> tuple[LogisticRegression, float]:
    ordered = list(rows)
    random.Random(seed).shuffle(ordered)
    x = np.array([r["x"] for r in ordered], dtype=float)
    y = np.array([1 if r["kind"] == "gold" else 0 for r in ordered])
    model = LogisticRegression(max_iter=1000).fit(x, y)
    return model, float(roc_auc_score(y, model.predict_proba(x)[:, 1]))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _arguments()
    if args.cache.is_file() and args.cache.stat().st_size:
        rows = [json.loads(line) for line in args.cache.read_text(encoding="utf-8").splitlines()]
        logger.info("features from %s (%d examples)", args.cache, len(rows))
    else:
        rows = extract(args)
    model, auc = fit(rows, args.seed)
    weights = {
        "intercept": round(float(model.intercept_[0]), 4),
        **{f"w_{n}": round(float(w), 4) for n, w in zip(NAMES, model.coef_[0], strict=True)},
    }
    counts = {k: sum(r["kind"] == k for r in rows) for k in ("gold", "left_out", "unanswerable")}
    manifest = {
        "weights": weights,
        "features": list(NAMES),
        "trained_on": {
            "questions": args.questions.name,
            "questions_sha256": sha256(args.questions),
            "examples": counts,
            "how": "gold: reference documents in the knowledge; left_out: the same question "
            "searched with its reference documents filtered out; unanswerable: as asked",
        },
        "features_cache_sha256": sha256(args.cache),  # the searched examples, one per line
        "command": "python -m training.answerability.feature_weights --data-dir D --tenant T"
        + (f" --limit {args.limit}" if args.limit else "")
        + f" --seed {args.seed}",
        "seed": args.seed,
        "questions_used": len({r["id"] for r in rows}),
        "limit": args.limit or None,
        "search_k": RETRIEVE_K,
        "fit_auc": round(auc, 4),
        "sklearn": "LogisticRegression(C=1.0, lbfgs, max_iter=1000)",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest, indent=2) + "\n"
    args.out.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    summary = {**weights, "fit_auc": round(auc, 4), "examples": counts, "sha256": digest}
    logger.info("wrote %s: %s", args.out, json.dumps(summary))


if __name__ == "__main__":
    main()
