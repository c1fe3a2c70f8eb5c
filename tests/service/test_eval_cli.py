"""`clearline eval retrieval` on a small collection: every method, the contract's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.service.test_cli import clearline


@pytest.mark.slow
def test_eval_retrieval_reports_every_method(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert (
        clearline("ingest", str(DATA / "valid"), "--tenant", "acme", data_dir=data_dir).returncode
        == 0
    )
    questions = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "How long do refunds take?",
            "history": [],
            "reference_doc_ids": ["returns-policy.pdf"],
            "answerable": True,
        },
        {
            "id": "q2",
            "question": "and to other countries?",
            "answerable": True,
            "history": [{"role": "user", "text": "What are the delivery times for shipping?"}],
            "reference_doc_ids": ["shipping.docx"],
        },
        {"id": "q3", "question": "Do you sell cars?", "history": [], "answerable": False},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    done = clearline(
        "eval",
        "retrieval",
        "--tenant",
        "acme",
        "--questions",
        str(questions),
        "--json",
        data_dir=data_dir,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["default"] == "hybrid" and report["n"] == 2
    assert set(report["methods"]) == {"bm25", "dense", "rrf", "hybrid"}
    for scores in report["methods"].values():
        assert set(scores) == {"ndcg@10", "recall@5", "recall@10", "mrr", "p50_ms", "p95_ms"}
        assert 0.0 <= scores["ndcg@10"] <= 1.0
    assert report["methods"]["hybrid"]["recall@10"] == 1.0
    first = report["results"][0]
    assert first["id"] == "q1" and set(first["ranked_doc_ids"]) == {
        "bm25",
        "dense",
        "rrf",
        "hybrid",
    }
    assert first["ranked_doc_ids"]["hybrid"][0] == "returns-policy.pdf"
    assert len(first["ranked_doc_ids"]["dense"]) >= 10  # 10 documents exist; all are ranked


def test_bad_questions_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x"}\n')
    done = clearline(
        "eval", "retrieval", "--tenant", "acme", "--questions", str(bad), data_dir=tmp_path / "data"
    )
    assert done.returncode == 1
    assert "q.jsonl line 1 needs an object with a 'question' string" in done.stderr
