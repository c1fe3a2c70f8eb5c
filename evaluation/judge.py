"""Adapters that let ragas judge with Clearline's own models.

`JudgeChatModel` is a LangChain chat model around any `agent.llm.chat.ChatModel`, so ragas's
LLM metrics can use it through `ragas.llms.LangchainLLMWrapper`; `RagasEmbedder` wraps a
`knowledge.protocols.Embedder` as ragas embeddings; `judged_metrics` builds the ragas LLM
metrics evaluation.ragas_scores runs. LangChain and ragas types stay in this module (returned as
`Any`).

    llm = ragas_judge(ScriptedChatModel(...), run_config)
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

from agent.llm.chat import ChatMessage, ChatModel, Role
from evaluation.ragas_compat import import_ragas
from knowledge.protocols import Embedder

import_ragas()

from ragas.embeddings.base import BaseRagasEmbeddings  # noqa: E402
from ragas.llms import LangchainLLMWrapper  # noqa: E402
from ragas.metrics._answer_correctness import AnswerCorrectness  # noqa: E402
from ragas.metrics._answer_relevance import ResponseRelevancy  # noqa: E402
from ragas.metrics._context_precision import (  # noqa: E402
    LLMContextPrecisionWithoutReference,
    LLMContextPrecisionWithReference,
)
from ragas.metrics._faithfulness import Faithfulness  # noqa: E402
from ragas.run_config import RunConfig  # noqa: E402


def _role(message: BaseMessage) -> Role:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, AIMessage):
        return "assistant"
    return "user"


def _text(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in message.content]
    return "".join(parts)


class JudgeChatModel(BaseChatModel):
    """LangChain chat model that answers through a Clearline `ChatModel`.

    Calls are serialised on one worker thread of this adapter (many local models are not
    thread-safe), so an async caller's timeout can fire while the model is still busy.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    chat: Any  # agent.llm.chat.ChatModel; Any because pydantic cannot check a Protocol
    max_tokens: int = 1024
    temperature: float = 0.0
    _executor: ThreadPoolExecutor = PrivateAttr(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="judge")
    )
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "clearline-chat-model"

    @property
    def model_name(self) -> str:
        return str(self.chat.name)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = [ChatMessage(_role(m), _text(m)) for m in messages]
        with self._lock:
            text = self.chat.complete(
                request, max_tokens=self.max_tokens, temperature=self.temperature
            )
        for marker in stop or ():
            text = text.split(marker, 1)[0]
        message = AIMessage(content=text, response_metadata={"finish_reason": "stop"})
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the caller's region picks the model endpoint
        return await loop.run_in_executor(
            self._executor, context.run, self._generate, messages, stop
        )


def judge_chat_model(chat: ChatModel) -> BaseChatModel:
    """`chat` as a LangChain chat model."""
    return JudgeChatModel(chat=chat)


def ragas_judge(chat: ChatModel, run_config: Any) -> Any:
    """`chat` as a ragas LLM (`LangchainLLMWrapper` around `JudgeChatModel`)."""
    with warnings.catch_warnings():
        # ragas marks the LangChain wrapper deprecated in favour of OpenAI-only clients.
        warnings.simplefilter("ignore", DeprecationWarning)
        return LangchainLLMWrapper(judge_chat_model(chat), run_config=run_config)


class RagasEmbedder(BaseRagasEmbeddings):
    """A Clearline `Embedder` as ragas embeddings (for ResponseRelevancy, AnswerCorrectness)."""

    def __init__(self, embedder: Embedder, run_config: RunConfig | None = None) -> None:
        super().__init__()
        self._embedder = embedder
        self.set_run_config(run_config or RunConfig())

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)


def judged_metrics(judge: ChatModel, embedder: Embedder, timeout: float) -> dict[str, Any]:
    """The ragas LLM metrics ReplyScorer runs with `judge`, keyed by role, initialised."""
    # One attempt per call: a failing judge falls back at once instead of backing off.
    run_config = RunConfig(timeout=max(1, int(timeout)), max_retries=1, max_wait=1)
    llm = ragas_judge(judge, run_config)
    embeddings = RagasEmbedder(embedder, run_config)
    metrics: dict[str, Any] = {
        "faithfulness": Faithfulness(llm=llm),
        # one generated question instead of three: a local judge costs seconds per call
        "relevancy": ResponseRelevancy(llm=llm, embeddings=embeddings, strictness=1),
        "precision": LLMContextPrecisionWithoutReference(llm=llm),
        "precision_with_reference": LLMContextPrecisionWithReference(llm=llm),
        "correctness": AnswerCorrectness(llm=llm, embeddings=embeddings),
    }
    for metric in metrics.values():
        metric.init(run_config)
    return metrics
