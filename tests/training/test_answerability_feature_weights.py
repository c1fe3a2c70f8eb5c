"""The feature reader's weights for the blend are fitted on ConditionalQA TRAIN only, by one
command that records its data, seed and counts; the recorded weights say so; the blend
bench recomputes the feature reader's P from the features recorded per turn."""

from __future__ import annotations

import hashlib
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from agent.answer.answerability import MODEL_DIR, read_card
from bench import calibration_blend as cb
from training.answerability import feature_weights as fw
from training.answerability.reply_calibration import Turn, logit, sigmoid

RECORDED = fw.OUT


def _rows(seed: int, n: int = 120) -> list[dict[str, object]]:
    """Gold passages are closer and cover more of the question than left-out ones."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for i in range(n):
        rows.append(
            {
                "id": f"q{i}",
                "kind": "gold",
                "x": [0.6 + rng.gauss(0, 0.08), 0.7 + rng.gauss(0, 0.2), 0.9],
            }
        )
        rows.append(
            {
                "id": f"q{i}",
                "kind": "left_out",
                "x": [0.5 + rng.gauss(0, 0.08), 0.4 + rng.gauss(0, 0.2), 0.9],
            }
        )
    return rows  # fmt: skip


def test_the_fit_learns_the_direction_and_does_not_depend_on_the_seed() -> None:
    rows = _rows(1)
    model, auc = fw.fit(rows, seed=13)
    again, _ = fw.fit(rows, seed=99)
    assert model.coef_[0][0] > 0 and model.coef_[0][1] > 0
    assert auc > 0.8
    assert again.coef_[0] == pytest.approx(model.coef_[0], abs=1e-4)


def test_one_command_writes_weights_with_their_data_and_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = tmp_path / "questions.train.jsonl"
    questions.write_text('{"id": "q0"}\n', encoding="utf-8")
    cache = tmp_path / "features.jsonl"
    cache.write_text("".join(json.dumps(r) + "\n" for r in _rows(2)), encoding="utf-8")
    out = tmp_path / "weights.json"
    argv = ["feature_weights", "--data-dir", str(tmp_path), "--tenant", "cqa", "--questions",
            str(questions), "--cache", str(cache), "--out", str(out), "--seed", "7"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    fw.main()
    card = json.loads(out.read_text(encoding="utf-8"))
    assert card["seed"] == 7
    assert card["trained_on"]["questions"] == "questions.train.jsonl"
    assert (
        card["trained_on"]["questions_sha256"] == hashlib.sha256(questions.read_bytes()).hexdigest()
    )
    assert card["trained_on"]["examples"] == {"gold": 120, "left_out": 120, "unanswerable": 0}
    assert set(card["weights"]) == {"intercept", "w_similarity", "w_coverage", "w_agreement"}


def test_the_recorded_weights_were_fitted_on_conditionalqa_train_only() -> None:
    card = json.loads(RECORDED.read_text(encoding="utf-8"))
    trained = card["trained_on"]
    assert trained["questions"] == "questions.train.jsonl"
    assert trained["examples"]["gold"] > 200 and trained["examples"]["left_out"] > 200
    if fw.TRAIN.is_file():  # the shared data next to the checkout: the very same file
        assert trained["questions_sha256"] == hashlib.sha256(fw.TRAIN.read_bytes()).hexdigest()
    assert card["weights"]["w_similarity"] > 0


def _turn(features: dict[str, float]) -> Turn:
    return Turn(dataset="d", id="t1", answerable=True, underspecified=False, knowledge=True,
                proposed="answered", p={"model": 0.9, "features": 0.5}, verified=True,
                cited=(), text="", reference_doc_ids=(), reference_answer="",
                features=features)  # fmt: skip


def test_the_blend_bench_rescores_recorded_features_with_the_given_weights() -> None:
    weights = {"intercept": -2.0, "w_similarity": 3.0, "w_coverage": 1.0, "w_agreement": 0.5}
    turn = _turn({"similarity": 0.6, "coverage": 0.4, "agreement": 0.8})
    cb.add_readers([turn], weights)
    expected = sigmoid(-2.0 + 3.0 * 0.6 + 1.0 * 0.4 + 0.5 * 0.8)
    assert turn.p["train_features"] == pytest.approx(expected, abs=1e-4)
    assert turn.p["blend1.0"] == pytest.approx(0.9, abs=1e-6)
    assert turn.p["blend0.0"] == pytest.approx(turn.p["train_features"], abs=1e-6)
    half = sigmoid(0.5 * logit(0.9) + 0.5 * logit(turn.p["train_features"]))
    assert turn.p["blend0.5"] == pytest.approx(half, abs=1e-6)
    with pytest.raises(SystemExit, match="collect again"):
        cb.add_readers([_turn({})], weights)


def test_an_exact_tie_goes_to_the_lower_blend_weight_then_the_lower_threshold() -> None:
    """As the bench's docstring says; session 18's choice (0.4 at 0.74 over 0.5 at 0.76,
    the same four rates) was decided this way."""

    blends = [f"blend{w}" for w in cb.BLEND_WEIGHTS]  # as main() lists them

    def turn(answerable: bool, p: float) -> Turn:
        return replace(_turn({}), answerable=answerable, p={b: p for b in blends})

    # every blend answers the one and declines the other at every threshold 0.32 to 0.90
    turns = [turn(True, 0.9), turn(False, 0.3)]
    assert cb.choose(turns, blends) == ("blend0.0", 0.32)
    # not tied: 0.5 also answers a third, answerable turn from 0.32 up; no other blend does
    turns.append(turn(True, 0.2))
    turns[-1].p["blend0.5"] = 0.35
    assert cb.choose(turns, blends) == ("blend0.5", 0.32)


def test_the_shipped_blend_is_the_benchs_blend_with_the_recorded_train_weights() -> None:
    """The agent decides with the same P that bench/calibration_blend.py chose it on."""
    blend = read_card(MODEL_DIR).blend
    assert blend is not None, "the shipped manifest has no blend"
    weights = json.loads(RECORDED.read_text(encoding="utf-8"))["weights"]
    assert blend.features.intercept == weights["intercept"]
    assert [blend.features.similarity, blend.features.coverage, blend.features.agreement] == [
        weights[f"w_{n}"] for n in cb.NAMES
    ]
    assert f"blend{blend.model_weight}" in {f"blend{w}" for w in cb.BLEND_WEIGHTS}
    turn = _turn({"similarity": 0.6, "coverage": 0.4, "agreement": 0.95})
    cb.add_readers([turn], weights)
    assert turn.p[f"blend{blend.model_weight}"] == blend.probability(0.9, 0.6, 0.4, 0.95)
