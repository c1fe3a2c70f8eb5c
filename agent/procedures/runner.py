"""Running admin-defined procedures, one conversation turn at a time.

`ProcedureRunner.start` begins a procedure from the end user's first message (filling
slots it can already read there), `resume` continues with their answer to a question, and
`approve` continues after a human approved or rejected a high-impact action. Each call
returns a `StepOutcome` whose `state` (JSON-serialisable) is handed back on the next call,
and whose `events` trace every step run, with personal data and secrets masked
(agent.procedures.trace_masking).

>>> orders = Connection("orders", "http://127.0.0.1:8765", secrets={"Authorization": t})
>>> runner = ProcedureRunner(procedures, ActionClient({"orders": orders}))
>>> outcome = runner.start("reset-password", "I forgot my password")
>>> outcome = runner.resume(outcome.state, "jane@example.com")
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from agent.procedures.actions import ActionClient, ActionRequest, ActionResult
from agent.procedures.language import lookup, render, render_value
from agent.procedures.load import ProcedureSet
from agent.procedures.model import (
    Action,
    Decision,
    PendingAction,
    Procedure,
    ProcedureError,
    ProcedureState,
    Status,
    Step,
    StepOutcome,
)
from agent.procedures.trace_masking import EventMasker
from agent.understand.small_talk import cannot_give

__all__ = [
    "UNABLE_SAY",
    "ActionClient",
    "ActionResult",
    "PendingAction",
    "ProcedureError",
    "ProcedureRunner",
    "ProcedureSet",
    "ProcedureState",
    "StepOutcome",
]

DEFAULT_HANDOFF_SAY = "I'm handing this conversation to a member of our team, who will reply here."
APPROVAL_SAY = "A member of our team needs to approve this before I go ahead: {what}. "
APPROVAL_SAY += "I'll continue as soon as they have."
# Before the question again, to an end user who says they cannot give the value.
UNABLE_SAY = (
    "No problem. If you can't find it, ask for a person and a member of our team will help."
)


@dataclass
class _Turn:
    procedure: Procedure
    state: ProcedureState
    texts: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    decision: Decision = "reply"
    cited: bool = False
    action: ActionResult | None = None  # the last action's result

    def event(
        self,
        step: Step | str,
        kind: str,
        status: str,
        rule: str,
        started: float,
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            {
                "procedure": self.procedure.id,
                "step": step.id if isinstance(step, Step) else step,
                "kind": kind,
                "inputs": inputs or {},
                "outputs": outputs or {},
                "status": status,
                "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
                "rule": rule,
            }
        )


class ProcedureRunner:
    """Runs procedures step by step; see the module docstring for the turn protocol."""

    def __init__(
        self,
        procedures: ProcedureSet,
        actions: ActionClient,
        variables: Mapping[str, str] | None = None,
        max_steps_per_turn: int = 50,
    ) -> None:
        self.procedures = procedures
        self.actions = actions
        self.variables = dict(variables or {})
        self.max_steps_per_turn = max_steps_per_turn
        for procedure in procedures:
            self._check_variables(procedure)

    def _check_variables(self, procedure: Procedure) -> None:
        where = f"procedure file '{procedure.source}'"
        if missing := sorted(procedure.variables - set(self.variables)):
            raise ProcedureError(f"{where}: run-time variable '{missing[0]}' has no value")
        for step in procedure.steps:
            if step.action is None:
                continue
            connection = self.actions.connection(step.action.connection)
            if connection is None or not (
                step.action.url.startswith("/") or connection.allows(step.action.url)
            ):
                raise ProcedureError(
                    f"{where}: step '{step.id}' calls connection '{step.action.connection}', "
                    "which is not set up or does not allow its URL"
                )

    # -- the three entry points -------------------------------------------------------

    def start(
        self, procedure_id: str, message: str, after: ProcedureState | None = None
    ) -> StepOutcome:
        """Run a procedure from its first step; `after`: one that finished in the conversation
        just before on the same case (`Procedure.same_case`), whose values for the same slots
        it takes (`Procedure.carry`)."""
        procedure = self.procedures.get(procedure_id)
        state = ProcedureState(procedure_id=procedure.id, step_id=procedure.steps[0].id)
        turn, started = _Turn(procedure, state), time.perf_counter()
        filled = procedure.prefill(state, message)
        rule = f"start {procedure.id}: filled {', '.join(filled)} from the first message"
        rule = rule if filled else f"start {procedure.id}: nothing to fill from the first message"
        if after is not None and (carried := procedure.carry(state, after.slots)):
            rule += f"; filled {', '.join(carried)} from procedure '{after.procedure_id}'"
        turn.event("start", "start", "ok", rule, started, outputs={"slots": dict(state.slots)})
        return self._advance(turn)

    def resume(self, state: ProcedureState, message: str) -> StepOutcome:
        turn = self._turn(state, "waiting_input")
        step = turn.procedure.step(turn.state.step_id or "")
        if step.ask is None:
            raise ProcedureError(f"step '{step.id}' of '{state.procedure_id}' asks nothing")
        if self._answer(turn, step, message):
            return self._advance(turn)
        return self._outcome(turn)

    def approve(
        self,
        state: ProcedureState,
        approved: bool,
        approver: str,
        idempotency_key: str | None = None,
    ) -> StepOutcome:
        """Run (or cancel) exactly the pending action recorded in `state`; the outcome's
        `action` is its result. `idempotency_key` goes to the company system with the call,
        so a repeated approval of the same thing cannot act twice there either."""
        turn = self._turn(state, "waiting_approval")
        pending = turn.state.pending
        if pending is None:
            raise ProcedureError(f"procedure '{state.procedure_id}' has no action to approve")
        step = turn.procedure.step(pending.step_id)
        started = time.perf_counter()
        turn.state.pending = None
        verdict = "approved" if approved else "rejected"
        then = f"run {pending.name}" if approved else "handoff"
        turn.event(
            step,
            "approval",
            verdict,
            f"approval {step.id}: {verdict} by {approver} -> {then}",
            started,
            inputs={"approver": approver, "action": pending.name},
        )
        if not approved:
            self._handoff(turn, step, f"{approver} did not approve: {pending.describe}", None)
            return self._outcome(turn)
        if step.action is None:
            raise ProcedureError(f"step '{step.id}' of '{state.procedure_id}' is not an action")
        turn.state.status = "running"
        request = ActionRequest(pending.name, pending.method, pending.url, pending.connection,
                                pending.body, step.action.timeout_s, idempotency_key)  # fmt: skip
        goes_on = self._after_action(turn, step, request, time.perf_counter())
        result = turn.action
        return replace(self._advance(turn) if goes_on else self._outcome(turn), action=result)

    # -- stepping ---------------------------------------------------------------------

    def _turn(self, state: ProcedureState, expected: Status) -> _Turn:
        if state.status != expected:
            raise ProcedureError(
                f"procedure '{state.procedure_id}' is {state.status}, not {expected}; "
                + ("start a new one" if state.status in ("done", "handoff") else "call the other")
            )
        copy = state.model_copy(deep=True)
        return _Turn(self.procedures.get(state.procedure_id), copy)

    def _advance(self, turn: _Turn) -> StepOutcome:
        state = turn.state
        state.status = "running"
        for _ in range(self.max_steps_per_turn):
            if state.step_id is None:  # load-time checks make this unreachable
                raise ProcedureError(f"procedure '{state.procedure_id}' ran past its last step")
            step = turn.procedure.step(state.step_id)
            if not self._run(turn, step):
                return self._outcome(turn)
        reason = f"ran more than {self.max_steps_per_turn} steps in one turn (a loop?)"
        self._handoff(turn, turn.procedure.step(state.step_id or ""), reason, None)
        return self._outcome(turn)

    def _goto(self, turn: _Turn, target: str | None) -> bool:
        turn.state.step_id = target
        return True

    def _run(self, turn: _Turn, step: Step) -> bool:
        """Run one step; True when the turn goes on with `state.step_id`."""
        started = time.perf_counter()
        scope = self._scope(turn.state)
        procedure = turn.procedure
        if step.ask is not None:
            if step.ask.slot in turn.state.slots:
                rule = f"ask {step.id}: '{step.ask.slot}' already known -> skip"
                turn.event(step, "ask", "skipped", rule, started)
                return self._goto(turn, procedure.following(step))
            turn.state.status = "waiting_input"
            turn.decision = "ask"
            turn.texts.append(render(step.ask.prompt, scope))
            rule = f"ask {step.id}: '{step.ask.slot}' unknown -> ask the end user"
            turn.event(step, "ask", "waiting_input", rule, started)
            return False
        if step.action is not None:
            return self._action(turn, step, step.action, scope, started)
        if step.branch is not None:
            for option in step.branch:
                matched = option.condition is not None and option.condition.holds(scope)
                if option.otherwise or matched:
                    said = f"branch {step.id}: {option.describe()} -> {option.goto}"
                    turn.event(step, "branch", "ok", said, started, outputs=self._seen(step, scope))
                    return self._goto(turn, option.goto)
            said = f"branch {step.id}: no rule matched -> next step"
            turn.event(step, "branch", "ok", said, started, outputs=self._seen(step, scope))
            return self._goto(turn, procedure.following(step))
        if step.reply is not None:
            turn.texts.append(render(step.reply, scope))
            turn.cited = True
            if step.end:
                turn.state.status = "done"
                turn.state.step_id = None
                turn.decision = "reply"
                turn.event(step, "reply", "done", f"reply {step.id}: end", started)
                return False
            turn.event(step, "reply", "ok", f"reply {step.id}: continue", started)
            return self._goto(turn, procedure.following(step))
        self._handoff(turn, step, render(step.handoff or "", scope), step.say)
        return False

    def _answer(self, turn: _Turn, step: Step, message: str) -> bool:
        assert step.ask is not None
        started = time.perf_counter()
        ask, state = step.ask, turn.state
        value = ask.check.extract(message)
        if value is not None:
            state.slots[ask.slot] = value
            state.attempts.pop(step.id, None)
            state.status = "running"
            also = turn.procedure.prefill(state, message)
            rule = f"ask {step.id}: valid {ask.check.kind} -> '{ask.slot}' filled"
            rule += f" (and {', '.join(also)} from the same message)" if also else ""
            turn.event(step, "ask", "ok", rule, started, outputs={ask.slot: value})
            return self._goto(turn, turn.procedure.following(step))
        state.attempts[step.id] = tries = state.attempts.get(step.id, 0) + 1
        limit = ask.max_attempts or turn.procedure.max_attempts
        if tries >= limit:
            rule = f"ask {step.id}: invalid {ask.check.kind} {tries} of {limit} times -> handoff"
            turn.event(step, "ask", "invalid", rule, started, inputs={"attempt": tries})
            reason = f"could not get a valid {ask.slot} after {tries} attempts"
            self._handoff(turn, step, reason, None)
            return False
        rule = f"ask {step.id}: invalid {ask.check.kind} ({tries} of {limit}) -> ask again"
        scope, unable = self._scope(state), cannot_give(message, ask.check.kind == "choice")
        rule += (
            f"; the end user cannot give it ('{unable}'): how to reach a person" if unable else ""
        )
        turn.event(step, "ask", "invalid", rule, started, inputs={"attempt": tries})
        text = render(ask.invalid, scope) if ask.invalid else ask.check.hint()
        text = UNABLE_SAY if unable else text
        turn.texts.append(f"{text} {render(ask.prompt, scope)}")
        turn.decision = "ask"
        return False

    def _action(
        self, turn: _Turn, step: Step, action: Action, scope: dict[str, Any], started: float
    ) -> bool:
        url = render(action.url, scope, quote=self._url_quote)
        connection = self.actions.connection(action.connection)
        url = connection.resolve(url) if connection is not None else url
        body = render_value(action.body, scope)
        if not action.high_impact:
            request = ActionRequest(action.name, action.method, url, action.connection, body,
                                    action.timeout_s)  # fmt: skip
            return self._after_action(turn, step, request, started)
        what = render(action.describe, scope) if action.describe else f"{action.name}"
        turn.state.pending = PendingAction(
            step_id=step.id, name=action.name, connection=action.connection,
            method=action.method, url=url, body=body, describe=what,
        )  # fmt: skip
        turn.state.status = "waiting_approval"
        turn.decision = "needs_approval"
        turn.texts.append(APPROVAL_SAY.format(what=what))
        rule = f"action {step.id}: {action.name} is high-impact -> wait for approval"
        inputs = {"action": action.name, "connection": action.connection,
                  "method": action.method, "url": url, "body": body}  # fmt: skip
        turn.event(step, "action", "waiting_approval", rule, started, inputs=inputs)
        return False

    def _after_action(
        self, turn: _Turn, step: Step, request: ActionRequest, started: float
    ) -> bool:
        result = self.actions.call(request)
        turn.action = result
        saved = result.as_saved()
        if step.save_as is not None:
            turn.state.results[step.save_as] = saved
        if result.ok:
            target = turn.procedure.following(step)
            then = f"saved as {step.save_as}" if step.save_as else "next step"
            rule = f"action {step.id}: {request.name} HTTP {result.status_code} -> {then}"
        elif step.on_error not in (None, "continue"):
            target = step.on_error
            rule = f"action {step.id}: {request.name} failed -> {target}"
        elif step.on_error == "continue" or self._branches_on_ok(turn.procedure, step.save_as):
            target = turn.procedure.following(step)
            rule = f"action {step.id}: {request.name} failed -> continue ({step.save_as}.ok false)"
        else:
            target = None
            rule = f"action {step.id}: {request.name} failed -> handoff"
        inputs = {"action": request.name, "method": request.method, "url": request.url,
                  "body": dict(request.body), "connection": request.connection}  # fmt: skip
        status = "ok" if result.ok else "error"
        turn.event(step, "action", status, rule, started, inputs=inputs, outputs=saved)
        if target is None and not result.ok:
            self._handoff(turn, step, f"the {request.name} action failed: {result.error}", None)
            return False
        return self._goto(turn, target)

    @staticmethod
    def _branches_on_ok(procedure: Procedure, name: str | None) -> bool:
        if name is None:
            return False
        return any(
            clause.path == f"{name}.ok"
            for step in procedure.steps
            for rule in step.branch or []
            if rule.condition is not None
            for clause in rule.condition.clauses
        )

    def _handoff(self, turn: _Turn, step: Step, reason: str, say: str | None) -> None:
        started = time.perf_counter()
        turn.state.status = "handoff"
        turn.state.handoff_reason = reason
        turn.state.pending = None
        turn.decision = "handoff"
        turn.texts.append(render(say, self._scope(turn.state)) if say else DEFAULT_HANDOFF_SAY)
        rule = f"handoff at {step.id}: {reason}"
        turn.event(step, "handoff", "handoff", rule, started, outputs={"reason": reason})

    # -- helpers ----------------------------------------------------------------------

    def _scope(self, state: ProcedureState) -> dict[str, Any]:
        return {**self.variables, **state.slots, **state.results}

    def _url_quote(self, name: str, value: str) -> str:
        return value if name.split(".")[0] in self.variables else quote(value, safe="")

    @staticmethod
    def _seen(step: Step, scope: Mapping[str, Any]) -> dict[str, Any]:
        paths = {c.path for r in step.branch or [] if r.condition for c in r.condition.clauses}
        return {"values": {path: lookup(path, scope)[1] for path in sorted(paths)}}

    def _outcome(self, turn: _Turn) -> StepOutcome:
        events = EventMasker(turn.procedure, turn.state, self.actions).events(turn.events)
        citations = list(turn.procedure.citations) if turn.cited else []
        return StepOutcome(
            " ".join(turn.texts), citations, turn.state, turn.decision, events, turn.action
        )
