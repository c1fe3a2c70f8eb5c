"""`bench/calibration_fit.py collect` right after a retrain, when the manifest has no reply map
yet: it used to fail with "has no reply_calibration; fit it with calibration_fit.py (collect
on both dev sets, then fit --write)", so the documented rebuild could not run. It now collects
with a provisional map on a copy of the model, and leaves the manifest alone."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.answer.answerability import MODEL_DIR
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_collect_runs_on_a_retrained_model_without_a_reply_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    ingested = subprocess.run(
        [sys.executable, "-m", "service.cli", "ingest", str(DATA / "valid" / "small-corpus.jsonl"),
         "--tenant", "acme"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "CLEARLINE_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert ingested.returncode == 0, ingested.stderr
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "Do gift cards expire?", "answerable": True,
                    "reference_doc_ids": ["kb-001"]}) + "\n"
        + json.dumps({"id": "q2", "question": "Who founded the company?", "answerable": False})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    retrained = tmp_path / "model"
    shutil.copytree(MODEL_DIR, retrained)
    manifest = json.loads((retrained / "manifest.json").read_text(encoding="utf-8"))
    del manifest["reply_calibration"]
    (retrained / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = (retrained / "manifest.json").read_bytes()

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import calibration_fit  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    monkeypatch.setattr(calibration_fit, "MANIFEST", retrained / "manifest.json")
    out = tmp_path / "turns.jsonl"
    calibration_fit.collect(
        argparse.Namespace(data_dir=data_dir, tenant="acme", questions=questions,
                           dataset="small", out=out, limit=0)
    )  # fmt: skip

    turns = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [t["id"] for t in turns] == ["q1", "q2"]
    assert all(0.0 <= t["p"]["model"] <= 1.0 for t in turns), turns
    assert "provisional map" in capsys.readouterr().err
    assert (retrained / "manifest.json").read_bytes() == before  # the real map is fit's to write
