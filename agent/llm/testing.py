"""Deterministic fakes of the agent Protocols, for tests.

`ScriptedChatModel` passes the same contract tests as `OpenAIChatModel`
(tests/agent/test_chat.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from agent.llm.chat import ChatMessage, ChatModelError

Reply = str | ChatModelError
Responder = Callable[[Sequence[ChatMessage]], str]


class ScriptedChatModel:
    """ChatModel that answers from a script and records every request.

    `script` is either a list of replies used in order (a ChatModelError in the list is
    raised instead of answered) or a function of the messages. Without a script it echoes
    the last user message.

        chat = ScriptedChatModel(["Hello!"])
        chat.complete([ChatMessage("user", "Hi")])  # "Hello!"
        chat.calls[0][-1].content  # "Hi"
    """

    def __init__(self, script: Iterable[Reply] | Responder | None = None, name: str = "scripted"):
        self._responder: Responder | None = None
        self._replies: list[Reply] = []
        if callable(script):
            self._responder = script
        elif script is not None:
            self._replies = list(script)
        self._scripted = script is not None
        self._name = name
        self.calls: list[tuple[ChatMessage, ...]] = []
        self.options: list[dict[str, float]] = []

    @property
    def name(self) -> str:
        return f"scripted:{self._name}"

    def add_reply(self, reply: Reply) -> None:
        """Queue one more reply (or error) after the scripted ones."""
        self._replies.append(reply)
        self._scripted = True

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        self.calls.append(tuple(messages))
        self.options.append({"max_tokens": max_tokens, "temperature": temperature})
        if self._responder is not None:
            return self._responder(messages)
        if not self._scripted:
            users = [m.content for m in messages if m.role == "user"]
            return users[-1] if users else ""
        if not self._replies:
            raise ChatModelError(f"chat model {self.name!r}: the script has no reply left")
        reply = self._replies.pop(0)
        if isinstance(reply, ChatModelError):
            raise reply
        return reply
