"""What `make run` runs (`clearline demo`): a procedure with an action call and a knowledge
answer, end to end over HTTP, as the README walks through them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    port, actions = free_port(), free_port()
    log = data_dir.parent / "demo.err"
    env = {
        **os.environ,
        "CLEARLINE_DATA_DIR": str(data_dir),
        "CLEARLINE_ACTIONS_URL": f"http://127.0.0.1:{actions}",
    }
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "demo", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, Path(log).read_text()
            assert time.monotonic() < deadline, "demo did not start"
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        keys = dict(re.findall(r"(\S+) key:\s+(cl_\S+)", log.read_text()))
        yield url, keys
    finally:
        process.terminate()
        process.wait(timeout=30)


def say(url: str, key: str, conversation: dict[str, Any], text: str) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/v1/conversations/{conversation['conversation_id']}/messages",
        headers={"Authorization": f"Bearer {key}",
                 "X-Conversation-Token": conversation["conversation_token"]},
        json={"text": text}, timeout=120,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.slow
def test_demo_procedure_and_knowledge_answer(demo: Any) -> None:
    url, keys = demo
    user = keys["end-user"]
    headers = {"Authorization": f"Bearer {user}"}
    conversation = httpx.post(f"{url}/v1/conversations", headers=headers, json={}).json()
    assert "AI" in conversation["disclosure"]

    answer = say(url, user, conversation, "What payment methods do you accept?")
    assert answer["decision"] == "answered" and answer["citations"], answer
    assert "PayPal" in answer["text"]

    order = httpx.post(f"{url}/v1/conversations", headers=headers, json={}).json()
    assert "order number" in say(url, user, order, "Where is my order?")["text"]
    say(url, user, order, "3348917502")
    status = say(url, user, order, "cminh730@email.com")
    assert status["decision"] == "answered" and "delivered" in status["text"], status
    trace = httpx.get(
        f"{url}/v1/traces/{status['trace_id']}",
        headers={"Authorization": f"Bearer {keys['qa-lead']}"},
    ).json()
    events = trace["steps"][2]["outputs"]["events"]
    assert any(e.get("kind") == "action" for e in events), events


@pytest.mark.slow
def test_demo_quotes_a_wrapped_sentence_whole(demo: Any) -> None:
    """store-contact-and-hours.txt wraps its opening hours over two lines; the answer quoted
    the second line alone ("5:00 pm, closed Sundays ...") before plain text was unwrapped."""
    url, keys = demo
    user = keys["end-user"]
    headers = {"Authorization": f"Bearer {user}"}
    conversation = httpx.post(f"{url}/v1/conversations", headers=headers, json={}).json()
    answer = say(url, user, conversation, "What are your opening hours?")
    assert answer["decision"] == "answered", answer
    assert "Saturday 9:00 am to 5:00 pm, closed Sundays" in answer["text"], answer
    assert [c["document_id"] for c in answer["citations"]] == ["store-contact-and-hours.txt"]
