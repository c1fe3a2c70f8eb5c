"""The QA loop over HTTP: every reply scored within a bounded delay, the review queue, a
verdict with a correction that becomes a golden case, the report; then a gate run from the
CLI that includes the correction."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from control.customer import CustomerControls
from control.tenants import ROLES
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy
from tests.service.test_cli import clearline

MAX_DELAY_S = 30  # generous for a loaded 2-core machine; the server polls every 0.2 s


def _call(
    url: str, key: str, method: str, path: str, token: str = "", **kwargs: Any
) -> httpx.Response:
    headers = {**auth(key), **({"X-Conversation-Token": token} if token else {})}
    return httpx.request(method, url + path, headers=headers, timeout=120, **kwargs)


def _wait_for_scores(url: str, key: str, trace_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + MAX_DELAY_S
    while time.monotonic() < deadline:
        trace: dict[str, Any] = _call(url, key, "GET", f"/v1/traces/{trace_id}").json()
        if trace["scores"]:
            return trace
        time.sleep(0.2)
    raise AssertionError(f"trace {trace_id} was not scored within {MAX_DELAY_S} s")


@pytest.mark.slow
def test_scores_queue_review_golden_report_and_gate(tmp_path: Path) -> None:
    from service.settings import Settings

    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, port=free_port(), qa_interval_s=0.2)
    with LiveServer(settings) as live:
        runtime = live.runtime
        runtime.tenants.create("acme", "eu")
        CustomerControls(runtime.sessions).update("acme", {"training_use": "allowed"}, "test")
        seed_returns_policy(runtime, "acme")
        keys = {role: runtime.tenants.create_key("acme", role) for role in ROLES}
        url = live.url
        user, qa = keys["end_user"], keys["qa_lead"]
        conversation = _call(url, user, "POST", "/v1/conversations", json={}).json()
        cid, token = conversation["conversation_id"], conversation["conversation_token"]

        def say(text: str) -> dict[str, Any]:
            path = f"/v1/conversations/{cid}/messages"
            body: dict[str, Any] = _call(url, user, "POST", path, token, json={"text": text}).json()
            return body

        # Every reply gets its scores, each naming its evaluator, within the bound.
        answer = say("How long do I have to return a defective item?")
        trace = _wait_for_scores(url, qa, answer["trace_id"])
        for name in ("groundedness", "answer_relevance", "context_relevance"):
            score = trace["scores"][name]
            assert score["evaluator"] and 0 <= score["value"] <= 1, (name, score)
        assert trace["scores"]["correctness"]["value"] is None  # no reference answer yet

        # A down-rating and a handoff put replies in the review queue.
        rated = _call(url, user, "POST", f"/v1/messages/{answer['message_id']}/rating",
                      token, json={"rating": "down", "comment": "too vague"})  # fmt: skip
        assert rated.status_code == 200
        handoff = say("I want to speak to a real person")
        _wait_for_scores(url, qa, handoff["trace_id"])
        queue = _call(url, qa, "GET", "/v1/qa/queue").json()
        reasons = {item["trace_id"]: item["reasons"] for item in queue}
        assert any("rated down" in r for r in reasons[answer["trace_id"]])
        assert "handed off" in reasons[handoff["trace_id"]]
        assert _call(url, user, "GET", "/v1/qa/queue").status_code == 403

        # A verdict with a correction: the item leaves the queue, the correction is golden.
        corrected = "Within 30 days of delivery; gold members at any time."
        review = _call(url, qa, "POST", "/v1/qa/reviews", json={
            "trace_id": answer["trace_id"], "verdict": "partially_correct",
            "labels": ["incomplete"], "corrected_answer": corrected,
        })  # fmt: skip
        assert review.status_code == 201, review.text
        bad = _call(url, qa, "POST", "/v1/qa/reviews",
                    json={"trace_id": answer["trace_id"], "verdict": "meh"})  # fmt: skip
        assert bad.status_code == 422
        queue = _call(url, qa, "GET", "/v1/qa/queue").json()
        assert answer["trace_id"] not in {item["trace_id"] for item in queue}
        golden = _call(url, qa, "GET", "/v1/qa/golden").json()["cases"]
        case = next(c for c in golden if c["reference_answer"] == corrected)
        assert case["question"] == "How long do I have to return a defective item?"
        assert case["golden_source"] == "correction"

        # Importing a golden set: a bad line imports nothing; a good file adds its cases.
        broken = _call(url, qa, "POST", "/v1/qa/golden", json={"jsonl": '{"id": "x"}\n'})
        assert broken.status_code == 400 and "line 1" in broken.json()["error"]["message"]
        assert len(_call(url, qa, "GET", "/v1/qa/golden").json()["cases"]) == len(golden)
        unanswerable = {"id": "no-tractors", "question": "Do you lend money for tractors?",
                        "history": [], "answerable": False}  # fmt: skip
        imported = _call(url, qa, "POST", "/v1/qa/golden",
                         json={"jsonl": json.dumps(unanswerable) + "\n"})  # fmt: skip
        assert imported.json() == {"imported": 1}

        # The report route renders a page with plots.
        report = _call(url, qa, "GET", "/v1/qa/report")
        assert report.status_code == 200 and "data:image/png;base64," in report.text

    # The next gate run (from the CLI, the server stopped) includes the correction.
    candidate = tmp_path / "same.yaml"
    candidate.write_text("thresholds: {answer: 0.39}\n")
    done = clearline(
        "eval", "gate", "--tenant", "acme", "--candidate", str(candidate), "--no-probes",
        "--json", data_dir=data_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert f"correction-{answer['trace_id']}" in result["golden_ids"]
    assert result["passed"] is True
