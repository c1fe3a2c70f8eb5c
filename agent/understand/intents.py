"""Tenant intents from example utterances, with calibrated confidence and out-of-scope.

Method (everything is fitted on the tenant's own examples, once, in the constructor):

1. Logistic regression on the embeddings of the examples picks the intent.
2. Cross-validation makes two kinds of held-out evidence: in-scope examples scored by a model
   that never saw them (right or wrong), and pseudo out-of-scope examples: whole intents held
   out, scored by a model trained on the others (any intent it names is wrong).
3. A small multinomial calibrator maps four scores of each message (intent probability, its
   margin over the runner-up, cosine to the nearest example, mean cosine to the nearest
   examples of the chosen intent) to P(right intent), P(wrong intent), P(out of scope).
   Out-of-scope evidence is weighted to an assumed share of traffic (`oos_prior`).
4. A message is out of scope when P(out of scope) > P(right intent); its confidence is the
   probability of the label returned.

With two intents, holding one out leaves a single class, so the calibrator then uses only the
two similarity scores. Every intent needs at least two examples.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from agent.understand.records import OUT_OF_SCOPE, Prediction
from knowledge.protocols import Embedder

# scikit-learn takes 1.3-1.8 s to import (scipy and pandas come with it). Only fitting a
# tenant's intents needs it, so the methods that fit import it; the CLI commands that never
# fit (ingest, privacy, audit...) start without it.
if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped, unused-ignore]

logger = logging.getLogger(__name__)

Matrix = NDArray[np.float32]
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

# The classifier is fitted on every example after each change of a tenant's intents, in
# the turn that first needs it (about 2 ms an example to embed on this machine's CPU).
MAX_EXAMPLES = 5000
MAX_EXAMPLE_CHARS = 500

RIGHT, WRONG, OOS = 0, 1, 2
_TOP_K = 3
DEFAULT_OOS_PRIOR = 0.1  # see IntentClassifier.__init__
_EPS = 1e-6


@dataclass(frozen=True)
class _Model:
    """One fitted intent model: classifier (None for a single class) and its training set."""

    classifier: LogisticRegression | None
    vectors: Matrix
    labels: Ints
    n_classes: int

    def probabilities(self, queries: Matrix) -> Floats:
        """Class probabilities over all intents (0 for intents absent from training)."""
        out = np.zeros((len(queries), self.n_classes))
        if self.classifier is None:
            out[:, int(self.labels[0])] = 1.0
        else:
            out[:, self.classifier.classes_] = self.classifier.predict_proba(queries)
        return out


class IntentClassifier:
    """Classifies a message into one of the tenant's intents or `OUT_OF_SCOPE`.

    >>> classifier = IntentClassifier(embedder, {"refund": [...], "track_order": [...]})
    >>> classifier.predict("where is my parcel?").label
    'track_order'
    """

    def __init__(
        self,
        embedder: Embedder,
        intents: Mapping[str, Sequence[str]],
        *,
        oos_prior: float = DEFAULT_OOS_PRIOR,
        folds: int | None = None,
        regularization: float = 10.0,
        seed: int = 0,
    ) -> None:
        """Embed the examples and fit the classifier and its calibrator.

        `oos_prior` is the share of out-of-scope messages assumed in traffic (0.3 was measured
        and not made the default: docs/benchmarks.md "Intents"); `folds` (default 5,
        or 3 above 2,000 examples, where three folds already give ample evidence and each fold
        costs a full fit) is the number of cross-validation folds; `regularization`
        is the inverse L2 strength of the logistic regression (unit vectors have small
        coordinates, so the scikit-learn default of 1 underfits).
        """
        intents = _clean(intents)
        _check_intents(intents, oos_prior)
        self._embedder = embedder
        self._names = list(intents)
        self._c = regularization
        self._seed = seed
        texts = [text for name in self._names for text in intents[name]]
        self._texts = texts
        self._labels: Ints = np.array(
            [i for i, name in enumerate(self._names) for _ in intents[name]], dtype=np.int64
        )
        self._vectors = _matrix(embedder.embed(texts))
        self._full_features = len(self._names) >= 3
        self._model = self._fit(self._vectors, self._labels)
        if folds is None:
            folds = 5 if len(texts) <= 2000 else 3
        self._scaler, self._calibrator = self._fit_calibrator(max(2, folds), oos_prior)

    @property
    def intents(self) -> list[str]:
        return list(self._names)

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        return self.predict_vectors(_matrix(self._embedder.embed(list(texts))))

    def predict_vectors(self, vectors: Matrix) -> list[Prediction]:
        """Predictions for messages already embedded with this classifier's embedder."""
        scores = _scores(self._model, vectors)
        probs = self._calibrated(scores.features(self._full_features))
        predictions = []
        for row in range(len(vectors)):
            p_right, p_oos = float(probs[row, RIGHT]), float(probs[row, OOS])
            intent = self._names[int(scores.top[row])]
            detail: dict[str, object] = {
                "intent": intent,
                "intent_probability": round(float(scores.p1[row]), 4),
                "runner_up": self._names[int(scores.second[row])],
                "runner_up_probability": round(float(scores.p2[row]), 4),
                "nearest_similarity": round(float(scores.nearest[row]), 4),
                "nearest_example": self._texts[int(scores.nearest_index[row])],
                "p_right": round(p_right, 4),
                "p_out_of_scope": round(p_oos, 4),
            }
            if p_oos > p_right:
                predictions.append(Prediction(OUT_OF_SCOPE, _unit(p_oos), detail))
            else:
                predictions.append(Prediction(intent, _unit(p_right), detail))
        return predictions

    def _fit(self, vectors: Matrix, labels: Ints) -> _Model:
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]

        classifier = None
        if len(np.unique(labels)) > 1:
            classifier = LogisticRegression(C=self._c, max_iter=1000)
            classifier.fit(vectors, labels)
        return _Model(classifier, vectors, labels, len(self._names))

    def _fit_calibrator(
        self, folds: int, oos_prior: float
    ) -> tuple[StandardScaler, LogisticRegression]:
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
        from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped, unused-ignore]

        features, outcomes = self._held_out_evidence(folds)
        in_scope = outcomes != OOS
        weights = np.ones(len(outcomes))
        n_oos = int((~in_scope).sum())
        weights[~in_scope] = in_scope.sum() * oos_prior / (1.0 - oos_prior) / max(n_oos, 1)
        scaler = StandardScaler().fit(features)
        calibrator = LogisticRegression(C=1.0, max_iter=1000)
        calibrator.fit(scaler.transform(features), outcomes, sample_weight=weights)
        logger.info(
            "intent calibrator fitted on %d held-out in-scope and %d pseudo out-of-scope",
            int(in_scope.sum()),
            n_oos,
        )
        return scaler, calibrator

    def _held_out_evidence(self, folds: int) -> tuple[Floats, Ints]:
        """Scores and outcomes of held-out examples (in scope) and held-out intents (OOS)."""
        from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped, unused-ignore]

        rng = np.random.default_rng(self._seed)
        counts = np.bincount(self._labels)
        parts: list[tuple[Floats, Ints]] = []
        splits = StratifiedKFold(
            n_splits=int(min(folds, counts.min())), shuffle=True, random_state=self._seed
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a few intents with few examples
            fold_indices = list(splits.split(self._vectors, self._labels))
        for train, test in fold_indices:
            scores = _scores(
                self._fit(self._vectors[train], self._labels[train]), self._vectors[test]
            )
            right = scores.top == self._labels[test]
            parts.append(
                (
                    scores.features(self._full_features),
                    np.where(right, RIGHT, WRONG).astype(np.int64),
                )
            )
        n_classes = len(self._names)
        groups = np.array_split(rng.permutation(n_classes), min(folds, n_classes))
        for group in groups:
            held = np.isin(self._labels, group)
            model = self._fit(self._vectors[~held], self._labels[~held])
            scores = _scores(model, self._vectors[held])
            parts.append(
                (
                    scores.features(self._full_features),
                    np.full(int(held.sum()), OOS, dtype=np.int64),
                )
            )
        return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _calibrated(self, features: Floats) -> Floats:
        probs = np.zeros((len(features), 3))
        raw = self._calibrator.predict_proba(self._scaler.transform(features))
        probs[:, self._calibrator.classes_] = raw
        return probs


@dataclass(frozen=True)
class _Scores:
    top: Ints
    second: Ints
    p1: Floats
    p2: Floats
    nearest: Floats
    nearest_index: Ints
    class_similarity: Floats

    def features(self, full: bool) -> Floats:
        similarity = np.column_stack([self.nearest, self.class_similarity])
        if not full:
            return similarity
        p1 = np.clip(self.p1, _EPS, 1 - _EPS)
        logit = np.log(p1 / (1 - p1))
        margin = np.log(p1) - np.log(np.clip(self.p2, _EPS, 1.0))
        return np.column_stack([logit, margin, similarity])


def _scores(model: _Model, queries: Matrix) -> _Scores:
    probs = model.probabilities(queries)
    order = np.argsort(-probs, axis=1)
    top, second = order[:, 0], order[:, 1]
    rows = np.arange(len(queries))
    nearest = np.empty(len(queries))
    nearest_index = np.empty(len(queries), dtype=np.int64)
    class_similarity = np.empty(len(queries))
    for start in range(0, len(queries), 512):  # bounded memory for large batches
        block = slice(start, start + 512)
        sims = queries[block] @ model.vectors.T
        nearest_index[block] = sims.argmax(axis=1)
        nearest[block] = sims.max(axis=1)
        for offset, row in enumerate(sims):
            own = row[model.labels == top[start + offset]]
            k = min(_TOP_K, len(own))
            class_similarity[start + offset] = (
                float(np.partition(own, -k)[-k:].mean()) if k else 0.0
            )
    return _Scores(
        top=top.astype(np.int64),
        second=second.astype(np.int64),
        p1=probs[rows, top],
        p2=probs[rows, second],
        nearest=nearest,
        nearest_index=nearest_index,
        class_similarity=class_similarity,
    )


def examples_problem(examples: Mapping[str, Sequence[str]]) -> str | None:
    """Why a tenant's example utterances (its configuration's and its procedures' together)
    are too many or too long to fit the classifier on after every change, or None."""
    total = sum(len(texts) for texts in examples.values())
    if total > MAX_EXAMPLES:
        return (
            f"{total:,} example utterances in all (the configuration's and the procedures'); "
            f"at most {MAX_EXAMPLES:,}, as the intent classifier is fitted on all of them after "
            "every change"
        )
    for name, texts in examples.items():
        longest = max((len(text) for text in texts), default=0)
        if longest > MAX_EXAMPLE_CHARS:
            return (
                f"an example utterance of intent '{name}' has {longest:,} characters; at most "
                f"{MAX_EXAMPLE_CHARS}"
            )
    return None


def _check_intents(intents: Mapping[str, Sequence[str]], oos_prior: float) -> None:
    if len(intents) < 2:
        raise ValueError(
            f"got {len(intents)} intent(s); define at least two intents to classify between"
        )
    if OUT_OF_SCOPE in intents:
        raise ValueError(f"'{OUT_OF_SCOPE}' is reserved; rename that intent")
    for name, examples in intents.items():
        if len(examples) < 2:
            raise ValueError(
                f"intent '{name}' has {len(examples)} example(s); give at least 2 (5+ is better)"
            )
    if not 0.0 < oos_prior < 1.0:
        raise ValueError(f"oos_prior {oos_prior!r} must be strictly between 0 and 1")


def _clean(intents: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Examples stripped, blanks and duplicates within an intent dropped, order kept."""
    return {
        name: list(dict.fromkeys(t.strip() for t in examples if t.strip()))
        for name, examples in intents.items()
    }


def _matrix(vectors: Sequence[Sequence[float]]) -> Matrix:
    return np.asarray(vectors, dtype=np.float32)


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))
