"""Evaluation never touches production data: `clearline eval answers` and `eval gate` run on
the tenant's knowledge, but their replies are never scored by `qa run`, never enter the
review queue or the report, and the gate leaves no scratch folder behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA
from tests.service.test_cli import clearline

QUESTIONS = [
    {"id": "q1", "question": "How long do refunds take?", "history": [],
     "reference_answer": "within 14 days", "reference_doc_ids": ["returns-policy.pdf"],
     "answerable": True},
    {"id": "q2", "question": "Do you sell second-hand tractors on credit?", "history": [],
     "answerable": False},
    {"id": "q3", "question": "Can I pay for the new roof of my barn in bitcoin?", "history": [],
     "answerable": False},
    {"id": "q4", "question": "I want to speak to a real person", "history": [],
     "answerable": False},
]  # fmt: skip
HANDED_OFF = "I want to speak to a real person"  # an explicit request: handed off, whatever P


def run_json(*args: str, data_dir: Path) -> dict[str, Any]:
    done = clearline(*args, "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def qa_state(data_dir: Path) -> dict[str, Any]:
    """`qa run` (which scores whatever is pending) and the scored replies in the report."""
    return run_json("qa", "run", "--tenant", "acme", data_dir=data_dir)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tenant with knowledge, one production reply that handed off, everything scored."""
    path = tmp_path_factory.mktemp("eval-isolation") / "data"
    done = clearline("ingest", str(DATA / "valid"), "--tenant", "acme", data_dir=path)
    assert done.returncode == 0, done.stderr
    asked = run_json("ask", HANDED_OFF, "--tenant", "acme", data_dir=path)
    assert asked["decision"] == "handoff"  # such a reply enters the queue once scored
    first = qa_state(path)
    assert first["scored"] == 1 and first["queue"] == 1
    questions = path.parent / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    return path


@pytest.mark.slow
def test_eval_answers_leaves_the_qa_loop_untouched(data_dir: Path) -> None:
    before = qa_state(data_dir)
    questions = data_dir.parent / "questions.jsonl"
    report = run_json("eval", "answers", "--tenant", "acme", "--questions", str(questions),
                      data_dir=data_dir)  # fmt: skip
    assert report["n"] == len(QUESTIONS)
    assert report["summary"]["decisions"].get("handoff", 0) >= 1  # would be queued if scored
    after = qa_state(data_dir)
    assert after["scored"] == 0
    assert after["queue"] == before["queue"]
    assert after["replies"] == before["replies"]  # what `qa report` shows
    for result in report["results"]:  # the traces were never stored with production's
        missing = clearline("trace", result["trace_id"], "--tenant", "acme", data_dir=data_dir)
        assert missing.returncode == 1 and "does not exist" in missing.stderr


@pytest.mark.slow
def test_eval_gate_leaves_the_qa_loop_untouched_and_no_scratch_folder(
    data_dir: Path, tmp_path: Path
) -> None:
    golden = tmp_path / "golden.jsonl"
    golden.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    run_json("qa", "golden-import", str(golden), "--tenant", "acme", data_dir=data_dir)
    before = qa_state(data_dir)
    candidate = tmp_path / "same.yaml"
    candidate.write_text("autonomy: autonomous\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "CLEARLINE_DATA_DIR": str(data_dir), "TMPDIR": str(scratch)}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "eval", "gate", "--tenant", "acme",
         "--candidate", str(candidate), "--json"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["current"]["n_probes"] == 40  # the probes shipped in the package
    assert report["current"]["n_golden"] == len(QUESTIONS)
    assert sorted(p.name for p in scratch.iterdir()) == []
    after = qa_state(data_dir)
    assert after["scored"] == 0
    assert after["queue"] == before["queue"]
    assert after["replies"] == before["replies"]
