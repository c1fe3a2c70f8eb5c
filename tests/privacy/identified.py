"""Conversations of identified end users through the real HTTP API, for the erasure and
retention tests: the company's backend (a key that asserts identities) starts each one
with an `end_user_id` and sends the end user's messages with the conversation token."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import free_port
from tests.privacy.canary import call

RETURNS = """# Returns

You can return a defective item within 30 days of delivery for a full refund.
Refunds are paid to the original payment card within five business days.
"""

SHIPPING = """# Shipping

Standard shipping to Canada takes seven to ten business days.
Express shipping within the country arrives the next business day.
"""


def settings(data_dir: Path, **overrides: Any) -> Any:
    from service.settings import Settings

    values: dict[str, Any] = {
        "data_dir": data_dir,
        "port": free_port(),
        "embedder": "torch",
        "qa_interval_s": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class EndUser:
    """One end user's conversation, reached through the backend key."""

    url: str
    key: str
    end_user_id: str
    channel: str = "api"
    conversation_id: str = ""
    token: str = ""
    replies: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> EndUser:
        started = call(
            self.url,
            self.key,
            "POST",
            "/v1/conversations",
            json={"end_user_id": self.end_user_id, "channel": self.channel},
        )
        assert started.status_code == 201, started.text
        self.conversation_id = started.json()["conversation_id"]
        self.token = started.json()["conversation_token"]
        return self

    def say(self, text: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/v1/conversations/{self.conversation_id}/messages",
            headers={"Authorization": f"Bearer {self.key}", "X-Conversation-Token": self.token},
            json={"text": text},
            timeout=300,
        )
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        self.replies.append(reply)
        return reply

    def rate_down(self, message_id: str, comment: str) -> None:
        response = httpx.post(
            f"{self.url}/v1/messages/{message_id}/rating",
            headers={"Authorization": f"Bearer {self.key}", "X-Conversation-Token": self.token},
            json={"rating": "down", "comment": comment},
            timeout=60,
        )
        assert response.status_code == 200, response.text


def wait_scored(url: str, key: str, trace_ids: list[str]) -> None:
    deadline = time.monotonic() + 180
    pending = set(trace_ids)
    while pending and time.monotonic() < deadline:
        pending = {
            t for t in pending if not call(url, key, "GET", f"/v1/traces/{t}").json()["scores"]
        }
        time.sleep(0.3)
    assert not pending, f"traces never scored: {pending}"
