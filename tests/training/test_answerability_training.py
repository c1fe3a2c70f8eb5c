"""The answerability training script: how it picks passages, how it calibrates and chooses
the threshold, and one tiny end-to-end run of the real command on hand-made data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.answer.answerability import AnswerabilityModel
from evaluation.entailment import EntailmentCheck
from evaluation.grounding import CachedEmbedder
from knowledge.query import Query
from knowledge.records import Chunk, ScoredChunk
from training.answerability import calibrate
from training.answerability.calibrate import Scored
from training.answerability.data import answer_chunk, same_page_negatives
from training.answerability.head import feature_code

ROOT = Path(__file__).resolve().parents[2]


def chunk(text: str) -> ScoredChunk:
    return ScoredChunk(Chunk("page", 1, 0, text), 0.5, "page")


def test_the_gold_passage_is_the_one_holding_the_answer_else_the_conditions_else_the_first() -> (
    None
):
    chunks = [
        chunk("Apply online."),
        chunk("You must tell us at least 15 weeks before the baby is due."),
        chunk("You must be 18 or over. You’re entitled to 2 weeks."),
    ]
    assert answer_chunk(chunks, "at least 15 weeks before the baby is due", []) == 1
    assert answer_chunk(chunks, "yes", ["You're entitled to 2 weeks."]) == 2
    assert answer_chunk(chunks, "no", []) == 0


def rows(seed: int = 0) -> list[Scored]:
    """Two synthetic dev sets whose answerable turns score higher, one passage better than
    the others; an underspecified turn in each (label None)."""
    rng = np.random.default_rng(seed)
    out = []
    for dataset, shift in (("a", 2.0), ("b", 1.0)):
        for label in [1] * 60 + [0] * 20 + [None] * 3:
            best = rng.normal(shift if label == 1 else -shift, 1.0)
            out.append(Scored(dataset, label, [best, best - 2.0, best - 3.0, best - 4.0]))
    return out


def test_calibration_and_threshold_are_chosen_on_both_sets_together() -> None:
    data = rows()
    how, top_n, mean_auc = calibrate.best_combination(data)
    assert top_n == 1 and mean_auc > 0.8  # the other passages add nothing: fewest win
    choice = calibrate.fit(data, how, top_n)
    assert choice.a > 0
    metrics = calibrate.report(data, choice)
    assert set(metrics) == {"a", "b"}
    floor = min(min(m["answered"], m["declined"]) for m in metrics.values())
    for t in calibrate.THRESHOLDS:  # no threshold has a better worst rate
        at = calibrate.rates([r for r in data if r.label is not None],
                             calibrate.probabilities([r for r in data if r.label is not None],
                                                     choice), t)  # fmt: skip
        assert min(at.values()) <= floor + 1e-9
    assert all(m["ece"] < 0.15 for m in metrics.values())


def test_cached_training_features_are_not_reused_after_the_feature_code_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agent.answer import answerability

    before = feature_code()
    assert feature_code() == before
    monkeypatch.setattr(answerability, "WINDOW_TOKENS", answerability.WINDOW_TOKENS + 1)
    assert feature_code() != before


def test_ece_is_zero_for_perfect_calibration_and_large_for_overconfidence() -> None:
    p = np.array([0.9] * 10 + [0.1] * 10)
    assert calibrate.ece(p, np.array([1] * 9 + [0] + [0] * 9 + [1])) == pytest.approx(0.0)
    assert calibrate.ece(p, np.array([0] * 10 + [1] * 10)) == pytest.approx(0.9)


def _corpus(folder: Path) -> None:
    """A tiny stand-in for the shared data folder: two pages, questions on them."""
    (folder / "conditionalqa").mkdir(parents=True)
    (folder / "mtrag_dev").mkdir()
    pages = {
        "https://example.org/returns": [
            "You can return unworn shoes within 30 days of delivery.",
            "Refunds are paid to the original card within five business days.",
        ],
        "https://example.org/delivery": [
            "Standard delivery to Canada takes seven to ten business days.",
            "Express delivery to the United States arrives in two business days.",
        ],
        "https://example.org/passwords": [
            "To reset your password, choose 'Forgot password' on the sign-in page.",
            "The reset link we email you works for 24 hours.",
        ],
    }
    with (folder / "conditionalqa" / "corpus.jsonl").open("w") as out:
        for url, sentences in pages.items():
            html = "".join(f"<p>{s}</p>" for s in sentences)
            out.write(json.dumps({"id": url, "title": url.rsplit("/", 1)[1], "html": html}) + "\n")
    asked = [
        ("How long do I have to return shoes?", "within 30 days", "returns", True),
        ("When is my refund paid?", "within five business days", "returns", True),
        ("How long does delivery to Canada take?", "seven to ten business days", "delivery", True),
        ("How fast is express delivery to the US?", "two business days", "delivery", True),
        ("How do I reset my password?", "choose 'Forgot password'", "passwords", True),
        ("How long does the reset link work?", "24 hours", "passwords", True),
        ("Can I return shoes I have worn?", "", "returns", False),
        ("Do you deliver to Mars?", "", "delivery", False),
    ]
    for name in ("questions.train.jsonl", "questions.dev.jsonl"):
        with (folder / "conditionalqa" / name).open("w") as out:
            for number, (question, answer, page, answerable) in enumerate(asked):
                out.write(json.dumps({
                    "id": f"{name}-{number}", "question": question, "scenario": "",
                    "history": [], "reference_answer": answer,
                    "reference_doc_ids": [f"https://example.org/{page}"],
                    "answerable": answerable, "conditions": [],
                }) + "\n")  # fmt: skip
    with (folder / "mtrag_dev" / "corpus.jsonl").open("w") as out:
        for url, sentences in pages.items():
            out.write(json.dumps({"id": url, "title": "", "text": " ".join(sentences)}) + "\n")
    (folder / "mtrag_dev" / "questions.jsonl").write_text(
        (folder / "conditionalqa" / "questions.dev.jsonl").read_text()
    )


@pytest.mark.slow
def test_the_training_command_tunes_an_encoder_that_the_model_loads_and_a_frozen_run_drops(
    tmp_path: Path, minilm: Any
) -> None:
    _corpus(tmp_path / "data")
    out = tmp_path / "model"
    command = [
        sys.executable, "-m", "training.answerability", "--data", str(tmp_path / "data"),
        "--work", str(tmp_path / "work"), "--out", str(out), "--tune-epochs", "1",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout)
    manifest = json.loads((out / "manifest.json").read_text())
    assert printed["dev_metrics"] == manifest["dev_metrics"]
    assert manifest["pairs"]["gold"] == 6 and manifest["pairs"]["left_out"] == 2 * 6
    assert set(manifest["training_data"]) == {
        "conditionalqa/questions.train.jsonl",
        "conditionalqa/corpus.jsonl",
    }
    assert manifest["encoder"] == "encoder-int8.onnx" and manifest["encoder_tuning"]["steps"] >= 1
    assert set(manifest["files"]) == {"head.npz", "encoder-int8.onnx"}
    model = AnswerabilityModel(minilm, out)
    assert model.threshold == manifest["threshold"]
    assert model.encoder is not minilm and model.encoder.name == manifest["embedder"]
    text = "When is my refund paid?"
    ours, agents = np.asarray(model.encoder.embed([text])[0]), np.asarray(minilm.embed([text])[0])
    assert abs(float(ours @ ours) - 1.0) < 1e-3  # unit vectors, as the head expects
    assert float(ours @ agents) < 0.9999  # the tuned encoder, not the agent's embedder

    # The groundedness check reads the claim with the model's encoder, never the agent's.
    class AgentEmbedderRefused(CachedEmbedder):
        def embed(self, texts: Any) -> list[list[float]]:
            raise AssertionError("the agent's embedder was used for the model's features")

    check = EntailmentCheck(minilm, directory=out)
    claim, passage = "Refunds take five days.", "Refunds are paid within five business days."
    [support] = check.supports(claim, [passage], AgentEmbedderRefused(minilm, []))
    assert 0.0 <= support <= 1.0
    assert len(model.logits(Query("When is my refund paid?"), [("", "Refunds take 5 days.")])) == 1

    # Retrained frozen into the same folder: the stale tuned encoder goes, and the model
    # reads with the agent's embedder again.
    frozen = [*command[:-1], "0"]
    done = subprocess.run(frozen, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert not (out / "encoder-int8.onnx").exists()
    assert "encoder" not in manifest and set(manifest["files"]) == {"head.npz"}
    assert AnswerabilityModel(minilm, out).encoder is minilm


def test_same_page_negatives_are_the_page_s_best_chunks_that_do_not_quote_the_answer() -> None:
    chunks = [
        chunk("Apply online."),
        chunk("You must tell us at least 15 weeks before the baby is due."),
        chunk("You’re entitled to 2 weeks."),
    ]
    assert same_page_negatives(chunks, "at least 15 weeks before the baby is due") == [chunks[0]]
    assert same_page_negatives(chunks[1:], "at least 15 weeks before the baby is due") == [
        chunks[2]
    ]
    assert same_page_negatives(chunks, "yes") == []  # no chunk can be seen to hold a yes
    assert same_page_negatives(chunks, "26 weeks") == []  # no chunk quotes it: no gold known


def test_the_training_command_names_a_missing_data_folder_before_it_writes(
    tmp_path: Path,
) -> None:
    """A clean clone outside the folder that holds ../shared/data failed with a traceback
    (FileNotFoundError on conditionalqa/corpus.jsonl) after loading the embedder."""
    (tmp_path / "data" / "conditionalqa").mkdir(parents=True)
    out = tmp_path / "model"
    command = [sys.executable, "-m", "training.answerability", "--data", str(tmp_path / "data"),
               "--out", str(out), "--work", str(tmp_path / "work")]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"python -m training.answerability: error: the shared data folder {tmp_path / 'data'} "
        "has no mtrag_dev; pass the folder that holds them with --data (the default is "
        "../shared/data beside the repository)"
    )
    assert not out.exists() and not (tmp_path / "work").exists()
