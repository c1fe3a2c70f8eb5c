"""An admin's slot pattern cannot let an end user's message hang the service: patterns run
with a time limit, and a message that runs out of time is no valid value."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.helpers import acme_server, auth

INTENTS = {
    "returns": ["how do I return shoes", "can I send back my order"],
    "shipping": ["how long does delivery take", "when will my parcel arrive"],
}
# A pattern a careless admin might write: nested quantifiers backtrack exponentially on a
# run of digits that ends with anything else (Python's re: 0.6 s at 24 digits, x4 per 2).
PROCEDURE = r"""id: membership
title: Look up a membership
intents: [membership_lookup]
examples:
  - please look up my membership number
  - I want to check my membership
  - can you find my membership card
steps:
  - id: ask_number
    ask:
      slot: number
      prompt: "What is your membership number?"
      validate: {kind: regex, pattern: '^(\d+)+$'}
  - id: done
    reply: "Thanks, membership {{number}} is active."
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with acme_server(tmp_path_factory, "slot-regex", ("admin", "end_user")) as live:
        yield live


def test_a_message_that_makes_the_slot_pattern_backtrack_is_no_value(server: Any) -> None:
    """Found in session 32: with this pattern, 40 digits and a letter kept a worker busy for
    hours; every end user could send it. Now the reply asks again, and a valid value after it
    still completes the procedure."""
    admin, user = auth(server.keys["admin"]), auth(server.keys["end_user"])
    tag = httpx.get(f"{server.url}/v1/agent/config", headers=admin).headers["ETag"]
    patched = httpx.patch(f"{server.url}/v1/agent/config", json={"intents": INTENTS},
                          headers={**admin, "If-Match": tag})  # fmt: skip
    assert patched.status_code == 200, patched.text
    put = httpx.put(f"{server.url}/v1/procedures", json={"source": PROCEDURE, "version": 0},
                    headers=admin, timeout=60)  # fmt: skip
    assert put.status_code == 200, put.text
    started = httpx.post(f"{server.url}/v1/conversations", headers=user, json={}).json()
    headers = {**user, "X-Conversation-Token": started["conversation_token"]}
    path = f"{server.url}/v1/conversations/{started['conversation_id']}/messages"

    def say(text: str) -> dict[str, Any]:
        reply = httpx.post(path, headers=headers, json={"text": text}, timeout=30)
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    assert "What is your membership number?" in say("please look up my membership number")["text"]
    again = say("1" * 40 + "x")
    assert "membership number" in again["text"] and "active" not in again["text"], again
    assert say("12345")["text"] == "Thanks, membership 12345 is active."
