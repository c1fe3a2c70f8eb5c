"""The reply's confidence is P(the reply is right) from the shipped reply calibration, not
P(answerable): the maps ship in the manifest, a turn applies them, and a model without them
says what to run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from agent.answer.answerability import (
    MODEL_DIR,
    AnswerabilityModel,
    AnswerabilityModelError,
    read_card,
)
from agent.answer.judge import FEATURES_REPLY, AnswerabilityJudge
from agent.answer.reading import Reading
from agent.config import AgentConfig
from knowledge.query import Query
from knowledge.records import Chunk, ScoredChunk

QUESTION = "How many days do I have to return unworn shoes?"
PASSAGE = "You can return unworn shoes within 30 days of delivery for a full refund."


def test_the_manifest_ships_a_reply_calibration_for_answered_and_declined_replies() -> None:
    card = read_card(MODEL_DIR)
    reply = card.reply_calibration
    assert reply is not None, "manifest.json has no reply_calibration"
    # an answer is more likely right the surer the model is that the passages answer;
    # a decline less likely
    assert reply.answered.a > 0 and reply.declined.a < 0
    assert reply.confidence(0.99, True) > reply.confidence(0.9, True)
    assert reply.confidence(0.2, False) > reply.confidence(0.8, False)
    extra = reply.model_extra or {}
    assert set(extra) >= {"fitted_on", "command", "ece"}
    assert extra["fitted_on"] == ["conditionalqa_dev", "mtrag_dev"]


def test_the_feature_reader_has_fitted_reply_constants_too() -> None:
    assert FEATURES_REPLY.answered.a > 0 and FEATURES_REPLY.declined.a < 0


@pytest.mark.parametrize("reader", ["model", "features"])
def test_a_judged_turn_maps_p_answerable_to_the_reply_confidence(minilm: Any, reader: str) -> None:
    model = AnswerabilityModel(minilm)
    judged = AnswerabilityJudge(model).judge(
        AgentConfig(reader=reader),
        Query(QUESTION),
        [ScoredChunk(Chunk("a", 1, 0, PASSAGE), 0.5, "returns")],
        Reading([], 0.8, 0.5, 0.9, 0.6),
    )
    p = judged.reading.answerability
    shipped = model.reply_calibration if reader == "model" else FEATURES_REPLY
    assert judged.reply_confidence(True) == pytest.approx(shipped.confidence(p, True))
    assert judged.reply_confidence(False) == pytest.approx(shipped.confidence(p, False))
    # not the old confidence (P when answered, 1 - P when not): it differs somewhere the
    # reader answers (P at or over its threshold) and somewhere it declines
    t = judged.answer
    over = [t + (1 - t) * i / 10 for i in range(10)]
    under = [t * i / 10 for i in range(1, 11)]
    assert max(abs(shipped.confidence(x, True) - x) for x in over) > 0.01
    assert max(abs(shipped.confidence(x, False) - (1 - x)) for x in under) > 0.01


def test_a_model_without_reply_calibration_fails_with_the_command_to_fit_it(
    tmp_path: Path, minilm: Any
) -> None:
    directory = tmp_path / "model"
    shutil.copytree(MODEL_DIR, directory)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    del manifest["reply_calibration"]
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    judge = AnswerabilityJudge(AnswerabilityModel(minilm, directory))
    with pytest.raises(AnswerabilityModelError, match=r"calibration_fit\.py"):
        judge.judge(
            AgentConfig(reader="model"), Query(QUESTION),
            [ScoredChunk(Chunk("a", 1, 0, PASSAGE), 0.5, "returns")],
            Reading([], 0.8, 0.5, 0.9, 0.6),
        )  # fmt: skip
