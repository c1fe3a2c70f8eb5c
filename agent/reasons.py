"""The rules of a turn's route and decide steps, in words, for the trace and the handoff
summary: which rule applied and the figures it compared."""

from __future__ import annotations

from agent.config import AgentConfig, Thresholds
from agent.trace import Trace
from agent.understand.records import Prediction
from agent.understand.screening import INJECTION


def injection_rule(trace: Trace) -> str | None:
    """The rule in words when the understand step flagged the message as a prompt injection."""
    found = trace.step("understand").outputs["injection"]
    if found["label"] != INJECTION:
        return None
    rules = ", ".join(str(r["rule"]) for r in found["detail"]["rules"])
    return f"the message looks like a prompt injection ({rules})"


def procedure_reason(intent: Prediction, threshold: float, procedure_id: str) -> str:
    """Why the intent starts its procedure."""
    return (
        f"intent '{intent.label}' ({intent.confidence:.2f} >= "
        f"{threshold}) triggers procedure '{procedure_id}'"
    )


def knowledge_reason(config: AgentConfig, intent: Prediction, procedure_id: str | None) -> str:
    """Why the message is answered from knowledge rather than by a procedure."""
    if procedure_id and not config.enabled("procedures"):
        return f"intent '{intent.label}' has a procedure, but procedures are off: knowledge"
    if procedure_id:
        return (
            f"intent '{intent.label}' confidence {intent.confidence:.2f} < "
            f"{config.thresholds.intent}: knowledge"
        )
    if not config.enabled("intent_prediction"):
        return "intent_prediction is off: knowledge"
    return f"intent '{intent.label}' has no procedure: answer from knowledge"


def answer_rule(confidence: float, thresholds: Thresholds, verified: int) -> str:
    """Why a knowledge reply is sent."""
    return (
        f"P(answerable) {confidence:.2f} >= answer threshold {thresholds.answer} and "
        f"{verified} verified sentence(s)"
    )


def no_answer_reason(confidence: float, thresholds: Thresholds, verified: int, drafted: int) -> str:
    """Why a knowledge reply is not sent as it is: `drafted` sentences were composed, of
    which `verified` are supported."""
    if not drafted:
        return "nothing in the passages is fit to quote as an answer (agent.answer.compose)"
    if not verified:
        return "no sentence of the draft is supported by the passages"
    return f"P(answerable) {confidence:.2f} < answer threshold {thresholds.answer}"
