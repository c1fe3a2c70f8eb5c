"""The reasoning trace of one reply: typed data, persisted, returned by id.

Every step of a turn appears, in order, even when it was skipped (a feature switched off,
or nothing to do), with its inputs, outputs, scores and time; the decision carries the rule
that made it, in words. Evaluation and QA read traces; nothing re-runs hidden state.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

StepStatus = Literal["ran", "skipped", "failed"]
STEPS = ("understand", "route", "retrieve", "compose", "verify", "decide")


class Step(BaseModel):
    name: str
    status: StepStatus = "ran"
    reason: str = ""  # why it was skipped or failed, or what it did, in words
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    scores: dict[str, float] = Field(default_factory=dict)
    elapsed_ms: float = 0.0
    model: str | None = None
    generative: bool = False


class Decision(BaseModel):
    decision: Literal["answered", "clarify", "handoff", "draft"]
    proposed: Literal["answered", "clarify", "handoff"]
    confidence: float
    rule: str


class Trace(BaseModel):
    trace_id: str = Field(default_factory=lambda: f"tr_{uuid.uuid4().hex}")
    tenant: str
    conversation_id: str | None = None
    message_id: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    config_version: int = 0
    models: dict[str, str] = Field(default_factory=dict)
    question: str = ""
    steps: list[Step] = Field(default_factory=list)
    decision: Decision | None = None
    reply: str = ""
    citations: list[str] = Field(default_factory=list)
    scores: dict[str, Any] = Field(default_factory=dict)  # QA scores added later
    elapsed_ms: float = 0.0

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def ran(self, name: str) -> Step | None:
        """The step if it ran (not skipped, not failed, present at all)."""
        return next((s for s in self.steps if s.name == name and s.status == "ran"), None)

    def retrieved(self) -> list[dict[str, Any]]:
        """The chunks retrieved for this reply, as recorded (chunk_id, document_id, text...)."""
        step = self.ran("retrieve")
        return list(step.outputs.get("chunks", [])) if step else []

    def passages_by_document(self) -> dict[str, list[str]]:
        """Document id -> texts of its chunks retrieved for this reply."""
        texts: dict[str, list[str]] = {}
        for chunk in self.retrieved():
            texts.setdefault(str(chunk["document_id"]), []).append(str(chunk.get("text", "")))
        return texts

    @contextmanager
    def timed(self, name: str, **inputs: Any) -> Iterator[Step]:
        """Record a step; its time is measured around the block."""
        step = Step(name=name, inputs=inputs)
        started = time.perf_counter()
        try:
            yield step
        finally:
            step.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
            self.steps.append(step)

    def skip(self, name: str, reason: str) -> None:
        self.steps.append(Step(name=name, status="skipped", reason=reason))


class TraceStore(Protocol):
    """Persisted traces, by tenant; a tenant never reads another's."""

    def save(self, trace: Trace) -> None: ...

    def get(self, tenant: str, trace_id: str) -> Trace | None: ...


class InMemoryTraceStore:
    """TraceStore in memory, for tests and evaluation runs (same contract as
    conversations.traces.SqlTraceStore)."""

    def __init__(self) -> None:
        self._traces: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def save(self, trace: Trace) -> None:
        with self._lock:
            self._traces[(trace.tenant, trace.trace_id)] = trace.model_dump_json()

    def get(self, tenant: str, trace_id: str) -> Trace | None:
        with self._lock:
            text = self._traces.get((tenant, trace_id))
        return Trace.model_validate_json(text) if text else None
