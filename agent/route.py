"""The route step: which part of the agent handles a message, and which rule said so.

Rules, in order (the trace's route step names the one that applied in `outputs["rule"]`):
1. injection: a message that looks like a prompt injection hands off;
2. human: an explicit request for a human hands off; a message that only asks whether the
   agent is a person ("Is this a real person?", "Are you human?") is not one, though it names
   one: it is a question about the agent (small talk, rule 4 or while a procedure waits);
3. while a procedure waits for a slot value (agent.procedures.runner):
   slot: a message holding a valid value for the slot continues the procedure;
   stop: "never mind" and the like closes the procedure, with a line saying so; when a
   question, or a request no procedure takes, follows it ("Forget it. How long does
   shipping take?"), that is answered after
   the line (rule stop_question; the stop phrase is not searched), and when a request for
   another procedure follows it, that one starts (rule switch), and a goodbye after it
   ("Forget it, bye") says goodbye (rule goodbye);
   goodbye: a goodbye (agent.understand.small_talk) closes it too, and says goodbye;
   small_talk: other small talk ("thanks", "ok") gets its line, then the procedure's question
   again; so does a question why the agent wants the value ("Why do you need my email?"),
   with WHY_LINE (rule why);
   slot: a message that says the end user cannot give the value and names what the question
   asks for ("I forgot which email I used") is the procedure's to judge, not a request for
   another procedure (agent.procedures.runner says how to reach a person);
   switch: a request that starts another procedure (rule 5) closes this one, with a line,
   when its intent is sure at `thresholds.switch` (0.80, never below `thresholds.intent`:
   the answers given so far are lost); below that it is answered as a question (next);
   question: a question, or a request that no procedure takes (rule 5: "I want to cancel my
   subscription"), is answered from the knowledge, then the procedure's question is asked
   again (or, when the question is handed off, the procedure is closed with a line); a
   question about the case the procedure handles (it points back, "When will it arrive?",
   and its intent is the procedure's own) that the knowledge does not answer gets a line
   saying the procedure is finding it out, not a question back (`Route.procedures_own`);
   any other question that names nothing but what the procedure's question names, what it
   means, or a choice's options ("How?", "Which email?", "What do you mean?", "What are my
   options?"; an interrupting question is searched alone, and found nothing or other
   passages) is the procedure's (`about_the_question`: its hint says what it asks for);
   slot: anything else is the procedure's to judge (it asks again, then hands off);
4. small_talk: a message that is only a greeting, thanks, an acknowledgement, a goodbye, a
   question about the agent ("What can you do?") or no words at all gets a line of its own,
   not a search of the knowledge (which found the last answer's passages again and repeated
   it);
   not_helped: "That's not what I asked" and the like (small talk of its own kind) get a
   line saying sorry and asking for the question another way; said again right after that
   line, or by an upset end user, they hand off;
   yes_no: so does a bare yes or no (agent.understand.small_talk.yes_no_line) to "Is there
   anything else I can help you with?" (no says goodbye, yes asks what), to a clarifying
   question that named options (no: that is all there is; yes: which one) or after a reply
   that asked nothing (an acknowledgement); after any other question it is that question's
   answer, and goes on by the rules below;
   again: after a procedure finished with a reply, a question about the case it answered
   (it points back, "When will it arrive?", its intent is the procedure's own, confident,
   it names no value the procedure reads, such as another order number, and the end user is
   not upset) gets that reply again, "As I said: ..."; the procedure is
   remembered while such questions go on (agent/turn.py), and forgotten after any other
   message;
   case: after a procedure finished with a reply, a message that points back at its case
   ("Can I return it?") or asks to act, with the confident intent of another procedure on
   the same case (`Procedure.same_case`: it asks for the slot the finished one asked for
   first, the order number), starts that procedure with the values the finished one was
   given for the same slots (the order number, the email);
5. request: an intent with a procedure starts it when the intent is confident and the message
   asks to act on the user's own case (agent.understand.request: "my order", "I forgot",
   "please ...", or a value the procedure asks for: "Where is order 7916676427?"); those
   words are English, so a message detected (>= 0.8) as another language starts the
   procedure on the intent's confidence alone; a message that asks to end
   something ("cancel my subscription") or when something will happen ("When will my refund
   arrive?") starts it only when the procedure's title or examples ask that too (`takes`: a
   status check cannot cancel, a return does not say when a refund arrives);
6. knowledge: everything else, including a general question on a procedure's topic ("How
   long does shipping take?").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from agent.answer.reading import content_terms
from agent.config import AgentConfig
from agent.procedures.interrupted import Saved, about_the_question, resume_line, stopped_line
from agent.procedures.model import Procedure
from agent.procedures.runner import ProcedureRunner, ProcedureState
from agent.reasons import knowledge_reason, procedure_reason
from agent.replies import Reply, TurnContext
from agent.understand.language import surely_not_english
from agent.understand.request import RequestSignal, read_request
from agent.understand.sentiment import upset
from agent.understand.small_talk import (
    SORRY,
    detect_small_talk,
    last_reply,
    reply_line,
    yes_no_line,
)

Kind = Literal["handoff", "procedure", "knowledge", "close", "small_talk"]
# To "Why do you need my email?" while a procedure waits; the procedure's question follows.
WHY_LINE = "I need it to carry out your request."
# Before a finished procedure's reply, to a question about the case it answered.
SAID_AGAIN = "As I said:"


@dataclass(frozen=True)
class Route:
    """Where a message goes: `kind` runs it; `routed` is the finer label the routing set uses
    (procedure:<id> | slot | knowledge | handoff | close | small_talk | again); `interrupted`
    is a waiting procedure the message leaves (closed on switch/stop, resumed after a
    question)."""

    kind: Kind
    routed: str
    rule: str
    reason: str
    signal: RequestSignal
    running: ProcedureState | None = None  # continue this one with the message
    interrupted: ProcedureState | None = None
    procedures_own: str = ""  # a question with the interrupted procedure's intent: that intent
    said: str = ""  # rule again: the finished procedure's reply, said again; yes_no: the line
    after: ProcedureState | None = None  # rule case: the finished procedure whose values it takes

    def outputs(self) -> dict[str, object]:
        route = "procedure" if self.kind == "close" else self.kind
        out: dict[str, object] = {"route": route, "routed": self.routed, "rule": self.rule,
                                  "request": self.signal.as_dict()}  # fmt: skip
        if self.interrupted is not None:
            out["interrupted"] = self.interrupted.procedure_id
        if self.procedures_own:
            out["procedures_own"] = self.procedures_own
        return out


def choose_route(ctx: TurnContext, saved: Saved, injection: str | None) -> Route:
    """The route of this turn's message; see the module docstring for the rules."""
    running, done = saved
    agent, config, intent = ctx.agent, ctx.config, ctx.understanding.intent
    signal = read_request(ctx.message)
    runner = agent.procedures if config.enabled("procedures") else None
    target = agent.procedure_intents.get(intent.label)
    confident = bool(target) and intent.confidence >= config.thresholds.intent
    language = ctx.understanding.language
    # the request words are English; in another language the intent's confidence decides
    other_language = surely_not_english(language)
    procedure = runner.procedures.get(target) if runner is not None and target else None
    cannot = procedure is not None and not takes(procedure, signal)
    # a message naming a value the procedure asks for ("Where is order 7916676427?") is about
    # the user's own case, though it has no own-case words
    named = list(procedure.values_in(ctx.message)) if procedure is not None else []
    asks = procedure is not None and confident and (signal.request or other_language or bool(named))
    starts, blocked = asks and not cannot, asks and cannot
    if injection is not None:
        return Route("handoff", "handoff", "injection", injection, signal)
    asks_what = ctx.understanding.small_talk_kind == "identity"  # "Are you a real person?"
    if ctx.understanding.wants_human and not asks_what:
        return Route("handoff", "handoff", "human", "the end user asked for a human", signal)
    if runner is not None and running is not None:
        other = target if starts else None
        route = _while_running(ctx, runner, running, signal, other, blocked)
        own = confident and target == running.procedure_id and bool(signal.pointing)
        ask = runner.procedures.get(running.procedure_id).step(running.step_id or "").ask
        if route.rule == "question" and own:  # about the case the procedure handles
            reason = (
                f"{route.reason}; it points back ('{signal.pointing}') and its intent "
                f"'{intent.label}' ({intent.confidence:.2f}) is the procedure's own"
            )
            route = replace(route, procedures_own=intent.label, reason=reason)
        elif route.rule == "question" and signal.question and about_the_question(ctx.message, ask):
            reason = (
                f"procedure '{running.procedure_id}' waits; the message is a question that names "
                "nothing but what its question names, what it means, or a choice's options "
                "('How?', 'What do you mean?', 'What are my options?'): the procedure's to "
                "judge, its hint says what it asks for"
            )
            route = Route("procedure", "slot", "slot", reason, signal, running=running)
        return route
    if (unhelped := _not_helped_again(ctx)) is not None:
        return Route("handoff", "handoff", "not_helped", unhelped, signal)
    if ctx.understanding.small_talk_kind is not None:
        return Route("small_talk", "small_talk", "small_talk", _small_talk(ctx), signal)
    if (line := yes_no_line(ctx.message, ctx.state.history)) is not None:
        return Route("small_talk", "small_talk", "yes_no", line.reason, signal, said=line.text)
    calm = upset(ctx.understanding.sentiment) is None
    if (  # about the case the finished procedure answered, naming no other order
        done is not None and target == done.procedure_id and not named
        and confident and signal.pointing and calm
    ):  # fmt: skip
        reason = (
            f"procedure '{target}' answered before, and the message asks about its case: it "
            f"points back ('{signal.pointing}') and its intent '{intent.label}' "
            f"({intent.confidence:.2f}) is the procedure's own: its answer again"
        )
        return Route("small_talk", "again", "again", reason, signal, said=done.said)
    if (  # acts on the case a finished procedure answered: it points back, or asks to act
        done is not None and procedure is not None and runner is not None and confident
        and target != done.procedure_id and not cannot and (starts or signal.pointing)
        and procedure.same_case(runner.procedures.get(done.procedure_id))
    ):  # fmt: skip
        reason = procedure_reason(intent, config.thresholds.intent, procedure.id)
        reason += (
            f"; procedure '{done.procedure_id}' answered before and the message acts on its "
            f"case ({_words(signal) if starts else repr(signal.pointing)}): '{target}' starts "
            "with the values given to it for the same slots"
        )
        return Route("procedure", f"procedure:{target}", "case", reason, signal, after=done)
    if starts and target:
        reason = procedure_reason(intent, config.thresholds.intent, target)
        words = _words(signal) if signal.evidence or not named else f"it names {', '.join(named)}"
        reason += f"; the message asks to act on the user's own case ({words})"
        return Route("procedure", f"procedure:{target}", "request", reason, signal)
    reason = knowledge_reason(config, intent, target)
    if runner is not None and confident and target:
        asked = (
            f"{_kind(signal)} and the procedure's title and examples do not"
            if cannot
            else "a general question (no own-case or request words)"
        )
        reason = (
            f"intent '{intent.label}' ({intent.confidence:.2f}) has procedure '{target}', but "
            f"the message asks {asked}: knowledge"
        )
    return Route("knowledge", "knowledge", "knowledge", reason, signal)


def takes(procedure: Procedure, signal: RequestSignal) -> bool:
    """Whether `procedure` may take the message: a message that asks to end something, or
    when something will happen, only when the procedure's title or examples ask that too (a
    procedure that checks a subscription cannot cancel it; one that starts a return does not
    say when a refund arrives)."""
    if not signal.ending and not signal.timing:
        return True
    said = [read_request(text) for text in _said(procedure)]
    ending = not signal.ending or any(s.ending for s in said)
    return ending and (not signal.timing or any(s.timing for s in said))


def _said(procedure: Procedure) -> list[str]:
    return [procedure.title, *(e for ex in procedure.examples_by_intent().values() for e in ex)]


def _while_running(
    ctx: TurnContext,
    runner: ProcedureRunner,
    running: ProcedureState,
    signal: RequestSignal,
    other: str | None,
    blocked: bool = False,
) -> Route:
    name = running.procedure_id
    step = runner.procedures.get(name).step(running.step_id or "")
    if running.status != "waiting_input" or step.ask is None:
        return Route("procedure", "slot", "slot", f"continuing procedure '{name}'", signal,
                     running=running)  # fmt: skip
    slot = step.ask.slot
    if step.ask.check.extract(ctx.message) is not None:
        reason = f"procedure '{name}' waits for '{slot}' and the message holds a valid value"
        return Route("procedure", "slot", "slot", reason, signal, running=running)
    if signal.stop:
        reason = f"procedure '{name}' waits for '{slot}'; the end user asked to stop"
        reason += f" ({_words(signal)})"
        if signal.after_stop and other is not None and other != name:
            reason += f", then asks for procedure '{other}': '{name}' closes, '{other}' starts"
            return Route("procedure", f"procedure:{other}", "switch", reason, signal,
                         interrupted=running)  # fmt: skip
        if signal.after_stop and detect_small_talk(signal.after_stop).label == "goodbye":
            reason += f", then says goodbye ('{signal.after_stop}')"
            return Route("close", "close", "goodbye", reason, signal, interrupted=running)
        if signal.after_stop and (read_request(signal.after_stop).question or blocked):
            reason += f", then asks '{signal.after_stop}': '{name}' closes, and that is answered"
            return Route("knowledge", "knowledge", "stop_question", reason, signal,
                         interrupted=running)  # fmt: skip
        return Route("close", "close", "stop", reason, signal, interrupted=running)
    if signal.why:
        reason = (
            f"procedure '{name}' waits for '{slot}'; the end user asks why ('{signal.why}'): "
            "a line saying why, then it asks again"
        )
        return Route("small_talk", "small_talk", "why", reason, signal, interrupted=running)
    kind = ctx.understanding.small_talk_kind
    if kind == "goodbye":
        reason = f"procedure '{name}' waits for '{slot}'; {_small_talk(ctx)}"
        return Route("close", "close", "goodbye", reason, signal, interrupted=running)
    if kind is not None:
        reason = f"procedure '{name}' waits for '{slot}'; {_small_talk(ctx)}, then it asks again"
        return Route("small_talk", "small_talk", "small_talk", reason, signal,
                     interrupted=running)  # fmt: skip
    if signal.unable and _about(ctx.message, step.ask.prompt):
        reason = (
            f"procedure '{name}' waits for '{slot}'; the end user says they cannot give it "
            f"('{signal.unable}', naming what the question asks for): the procedure's to judge"
        )
        return Route("procedure", "slot", "slot", reason, signal, running=running)
    if other is not None and other != name:
        intent, switch = ctx.understanding.intent, _switch_threshold(ctx.config)
        reason = (
            f"procedure '{name}' waits for '{slot}'; the message is no value for it but a "
            f"request for procedure '{other}' ({_words(signal)})"
        )
        if intent.confidence >= switch:
            reason += f": '{name}' closes, '{other}' starts"
            return Route("procedure", f"procedure:{other}", "switch", reason, signal,
                         interrupted=running)  # fmt: skip
        reason += (
            f", with intent '{intent.label}' at {intent.confidence:.2f}, below the {switch:.2f} "
            "a switch asks (thresholds.switch): answered from knowledge, then the procedure "
            "asks again"
        )
        return Route("knowledge", "knowledge", "question", reason, signal, interrupted=running)
    if (signal.question or blocked) and other is None:
        what = "question" if signal.question else f"request no procedure takes ({_kind(signal)})"
        reason = (
            f"procedure '{name}' waits for '{slot}'; the message is no value for it but a "
            f"{what}: answered from knowledge, then the procedure asks again"
        )
        return Route("knowledge", "knowledge", "question", reason, signal, interrupted=running)
    reason = f"continuing procedure '{name}': the message is its to judge as '{slot}'"
    return Route("procedure", "slot", "slot", reason, signal, running=running)


def _switch_threshold(config: AgentConfig) -> float:
    """The intent confidence that leaves a waiting procedure for another: `thresholds.switch`,
    never below `thresholds.intent` (the answers given so far are lost)."""
    return max(config.thresholds.intent, config.thresholds.switch)


def _about(message: str, prompt: str) -> bool:
    """The message names something the procedure's question names ("I forgot which email I
    used" after "And the email address you used for that order?")."""
    return bool(set(content_terms(message)) & set(content_terms(prompt)))


def _not_helped_again(ctx: TurnContext) -> str | None:
    """Why a person takes over when the end user says the last reply did not help (rule
    not_helped): they say it again right after the agent's sorry, or they are upset."""
    if ctx.understanding.small_talk_kind != "not_helped":
        return None
    cues = upset(ctx.understanding.sentiment)
    if cues is None and SORRY not in last_reply(ctx.state.history):
        return None
    why = f"the end user is upset ({cues})" if cues else "said again after the agent's sorry"
    return f"{_small_talk(ctx)}; {why}: a person takes over"


def small_talk_line(ctx: TurnContext, route: Route) -> str:
    """The reply to small talk (agent.understand.small_talk.reply_line), naming the tenant's
    procedures when it asks what the agent can do."""
    if route.rule == "why":
        return WHY_LINE
    if route.rule == "again":
        return f"{SAID_AGAIN} {route.said}"
    if route.rule == "yes_no":
        return route.said
    runner = ctx.agent.procedures if ctx.config.enabled("procedures") else None
    requests = [p.title for p in runner.procedures] if runner is not None else []
    kind, waiting = ctx.understanding.small_talk.label, route.interrupted is not None
    return reply_line(kind, ctx.config.disclosure, waiting, requests)


def _small_talk(ctx: TurnContext) -> str:
    found = ctx.understanding.small_talk
    phrases = found.detail.get("phrases", [])
    said = ", ".join(f"'{p}'" for p in phrases) if isinstance(phrases, list) else ""
    reason = f"the message is small talk ({found.label}: {said or 'no words'}): a line of its own"
    if ctx.understanding.wants_human:  # rule 2 let it through: it asks what the agent is
        reason += "; it names a person but asks whether the agent is one, so no handoff"
    return reason


def _kind(signal: RequestSignal) -> str:
    if signal.ending:
        return f"to end something ({', '.join(signal.ending)})"
    return f"when something will happen ('{signal.timing}')"


def _words(signal: RequestSignal) -> str:
    return ", ".join(signal.evidence) or "no marker words"


def after_interruption(reply: Reply, route: Route, runner: ProcedureRunner) -> Reply:
    """The reply to an interrupting message, with the line about the interrupted procedure:
    closed on a switch, after a stop, or when the question was handed off, asked again
    otherwise."""
    state = route.interrupted
    if state is None:
        return reply
    if route.rule in ("question", "small_talk", "why") and reply.decision != "handoff":
        return _amend(reply, after=resume_line(runner, state))
    amended = _amend(reply, before=stopped_line(runner, state))
    return amended if route.rule == "switch" else replace(amended, procedure_state=None)


def _amend(reply: Reply, before: str = "", after: str = "") -> Reply:
    def join(text: str) -> str:
        return " ".join(part for part in (before, text, after) if part)

    text = reply.text if reply.decision == "draft" else join(reply.text)
    return replace(reply, text=text, draft_text=join(reply.draft_text))
