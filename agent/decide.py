"""The last step of a turn: the reply the decide step settles on, recorded in the trace.

`finish` sends a reply (an answer, a clarifying question, a procedure's line), or holds it
as a draft for a person to approve when the tenant's autonomy says so (copilot mode, or an
intent not listed in per-intent mode). `handoff` hands the conversation to a person with a
summary for them. The rules that choose between them are agent/turn.py's.
"""

from __future__ import annotations

from typing import Literal

from agent.procedures.runner import DEFAULT_HANDOFF_SAY
from agent.replies import Citation, Outcome, Reply, TurnContext, handoff_summary
from agent.trace import Decision, Trace
from agent.understand.records import OUT_OF_SCOPE

HANDOFF_TEXT = DEFAULT_HANDOFF_SAY  # a procedure's handoff without a `say` of its own, too
SORRY_TEXT = "I'm sorry for the trouble."
DRAFT_TEXT = "A member of our team is reviewing the answer and will reply here shortly."
# A question the waiting procedure answers ("When will it arrive?" during the order lookup);
# the procedure's question follows (agent/route.py `after_interruption`).
OWN_QUESTION_TEXT = "That's what I'm checking for you."


def skip_answer_steps(trace: Trace, reason: str) -> None:
    """Records retrieve, compose and verify as skipped, for a reply that needs none."""
    for name in ("retrieve", "compose", "verify"):
        trace.skip(name, reason)


def handoff(
    ctx: TurnContext,
    rule: str,
    found: str = "",
    confidence: float = 1.0,
    sorry: bool = False,
    text: str = HANDOFF_TEXT,
) -> Reply:
    """Hands off under `rule` with the line `text` (a procedure's handoff step has its own,
    its `say`); `found`: the best sentence found, for the person's summary; `sorry`: the end
    user is upset, and the line says sorry first."""
    trace = ctx.trace
    if not trace.steps or trace.steps[-1].name == "route":
        skip_answer_steps(trace, "handed off before answering")
    summary = handoff_summary(ctx, rule, found)
    with trace.timed("decide") as step:
        step.outputs = {"decision": "handoff", "summary": summary}
        step.reason = rule
    confidence = round(confidence, 4)
    trace.decision = Decision(
        decision="handoff", proposed="handoff", confidence=confidence, rule=rule
    )
    text = f"{SORRY_TEXT} {text}" if sorry else text
    return Reply(
        text, text, "handoff", "handoff", confidence, [], trace,
        ctx.state.procedure_state, summary, ctx.understanding.intent.label,
    )  # fmt: skip


def finish(
    ctx: TurnContext,
    text: str,
    proposed: Outcome,
    confidence: float,
    citations: list[Citation],
    procedure_state: str | None,
    rule: str,
) -> Reply:
    """Sends `text` as the `proposed` outcome under `rule`, or holds it as a draft when the
    tenant's autonomy does not let the agent send it for this intent."""
    config, trace = ctx.config, ctx.trace
    intent = ctx.understanding.intent.label
    direct = config.autonomous_for(intent if intent != OUT_OF_SCOPE else None)
    decision: Literal["answered", "clarify", "draft"] = proposed if direct else "draft"  # type: ignore[assignment]
    if not direct:
        rule += f"; autonomy '{config.autonomy}' holds it as a draft for human approval"
    with trace.timed("decide") as step:
        step.reason = rule
        step.outputs = {"decision": decision, "proposed": proposed}
        step.scores = {"confidence": round(confidence, 4)}
    trace.decision = Decision(
        decision=decision, proposed=proposed, confidence=round(confidence, 4), rule=rule
    )
    shown = text if direct else DRAFT_TEXT
    return Reply(
        shown, text, decision, proposed, confidence, citations, trace,
        procedure_state, None, intent,
    )  # fmt: skip
