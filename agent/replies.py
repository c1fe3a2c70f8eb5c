"""What a turn works with and produces: the conversation so far, the tenant's agent, the
context its steps share, the reply with its citations, and the summary a human agent gets on
handoff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agent.config import AgentConfig
from agent.procedures.runner import ProcedureRunner
from agent.trace import Trace
from agent.understand.intents import IntentClassifier
from agent.understand.records import Understanding
from knowledge.query import Turn

Outcome = Literal["answered", "clarify", "handoff"]


@dataclass(frozen=True)
class Citation:
    document_id: str
    title: str
    quote: str


@dataclass(frozen=True)
class ConversationState:
    """What the agent needs of the conversation so far (the service persists it)."""

    conversation_id: str | None = None
    history: tuple[Turn, ...] = ()
    scenario: str = ""
    procedure_state: str | None = None
    last_decision: str | None = None


@dataclass(frozen=True)
class TenantAgent:
    """One tenant's configuration and the models built from it."""

    tenant: str
    config: AgentConfig
    intents: IntentClassifier | None = None
    procedures: ProcedureRunner | None = None
    procedure_intents: dict[str, str] = field(default_factory=dict)  # intent -> procedure id


@dataclass(frozen=True)
class TurnContext:
    """What the steps of one turn read after the understand step: the tenant's agent, the
    conversation so far, the message, what was understood of it, and the trace being written."""

    agent: TenantAgent
    state: ConversationState
    message: str
    understanding: Understanding
    trace: Trace

    @property
    def config(self) -> AgentConfig:
        return self.agent.config


@dataclass(frozen=True)
class Reply:
    text: str  # what the end user sees now
    draft_text: str  # the reply itself (equal to text unless held as a draft)
    # `citations` belong to draft_text: show them to the end user only when not a draft
    decision: Literal["answered", "clarify", "handoff", "draft"]
    proposed: Outcome
    confidence: float
    citations: list[Citation]
    trace: Trace
    procedure_state: str | None
    handoff_summary: str | None
    intent: str | None
    needs_approval: bool = False  # a high-impact procedure action waits for a human


def handoff_summary(context: TurnContext, rule: str, found: str) -> str:
    """What a human agent needs to pick the conversation up without re-reading it."""
    state, understanding = context.state, context.understanding
    asked = [t.text for t in state.history if t.role == "user"][-2:]
    sentiment = understanding.sentiment
    mood = "not estimated (off)" if "skipped" in sentiment.detail else sentiment.label
    lines = [
        f"Why: {rule}.",
        f"Customer's last message: {context.message}",
        f"Intent: {understanding.intent.label} ({understanding.intent.confidence:.2f}); "
        f"sentiment: {mood}; language: {understanding.language.label}.",
    ]
    if asked:
        lines.append("Earlier: " + " | ".join(asked))
    if state.scenario:
        lines.append(f"Customer's situation: {state.scenario[:300]}")
    if found:
        lines.append(f"Closest passage found (not sent): {found[:300]}")
    return "\n".join(lines)
