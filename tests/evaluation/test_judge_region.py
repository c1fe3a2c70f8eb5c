"""The QA judge calls the chat model of the region it scores in: its worker threads (the
adapter's executor, ragas' event-loop thread) keep the caller's region, so a tenant's reply
is judged only by its own region's endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agent.llm.chat import ChatMessage
from control.regional import in_region
from conversations.regions import RegionalChatModel
from evaluation.judge import judge_chat_model
from evaluation.ragas_scores import run_sync


class _Recording:
    def __init__(self, name: str) -> None:
        self.name = name
        self.prompts: list[str] = []

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        self.prompts.append(messages[-1].content)
        return f"judged by {self.name}"


def test_the_judge_uses_the_model_of_the_callers_region() -> None:
    eu, us = _Recording("eu-model"), _Recording("us-model")
    judge = judge_chat_model(RegionalChatModel({"eu": eu, "us": us}))

    with in_region("eu"):  # no event loop running: run_sync runs one here
        first = run_sync(lambda: judge.ainvoke("is it grounded? (eu)"))

    async def inside_a_loop() -> str:
        with in_region("us"):  # a loop is running: run_sync uses a thread of its own
            return str(run_sync(lambda: judge.ainvoke("is it grounded? (us)")).content)

    second = asyncio.run(inside_a_loop())
    assert first.content == "judged by eu-model" and second == "judged by us-model"
    assert eu.prompts == ["is it grounded? (eu)"] and us.prompts == ["is it grounded? (us)"]
