"""The conversation API over HTTP: replies, traces, copilot drafts, handoffs, procedures,
feature switches, ratings, and bad input that changes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent.answer.answerability import MODEL_DIR
from control.tenants import ROLES
from conversations.connections import ConnectionSpec
from service.demo import EXAMPLES, start_actions_service
from tests.conftest import LiveServer, free_port
from tests.service.helpers import RETURNS_POLICY, auth, seed_returns_policy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    actions_url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("conv"), port=free_port(), actions_url=actions_url
    )
    actions = start_actions_service(settings)
    with LiveServer(settings) as live:
        runtime = live.runtime
        for name in ("acme", "globex"):
            runtime.tenants.create(name, "eu")
        seed_returns_policy(runtime, "acme")
        token = settings.actions_token.get_secret_value()
        northwind = ConnectionSpec(actions_url, secrets={"Authorization": f"Bearer {token}"})
        runtime.agents.put_connection("acme", "northwind", northwind)
        live.keys = {role: runtime.tenants.create_key("acme", role) for role in ROLES}
        live.other_admin = runtime.tenants.create_key("globex", "admin")
        live.other_qa = runtime.tenants.create_key("globex", "qa_lead")  # type: ignore[attr-defined]
        yield live
    actions.stop()


# Each conversation's token (end users reach a conversation only with it).
TOKENS: dict[str, str] = {}


def call(
    server: Any, method: str, path: str, role: str, headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:  # fmt: skip
    headers = {**auth(server.keys[role]), **(headers or {})}
    return httpx.request(method, server.url + path, headers=headers, timeout=120, **kwargs)


def token(conversation_id: str) -> dict[str, str]:
    return {"X-Conversation-Token": TOKENS[conversation_id]}


def start(server: Any) -> str:
    response = call(server, "POST", "/v1/conversations", "end_user", json={})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ai_generated"] is True and "AI" in body["disclosure"]
    assert body["privacy_notice"]
    conversation_id: str = body["conversation_id"]
    TOKENS[conversation_id] = body["conversation_token"]
    return conversation_id


def say(server: Any, conversation_id: str, text: str) -> dict[str, Any]:
    response = call(
        server, "POST", f"/v1/conversations/{conversation_id}/messages", "end_user",
        headers=token(conversation_id), json={"text": text},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["ai_generated"] is True and body["disclosure"]
    return body


def history(server: Any, conversation_id: str, role: str = "end_user") -> list[dict[str, Any]]:
    response = call(server, "GET", f"/v1/conversations/{conversation_id}", role,
                    headers=token(conversation_id))  # fmt: skip
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def if_match(server: Any) -> dict[str, str]:
    """The configuration's current ETag, for a change based on it."""
    return {"If-Match": call(server, "GET", "/v1/agent/config", "admin").headers["ETag"]}


def set_config(server: Any, **changes: Any) -> None:
    response = call(
        server, "PATCH", "/v1/agent/config", "admin", headers=if_match(server), json=changes
    )
    assert response.status_code == 200, response.text


def put_procedure(server: Any, source: str) -> httpx.Response:
    """Add or replace a procedure, based on its current version (0: new)."""
    stored = {p["id"]: p["version"] for p in call(server, "GET", "/v1/procedures", "admin").json()}
    try:
        version = stored.get(yaml.safe_load(source).get("id"), 0)
    except (yaml.YAMLError, AttributeError):
        version = 0  # not a procedure at all: refused before any version matters
    return call(server, "PUT", "/v1/procedures", "admin",
                json={"source": source, "version": version})  # fmt: skip


def test_a_knowledge_answer_with_citations_and_a_trace_for_qa(server: Any) -> None:
    conversation = start(server)
    reply = say(server, conversation, "How long do I have to return a defective item?")
    assert reply["decision"] == "answered", reply
    assert "30 days" in reply["text"]
    assert reply["citations"][0]["document_id"] == "returns.md"
    assert reply["citations"][0]["quote"] in "\n".join(RETURNS_POLICY)
    assert 0 <= reply["confidence"] <= 1
    trace_path = f"/v1/traces/{reply['trace_id']}"
    for role in ("qa_lead", "admin"):
        trace = call(server, "GET", trace_path, role).json()
        steps = [s["name"] for s in trace["steps"]]
        assert steps == ["understand", "route", "retrieve", "compose", "verify", "decide"]
        assert trace["decision"]["rule"] and trace["models"]["embedder"]
        assert all("elapsed_ms" in s for s in trace["steps"])
    for role in ("end_user", "agent"):
        assert call(server, "GET", trace_path, role).status_code == 403
    other = httpx.get(server.url + trace_path, headers=auth(server.other_qa))
    assert other.status_code == 404
    assert [m["role"] for m in history(server, conversation)] == ["user", "assistant"]


def test_copilot_mode_never_shows_an_unapproved_reply(server: Any) -> None:
    set_config(server, autonomy="copilot")
    try:
        conversation = start(server)
        reply = say(server, conversation, "How long do I have to return a defective item?")
        assert reply["decision"] == "draft"
        assert "30 days" not in reply["text"] and reply["citations"] == []
        assert all("30 days" not in m["text"] for m in history(server, conversation))
        drafts = call(server, "GET", "/v1/drafts", "agent").json()
        draft = next(d for d in drafts if d["conversation_id"] == conversation)
        assert "30 days" in draft["text"]
        # The end user still sees nothing after asking again.
        assert all("30 days" not in m["text"] for m in history(server, conversation))
        edited = "Within 30 days of delivery, with a full refund (edited by a person)."
        review = call(
            server, "POST", f"/v1/drafts/{draft['message_id']}/review", "agent",
            json={"approve": True, "text": edited},
        )  # fmt: skip
        assert review.status_code == 200, review.text
        assert edited in [m["text"] for m in history(server, conversation)]
        again = call(
            server, "POST", f"/v1/drafts/{draft['message_id']}/review", "agent",
            json={"approve": True},
        )  # fmt: skip
        assert again.status_code == 409
    finally:
        set_config(server, autonomy="autonomous")


def test_talk_to_a_human_hands_off_with_a_summary_and_a_person_replies(server: Any) -> None:
    conversation = start(server)
    say(server, conversation, "My refund has not arrived")
    reply = say(server, conversation, "Ich möchte mit einem Menschen sprechen")
    assert reply["decision"] == "handoff"
    handoffs = call(server, "GET", "/v1/handoffs", "agent").json()
    mine = next(h for h in handoffs if h["conversation_id"] == conversation)
    assert "Ich möchte mit einem Menschen sprechen" in mine["summary"]
    assert "My refund has not arrived" in mine["summary"]
    after = say(server, conversation, "Hello?")
    assert after["decision"] == "handoff"  # the AI stays quiet while a person has it
    response = call(
        server, "POST", f"/v1/conversations/{conversation}/replies", "agent",
        json={"text": "Hi, I'm Sam from the support team."},
    )  # fmt: skip
    assert response.status_code == 201
    last = history(server, conversation)[-1]
    assert last["role"] == "human_agent" and last["ai_generated"] is False


def test_a_procedure_with_actions_and_an_approval(server: Any) -> None:
    for name in ("return-refund", "order-status"):  # intents need at least two to compare
        source = (EXAMPLES / "procedures" / f"{name}.yaml").read_text(encoding="utf-8")
        put = put_procedure(server, source)
        assert put.status_code == 200, put.text
    conversation = start(server)
    first = say(server, conversation, "I want to return an item and get my money back")
    assert first["decision"] in ("answered", "clarify"), first
    assert "order number" in first["text"]
    trace = call(server, "GET", f"/v1/traces/{first['trace_id']}", "qa_lead").json()
    assert trace["steps"][1]["outputs"]["route"] == "procedure"
    say(server, conversation, "It is 3348917502")
    method = say(server, conversation, "cminh730@email.com")
    assert "refund" in method["text"].lower(), method
    pending = say(server, conversation, "as store credit please")
    assert pending["decision"] == "draft", pending
    # found in session 35: held as "... (Michael Kors jeans) as add value", the ABCD
    # guidelines' internal name for the method, and then issued "as add value"
    assert pending["text"].endswith("(Michael Kors jeans) as store credit. I'll continue as "
                                    "soon as they have."), pending  # fmt: skip
    drafts = call(server, "GET", "/v1/drafts", "agent").json()
    draft = next(d for d in drafts if d["conversation_id"] == conversation)
    review = call(
        server, "POST", f"/v1/drafts/{draft['message_id']}/review", "agent",
        json={"approve": True},
    )  # fmt: skip
    assert review.status_code == 200, review.text
    done = history(server, conversation)[-1]
    assert done["role"] == "assistant" and "issued as store credit" in done["text"], done
    everything = str(call(server, "GET", f"/v1/traces/{pending['trace_id']}", "admin").json())
    assert server.settings.actions_token.get_secret_value() not in everything


def test_feature_switches(server: Any) -> None:
    features = call(server, "GET", "/v1/features", "admin").json()
    generative = {f["name"]: f["generative"] for f in features}
    assert generative["generative_composition"] and not generative["sentiment"]
    switched = call(server, "PUT", "/v1/features/sentiment", "admin", json={"enabled": False})
    assert switched.status_code == 200
    try:
        conversation = start(server)
        reply = say(server, conversation, "How long do I have to return a defective item?")
        trace = call(server, "GET", f"/v1/traces/{reply['trace_id']}", "qa_lead").json()
        assert "sentiment" in trace["steps"][0]["reason"]
    finally:
        call(server, "PUT", "/v1/features/sentiment", "admin", json={"enabled": True})
    unknown = call(server, "PUT", "/v1/features/telepathy", "admin", json={"enabled": True})
    assert unknown.status_code == 404 and "known:" in unknown.json()["error"]["message"]


def _shipped_model_files() -> list[str]:
    """The shipped answerability model's files as "name sha256-start", hashed here from the
    files themselves."""
    names = json.loads((MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))["files"]
    return [
        f"{name} {hashlib.sha256((MODEL_DIR / name).read_bytes()).hexdigest()[:12]}"
        for name in names
    ]


def test_the_trace_and_the_ai_hub_name_what_estimated_answerability(server: Any) -> None:
    """A QA lead reading a trace, and an admin reading the AI hub, see which answerability
    model decided (its files' checksums), or the feature reader when the tenant chose it.
    The trace named the embedder only, and the hub a "local logistic model" whatever the
    tenant's reader."""

    def named() -> tuple[str, list[str]]:
        reply = say(server, start(server), "How long do I have to return a defective item?")
        trace = call(server, "GET", f"/v1/traces/{reply['trace_id']}", "qa_lead").json()
        hub = {f["name"]: f for f in call(server, "GET", "/v1/ai/features", "admin").json()}
        return trace["models"].get("answerability", ""), hub["answering"]["models"]

    in_trace, in_hub = named()
    for file in _shipped_model_files():
        assert file in in_trace and file in in_hub[1], (file, in_trace, in_hub)
    set_config(server, reader="features")
    try:
        in_trace, in_hub = named()
        assert in_trace.startswith("feature reader") and in_hub[1] == in_trace
    finally:
        set_config(server, reader="model")


def test_rating_a_reply(server: Any) -> None:
    conversation = start(server)
    reply = say(server, conversation, "How long do I have to return a defective item?")
    rated = call(
        server, "POST", f"/v1/messages/{reply['message_id']}/rating", "end_user",
        headers=token(conversation), json={"rating": "down", "comment": "too short"},
    )  # fmt: skip
    assert rated.status_code == 200 and rated.json()["rating"] == "down"
    bad = call(
        server, "POST", f"/v1/messages/{reply['message_id']}/rating", "end_user",
        headers=token(conversation), json={"rating": "meh"},
    )  # fmt: skip
    assert bad.status_code == 422


def test_bad_configuration_is_refused_and_changes_nothing(server: Any) -> None:
    before = call(server, "GET", "/v1/agent/config", "admin").json()
    for change, words in (
        ({"autonomy": "yolo"}, "autonomy"),
        ({"thresholds": {"answer": 0.2, "clarify": 0.5}}, "clarify"),
        ({"thresholds": {"switch": 1.5}}, "thresholds.switch"),
        ({"features": {"telepathy": True}}, "telepathy"),
    ):
        response = call(server, "PATCH", "/v1/agent/config", "admin",
                        headers=if_match(server), json=change)  # fmt: skip
        assert response.status_code == 400, response.text
        assert words in response.json()["error"]["message"]
    assert call(server, "GET", "/v1/agent/config", "admin").json() == before


def test_a_bad_procedure_is_refused_and_the_others_stay(server: Any, tmp_path: Path) -> None:
    source = (EXAMPLES / "procedures" / "order-status.yaml").read_text(encoding="utf-8")
    assert put_procedure(server, source).is_success
    before = call(server, "GET", "/v1/procedures", "admin").json()
    broken = source.replace("url: /orders", "url: http://evil.example.com/orders")
    response = put_procedure(server, broken)
    assert response.status_code == 400
    assert "not among the origins connection 'northwind'" in response.json()["error"]["message"]
    not_yaml = put_procedure(server, "steps: [: oops")
    assert not_yaml.status_code == 400
    assert call(server, "GET", "/v1/procedures", "admin").json() == before


def test_conversations_of_another_tenant_are_invisible(server: Any) -> None:
    conversation = start(server)
    other_user = server.runtime.tenants.create_key("globex", "end_user")
    response = httpx.get(f"{server.url}/v1/conversations/{conversation}", headers=auth(other_user))
    assert response.status_code == 404
    posted = httpx.post(
        f"{server.url}/v1/conversations/{conversation}/messages",
        headers=auth(other_user), json={"text": "hello"},
    )  # fmt: skip
    assert posted.status_code == 404


def test_starting_without_a_body_and_posting_with_message_work(server: Any) -> None:
    started = httpx.post(f"{server.url}/v1/conversations", headers=auth(server.keys["end_user"]))
    assert started.status_code == 201, started.text
    conversation = started.json()["conversation_id"]
    TOKENS[conversation] = started.json()["conversation_token"]
    reply = call(
        server, "POST", f"/v1/conversations/{conversation}/messages", "end_user",
        headers=token(conversation),
        json={"message": "How long do I have to return a defective item?"},
    )  # fmt: skip
    assert reply.status_code == 200 and reply.json()["ai_generated"] is True
    empty = call(server, "POST", f"/v1/conversations/{conversation}/messages", "end_user",
                 headers=token(conversation), json={"text": ""})  # fmt: skip
    assert empty.status_code == 422 and "text" in empty.json()["error"]["message"]
