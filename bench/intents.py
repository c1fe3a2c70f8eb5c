"""Intent classification with out-of-scope and calibration, on CLINC150 and BANKING77.

    .venv/bin/python bench/intents.py [--datasets clinc banking] [--shots 5 10] [--latency 200]
        [--oos-prior 0.1 0.3]

- clinc: fit on `train` (150 intents x 100), evaluate on `val` (3,000 in scope) and `oos_val`
  (100 out of scope). `oos_train` is not used: the classifier learns out-of-scope only from
  the tenant's in-scope examples.
- clinc-Nshot (with --shots N ...): the same, fitted on N examples per intent drawn with a fixed
  seed, to see how the classifier and its calibration hold up with few examples.
- banking: `train.csv` split per intent, 20% held out with a fixed seed (no out-of-scope). Not
  comparable with figures on the official test split, which this copy does not include.

Prints, per dataset: in-scope accuracy (an out-of-scope answer counts as wrong), accuracy of the
top intent ignoring the out-of-scope decision, out-of-scope recall and precision, expected
calibration error (15 equal-width bins over all evaluated messages), fit time (embeddings
cached), and p50 latency of `predict` on single messages (MiniLM embedding included) and of
the classifier alone; with several `--oos-prior` values, each dataset once per value. Embeddings
are cached under /tmp/clearline-bench-intents. The last line is JSON.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

import numpy as np  # noqa: E402

from agent.understand.intents import DEFAULT_OOS_PRIOR, IntentClassifier  # noqa: E402
from agent.understand.records import OUT_OF_SCOPE, Prediction  # noqa: E402
from knowledge.embed import MiniLMEmbedder  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = Path("/tmp/clearline-bench-intents")
BINS = 15


class CachedEmbedder:
    """MiniLM with a text -> vector cache loaded from disk (turned off to time latency)."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.table: dict[str, list[float]] = {}
        self.enabled = True

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def name(self) -> str:
        return self.inner.name

    def warm_up(self) -> None:
        self.inner.warm_up()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not self.enabled:
            return self.inner.embed(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.table]
        self.table.update(zip(missing, self.inner.embed(missing), strict=True))
        return [self.table[t] for t in texts]

    def preload(self, texts: Sequence[str]) -> None:
        unique = sorted(set(texts))
        digest = hashlib.sha256((self.name + "\n" + "\n".join(unique)).encode()).hexdigest()
        path = CACHE / f"{digest[:16]}.npy"
        if path.exists():
            vectors = np.load(path)
        else:
            CACHE.mkdir(exist_ok=True)
            vectors = np.asarray(self.inner.embed(unique), dtype=np.float32)
            np.save(path, vectors)
        self.table.update(zip(unique, vectors.tolist(), strict=True))


Examples = list[tuple[str, str]]


def clinc() -> tuple[Examples, Examples]:
    data = json.loads((DATA / "clinc150" / "data.json").read_text())
    test = [(t, g) for t, g in data["val"]] + [(t, OUT_OF_SCOPE) for t, _ in data["oos_val"]]
    return [(t, g) for t, g in data["train"]], test


def few_shot(train: Examples, shots: int, seed: int = 0) -> Examples:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in train:
        by_intent[intent].append(text)
    rng = random.Random(seed)
    return [(t, i) for i in sorted(by_intent) for t in rng.sample(sorted(by_intent[i]), shots)]


def banking(seed: int = 0) -> tuple[Examples, Examples]:
    with (DATA / "banking77" / "train.csv").open(newline="") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in rows:
        by_intent[intent].append(text)
    rng = random.Random(seed)
    train, test = [], []
    for intent in sorted(by_intent):
        texts = sorted(by_intent[intent])
        rng.shuffle(texts)
        cut = max(1, round(len(texts) * 0.2))
        test += [(t, intent) for t in texts[:cut]]
        train += [(t, intent) for t in texts[cut:]]
    return train, test


def expected_calibration_error(confidences: Sequence[float], right: Sequence[bool]) -> float:
    conf, hits = np.asarray(confidences), np.asarray(right, dtype=float)
    edges = np.linspace(0.0, 1.0, BINS + 1)
    index = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, BINS - 1)
    total = 0.0
    for b in range(BINS):
        mask = index == b
        if mask.any():
            total += mask.sum() / len(conf) * abs(hits[mask].mean() - conf[mask].mean())
    return float(total)


def evaluate(
    name: str,
    train: Examples,
    test: Examples,
    embedder: CachedEmbedder,
    latency: int,
    oos_prior: float,
) -> dict[str, object]:
    intents: dict[str, list[str]] = defaultdict(list)
    for text, intent in train:
        intents[intent].append(text)
    embedder.preload([t for t, _ in train] + [t for t, _ in test])
    start = time.perf_counter()
    classifier = IntentClassifier(embedder, intents, oos_prior=oos_prior)
    fit_s = time.perf_counter() - start
    texts, gold = [t for t, _ in test], [g for _, g in test]
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    predictions: list[Prediction] = classifier.predict_vectors(vectors)
    right = [p.label == g for p, g in zip(predictions, gold, strict=True)]
    in_scope = [i for i, g in enumerate(gold) if g != OUT_OF_SCOPE]
    oos = [i for i, g in enumerate(gold) if g == OUT_OF_SCOPE]
    said_oos = [i for i, p in enumerate(predictions) if p.label == OUT_OF_SCOPE]
    result: dict[str, object] = {
        "dataset": name,
        "oos_prior": oos_prior,
        "intents": len(intents),
        "train": len(train),
        "eval_in_scope": len(in_scope),
        "eval_oos": len(oos),
        "in_scope_accuracy": _mean(right[i] for i in in_scope),
        "top_intent_accuracy": _mean(predictions[i].detail["intent"] == gold[i] for i in in_scope),
        "in_scope_rejected": _mean(predictions[i].label == OUT_OF_SCOPE for i in in_scope),
        "oos_recall": _mean(right[i] for i in oos) if oos else None,
        "oos_precision": _mean(gold[i] == OUT_OF_SCOPE for i in said_oos) if oos else None,
        "ece_15": round(expected_calibration_error([p.confidence for p in predictions], right), 4),
        "mean_confidence": _mean(p.confidence for p in predictions),
        "accuracy_all": _mean(right),
        "fit_s": round(fit_s, 2),
    }
    result.update(_latency(classifier, embedder, texts[:latency], vectors[:latency]))
    return result


def _latency(
    classifier: IntentClassifier,
    embedder: CachedEmbedder,
    texts: Sequence[str],
    vectors: np.ndarray,
) -> dict[str, float]:
    embedder.enabled = False
    embedder.warm_up()
    classifier.predict(texts[0])  # warm-up
    full, alone = [], []
    for text, vector in zip(texts, vectors, strict=True):
        start = time.perf_counter()
        classifier.predict(text)
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        classifier.predict_vectors(vector[None, :])
        alone.append(time.perf_counter() - start)
    embedder.enabled = True
    return {
        "predict_p50_ms": round(statistics.median(full) * 1000, 2),
        "classifier_p50_ms": round(statistics.median(alone) * 1000, 2),
    }


def _mean(values: Iterable[float]) -> float:
    items = [float(v) for v in values]
    return round(sum(items) / len(items), 4) if items else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--datasets", nargs="+", default=["clinc", "banking"], choices=["clinc", "banking"]
    )
    parser.add_argument(
        "--shots",
        nargs="*",
        type=int,
        default=[5, 10],
        help="also fit clinc on this many examples per intent",
    )
    parser.add_argument("--latency", type=int, default=200, help="single messages to time")
    parser.add_argument(
        "--oos-prior",
        nargs="+",
        type=float,
        default=[DEFAULT_OOS_PRIOR],
        help="the classifier's assumed share of out-of-scope messages (each is a column)",
    )
    args = parser.parse_args()
    embedder = CachedEmbedder(MiniLMEmbedder(threads=1))
    loaders = {"clinc": clinc, "banking": banking}
    sets = [(name, *loaders[name]()) for name in args.datasets]
    train, test = clinc()
    sets += [(f"clinc-{shots}shot", few_shot(train, shots), test) for shots in args.shots]
    results = [
        evaluate(name, train_set, test_set, embedder, args.latency, prior)
        for name, train_set, test_set in sets
        for prior in args.oos_prior
    ]
    columns = [k for k in results[0] if k != "dataset"]
    print(f"{'metric':<22}" + "".join(f"{r['dataset']!s:>14}" for r in results))
    for column in columns:
        print(f"{column:<22}" + "".join(f"{_cell(r[column]):>14}" for r in results))
    print(json.dumps({"bench": "intents", "results": results}))


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


if __name__ == "__main__":
    main()
