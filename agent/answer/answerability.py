"""Clearline's answerability model: P(the retrieved passages answer the question).

The model reads the question, with the scenario and the conversation's earlier turns,
together with the best window of each of the top passages. An encoder embeds the question u
and the window v: when the manifest names one, the model's own ONNX int8 copy of the agent's
all-MiniLM-L6-v2 fine-tuned on ConditionalQA train (the shipped model since 2026-12-03;
`--tune-epochs`, training/answerability/encoder.py), else the agent's embedder, frozen. A
head trained by `python -m training.answerability` maps [u * v, |u - v|, two cosines, two
word-overlap shares] to a logit per passage. The passages' logits are combined (the
manifest names how and over how many passages) and calibrated (Platt scaling, fitted on
ConditionalQA dev and mtrag_dev together) into P(answerable). A fine-tuned cross-encoder
was tried and did not learn within the training budget on this machine (docs/benchmarks.md).

The agent does not decide with this P alone: when the manifest has a `blend`, the P it
decides with is this P blended with the reading's three features (`Blend`, applied by
agent/answer/judge.py), and the threshold is the blend's.

The threshold compares P(answerable). The reply's confidence is another quantity: the
probability that the reply is right (an answer that cites a reference document, or a
decline of an unanswerable question), mapped from P(answerable) by the manifest's
`reply_calibration`, one map for answered and one for declined replies
(training/answerability/reply_calibration.py; fitted by `bench/calibration_fit.py`).

The model ships in `agent/answer/models/answerability/` (head.npz and manifest.json with
checksums; a tuned model adds its encoder's ONNX file). The feature code below is shared with
the training script, so the head is trained on exactly the inputs it sees here.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from agent.answer.reading import Reading, content_terms, split_sentences
from knowledge.errors import ClearlineError
from knowledge.protocols import Embedder
from knowledge.query import Query
from knowledge.records import ScoredChunk

MODEL_DIR = Path(__file__).with_name("models") / "answerability"
WINDOW_TOKENS = 128  # the passage window embedded with its title
CONTEXT_TURNS = 3
ASSISTANT_CHARS = 300


class AnswerabilityModelError(ClearlineError):
    pass


class Calibration(BaseModel):
    """P = sigmoid(a * combined logit + b)."""

    model_config = ConfigDict(extra="forbid")
    a: float
    b: float


class ReplyCalibration(BaseModel):
    """P(the reply is right) = sigmoid(a * logit(P(answerable)) + b), per kind of reply
    (the manifest also records what it was fitted on and its ECE)."""

    model_config = ConfigDict(extra="allow")
    answered: Calibration
    declined: Calibration

    def confidence(self, p: float, answered: bool) -> float:
        mapping = self.answered if answered else self.declined
        return _sigmoid(mapping.a * _logit(p) + mapping.b)


class FeatureWeights(BaseModel):
    """P(answerable) from the reading's features: sigmoid(intercept + the weighted sum)."""

    model_config = ConfigDict(extra="forbid")
    intercept: float
    similarity: float
    coverage: float
    agreement: float


class Blend(BaseModel):
    """The P the agent decides with: sigmoid(w * logit(P model) + (1 - w) * logit(P
    features)), where P features comes from the reading's similarity, coverage and
    agreement with weights fitted on ConditionalQA train
    (`python -m training.answerability.feature_weights`); w and the threshold are chosen on
    both dev sets (`bench/calibration_blend.py --write`). The manifest also records how."""

    model_config = ConfigDict(extra="allow")
    model_weight: float
    features: FeatureWeights
    threshold: float

    def probability(
        self, model: float, similarity: float, coverage: float, agreement: float
    ) -> float:
        f = self.features
        z = f.intercept + f.similarity * similarity + f.coverage * coverage
        z += f.agreement * agreement
        w = self.model_weight
        return _sigmoid(w * _logit(model) + (1 - w) * z)


class ModelCard(BaseModel):
    """What inference needs from manifest.json (the file holds more: data, metrics...)."""

    model_config = ConfigDict(extra="allow")
    name: str = "answerability model"
    head: str
    encoder: str | None = None  # the model's own (fine-tuned) ONNX encoder; None: the agent's
    embedder: str  # the embedder the head was trained with
    combine: Literal["max", "noisy_or"]
    top_n: int
    calibration: Calibration
    threshold: float
    files: dict[str, str]  # file name -> sha256
    reply_calibration: ReplyCalibration | None = None  # None only between the two commands
    blend: Blend | None = None  # None: the agent decides with the model's own P


@dataclass(frozen=True)
class Answerability:
    """The model's estimate for one turn."""

    probability: float  # P(the passages answer the question)
    passages: list[float]  # P per scored passage, in retrieval order
    logits: list[float]


# -- features (shared with training) -------------------------------------------------------


def question_text(query: Query) -> str:
    """The question first, then what it may lean on: the scenario, the earlier user turns
    (newest first) and the last assistant reply, clipped."""
    parts = [query.text.strip()]
    if query.scenario.strip():
        parts.append(query.scenario.strip())
    users = [t.text.strip() for t in query.history if t.role == "user" and t.text.strip()]
    parts.extend(reversed(users[-CONTEXT_TURNS:]))
    replies = [t.text.strip() for t in query.history if t.role == "assistant" and t.text.strip()]
    if replies:
        parts.append(replies[-1][:ASSISTANT_CHARS])
    return " | ".join(p for p in parts if p)


def best_window(lengths: Sequence[int], shared: Sequence[set[str]], budget: int) -> range:
    """The run of consecutive sentences, at most `budget` tokens (the first always counts),
    that covers the most distinct question terms (`shared[i]`: the terms sentence i shares
    with the question); the earliest such run on ties."""
    best = (-1, 0, 0)  # (covered, start, end)
    for start in range(len(lengths)):
        covered: set[str] = set()
        size = 0
        end = start
        while end < len(lengths) and (end == start or size + lengths[end] <= budget):
            covered |= shared[end]
            size += lengths[end]
            end += 1
        if len(covered) > best[0]:
            best = (len(covered), start, end)
    return range(best[1], best[2])


def passage_window(title: str, text: str, asked: str, embedder: Embedder) -> str:
    """The title and the best window of the passage for the question text `asked`."""
    sentences = split_sentences(text) or [text]
    terms = set(content_terms(asked))
    lengths = [embedder.count_tokens(s) for s in sentences]
    shared = [set(content_terms(s)) & terms for s in sentences]
    window = " ".join(sentences[i] for i in best_window(lengths, shared, WINDOW_TOKENS))
    heading = title.strip()
    if heading and heading.lower()[:40] not in text.lower()[:200]:
        return f"{heading}: {window}"
    return window


def _overlap(asked: str, passage: str) -> float:
    wanted = set(content_terms(asked))
    return len(wanted & set(content_terms(passage))) / len(wanted) if wanted else 0.0


def pair_features(
    full: np.ndarray, alone: np.ndarray, window: np.ndarray, query: Query, passage: str
) -> np.ndarray:
    """[u * v, |u - v|, cos(u, v), cos(question alone, v), overlap of the question's words,
    overlap of the whole question text's words] for unit vectors u (question with context),
    v (passage window)."""
    scalars = [
        float(full @ window),
        float(alone @ window),
        _overlap(query.text, passage),
        _overlap(question_text(query), passage),
    ]
    return np.concatenate([full * window, np.abs(full - window), np.asarray(scalars)])


def features(embedder: Embedder, query: Query, passages: Sequence[tuple[str, str]]) -> np.ndarray:
    """Feature rows of (title, text) passages for `query`, embedded in one batch (int8
    embeddings depend slightly on the batch, so training's dev rows are made here too)."""
    asked = question_text(query)
    windows = [passage_window(title, text, asked, embedder) for title, text in passages]
    vectors = np.asarray(embedder.embed([asked, query.text, *windows]), dtype=np.float64)
    rows = [
        pair_features(vectors[0], vectors[1], vectors[2 + i], query, window)
        for i, window in enumerate(windows)
    ]
    return np.stack(rows)


def combine(logits: Sequence[float], how: str) -> float:
    """One logit for the turn from the passages' logits: the best one (max), or the
    log-odds of "at least one passage answers" with independent passages (noisy_or)."""
    if how == "max":
        return max(logits)
    miss = 1.0
    for logit in logits:
        miss *= 1.0 - _sigmoid(logit)
    hit = min(max(1.0 - miss, 1e-7), 1 - 1e-7)
    return math.log(hit / (1 - hit))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 60.0), -60.0)))


def _logit(p: float) -> float:
    q = min(max(p, 1e-4), 1 - 1e-4)  # P is recorded to 4 decimals; finite logit
    return math.log(q / (1 - q))


class Head:
    """Standardise, then dense layers with ReLU between them; the last gives the logit."""

    def __init__(
        self, mean: np.ndarray, scale: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]
    ):
        self.mean = mean
        self.scale = scale
        self.layers = layers

    def logits(self, features: np.ndarray) -> np.ndarray:
        x: np.ndarray = (features - self.mean) / self.scale
        for i, (weights, bias) in enumerate(self.layers):
            x = x @ weights + bias
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        return np.asarray(x, dtype=np.float64).reshape(-1)

    def save(self) -> bytes:
        arrays = {"mean": self.mean, "scale": self.scale}
        for i, (weights, bias) in enumerate(self.layers):
            arrays[f"w{i}"], arrays[f"b{i}"] = weights, bias
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def load(cls, path: Path) -> Head:
        with np.load(path) as found:
            count = sum(1 for k in found.files if k.startswith("w"))
            layers = [(found[f"w{i}"], found[f"b{i}"]) for i in range(count)]
            return cls(found["mean"], found["scale"], layers)


# -- inference ---------------------------------------------------------------------------


class AnswerabilityModel:
    """Scores the top passages of a turn with the model's encoder (its own, else the agent's
    embedder) and the shipped head; loads both on warm_up().

    >>> model = AnswerabilityModel(embedder)
    >>> model.score(Query("How long do refunds take?"), chunks).probability
    """

    def __init__(self, embedder: Embedder, directory: Path = MODEL_DIR) -> None:
        self._embedder = embedder  # replaced on warm_up by the model's own encoder, if any
        self._directory = directory
        self._head: Head | None = None
        self._card: ModelCard | None = None
        self._lock = threading.Lock()

    @property
    def card(self) -> ModelCard:
        self.warm_up()
        assert self._card is not None
        return self._card

    @functools.cached_property
    def threshold(self) -> float:
        """The answer threshold on the P the agent decides with (the blend's when the
        manifest has one), chosen on both dev sets; read from the manifest without loading
        the model (the admin console and a configuration change ask for it)."""
        card = self._card or read_card(self._directory)
        return card.blend.threshold if card.blend is not None else card.threshold

    def decided(self, estimate: Answerability, reading: Reading) -> float:
        """The P the agent decides with: the blend of the model's P and the reading's
        features when the manifest has a blend, else the model's P."""
        blend = self.card.blend
        if blend is None:
            return estimate.probability
        return blend.probability(
            estimate.probability, reading.similarity, reading.coverage, reading.agreement
        )

    @property
    def reply_calibration(self) -> ReplyCalibration:
        """The map from P(answerable) to the reply's confidence (fitted on both dev sets)."""
        found = self.card.reply_calibration
        if found is None:
            raise AnswerabilityModelError(
                f"'{self._directory / 'manifest.json'}' has no reply_calibration; fit it with "
                "`python bench/calibration_fit.py` (collect on both dev sets, then fit --write)"
            )
        return found

    def warm_up(self) -> None:
        with self._lock:
            if self._head is not None:
                return
            card = read_card(self._directory)
            path = _checked(self._directory, card, card.head)
            if card.encoder is not None:
                encoder = _checked(self._directory, card, card.encoder)
                self._embedder = _own_encoder(encoder, card.embedder)
            self._embedder.warm_up()
            self._card = card
            self._head = Head.load(path)

    @property
    def encoder(self) -> Embedder:
        """The embedder the head reads: the model's own encoder, else the agent's."""
        self.warm_up()
        return self._embedder

    def logits(self, query: Query, passages: Sequence[tuple[str, str]]) -> list[float]:
        """Raw logits of (title, text) passages for `query` (one embedding batch)."""
        if not passages:
            return []
        self.warm_up()
        assert self._head is not None
        return [float(x) for x in self._head.logits(features(self._embedder, query, passages))]

    def score(self, query: Query, chunks: Sequence[ScoredChunk]) -> Answerability:
        """P per passage and overall, from the top `card.top_n` retrieved chunks."""
        card = self.card
        logits = self.logits(query, [(c.title, c.chunk.text) for c in chunks[: card.top_n]])
        if not logits:
            return Answerability(0.0, [], [])
        a, b = card.calibration.a, card.calibration.b
        per_passage = [_sigmoid(a * x + b) for x in logits]
        overall = _sigmoid(a * combine(logits, card.combine) + b)
        return Answerability(overall, per_passage, logits)


@functools.lru_cache(maxsize=4)
def _own_encoder(path: Path, name: str) -> Embedder:
    """One ONNX session per encoder file in the process (the production and evaluation
    agents share it)."""
    from knowledge.embed_onnx import OnnxMiniLMEmbedder

    return OnnxMiniLMEmbedder.from_file(path, name)


def _checked(directory: Path, card: ModelCard, name: str) -> Path:
    """The path of one of the model's files, after checking it against the manifest."""
    path = directory / name
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != card.files.get(name):
        raise AnswerabilityModelError(
            f"'{path}' is missing or does not match the checksum in its manifest; reinstall "
            "clearline or retrain with `python -m training.answerability`"
        )
    return path


def read_card(directory: Path) -> ModelCard:
    path = directory / "manifest.json"
    if not path.is_file():
        raise AnswerabilityModelError(
            f"no answerability model at '{directory}' (manifest.json missing); reinstall "
            "clearline, retrain with `python -m training.answerability`, or set the agent "
            "config `reader: features`"
        )
    return ModelCard.model_validate(json.loads(path.read_text(encoding="utf-8")))
