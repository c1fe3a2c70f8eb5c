"""The decide step's P(answerable) and threshold, from the reader the tenant configured.

`reader: model` (the default) decides with the shipped answerability model: its own P, or,
when its manifest has a `blend`, the blend of that P with the reading's features (see
agent.answer.answerability.Blend). `reader: features` decides with the older feature
reader alone (agent/answer/reading.py), with its own threshold and reply map.

The model reads the passages the reply can quote first: a passage of a document written for
the company's agents (knowledge.audience) is quoted for its facts only, never for its steps
(agent.answer.answer_shape), so passages written for customers come before it, each group in
retrieval order. On the demo, three agent-guideline passages about refunds outranked the help
centre's "Standard shipping is $8.00 per order." for "How much is shipping?", the model read
two of them, and the agent asked back although the reply had found the sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from agent.answer.answerability import (
    Answerability,
    AnswerabilityModel,
    Calibration,
    ReplyCalibration,
)
from agent.answer.reading import (
    FEATURES_REPLY_ANSWERED,
    FEATURES_REPLY_DECLINED,
    Reading,
    customers_first,
)
from agent.config import AgentConfig, Thresholds
from knowledge.query import Query
from knowledge.records import ScoredChunk

LIKELY = 0.5  # a passage's P at which it is more likely to answer than not
FEATURES_THRESHOLD = 0.39  # the feature reader's own, chosen on ConditionalQA dev
FEATURES_READER = "feature reader (similarity, coverage and agreement; agent/answer/reading.py)"
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
    model_read: tuple[str, ...] = ()  # the chunk ids the model scored, in its order

    @property
    def answer(self) -> float:
        assert self.thresholds.answer is not None
        return self.thresholds.answer

    def unlikely(self) -> frozenset[str]:
        """The chunks the model read and judged more likely not to answer (P < 0.5), when
        another it read is more likely to: the extractive composer quotes none of their
        sentences (agent.answer.compose_step)."""
        if self.model is None:
            return frozenset()
        read = dict(zip(self.model_read, self.model.passages, strict=True))
        if not any(p >= LIKELY for p in read.values()):
            return frozenset()
        return frozenset(chunk for chunk, p in read.items() if p < LIKELY)

    def reply_confidence(self, answered: bool) -> float:
        """P(the reply is right): an answer (answered) or a clarifying question or handoff
        (not answered), from this turn's P(answerable)."""
        return self.reply.confidence(self.reading.answerability, answered)

    def scores(self) -> dict[str, float]:
        """The retrieve step's scores: the reading's features, P as used ("answerability"),
        the feature reader's P and the model's own P (before any blend); `passage_i` is the
        model's P for the i-th chunk of `model_read`."""
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

    def own_threshold(self, reader: str) -> float:
        """The answer threshold of `reader` (`AgentConfig.reader`) when `thresholds.answer` is
        unset: the model's from its manifest, else the feature reader's."""
        return self._model.threshold if reader == "model" else FEATURES_THRESHOLD

    def reader_name(self, config: AgentConfig) -> str:
        """What estimates P(answerable) for a tenant with `config`, as the trace's `models`
        and the AI hub name it: the feature reader, or the model's name and the start of
        each file's sha256 from its manifest (the files are checked against it on loading),
        e.g. "clearline-answerability (encoder-int8.onnx 8d07f79b84d5, head.npz
        a9ebcc871bda)"."""
        if config.reader != "model":
            return FEATURES_READER
        card = self._model.card
        files = ", ".join(f"{name} {digest[:12]}" for name, digest in sorted(card.files.items()))
        return f"{card.name} ({files})"

    def judge(
        self, config: AgentConfig, query: Query, chunks: Sequence[ScoredChunk], reading: Reading
    ) -> Judged:
        features = reading.answerability
        estimate: Answerability | None = None
        reply = FEATURES_REPLY
        read: tuple[str, ...] = ()
        if config.reader == "model":
            ordered = customers_first(chunks)
            estimate = self._model.score(query, ordered)
            read = tuple(c.chunk.chunk_id for c in ordered[: len(estimate.passages)])
            reply = self._model.reply_calibration
            reading = replace(reading, answerability=self._model.decided(estimate, reading))
        answer = config.thresholds.answer
        answer = answer if answer is not None else self.own_threshold(config.reader)
        clarify = min(config.thresholds.clarify, answer)
        thresholds = config.thresholds.model_copy(update={"answer": answer, "clarify": clarify})
        return Judged(reading, thresholds, config.reader, features, estimate, reply, read)
