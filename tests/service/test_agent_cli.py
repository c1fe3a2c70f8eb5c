"""`clearline ask`, `clearline trace` and `clearline eval answers` as subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.service.test_cli import clearline


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agent-cli") / "data"
    done = clearline("ingest", str(DATA / "valid"), "--tenant", "acme", data_dir=path)
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.slow
def test_ask_then_trace(data_dir: Path) -> None:
    done = clearline(
        "ask", "How long do refunds take?", "--tenant", "acme", "--json", data_dir=data_dir
    )
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert reply["ai_generated"] is True
    assert reply["decision"] in ("answered", "clarify", "handoff")
    follow = clearline(
        "ask", "and for express orders?", "--tenant", "acme", "--conversation",
        reply["conversation_id"], "--json", data_dir=data_dir,
    )  # fmt: skip
    assert follow.returncode == 0, follow.stderr
    assert json.loads(follow.stdout)["conversation_id"] == reply["conversation_id"]
    trace = clearline("trace", reply["trace_id"], "--json", data_dir=data_dir)
    assert trace.returncode == 0, trace.stderr
    body = json.loads(trace.stdout)
    assert body["trace_id"] == reply["trace_id"] and body["tenant"] == "acme"
    assert [s["name"] for s in body["steps"]] == [
        "understand",
        "route",
        "retrieve",
        "compose",
        "verify",
        "decide",
    ]
    assert body["decision"]["rule"]
    missing = clearline("trace", "tr_missing", "--json", data_dir=data_dir)
    assert missing.returncode == 1
    assert "trace 'tr_missing' does not exist" in missing.stderr


@pytest.mark.slow
def test_eval_answers_reports_the_contract(data_dir: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "q1", "question": "How long do refunds take?", "history": [],
         "reference_answer": "within 14 days", "reference_doc_ids": ["returns-policy.pdf"],
         "answerable": True},
        {"id": "q2", "question": "and to other countries?", "answerable": True,
         "history": [{"role": "user", "text": "What are the delivery times for shipping?"}],
         "reference_doc_ids": ["shipping.docx"]},
        {"id": "q3", "question": "Do you sell second-hand tractors on credit?", "history": [],
         "answerable": False},
    ]  # fmt: skip
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    done = clearline(
        "eval", "answers", "--tenant", "acme", "--questions", str(questions), "--json",
        data_dir=data_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 3
    summary = report["summary"]
    for key in ("answered_rate", "declined_rate", "correctness", "groundedness",
                "citation_validity", "calibration", "latency_ms", "tradeoff"):  # fmt: skip
        assert key in summary
    assert len(summary["tradeoff"]) >= 3
    assert summary["reader"].startswith("clearline-answerability (encoder-int8.onnx ")
    assert [r["id"] for r in report["results"]] == ["q1", "q2", "q3"]
    for result in report["results"]:
        assert set(result) == {"id", "decision", "confidence", "answer", "citations", "trace_id"}
        assert 0 <= result["confidence"] <= 1
    if summary["citation_validity"] is not None:
        assert summary["citation_validity"] == 1.0


def test_ask_unknown_tenant_is_a_clear_error(tmp_path: Path) -> None:
    done = clearline("ask", "hello", "--tenant", "nobody", data_dir=tmp_path / "data")
    assert done.returncode == 1
    assert "nobody" in done.stderr and "does not exist" in done.stderr


@pytest.mark.slow
def test_qa_run_scores_every_reply_and_the_report_has_plots(data_dir: Path, tmp_path: Path) -> None:
    asked = clearline("ask", "How long do refunds take?", "--tenant", "acme", data_dir=data_dir)
    assert asked.returncode == 0, asked.stderr
    done = clearline("qa", "run", "--tenant", "acme", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["scored"] >= 1 and report["replies"] >= report["scored"]
    assert set(report["evaluators"]) >= {"groundedness", "answer_relevance", "correctness"}
    again = json.loads(
        clearline("qa", "run", "--tenant", "acme", "--json", data_dir=data_dir).stdout
    )
    assert again["scored"] == 0  # nothing left to score
    out = tmp_path / "report.html"
    page = clearline("qa", "report", "--tenant", "acme", "--out", str(out), "--json",
                     data_dir=data_dir)  # fmt: skip
    assert page.returncode == 0, page.stderr
    html = out.read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == len(json.loads(page.stdout)["plots"]) > 0
