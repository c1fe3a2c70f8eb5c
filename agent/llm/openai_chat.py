"""ChatModel over any OpenAI-compatible `/chat/completions` endpoint (vLLM, Ollama, llama.cpp
server, hosted APIs), with httpx.

Privacy: the request carries `"store": false`, so no provider is asked to keep anything, and
errors never repeat the API key or the text of the messages.

    chat = OpenAIChatModel("http://127.0.0.1:8080/v1", "qwen2.5")
    reply = chat.complete([ChatMessage("user", "Hello")])
    chat.close()
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

import httpx

from agent.llm.chat import ChatMessage, ChatModel, ChatModelError
from agent.llm.masking import MaskingChatModel, PiiMasker, SpanDetector

logger = logging.getLogger(__name__)

_RETRY_PAUSE_S = 0.2
_IDENTIFIER = re.compile(r"^[\w.\-]{1,64}$")
_STATUS_HINTS = {
    400: "the request was rejected (HTTP 400); check chat_model and the token limit",
    401: "the API key was rejected (HTTP 401); check chat_api_key",
    403: "access was refused (HTTP 403); check chat_api_key and the model's permissions",
    404: "no such endpoint or model (HTTP 404); check chat_base_url (usually ending in /v1) "
    "and chat_model",
    408: "the server timed out (HTTP 408); try again or raise chat_timeout_s",
    413: "the request is too large (HTTP 413); send less context",
    422: "the request was rejected (HTTP 422); check chat_model and the token limit",
    429: "rate limited or out of quota (HTTP 429); try again later",
}


class OpenAIChatModel:
    """ChatModel for an OpenAI-compatible server; one httpx.Client is reused, `close()` it."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 30.0
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"chat base URL {base_url!r} must start with http:// or https://, "
                "e.g. http://127.0.0.1:8080/v1"
            )
        if not model.strip():
            raise ValueError("chat model name is empty; set chat_model, e.g. 'qwen2.5'")
        if timeout_s <= 0:
            raise ValueError(f"chat timeout must be positive, got {timeout_s}")
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._timeout_s = timeout_s
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(headers=headers, timeout=timeout_s)

    @property
    def name(self) -> str:
        return f"openai-compatible:{self._model}@{self._base_url}"

    @property
    def endpoint(self) -> str:
        return f"{self._base_url}/chat/completions"

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        body = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "store": False,
        }
        response = self._post(body)
        return self._reply_text(response)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIChatModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, what: str) -> ChatModelError:
        return ChatModelError(f"chat model {self._model!r} at {self.endpoint}: {what}")

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        """POST once, and once more after a connection error or a 5xx answer."""
        for attempt in (1, 2):
            last = attempt == 2
            try:
                response = self._client.post(self.endpoint, json=body)
            except httpx.TimeoutException:
                raise self._fail(
                    f"no answer within {self._timeout_s:g} s; raise chat_timeout_s or use a "
                    "faster model"
                ) from None
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                if last:
                    raise self._fail(
                        f"cannot connect ({type(exc).__name__}); is the server running and "
                        "is chat_base_url right?"
                    ) from None
                logger.info("chat endpoint %s: connection failed, retrying once", self.endpoint)
                time.sleep(_RETRY_PAUSE_S)
                continue
            except httpx.HTTPError as exc:
                raise self._fail(f"request failed ({type(exc).__name__})") from None
            except RuntimeError:  # httpx refuses to send on a closed client
                raise self._fail("the client was closed; build a new chat model") from None
            if response.status_code >= 500 and not last:
                logger.info(
                    "chat endpoint %s: HTTP %d, retrying once", self.endpoint, response.status_code
                )
                time.sleep(_RETRY_PAUSE_S)
                continue
            if not response.is_success:
                raise self._fail(self._status_message(response))
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _status_message(self, response: httpx.Response) -> str:
        status = response.status_code
        if status >= 500:
            what = f"the server failed (HTTP {status}); check its logs or try again later"
        else:
            what = _STATUS_HINTS.get(status, f"unexpected answer (HTTP {status})")
        code = _provider_error_code(response)
        # Only the provider's short error code, never its free text: some providers echo
        # parts of the request in their error messages.
        return f"{what} [provider code: {code}]" if code else what

    def _reply_text(self, response: httpx.Response) -> str:
        try:
            payload = response.json()
        except ValueError:
            raise self._fail(
                "the answer is not JSON; is chat_base_url an OpenAI-compatible API?"
            ) from None
        if not isinstance(payload, dict):
            raise self._fail("the answer is not a JSON object")
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices:
            raise self._fail("the answer has no choices")
        first = choices[0]
        message = first.get("message") if isinstance(first, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise self._fail("the first choice has no text content")
        return content


def _provider_error_code(response: httpx.Response) -> str:
    """The `error.code` or `error.type` identifier of an error body, if it has one."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return ""
    for key in ("code", "type"):
        value = error.get(key)
        if isinstance(value, str) and _IDENTIFIER.match(value):
            return value
    return ""


def build_chat_model(
    base_url: str | None,
    model: str,
    api_key: str | None,
    timeout_s: float,
    mask: bool = True,
    detector: SpanDetector | None = None,
) -> ChatModel | None:
    """The configured chat model, masking personal data unless `mask` is False (found by
    `detector`, or by PiiMasker's built-in rules when none is given); None if unset."""
    if base_url is None or not base_url.strip():
        return None
    chat: ChatModel = OpenAIChatModel(base_url, model, api_key=api_key, timeout_s=timeout_s)
    if mask:
        chat = MaskingChatModel(chat, PiiMasker(detector=detector))
    return chat
