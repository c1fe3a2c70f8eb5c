"""Approving and rejecting drafts: each draft approves exactly what it was made with.

A draft of a high-impact action is bound, when it is made, to that action (procedure, step,
connection by name, method, resolved URL, body) and to the procedure state it belongs to
(`control.models_actions.DraftAction`). Reviewing it:

1. claims the draft with one compare-and-set (`pending` -> `approving`/`rejecting`), so of
   any number of reviews, concurrent or not, one goes on and the others get 409;
2. for an action, checks that the conversation is still in the state the draft was bound to
   (otherwise 409 and the draft is pending again: nothing ran);
3. runs exactly the bound action, with the draft's id as `Idempotency-Key`, and continues the
   procedure; or, on rejection, cancels only that action and hands the conversation to a
   person. A draft without an action only shows (or withholds) its reply.

Nothing is sent into a closed conversation: approving there gets 409 and leaves the draft
pending (reopen the conversation, or reject the draft); rejecting leaves it closed.

An approved action that fails marks the draft `failed`: the reviewer gets the error, and the
end user gets the procedure's honest next line (by default: a colleague takes over), never
the reviewer's edited success text.

A review the process did not finish (killed between the claim and the result) leaves the
draft `approving`/`rejecting`; `release_interrupted` (run when the server starts, when no
review can be in flight) makes those drafts pending again and audits it. Approving again is
safe: the action goes out with the same `Idempotency-Key`, so a company system that ran it
the first time does not run it twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from agent.procedures.model import ProcedureError, ProcedureState, StepOutcome
from agent.procedures.runner import ProcedureRunner
from control import audit
from control.errors import Conflict, NotFound, quoted
from control.models import Conversation, Message
from control.models_actions import DraftAction
from control.regional import tenant_regions
from conversations.agents import TenantAgents

logger = logging.getLogger(__name__)
ACTION_FAILED_SAY = "I couldn't complete that. A colleague will look into it and get back to you."


@dataclass(frozen=True)
class BoundAction:
    """What approving a draft runs (secrets are the connection's, looked up when it runs)."""

    procedure_id: str
    step_id: str
    name: str
    connection: str
    method: str
    url: str
    body: dict[str, Any]
    describe: str

    @classmethod
    def of(cls, row: DraftAction) -> BoundAction:
        return cls(
            row.procedure_id, row.step_id, row.action, row.connection, row.method, row.url,
            json.loads(row.body), row.describe,
        )  # fmt: skip


@dataclass(frozen=True)
class ActionRun:
    """What happened when an approved action ran."""

    ok: bool
    http_status: int | None
    error: str | None


@dataclass(frozen=True)
class Reviewed:
    """The reviewed draft; `edited`: the reviewer's text replaced what would have been
    sent without it (an edit identical to it, or one not used, does not count)."""

    message: Message
    action: BoundAction | None = None
    run: ActionRun | None = None
    edited: bool = False


def closed_for_replies(conversation_id: str) -> str:
    """Why nothing more can be sent into a closed conversation, and what to do instead."""
    return (
        f"conversation {quoted(conversation_id)} is closed, so nothing more is sent in it; "
        "to write to the customer again, reopen it first with POST "
        f'/v1/conversations/{conversation_id}/status {{"status": "open"}}'
    )


def bind_action(session: Session, draft: Message, procedure_state: str) -> None:
    """Record, beside a new draft, the pending action it approves and the state it is for."""
    state = ProcedureState.from_json(procedure_state)
    pending = state.pending
    assert pending is not None, "a needs_approval outcome always has a pending action"
    session.flush()  # the draft row exists before the row that refers to it
    session.add(
        DraftAction(
            message_id=draft.id, tenant=draft.tenant, conversation_id=draft.conversation_id,
            procedure_id=state.procedure_id, step_id=pending.step_id, action=pending.name,
            connection=pending.connection, method=pending.method, url=pending.url,
            body=json.dumps(pending.body), describe=pending.describe, state=procedure_state,
        )
    )  # fmt: skip


AddMessage = Callable[..., Message]


@tenant_regions
class Approvals:
    """The review of drafts; `lock(conversation_id)` serialises it with the conversation's
    turns in this process, and the compare-and-set with every other reviewer."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        agents: TenantAgents,
        lock: Callable[[str], AbstractContextManager[Any]],
        add_message: AddMessage,
    ) -> None:
        self._sessions = sessions
        self._agents = agents
        self._lock = lock
        self._add = add_message

    def bound(self, tenant: str, message_ids: list[str]) -> dict[str, BoundAction]:
        """The actions the given drafts approve (drafts without one are absent)."""
        with self._sessions() as session:
            rows = [session.get(DraftAction, message_id) for message_id in message_ids]
        return {row.message_id: BoundAction.of(row) for row in rows if row and row.tenant == tenant}

    def review(
        self, tenant: str, message_id: str, actor: str, approve: bool, text: str | None
    ) -> Reviewed:
        with self._sessions() as session:
            draft = session.get(Message, message_id)
            binding = session.get(DraftAction, message_id)
        if draft is None or draft.tenant != tenant or draft.draft_status is None:
            raise NotFound(f"draft {quoted(message_id)} does not exist")
        self._claim(draft, actor, "approving" if approve else "rejecting")
        edited = False
        try:
            with self._lock(draft.conversation_id):
                if approve:  # closing takes the same lock, so this holds until it is sent
                    self._refuse_if_closed(draft)
                if binding is None:
                    edited = self._decide_reply(draft, actor, approve, text)
                elif approve:
                    return self._approve_action(draft, binding, actor, text)
                else:
                    self._reject_action(draft, binding, actor)
        except Exception:
            # Pending again, so it can be reviewed again; an action that did run is not
            # repeated by the company system: the retry sends the same Idempotency-Key.
            self._release(draft)
            raise
        bound = BoundAction.of(binding) if binding else None
        return Reviewed(self._message(message_id), bound, edited=edited)

    def release_interrupted(self) -> list[str]:
        """Make drafts whose review a killed process left unfinished pending again (call it
        only when no review can be running: at server start); returns their ids."""
        with self._sessions() as session:
            stuck = session.scalars(
                select(Message).where(Message.draft_status.in_(("approving", "rejecting")))
            ).all()
        released = []
        for draft in stuck:
            self._release(draft)
            audit.record(self._sessions, draft.tenant, "system", "draft.review_interrupted",
                         message_id=draft.id, was=draft.draft_status,
                         reviewer=draft.reviewed_by)  # fmt: skip
            logger.warning("draft %s was left %s by an interrupted review; it is pending again",
                           draft.id, draft.draft_status)  # fmt: skip
            released.append(draft.id)
        return released

    # -- the compare-and-set ---------------------------------------------------------

    def _claim(self, draft: Message, actor: str, claimed: str) -> None:
        with self._sessions.begin() as session:
            won = session.execute(
                update(Message)
                .where(Message.id == draft.id, Message.draft_status == "pending")
                .values(draft_status=claimed, reviewed_by=actor)
            )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            status = self._message(draft.id).draft_status
            raise Conflict(
                f"draft '{draft.id}' is not pending (it is {status}); it was reviewed already "
                "or is being reviewed right now, so this review changed nothing"
            )

    def _release(self, draft: Message) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Message)
                .where(Message.id == draft.id, Message.draft_status.in_(("approving", "rejecting")))
                .values(draft_status="pending", reviewed_by=None)
            )

    # -- drafts without an action ----------------------------------------------------

    def _decide_reply(self, draft: Message, actor: str, approve: bool, text: str | None) -> bool:
        """Show or withhold the draft's reply; whether the reviewer's text replaced it."""
        unedited = draft.text.strip()
        final = (text or "").strip() or unedited
        with self._sessions.begin() as session:
            row, conv = self._rows(session, draft)
            row.draft_status, row.reviewed_by = ("approved" if approve else "rejected"), actor
            if approve:
                row.text = final
                row.visible = True
                row.created_at = datetime.now(UTC)
            elif conv.status != "closed":  # a closed conversation stays closed
                conv.status = "handoff"
                conv.handoff_summary = f"A human rejected the agent's draft: {draft.text[:300]}"
        return approve and final != unedited

    # -- drafts of an action ---------------------------------------------------------

    def _approve_action(
        self, draft: Message, binding: DraftAction, actor: str, text: str | None
    ) -> Reviewed:
        runner = self._runner_for(draft, binding)
        state = ProcedureState.from_json(binding.state)
        try:
            outcome = runner.approve(state, True, actor, idempotency_key=draft.id)
        except ProcedureError as error:  # the procedure changed under the draft mid-run
            logger.warning("approved action of draft %s stopped: %s", draft.id, error)
            outcome = StepOutcome(
                ACTION_FAILED_SAY, [], state.model_copy(update={"status": "handoff"}),
                "handoff", [], None,
            )  # fmt: skip
        result = outcome.action
        run = ActionRun(
            result is not None and result.ok,
            result.status_code if result else None,
            result.error if result else "the procedure stopped before its action ran",
        )
        # The reviewer's edit replaces the reply only when the action did what it approved.
        unedited = outcome.text.strip() or (draft.text if run.ok else ACTION_FAILED_SAY)
        edit = (text or "").strip() if run.ok and outcome.decision in ("reply", "ask") else ""
        final = edit or unedited
        terminal = outcome.state.status in ("done", "handoff")
        with self._sessions.begin() as session:
            row, conv = self._rows(session, draft)
            self._move_state(session, conv, binding.state, None if terminal else outcome)
            row.draft_status, row.reviewed_by = ("approved" if run.ok else "failed"), actor
            row.text, row.visible, row.created_at = final, True, datetime.now(UTC)
            if outcome.decision == "handoff":
                conv.status = "handoff"
                conv.handoff_summary = (
                    f"Approved action '{binding.action}' ({binding.describe}): "
                    + ("done" if run.ok else f"failed: {run.error}")
                    + f". {outcome.state.handoff_reason or ''}"
                ).strip()
            if outcome.decision == "needs_approval":  # the next high-impact action
                follow = self._add(session, conv, "assistant", outcome.text, visible=False,
                                   decision="draft", draft_status="pending",
                                   trace_id=draft.trace_id)  # fmt: skip
                bind_action(session, follow, outcome.state.to_json())
            stored = session.get(DraftAction, draft.id)
            assert stored is not None
            stored.result = json.dumps({**run.__dict__, "events": outcome.events})
            stored.decided_at = datetime.now(UTC)
        return Reviewed(self._message(draft.id), BoundAction.of(binding), run, final != unedited)

    def _reject_action(self, draft: Message, binding: DraftAction, actor: str) -> None:
        """Cancel exactly this action; if the conversation still waits on it, hand it to a
        person with the procedure's handoff line."""
        with self._sessions() as session:
            conversation = session.get(Conversation, draft.conversation_id)
        waiting = conversation is not None and conversation.procedure_state == binding.state
        outcome: StepOutcome | None = None
        if waiting:
            try:
                runner = self._runner_for(draft, binding)
                outcome = runner.approve(ProcedureState.from_json(binding.state), False, actor)
            except (Conflict, ProcedureError) as error:
                logger.warning("rejecting draft %s without its procedure: %s", draft.id, error)
        with self._sessions.begin() as session:
            row, conv = self._rows(session, draft)
            row.draft_status, row.reviewed_by = "rejected", actor
            stored = session.get(DraftAction, draft.id)
            assert stored is not None
            stored.decided_at = datetime.now(UTC)
            if waiting and conv.status == "closed":  # cancelled; it stays closed, silently
                self._move_state(session, conv, binding.state, None)
            elif waiting:
                self._move_state(session, conv, binding.state, None)
                conv.status = "handoff"
                conv.handoff_summary = (
                    f"A human rejected the action '{binding.action}': {binding.describe}"
                )
                say = outcome.text if outcome is not None else ""
                if say:
                    self._add(session, conv, "assistant", say, decision="handoff")

    # -- helpers ---------------------------------------------------------------------

    def _refuse_if_closed(self, draft: Message) -> None:
        """Conflict (the caller makes the draft pending again; nothing ran or was sent)
        if the draft's conversation was closed after the draft was made."""
        with self._sessions() as session:
            conversation = session.get(Conversation, draft.conversation_id)
        if conversation is not None and conversation.status == "closed":
            raise Conflict(
                f"draft {quoted(draft.id)} was not sent and nothing ran: "
                + closed_for_replies(draft.conversation_id)
                + ", then approve it again; or reject the draft (it stays pending until then)"
            )

    def _runner_for(self, draft: Message, binding: DraftAction) -> ProcedureRunner:
        """The tenant's runner, after checking that the draft still fits the conversation
        and the procedure; raises Conflict (nothing has run) otherwise."""
        with self._sessions() as session:
            conversation = session.get(Conversation, draft.conversation_id)
        if conversation is None or conversation.procedure_state != binding.state:
            raise Conflict(
                f"draft '{draft.id}' approves '{binding.action}' for procedure "
                f"'{binding.procedure_id}' at step '{binding.step_id}', but the conversation "
                "is no longer waiting for it; nothing ran. Reject the draft, or ask the "
                "customer to start again"
            )
        runner = self._agents.agent(draft.tenant).procedures
        try:
            if runner is None:
                raise ProcedureError(f"procedure '{binding.procedure_id}' no longer exists")
            step = runner.procedures.get(binding.procedure_id).step(binding.step_id)
            if step.action is None:
                raise ProcedureError(f"step '{binding.step_id}' is no longer an action")
        except ProcedureError as error:
            raise Conflict(
                f"draft '{draft.id}' cannot run: {error}; nothing ran. Reject the draft"
            ) from None
        return runner

    @staticmethod
    def _move_state(
        session: Session, conv: Conversation, bound: str, outcome: StepOutcome | None
    ) -> None:
        """Move the procedure state on only if it is still the one the draft was bound to."""
        new = outcome.state.to_json() if outcome is not None else None
        moved = session.execute(
            update(Conversation)
            .where(Conversation.id == conv.id, Conversation.procedure_state == bound)
            .values(procedure_state=new, updated_at=datetime.now(UTC))
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            logger.warning("conversation %s moved on while its draft was reviewed", conv.id)
        session.refresh(conv)

    def _rows(self, session: Session, draft: Message) -> tuple[Message, Conversation]:
        row = session.get(Message, draft.id)
        conv = session.get(Conversation, draft.conversation_id)
        assert row is not None and conv is not None
        return row, conv

    def _message(self, message_id: str) -> Message:
        with self._sessions() as session:
            message = session.get(Message, message_id)
        assert message is not None
        return message
