"""Third-party models keep nothing, over HTTP: every chat request carries `store: false`,
carries no personal data, stays under the size limit (a larger one is refused before it
is sent), and is counted per tenant in GET /v1/ai/usage."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.agent.test_chat import Action, FakeOpenAIServer
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy

LIMIT = 3000


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    with FakeOpenAIServer() as model:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("usage"), port=free_port(),
            chat_base_url=model.base_url, chat_model="tiny-test-model",
            chat_max_request_chars=LIMIT,
        )  # fmt: skip
        with LiveServer(settings) as live:
            runtime = live.runtime
            runtime.tenants.create("acme", "eu")
            runtime.tenants.create("globex", "us")
            seed_returns_policy(runtime, "acme")
            live.keys = {r: runtime.tenants.create_key("acme", r) for r in ("admin", "end_user")}
            live.other_admin = runtime.tenants.create_key("globex", "admin")
            yield live, model


def _ask(live: Any, text: str) -> dict[str, Any]:
    user = live.keys["end_user"]
    started = httpx.post(f"{live.url}/v1/conversations", headers=auth(user), json={}).json()
    headers = {**auth(user), "X-Conversation-Token": started["conversation_token"]}
    response = httpx.post(
        f"{live.url}/v1/conversations/{started['conversation_id']}/messages", headers=headers,
        json={"text": text}, timeout=120,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_calls_are_flagged_masked_limited_and_counted(servers: Any) -> None:
    live, model = servers
    admin = auth(live.keys["admin"])
    usage_url = f"{live.url}/v1/ai/usage"
    assert httpx.get(usage_url, headers=admin).json()["usage"] == []
    on = httpx.put(f"{live.url}/v1/features/generative_composition", headers=admin,
                   json={"enabled": True})  # fmt: skip
    assert on.status_code == 200
    model.reset()
    model.queue.append(Action(reply="You can return a defective item within 30 days [1]."))
    _ask(live, "I am Jane Doe (jane.doe@example.com). How long do I have to return an item?")
    assert len(model.requests) == 1
    request = model.requests[0]
    assert request["store"] is False  # the provider's no-storage flag
    assert "jane.doe@example.com" not in str(request) and "Jane Doe" not in str(request)

    long_question = "How long do I have to return a defective item? " * 70  # over LIMIT
    assert len(long_question) > LIMIT
    reply = _ask(live, long_question)
    assert len(model.requests) == 1  # refused before anything was sent
    assert reply["decision"] in ("answered", "clarify", "handoff", "draft")

    usage = httpx.get(usage_url, headers=admin).json()
    assert usage["tenant"] == "acme" and usage["total_calls"] == 2
    [line] = usage["usage"]
    assert (line["feature"], line["model"], line["region"]) == (
        "generative_composition",
        "tiny-test-model",
        "eu",
    )
    assert line["endpoint"] == model.base_url and line["failures"] == 1
    other = httpx.get(usage_url, headers=auth(live.other_admin)).json()
    assert other["usage"] == [] and other["total_calls"] == 0
    assert httpx.get(usage_url, headers=auth(live.keys["end_user"])).status_code == 403
