"""ChatModel contract (OpenAI-compatible adapter and scripted fake), errors, masking, rewriting.

The OpenAI side runs against a small OpenAI-compatible server on 127.0.0.1 that records
every request body and answers in the OpenAI format.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from agent.answer.rewrite import rewrite_query
from agent.llm.chat import ChatMessage, ChatModel, ChatModelError
from agent.llm.masking import MaskingChatModel, PiiMasker
from agent.llm.openai_chat import OpenAIChatModel, build_chat_model
from agent.llm.testing import ScriptedChatModel
from knowledge.query import Query, Turn
from service.serving import ThreadedServer
from tests.conftest import free_port

API_KEY = "sk-test-3f9a1c77e0b24d51"
SECRET_TEXT = "my confidential question about order 5521"


@dataclass
class Action:
    """What the fake server does with the next request (default: echo the last user message)."""

    reply: str | None = None
    status: int = 200
    raw: str | None = None
    error_code: str | None = None
    sleep_s: float = 0.0
    no_choices: bool = False


@dataclass
class FakeOpenAIServer:
    """An OpenAI-compatible /v1/chat/completions endpoint in a uvicorn thread."""

    port: int = field(default_factory=free_port)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    queue: list[Action] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        self.requests.clear()
        self.headers.clear()
        self.queue.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def complete(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            action = self.queue.pop(0) if self.queue else Action()
            if action.sleep_s:
                await asyncio.sleep(action.sleep_s)
            if action.raw is not None:
                return PlainTextResponse(action.raw, status_code=action.status)
            if action.status != 200:
                error = {"message": f"failed: {body['messages'][-1]['content']}"}
                if action.error_code:
                    error["code"] = action.error_code
                return JSONResponse({"error": error}, status_code=action.status)
            if action.no_choices:
                return JSONResponse({"id": "x", "object": "chat.completion", "choices": []})
            users = [m["content"] for m in body["messages"] if m["role"] == "user"]
            text = action.reply if action.reply is not None else (users[-1] if users else "")
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                }
            )

        return app

    def __enter__(self) -> FakeOpenAIServer:
        self._served = ThreadedServer(self.app(), "127.0.0.1", self.port, "fake OpenAI server")
        self._served.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._served.stop(timeout_s=10)


@pytest.fixture(scope="module")
def live_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def server(live_server: FakeOpenAIServer) -> FakeOpenAIServer:
    live_server.reset()
    return live_server


@pytest.fixture
def openai_chat(server: FakeOpenAIServer) -> Iterator[OpenAIChatModel]:
    with OpenAIChatModel(server.base_url, "qwen2.5", timeout_s=5.0) as chat:
        yield chat


@pytest.fixture(scope="module")
def masker() -> PiiMasker:
    masker = PiiMasker()
    masker.warm_up()
    return masker


def card_number(prefix: str, length: int = 16) -> str:
    """A Luhn-valid card number made of `prefix` and zeros plus the check digit."""
    body = prefix + "0" * (length - len(prefix) - 1)
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return body + str((10 - total % 10) % 10)


# -- contract ---------------------------------------------------------------------------------


class ChatHarness:
    """Drives one ChatModel implementation: script replies, force a failure, see requests."""

    model: ChatModel

    def script(self, reply: str) -> None:
        raise NotImplementedError

    def fail(self) -> None:
        raise NotImplementedError

    def received(self) -> list[list[ChatMessage]]:
        raise NotImplementedError


class ServerHarness(ChatHarness):
    def __init__(self, server: FakeOpenAIServer, model: OpenAIChatModel) -> None:
        self.server, self.model = server, model

    def script(self, reply: str) -> None:
        self.server.queue.append(Action(reply=reply))

    def fail(self) -> None:
        self.server.queue.extend([Action(status=503), Action(status=503)])

    def received(self) -> list[list[ChatMessage]]:
        return [
            [ChatMessage(m["role"], m["content"]) for m in body["messages"]]
            for body in self.server.requests
        ]


class ScriptedHarness(ChatHarness):
    def __init__(self) -> None:
        self.fake = ScriptedChatModel([])
        self.model = self.fake

    def script(self, reply: str) -> None:
        self.fake.add_reply(reply)

    def fail(self) -> None:
        self.fake.add_reply(ChatModelError("scripted chat model: scripted failure"))

    def received(self) -> list[list[ChatMessage]]:
        return [list(call) for call in self.fake.calls]


CONVERSATION = [
    ChatMessage("system", "You answer questions about refunds."),
    ChatMessage("user", "How long does a refund take?"),
    ChatMessage("assistant", "Refunds take five business days."),
    ChatMessage("user", "Größe und Café: does it work for gift cards too? ✓"),
]


class ChatModelContract:
    @pytest.fixture
    def harness(self) -> ChatHarness:
        raise NotImplementedError

    def test_is_a_chat_model_with_a_name(self, harness: ChatHarness) -> None:
        assert isinstance(harness.model, ChatModel)
        assert harness.model.name.strip()

    def test_returns_the_reply_text_exactly(self, harness: ChatHarness) -> None:
        harness.script("Yes: gift cards are refunded as store credit (Größe ✓).")
        reply = harness.model.complete(CONVERSATION)
        assert reply == "Yes: gift cards are refunded as store credit (Größe ✓)."

    def test_the_model_receives_every_message_in_order(self, harness: ChatHarness) -> None:
        harness.script("ok")
        harness.model.complete(CONVERSATION, max_tokens=64, temperature=0.0)
        assert harness.received()[-1] == CONVERSATION

    def test_successive_calls_get_their_own_replies(self, harness: ChatHarness) -> None:
        harness.script("first")
        harness.script("second")
        first = harness.model.complete([ChatMessage("user", "one")])
        second = harness.model.complete([ChatMessage("user", "two")])
        assert (first, second) == ("first", "second")
        assert [call[-1].content for call in harness.received()] == ["one", "two"]

    def test_a_failure_is_a_chat_model_error(self, harness: ChatHarness) -> None:
        harness.fail()
        with pytest.raises(ChatModelError):
            harness.model.complete(CONVERSATION)


class TestOpenAIChatModelContract(ChatModelContract):
    @pytest.fixture
    def harness(self, server: FakeOpenAIServer, openai_chat: OpenAIChatModel) -> ChatHarness:
        return ServerHarness(server, openai_chat)


class TestScriptedChatModelContract(ChatModelContract):
    @pytest.fixture
    def harness(self) -> ChatHarness:
        return ScriptedHarness()


# -- the OpenAI-compatible adapter ------------------------------------------------------------


def test_request_body_and_no_authorization_without_key(
    server: FakeOpenAIServer, openai_chat: OpenAIChatModel
) -> None:
    openai_chat.complete([ChatMessage("user", "hello")], max_tokens=40, temperature=0.2)
    body = server.requests[-1]
    assert body == {
        "model": "qwen2.5",
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 40,
        "temperature": 0.2,
        "store": False,
    }
    assert "authorization" not in server.headers[-1]
    assert openai_chat.name == f"openai-compatible:qwen2.5@{server.base_url}"


def test_bearer_key_is_sent_when_set_and_never_named(server: FakeOpenAIServer) -> None:
    with OpenAIChatModel(server.base_url + "/", "m", api_key=API_KEY) as chat:
        assert chat.complete([ChatMessage("user", "hi")]) == "hi"
        assert API_KEY not in chat.name
    assert server.headers[-1]["authorization"] == f"Bearer {API_KEY}"


def _error(chat: OpenAIChatModel) -> str:
    with pytest.raises(ChatModelError) as caught:
        chat.complete([ChatMessage("user", SECRET_TEXT)])
    message = str(caught.value)
    assert API_KEY not in message and SECRET_TEXT not in message and "5521" not in message
    assert chat.endpoint in message
    return message


@pytest.fixture
def keyed_chat(server: FakeOpenAIServer) -> Iterator[OpenAIChatModel]:
    with OpenAIChatModel(server.base_url, "qwen2.5", api_key=API_KEY, timeout_s=0.5) as chat:
        yield chat


def test_server_error_is_retried_once_then_reported(
    server: FakeOpenAIServer, keyed_chat: OpenAIChatModel
) -> None:
    server.queue.extend([Action(status=500), Action(status=500)])
    assert "HTTP 500" in _error(keyed_chat)
    assert len(server.requests) == 2


def test_one_server_error_then_success_returns_the_reply(
    server: FakeOpenAIServer, keyed_chat: OpenAIChatModel
) -> None:
    server.queue.extend([Action(status=502), Action(reply="recovered")])
    assert keyed_chat.complete([ChatMessage("user", "hi")]) == "recovered"
    assert len(server.requests) == 2


def test_rejected_key_says_which_setting_to_check(
    server: FakeOpenAIServer, keyed_chat: OpenAIChatModel
) -> None:
    server.queue.append(Action(status=401, error_code="invalid_api_key"))
    message = _error(keyed_chat)
    assert "HTTP 401" in message and "chat_api_key" in message and "invalid_api_key" in message
    assert len(server.requests) == 1


def test_unknown_model_says_which_settings_to_check(
    server: FakeOpenAIServer, keyed_chat: OpenAIChatModel
) -> None:
    server.queue.append(Action(status=404))
    assert "chat_model" in _error(keyed_chat)


def test_bad_json_is_reported(server: FakeOpenAIServer, keyed_chat: OpenAIChatModel) -> None:
    server.queue.append(Action(raw="<html>proxy login</html>"))
    assert "not JSON" in _error(keyed_chat)


def test_empty_choices_are_reported(server: FakeOpenAIServer, keyed_chat: OpenAIChatModel) -> None:
    server.queue.append(Action(no_choices=True))
    assert "no choices" in _error(keyed_chat)


def test_timeout_is_reported_quickly(server: FakeOpenAIServer, keyed_chat: OpenAIChatModel) -> None:
    server.queue.append(Action(sleep_s=1.5, reply="too late"))
    started = time.monotonic()
    assert "no answer within 0.5 s" in _error(keyed_chat)
    assert time.monotonic() - started < 1.4


def test_connection_refused_is_reported() -> None:
    with OpenAIChatModel(f"http://127.0.0.1:{free_port()}/v1", "m", api_key=API_KEY) as chat:
        assert "cannot connect" in _error(chat)


def test_a_closed_model_says_so(server: FakeOpenAIServer) -> None:
    chat = OpenAIChatModel(server.base_url, "m", api_key=API_KEY)
    chat.close()
    assert "closed" in _error(chat)


def test_misconfiguration_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="http"):
        OpenAIChatModel("127.0.0.1:8080/v1", "m")
    with pytest.raises(ValueError, match="chat_model"):
        OpenAIChatModel("http://127.0.0.1:8080/v1", " ")


def test_build_chat_model(server: FakeOpenAIServer) -> None:
    assert build_chat_model(None, "m", None, 5.0) is None
    plain = build_chat_model(server.base_url, "m", None, 5.0, mask=False)
    assert isinstance(plain, OpenAIChatModel)
    plain.close()
    masked = build_chat_model(server.base_url, "m", None, 5.0)
    assert isinstance(masked, MaskingChatModel)
    assert masked.name.endswith(f"openai-compatible:m@{server.base_url}")


# -- masking ----------------------------------------------------------------------------------


def test_the_server_never_sees_personal_data_and_the_reply_is_restored(
    server: FakeOpenAIServer, openai_chat: OpenAIChatModel, masker: PiiMasker
) -> None:
    card = card_number("4539")
    raw_values = [
        "Jennifer Alvarez",
        "jennifer.alvarez@example.org",
        "+1 415 555 0132",
        card,
        "GB82 WEST 1234 5698 7654 32",
    ]
    question = (
        f"Hi, I'm Jennifer Alvarez. My card {card} was charged twice. Refund it to "
        "GB82 WEST 1234 5698 7654 32 and reach me at jennifer.alvarez@example.org "
        "or +1 415 555 0132."
    )
    messages = [
        ChatMessage("system", "You are a polite support agent."),
        ChatMessage("user", "My email is jennifer.alvarez@example.org."),
        ChatMessage("assistant", "Thanks, Jennifer Alvarez. How can I help?"),
        ChatMessage("user", question),
    ]
    chat = MaskingChatModel(openai_chat, masker)
    reply = chat.complete(messages)  # the server echoes the last (masked) user message

    sent = json.dumps(server.requests, ensure_ascii=False)
    for value in raw_values:
        assert value not in sent
    assert card[-4:] not in sent
    echoed = server.requests[-1]["messages"][-1]["content"]
    assert "<EMAIL_1>" in echoed and "<PERSON_1>" in echoed and "<CARD_1>" in echoed
    # One mapping per request: the email keeps its placeholder in every message.
    assert "<EMAIL_1>" in server.requests[-1]["messages"][2]["content"]
    assert reply == question


def test_masking_keeps_the_chat_model_contract(masker: PiiMasker) -> None:
    inner = ScriptedChatModel(lambda messages: f"Dear {messages[-1].content.split()[-1]}")
    chat = MaskingChatModel(inner, masker)
    assert isinstance(chat, ChatModel)
    assert chat.complete([ChatMessage("user", "Please write to maria.lopez@example.com")]) == (
        "Dear maria.lopez@example.com"
    )
    assert "maria.lopez@example.com" not in str(inner.calls)
    plain = chat.complete([ChatMessage("user", "What are your opening hours?")])
    assert plain == "Dear hours?"
    assert inner.calls[-1] == (ChatMessage("user", "What are your opening hours?"),)


# -- generative query rewriting ---------------------------------------------------------------

FOLLOW_UP = Query(
    text="and for children?",
    history=(
        Turn("user", "How much does a passport renewal cost?"),
        Turn("assistant", "An adult passport renewal costs 82.50 pounds."),
    ),
    scenario="I live in Leeds and I am renewing passports for my family.",
)


def test_rewrite_uses_history_and_scenario() -> None:
    def standalone(messages: Any) -> str:
        prompt = "\n".join(m.content for m in messages)
        topic = "passport renewal" if "passport renewal cost" in prompt else "it"
        return f"Question: How much does a {topic} cost for children?"

    chat = ScriptedChatModel(standalone)
    rewritten = rewrite_query(chat, FOLLOW_UP)
    assert rewritten.text == "How much does a passport renewal cost for children?"
    assert (rewritten.history, rewritten.scenario) == (FOLLOW_UP.history, FOLLOW_UP.scenario)
    prompt = chat.calls[0][-1].content
    assert "Leeds" in prompt and "82.50" in prompt and "and for children?" in prompt
    assert chat.options[0]["temperature"] == 0.0 and chat.options[0]["max_tokens"] <= 100


def test_rewrite_over_http(server: FakeOpenAIServer, openai_chat: OpenAIChatModel) -> None:
    server.queue.append(Action(reply='"What does a child passport renewal cost?"\n'))
    rewritten = rewrite_query(openai_chat, FOLLOW_UP)
    assert rewritten.text == "What does a child passport renewal cost?"
    assert "How much does a passport renewal cost?" in json.dumps(server.requests[-1])


def test_rewrite_without_context_does_not_call_the_model() -> None:
    chat = ScriptedChatModel(["never used"])
    query = Query(text="How do I reset my password?")
    assert rewrite_query(chat, query) is query
    assert chat.calls == []


@pytest.mark.parametrize(
    "action",
    [Action(status=500), Action(reply=""), Action(reply="  \n "), Action(reply="word " * 200)],
    ids=["server-error", "empty", "blank", "overlong"],
)
def test_rewrite_falls_back_to_the_original_query(
    server: FakeOpenAIServer, openai_chat: OpenAIChatModel, action: Action
) -> None:
    server.queue.extend([action, action])
    assert rewrite_query(openai_chat, FOLLOW_UP) == FOLLOW_UP


def test_rewrite_through_masking_restores_names(masker: PiiMasker) -> None:
    query = Query(
        text="what is his order status?",
        history=(Turn("user", "I am asking for my husband Thomas Becker."),),
    )
    inner = ScriptedChatModel(["What is the order status for <PERSON_1>?"])
    rewritten = rewrite_query(MaskingChatModel(inner, masker), query)
    assert rewritten.text == "What is the order status for Thomas Becker?"
    assert "Thomas Becker" not in str(inner.calls)
