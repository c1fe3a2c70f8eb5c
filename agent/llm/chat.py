"""The ChatModel boundary: one method that turns a list of messages into a reply text.

Generative models are optional in Clearline. Anything that composes, rewrites or judges text
with a language model goes through this Protocol, so an OpenAI-compatible server, a masking
wrapper (agent/llm/masking.py) and the scripted fake (agent/llm/testing.py) are interchangeable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from knowledge.errors import ClearlineError

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    """One message of a chat request."""

    role: Role
    content: str


class ChatModelError(ClearlineError, RuntimeError):
    """A chat model could not produce a reply.

    The message names the endpoint and what went wrong, and never contains an API key or
    the text of the messages that were sent.
    """


@runtime_checkable
class ChatModel(Protocol):
    """A generative model behind a chat interface."""

    @property
    def name(self) -> str:
        """Identifies backend, model and endpoint, e.g. 'openai-compatible:qwen2.5@http://…/v1'."""
        ...

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        """The assistant's reply to `messages`; raises ChatModelError on failure."""
        ...
