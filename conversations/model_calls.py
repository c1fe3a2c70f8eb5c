"""Guards on calls to external chat models: a size limit on each request, and a count of
every call a tenant's replies made (from the trace's generative steps), kept per feature,
model, region and endpoint (control/ai_usage.py).

The chat model itself sends the provider's no-storage flag (`store: false`, agent/llm/
openai_chat.py), masks personal data (agent/llm/masking.py) and has a timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.llm.chat import ChatMessage, ChatModel, ChatModelError
from agent.trace import Trace, TraceStore
from control.ai_usage import AiUsageBook, ModelCall

# Trace step -> the AI feature whose model call it records.
STEP_FEATURES = {"retrieve": "query_rewriting", "compose": "generative_composition"}


class SizeLimitedChatModel:
    """Refuses (ChatModelError) a request whose messages exceed `max_chars` in total, before
    anything is sent; the callers fall back to their local path."""

    def __init__(self, inner: ChatModel, max_chars: int) -> None:
        self._inner = inner
        self._max_chars = max_chars

    @property
    def name(self) -> str:
        return self._inner.name

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        size = sum(len(m.content) for m in messages)
        if size > self._max_chars:
            raise ChatModelError(
                f"chat request of {size} characters is over the limit of {self._max_chars}; "
                "nothing was sent (raise CLEARLINE_CHAT_MAX_REQUEST_CHARS to allow more)"
            )
        return self._inner.complete(messages, max_tokens=max_tokens, temperature=temperature)


def split_model_name(name: str) -> tuple[str, str]:
    """('qwen2.5', 'http://host/v1') from 'pii-masked:openai-compatible:qwen2.5@http://host/v1'."""
    model, _, endpoint = name.rpartition("@") if "@" in name else (name, "", "")
    return model.split(":")[-1], endpoint


class CountingTraceStore:
    """TraceStore that saves each trace and counts the model calls it records."""

    def __init__(
        self, inner: TraceStore, book: AiUsageBook, region_of: Callable[[str], str]
    ) -> None:
        self._inner = inner
        self._book = book
        self._region_of = region_of

    def save(self, trace: Trace) -> None:
        """Save; a trace is counted when first saved (later saves update the same turn)."""
        first = self._inner.get(trace.tenant, trace.trace_id) is None
        region = self._region_of(trace.tenant)
        trace.models.setdefault("region", region)  # where its data and model calls stayed
        self._inner.save(trace)
        if not first:
            return
        calls = []
        for step in trace.steps:
            feature = STEP_FEATURES.get(step.name)
            if feature is None or not step.generative or not step.model:
                continue
            model, endpoint = split_model_name(step.model)
            calls.append(ModelCall(trace.tenant, feature, model, region,
                                   endpoint, failed=step.status == "failed"))  # fmt: skip
        self._book.count(calls)

    def get(self, tenant: str, trace_id: str) -> Trace | None:
        return self._inner.get(tenant, trace_id)
