"""A chat model configured by settings, over HTTP end to end: the generative composer is a
feature an admin turns on, personal data never reaches the model, and the verifier still
removes what the passages do not support."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.agent.test_chat import Action, FakeOpenAIServer
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    with FakeOpenAIServer() as model:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("gen"), port=free_port(),
            chat_base_url=model.base_url, chat_model="tiny-test-model",
        )  # fmt: skip
        with LiveServer(settings) as live:
            runtime = live.runtime
            runtime.tenants.create("acme", "eu")
            seed_returns_policy(runtime, "acme")
            live.keys = {r: runtime.tenants.create_key("acme", r) for r in ("admin", "end_user")}
            yield live, model


def test_generative_composition_masks_personal_data_and_is_verified(servers: Any) -> None:
    live, model = servers
    admin, user = live.keys["admin"], live.keys["end_user"]
    features = httpx.get(f"{live.url}/v1/features", headers=auth(admin)).json()
    assert {f["name"]: f["enabled"] for f in features}["generative_composition"] is False
    switched = httpx.put(
        f"{live.url}/v1/features/generative_composition", headers=auth(admin),
        json={"enabled": True},
    )  # fmt: skip
    assert switched.status_code == 200
    model.reset()
    model.queue.append(
        Action(
            reply="You can return a defective item within 30 days of delivery for a full "
            "refund [1]. We will also send a free gift to <PERSON_1> at <EMAIL_1> [1]."
        )
    )
    started = httpx.post(f"{live.url}/v1/conversations", headers=auth(user), json={}).json()
    conversation = started["conversation_id"]
    as_owner = {**auth(user), "X-Conversation-Token": started["conversation_token"]}
    message = (
        "Hi, I am Jane Doe, my email is jane.doe@example.com and my card is "
        "4111 1111 1111 1111. How long do I have to return a defective item?"
    )
    reply = httpx.post(
        f"{live.url}/v1/conversations/{conversation}/messages", headers=as_owner,
        json={"text": message}, timeout=120,
    ).json()  # fmt: skip
    sent = str(model.requests)
    for secret in ("jane.doe@example.com", "4111 1111 1111 1111", "Jane Doe"):
        assert secret not in sent, secret
    assert model.requests and model.requests[0]["model"] == "tiny-test-model"
    assert reply["decision"] == "answered", reply
    assert "30 days" in reply["text"]
    assert "gift" not in reply["text"]  # unsupported by the passage: removed by the verifier
    qa = live.runtime.tenants.create_key("acme", "qa_lead")
    trace = httpx.get(f"{live.url}/v1/traces/{reply['trace_id']}", headers=auth(qa)).json()
    compose = next(s for s in trace["steps"] if s["name"] == "compose")
    assert compose["generative"] is True and "tiny-test-model" in compose["model"]
    verify = next(s for s in trace["steps"] if s["name"] == "verify")
    assert [s["supported"] for s in verify["outputs"]["sentences"]] == [True, False]
    assert "jane.doe@example.com" in verify["outputs"]["sentences"][1]["text"]  # restored
