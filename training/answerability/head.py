"""Features of (question, passage) pairs from the model's embedder (the tuned or the frozen
MiniLM), and the heads fitted on them: logistic regressions and small MLPs, one of which the
dev sets choose."""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.neural_network import MLPClassifier  # type: ignore[import-untyped]

from agent.answer.answerability import (
    Head,
    features,
    pair_features,
    passage_window,
    question_text,
)
from knowledge.protocols import Embedder
from knowledge.query import Query

logger = logging.getLogger(__name__)
SCALARS = 4  # the last columns of pair_features

# name -> (kind, strength): C for logistic regression, the L2 penalty alpha for the MLP
CANDIDATES: dict[str, tuple[str, float]] = {
    "logistic-scalars": ("scalars", 1.0),
    "logistic-C0.01": ("logistic", 0.01),
    "logistic-C0.1": ("logistic", 0.1),
    "logistic-C1": ("logistic", 1.0),
    "mlp64-a0.01": ("mlp", 0.01),
    "mlp64-a1": ("mlp", 1.0),
}


@dataclass(frozen=True)
class Item:
    """One (question, passage) to featurise."""

    query: Query
    title: str
    text: str


def feature_code() -> str:
    """A digest of the code that makes feature rows: cached features of an older version are
    never reused."""
    from agent.answer import answerability, reading

    parts = [
        inspect.getsource(f)
        for f in (
            answerability.question_text, answerability.best_window, answerability.passage_window,
            answerability._overlap, answerability.pair_features, answerability.features,
            reading.content_terms, reading.split_sentences, featurise,
        )
    ]  # fmt: skip
    parts.append(repr((answerability.WINDOW_TOKENS, answerability.CONTEXT_TURNS,
                       answerability.ASSISTANT_CHARS)))  # fmt: skip
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def featurise(items: Sequence[Item], embedder: Embedder, batch: int = 256) -> np.ndarray:
    """Feature rows for the items; every distinct text is embedded once."""
    asked = [question_text(i.query) for i in items]
    windows = [
        passage_window(i.title, i.text, a, embedder) for i, a in zip(items, asked, strict=True)
    ]
    texts = sorted({*asked, *(i.query.text for i in items), *windows})
    vectors: dict[str, np.ndarray] = {}
    for start in range(0, len(texts), batch):
        part = texts[start : start + batch]
        for text, vector in zip(part, embedder.embed(part), strict=True):
            vectors[text] = np.asarray(vector, dtype=np.float64)
        logger.info("embedded %d of %d texts", min(start + batch, len(texts)), len(texts))
    rows = [
        pair_features(vectors[a], vectors[i.query.text], vectors[w], i.query, w)
        for i, a, w in zip(items, asked, windows, strict=True)
    ]
    return np.stack(rows)


def fit(name: str, x: np.ndarray, y: Sequence[int], seed: int) -> Head:
    """Fit one candidate head on standardised features."""
    kind, strength = CANDIDATES[name]
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    if kind == "scalars":  # the two cosines and two overlaps only; the rest weigh 0
        model = LogisticRegression(C=strength, max_iter=2000)
        model.fit(z[:, -SCALARS:], np.asarray(y))
        weights = np.zeros((x.shape[1], 1))
        weights[-SCALARS:, 0] = model.coef_[0]
        layers = [(weights, model.intercept_.copy())]
    elif kind == "logistic":
        model = LogisticRegression(C=strength, max_iter=2000)
        model.fit(z, np.asarray(y))
        layers = [(model.coef_.T.copy(), model.intercept_.copy())]
    else:
        mlp = MLPClassifier(
            hidden_layer_sizes=(64,), alpha=strength, max_iter=300, random_state=seed,
            early_stopping=False,
        )  # fmt: skip
        mlp.fit(z, np.asarray(y))
        layers = [(w.copy(), b.copy()) for w, b in zip(mlp.coefs_, mlp.intercepts_, strict=True)]
    return Head(mean, scale, layers)


def dev_features(turns: Sequence[Sequence[Item]], embedder: Embedder) -> list[np.ndarray]:
    """Each dev turn's passages featurised as inference does it: one batch per turn."""
    out = []
    for number, items in enumerate(turns, 1):
        if items:
            out.append(features(embedder, items[0].query, [(i.title, i.text) for i in items]))
        else:
            out.append(np.zeros((0, 0)))
        if number % 100 == 0:
            logger.info("dev features: %d of %d turns", number, len(turns))
    return out
