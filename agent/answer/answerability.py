"""Clearline's answerability model: P(the retrieved passages answer the question).

The model reads the question, with the scenario and the conversation's earlier turns,
together with the best window of each of the top passages. A frozen encoder (the agent's
own all-MiniLM-L6-v2 embedder) embeds the question u and the window v; a head trained by
`python -m training.answerability` maps [u * v, |u - v|, two cosines, two word-overlap
shares] to a logit per passage. The passages' logits are combined (the manifest names how
and over how many passages) and calibrated (Platt scaling, fitted on ConditionalQA dev and
mtrag_dev together) into P(answerable). A fine-tuned cross-encoder was tried first and did
not learn within the training budget on this machine (docs/benchmarks.md).

The threshold compares P(answerable). The reply's confidence is another quantity: the
probability that the reply is right (an answer that cites a reference document, or a
decline of an unanswerable question), mapped from P(answerable) by the manifest's
`reply_calibration`, one map for answered and one for declined replies
(training/answerability/reply_calibration.py; fitted by `bench/calibration_fit.py`).

The head ships in `agent/answer/models/answerability/` (head.npz and manifest.json with
checksums). The feature code below is shared with the training script, so the head is
trained on exactly the inputs it sees here.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from agent.answer.reading import (
    FEATURES_REPLY_ANSWERED,
    FEATURES_REPLY_DECLINED,
    Reading,
    content_terms,
    split_sentences,
)
from agent.config import AgentConfig, Thresholds
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
        q = min(max(p, 1e-4), 1 - 1e-4)  # P is recorded to 4 decimals; finite logit
        return _sigmoid(mapping.a * math.log(q / (1 - q)) + mapping.b)


class ModelCard(BaseModel):
    """What inference needs from manifest.json (the file holds more: data, metrics...)."""

    model_config = ConfigDict(extra="allow")
    head: str
    embedder: str  # the embedder the head was trained with
    combine: Literal["max", "noisy_or"]
    top_n: int
    calibration: Calibration
    threshold: float
    files: dict[str, str]  # file name -> sha256
    reply_calibration: ReplyCalibration | None = None  # None only between the two commands


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
    """Scores the top passages of a turn with the agent's embedder and the shipped head;
    loads the head on warm_up().

    >>> model = AnswerabilityModel(embedder)
    >>> model.score(Query("How long do refunds take?"), chunks).probability
    """

    def __init__(self, embedder: Embedder, directory: Path = MODEL_DIR) -> None:
        self._embedder = embedder
        self._directory = directory
        self._head: Head | None = None
        self._card: ModelCard | None = None
        self._lock = threading.Lock()

    @property
    def card(self) -> ModelCard:
        self.warm_up()
        assert self._card is not None
        return self._card

    @property
    def threshold(self) -> float:
        """The answer threshold chosen with the model (on both dev sets)."""
        return self.card.threshold

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
            path = self._directory / card.head
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != card.files.get(card.head):
                raise AnswerabilityModelError(
                    f"'{path}' does not match the checksum in its manifest; reinstall "
                    "clearline or retrain with `python -m training.answerability`"
                )
            self._embedder.warm_up()
            self._card = card
            self._head = Head.load(path)

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


def read_card(directory: Path) -> ModelCard:
    path = directory / "manifest.json"
    if not path.is_file():
        raise AnswerabilityModelError(
            f"no answerability model at '{directory}' (manifest.json missing); reinstall "
            "clearline, retrain with `python -m training.answerability`, or set the agent "
            "config `reader: features`"
        )
    return ModelCard.model_validate(json.loads(path.read_text(encoding="utf-8")))


# -- the decision's P(answerable) and threshold ------------------------------------------

FEATURES_THRESHOLD = 0.39  # the feature reader's own, chosen on ConditionalQA dev
FEATURES_REPLY = ReplyCalibration(
    answered=Calibration(a=FEATURES_REPLY_ANSWERED[0], b=FEATURES_REPLY_ANSWERED[1]),
    declined=Calibration(a=FEATURES_REPLY_DECLINED[0], b=FEATURES_REPLY_DECLINED[1]),
)


@dataclass(frozen=True)
class Judged:
    """What the decide step uses: the reading with P(answerable) from the configured
    reader, and the thresholds with `answer` resolved to that reader's when unset."""

    reading: Reading
    thresholds: Thresholds
    reader: str
    features: float  # the feature reader's P, always computed (it is cheap)
    model: Answerability | None  # None when the feature reader decides
    reply: ReplyCalibration  # the configured reader's map to the reply's confidence

    @property
    def answer(self) -> float:
        assert self.thresholds.answer is not None
        return self.thresholds.answer

    def reply_confidence(self, answered: bool) -> float:
        """P(the reply is right): an answer (answered) or a clarifying question or handoff
        (not answered), from this turn's P(answerable)."""
        return self.reply.confidence(self.reading.answerability, answered)

    def scores(self) -> dict[str, float]:
        """The retrieve step's scores: the reading's features, P as used, both readers' P."""
        out = self.reading.features()
        out["answerability_features"] = round(self.features, 4)
        if self.model is not None:
            out["answerability_model"] = round(self.model.probability, 4)
            out.update({f"passage_{i}": round(p, 4) for i, p in enumerate(self.model.passages)})
        return out


class AnswerabilityJudge:
    """Chooses the reader the tenant configured (`AgentConfig.reader`)."""

    def __init__(self, model: AnswerabilityModel) -> None:
        self._model = model

    def warm_up(self) -> None:
        self._model.warm_up()

    def judge(
        self, config: AgentConfig, query: Query, chunks: Sequence[ScoredChunk], reading: Reading
    ) -> Judged:
        features = reading.answerability
        estimate: Answerability | None = None
        reply = FEATURES_REPLY
        if config.reader == "model":
            estimate = self._model.score(query, chunks)
            own = self._model.threshold
            reply = self._model.reply_calibration
            reading = replace(reading, answerability=estimate.probability)
        else:
            own = FEATURES_THRESHOLD
        answer = config.thresholds.answer if config.thresholds.answer is not None else own
        clarify = min(config.thresholds.clarify, answer)
        thresholds = config.thresholds.model_copy(update={"answer": answer, "clarify": clarify})
        return Judged(reading, thresholds, config.reader, features, estimate, reply)
