"""Choosing how passages combine, the calibration and the threshold, on both dev sets.

Every choice here weighs ConditionalQA dev and mtrag_dev equally (each set's turns carry
weight 1 / its size), so neither set alone decides. Underspecified turns (label None) are
left out: they should be clarified, not answered or declined.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from agent.answer.answerability import combine
from training.answerability.data import DevTurn

COMBINES = ("max", "noisy_or")
TOP_N = (1, 2, 3)  # 4 passages cost too much latency (docs/benchmarks.md)
THRESHOLDS = [round(float(x), 2) for x in np.arange(0.05, 0.951, 0.01)]


@dataclass(frozen=True)
class Scored:
    """One dev turn's label and its passages' logits (retrieval order)."""

    dataset: str
    label: int | None
    logits: list[float]


@dataclass(frozen=True)
class Choice:
    combine: str
    top_n: int
    a: float
    b: float
    threshold: float


def scored(turns: Sequence[DevTurn], logits: Sequence[float]) -> list[Scored]:
    """Split the flat logits of all dev pairs (turn by turn, passage by passage)."""
    out: list[Scored] = []
    at = 0
    for turn in turns:
        n = len(turn.passages)
        out.append(Scored(turn.dataset, turn.label, [float(x) for x in logits[at : at + n]]))
        at += n
    return out


def grouped(turns: Sequence[DevTurn], logits: Sequence[Sequence[float]]) -> list[Scored]:
    """Dev turns with their passages' logits, scored turn by turn."""
    return [Scored(t.dataset, t.label, list(x)) for t, x in zip(turns, logits, strict=True)]


def combined(rows: Sequence[Scored], how: str, top_n: int) -> np.ndarray:
    return np.array([combine(r.logits[:top_n], how) if r.logits else -20.0 for r in rows])


def datasets(rows: Sequence[Scored]) -> list[str]:
    return sorted({r.dataset for r in rows})


def auc(rows: Sequence[Scored], values: np.ndarray, dataset: str) -> float:
    keep = [i for i, r in enumerate(rows) if r.dataset == dataset and r.label is not None]
    labels = [rows[i].label for i in keep]
    if len(set(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, values[keep]))


def mean_auc(rows: Sequence[Scored], how: str, top_n: int) -> float:
    values = combined(rows, how, top_n)
    return float(np.mean([auc(rows, values, d) for d in datasets(rows)]))


def best_combination(rows: Sequence[Scored]) -> tuple[str, int, float]:
    """(combine, top_n, mean AUC): the highest mean AUC over the dev sets; fewer passages
    (less latency) when within 0.002."""
    found: list[tuple[float, int, str]] = []
    for how in COMBINES:
        for n in TOP_N:
            found.append((mean_auc(rows, how, n), n, how))
    top = max(f[0] for f in found)
    value, n, how = min((f for f in found if f[0] >= top - 0.002), key=lambda f: (f[1], -f[0]))
    return how, n, value


def _weights(rows: Sequence[Scored]) -> np.ndarray:
    sizes = {d: sum(1 for r in rows if r.dataset == d) for d in datasets(rows)}
    return np.array([1.0 / sizes[r.dataset] for r in rows])


def fit(rows: Sequence[Scored], how: str, top_n: int) -> Choice:
    """Platt scaling of the combined logit, then the threshold that maximises the lowest of
    the answered and declined rates over the dev sets (the middle of the best run)."""
    kept = [r for r in rows if r.label is not None]
    x = combined(kept, how, top_n).reshape(-1, 1)
    y = np.array([r.label for r in kept])
    platt = LogisticRegression(C=1e4, max_iter=1000)
    platt.fit(x, y, sample_weight=_weights(kept))
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    p = _probabilities(x[:, 0], a, b)
    floors = [min(rates(kept, p, t).values()) for t in THRESHOLDS]
    best = max(floors)
    tied = [t for t, f in zip(THRESHOLDS, floors, strict=True) if f >= best - 1e-9]
    return Choice(how, top_n, a, b, float(tied[len(tied) // 2]))


def _probabilities(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return np.array([1.0 / (1.0 + math.exp(-max(min(a * v + b, 60.0), -60.0))) for v in x])


def probabilities(rows: Sequence[Scored], choice: Choice) -> np.ndarray:
    return _probabilities(combined(rows, choice.combine, choice.top_n), choice.a, choice.b)


def rates(rows: Sequence[Scored], p: np.ndarray, threshold: float) -> dict[str, float]:
    """answered (answerable) and declined (unanswerable) rate per dev set."""
    out: dict[str, float] = {}
    for d in datasets(rows):
        yes = [p[i] >= threshold for i, r in enumerate(rows) if r.dataset == d and r.label == 1]
        no = [p[i] < threshold for i, r in enumerate(rows) if r.dataset == d and r.label == 0]
        out[f"{d}.answered"] = float(np.mean(yes)) if yes else 1.0
        out[f"{d}.declined"] = float(np.mean(no)) if no else 1.0
    return out


def ece(p: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for i in range(bins):
        upper = p <= edges[i + 1] if i == bins - 1 else p < edges[i + 1]
        members = (p >= edges[i]) & upper
        if members.any():
            total += members.mean() * abs(p[members].mean() - labels[members].mean())
    return float(total)


def report(rows: Sequence[Scored], choice: Choice) -> dict[str, dict[str, float]]:
    """Per dev set: AUC, answered / declined at the threshold, ECE of P(answerable)."""
    p = probabilities(rows, choice)
    values = combined(rows, choice.combine, choice.top_n)
    at = rates(rows, p, choice.threshold)
    out: dict[str, dict[str, float]] = {}
    for d in datasets(rows):
        keep = [i for i, r in enumerate(rows) if r.dataset == d and r.label is not None]
        labels = np.array([rows[i].label for i in keep], dtype=float)
        out[d] = {
            "auc": round(auc(rows, values, d), 4),
            "answered": round(at[f"{d}.answered"], 4),
            "declined": round(at[f"{d}.declined"], 4),
            "ece": round(ece(p[keep], labels), 4),
            "n_answerable": int(labels.sum()),
            "n_unanswerable": int(len(labels) - labels.sum()),
        }
    return out
