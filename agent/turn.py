"""One conversation turn, as explicit steps:
understand -> route -> retrieve -> compose -> verify -> decide, recorded in a Trace.

Rules of the decide step, in order (the trace names the one that applied):
0. a message that looks like a prompt injection hands off (agent.understand.screening);
   retrieved paragraphs that look like one never reach the composer
   (agent.answer.passage_screening; listed in the retrieve step);
1. an explicit request for a human hands off, in any language;
2. a procedure's own outcome (ask, reply, hand off, or wait for approval) stands;
3. a knowledge reply is sent when P(answerable) >= thresholds.answer and at least one
   sentence survived verification; between thresholds.clarify and thresholds.answer the
   agent asks a clarifying question that names the topics of the passages written for
   customers (agent.answer.clarify; once; a second time, or when the end user is upset
   (agent.understand.sentiment.upset), it hands off); below, it hands off; a message
   in another language than the passages, not answered, is asked once for that language
   instead (agent.answer.language_reply);
4. autonomy: in copilot mode (or per-intent mode for an intent not listed) a reply becomes a
   draft that a human approves before the end user sees it (agent/decide.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from agent.answer.answerability import AnswerabilityModel
from agent.answer.clarify import chosen, guidelines_speak_to, naming, topics
from agent.answer.compose_step import compose_step
from agent.answer.judge import AnswerabilityJudge
from agent.answer.language_reply import language_mismatch, same_language
from agent.answer.lists import join_quotes
from agent.answer.passage_screening import screen_chunks
from agent.answer.planted import PlantedSentenceFilter
from agent.answer.reading import PassageReader, Reading
from agent.answer.rewrite import rewrite_query
from agent.answer.verify import Verification, Verifier
from agent.decide import (
    DRAFT_TEXT,
    HANDOFF_TEXT,
    OWN_QUESTION_TEXT,
    finish,
    handoff,
    skip_answer_steps,
)
from agent.llm.chat import ChatModel
from agent.procedures.interrupted import saved_procedure, stopped_line
from agent.procedures.runner import ProcedureState, StepOutcome
from agent.reasons import answer_rule, injection_rule, no_answer_reason
from agent.replies import (
    Citation,
    ConversationState,
    Outcome,
    Reply,
    TenantAgent,
    TurnContext,
)
from agent.route import Route, after_interruption, choose_route, small_talk_line
from agent.trace import Decision, Trace, TraceStore
from agent.understand.detect import detect_all
from agent.understand.records import Understanding
from agent.understand.request import without_asking_to_be_told, without_stopping
from agent.understand.sentiment import upset
from agent.understand.small_talk import ANYTHING_ELSE, GOODBYE, conversation_so_far
from agent.understand.subject import read_subject
from knowledge.planted import PlantedInstructionClassifier
from knowledge.protocols import Embedder
from knowledge.query import Query
from knowledge.retrieve import Retriever, SearchResult
from knowledge.spelling import corrected

RETRIEVE_K = 10


class Agent:
    """Runs turns for any tenant; per-tenant parts come in with each call."""

    def __init__(
        self,
        retriever_for: Callable[[str], Retriever],
        embedder: Embedder,
        term_weights: Callable[[str, Sequence[str]], dict[str, float]],
        absent_words: Callable[[str, Sequence[str]], list[str]],
        traces: TraceStore,
        chat: ChatModel | None = None,
        models: dict[str, str] | None = None,
        answerability: AnswerabilityJudge | None = None,
        corrections: Callable[[str, str], dict[str, str]] | None = None,
    ) -> None:
        """`corrections(tenant, message)`: its misspelt words -> the words of the tenant's
        knowledge they stand for (knowledge.spelling); None corrects nothing."""
        self._retriever_for = retriever_for
        self._corrections = corrections
        # the model loads on first use
        self._answerability = answerability or AnswerabilityJudge(AnswerabilityModel(embedder))
        self._embedder = embedder
        self._planted = PlantedSentenceFilter(PlantedInstructionClassifier(embedder))
        self._term_weights = term_weights
        self._absent_words = absent_words
        self._traces = traces
        self._chat = chat
        self._models = models or {}

    @property
    def traces(self) -> TraceStore:
        return self._traces

    def respond(self, agent: TenantAgent, state: ConversationState, message: str) -> Reply:
        started = time.perf_counter()
        config = agent.config
        trace = Trace(
            tenant=agent.tenant,
            conversation_id=state.conversation_id,
            config_version=config.version,
            models=dict(self._models),
            question=message,
        )
        understanding = self._understand(agent, message, trace)
        reply = self._route_and_answer(TurnContext(agent, state, message, understanding, trace))
        trace.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        trace.reply = reply.draft_text
        trace.citations = sorted({c.document_id for c in reply.citations})
        self._traces.save(trace)
        return reply

    # -- understand ------------------------------------------------------------------

    def _understand(self, agent: TenantAgent, message: str, trace: Trace) -> Understanding:
        with trace.timed("understand", message=message) as step:
            spell = self._corrections
            found = detect_all(
                message, agent.config, agent.intents,
                None if spell is None else lambda text: spell(agent.tenant, text),
            )  # fmt: skip
            skipped = ", ".join(found.skipped)
            step.reason = f"features off, skipped: {skipped}" if skipped else "all detectors ran"
            predictions = found.predictions()
            step.outputs = {
                name: {"label": p.label, "confidence": round(p.confidence, 4), "detail": p.detail}
                for name, p in predictions.items()
            }
            step.scores = {name: p.confidence for name, p in predictions.items()}
        return found.understanding

    # -- route and the rest ----------------------------------------------------------

    def _route_and_answer(self, ctx: TurnContext) -> Reply:
        """The route of the message and the reply it leads to. A procedure that finished on
        the turn before is remembered (its reply, for rule again of agent/route.py) only
        while the end user keeps asking about its case."""
        saved = saved_procedure(ctx.state.procedure_state)
        with ctx.trace.timed("route", intent=ctx.understanding.intent.label) as step:
            route = choose_route(ctx, saved, injection_rule(ctx.trace))  # agent/route.py
            step.reason = route.reason
            step.outputs = route.outputs()
        reply = self._answer(ctx, route)
        carried = reply.procedure_state == ctx.state.procedure_state
        if carried and route.rule != "again" and saved.done is not None:
            return replace(reply, procedure_state=None)
        return reply

    def _answer(self, ctx: TurnContext, route: Route) -> Reply:
        runner = ctx.agent.procedures
        if route.kind == "handoff":
            return handoff(ctx, rule=route.reason)
        if route.kind == "close" and runner is not None and route.interrupted is not None:
            skip_answer_steps(ctx.trace, "the end user stopped the procedure")
            after = GOODBYE if route.rule == "goodbye" else ANYTHING_ELSE
            text = f"{stopped_line(runner, route.interrupted)} {after}"
            return finish(ctx, text, "answered", 1.0, [], None, rule=route.reason)
        if route.kind == "small_talk":
            skip_answer_steps(ctx.trace, "small talk: the reply is a line of its own")
            text, state = small_talk_line(ctx, route), ctx.state.procedure_state
            reply = finish(ctx, text, "answered", 1.0, [], state, rule=route.reason)
        elif route.kind == "procedure":
            reply = self._procedure(ctx, route.running, route.after)
        else:
            reply = self._knowledge(ctx, route.interrupted is not None, route.procedures_own)
        return reply if runner is None else after_interruption(reply, route, runner)

    def _procedure(
        self, ctx: TurnContext, running: ProcedureState | None, after: ProcedureState | None
    ) -> Reply:
        runner, trace, understanding = ctx.agent.procedures, ctx.trace, ctx.understanding
        assert runner is not None  # routed here only when the tenant has procedures
        with trace.timed("retrieve") as step:
            if running is not None:
                outcome: StepOutcome = runner.resume(running, ctx.message)
            else:
                procedure_id = ctx.agent.procedure_intents[understanding.intent.label]
                outcome = runner.start(procedure_id, ctx.message, after)
            step.reason = f"procedure '{outcome.state.procedure_id}' steps ran"
            step.outputs = {"events": outcome.events, "status": outcome.state.status}
        trace.skip("compose", "the procedure's own templated text is the reply")
        trace.skip("verify", "procedure replies are templates written by the admin")
        procedure_state = (
            outcome.state.to_json()
            if outcome.state.status in ("running", "waiting_input", "waiting_approval")
            else None
        )
        if outcome.state.status == "done" and outcome.decision == "reply":  # remembered
            procedure_state = outcome.state.model_copy(update={"said": outcome.text}).to_json()
        citations = [Citation(d, d, "") for d in outcome.citations]
        if outcome.decision == "handoff":
            reason = outcome.state.handoff_reason or "the procedure handed off"
            line = outcome.text or HANDOFF_TEXT  # the step's `say`, for the end user
            reply = handoff(ctx, rule=f"procedure: {reason}", text=line)
            return replace(reply, procedure_state=procedure_state)
        if outcome.decision == "needs_approval":
            rule = "a high-impact action needs a human's approval before it runs"
            with trace.timed("decide") as step:
                step.reason = rule
                step.outputs = {"decision": "draft", "pending": outcome.state.pending}
            trace.decision = Decision(
                decision="draft", proposed="answered", confidence=1.0, rule=rule
            )
            return Reply(
                outcome.text or DRAFT_TEXT, outcome.text, "draft", "answered", 1.0, citations,
                trace, procedure_state, None, understanding.intent.label, needs_approval=True,
            )  # fmt: skip
        proposed: Outcome = "answered" if outcome.decision == "reply" else "clarify"
        # Starting a procedure is as sure as the intent; its later steps follow its rules.
        confidence = understanding.intent.confidence if running is None else 1.0
        return finish(
            ctx, outcome.text, proposed, confidence, citations, procedure_state,
            rule=f"procedure step ({outcome.decision})",
        )  # fmt: skip

    def _knowledge(self, ctx: TurnContext, alone: bool = False, procedures_own: str = "") -> Reply:
        """Answer from the tenant's knowledge. A change of subject is searched and read with
        the scenario but without the earlier turns, which would pull the search toward the
        old topic: `alone`, when the message interrupts a waiting procedure as a new
        question (agent/route.py), or when it names a subject of its own
        (agent/understand/subject.py). The earlier turns never hold small talk, what a goodbye
        ended (agent.understand.small_talk.conversation_so_far), or turns in another language
        (agent.answer.language_reply.same_language). Misspelt words of a message not surely in
        another language than English are searched and read as the knowledge's words they
        stand for (the understand step's `corrections`, which the intent was predicted with
        too; the retrieve step lists them). A phrase that asks to be told ("I'd like to know
        more about shipping") is left out of what is searched and read
        (agent.understand.request.without_asking_to_be_told), and so is a stop phrase before a
        question ("Forget it. How long does shipping take?", `without_stopping`).
        `procedures_own`: the message interrupts a waiting procedure with a question of that
        procedure's own intent; when the knowledge does not answer it, the reply says the
        procedure is finding it out (OWN_QUESTION_TEXT) instead of asking back or handing
        off."""
        agent, config, state, trace = ctx.agent, ctx.config, ctx.state, ctx.trace
        language = ctx.understanding.language
        fixed = ctx.understanding.corrections  # none for a message surely in another language
        message = without_asking_to_be_told(without_stopping(corrected(ctx.message, fixed)))
        earlier = same_language(conversation_so_far(state.history), language)  # no small talk
        if (choice := chosen(earlier, message)) is not None:  # answers "Do you mean ...?"
            message, earlier = f"{choice.question} {choice.option}", earlier[:-2]
        if alone:
            history = "set aside: the message interrupts a procedure"
        else:
            subject = read_subject(
                message, earlier, language.label,
                lambda words: self._absent_words(agent.tenant, words),
            )  # fmt: skip
            alone = subject.new
            history = f"{'set aside' if alone else 'kept'}: {subject.reason}"
        query = Query(message, () if alone else earlier, state.scenario)
        with trace.timed("retrieve") as step:
            if config.enabled("query_rewriting") and self._chat is not None:
                query = rewrite_query(self._chat, query)
                step.generative = True
                step.model = self._chat.name
            elif config.enabled("query_rewriting"):
                step.reason = "query_rewriting is on but no chat model is configured"
            result: SearchResult = self._retriever_for(agent.tenant).search(
                agent.tenant, query, k=RETRIEVE_K
            )
            screening = screen_chunks(result.chunks)  # injected paragraphs never reach compose
            planted = self._planted.screen(screening.chunks)  # nor planted instructions
            result = replace(result, chunks=planted.chunks)
            reader = PassageReader(self._embedder, lambda w: self._term_weights(agent.tenant, w))
            resolved = result.resolved
            current = resolved.current if resolved.has_history else None
            reading: Reading = reader.read(message, resolved.context, result.chunks, current)
            judged = self._answerability.judge(config, query, result.chunks, reading)
            reading = judged.reading  # P(answerable) from the configured reader
            trace.models["answerability"] = self._answerability.reader_name(config)
            step.inputs = {
                "query": query.text,
                "context": result.resolved.context,
                "history": history,
                "spelling": fixed,
            }
            step.outputs = {
                "method": result.method,
                "chunks": [
                    {"chunk_id": c.chunk.chunk_id, "document_id": c.chunk.document_id,
                     "title": c.title, "score": round(c.score, 4), "text": c.chunk.text}
                    for c in result.chunks
                ],
                "missing_terms": reading.missing_terms,
                "answerability_read": list(judged.model_read),
                "excluded_sentences": [
                    e.as_dict() for e in (*screening.excluded, *planted.excluded)
                ],
            }  # fmt: skip
            step.scores = judged.scores()
        # the agent's answer just before, past small talk ("thanks") and its line
        answered = state.last_decision == "answered" and bool(earlier)
        said = earlier[-1].text if answered and earlier[-1].role == "assistant" else ""
        draft = compose_step(
            trace, config, self._chat, message, reading, result, said, judged.unlikely()
        )
        verifier = Verifier(self._embedder, config.thresholds.support)
        with trace.timed("verify") as step:
            verification: Verification = verifier.check(draft)
            step.outputs = {
                "sentences": [
                    {"text": c.text, "chunk_ids": list(c.chunk_ids), "support": c.support,
                     "supported": c.supported}
                    for c in verification.checks
                ]
            }  # fmt: skip
            step.scores = {"groundedness": verification.groundedness}
            removed = len(verification.checks) - len(verification.kept)
            step.reason = (
                f"{removed} of {len(verification.checks)} sentences removed as unsupported"
            )
        confidence = reading.answerability  # decides; replies carry P(right), below
        kept = verification.kept
        thresholds = judged.thresholds  # `answer` resolved to the reader's own when unset
        found = kept[0].text if kept else ""
        if kept and confidence >= judged.answer:
            chunks = draft.chunks
            citations = [
                Citation(
                    chunks[c.chunk_ids[0]].chunk.document_id, chunks[c.chunk_ids[0]].title, c.text
                )
                for c in kept
            ]
            text = join_quotes([c.text for c in kept])
            return finish(
                ctx, text, "answered", judged.reply_confidence(True), citations,
                state.procedure_state, rule=answer_rule(confidence, thresholds, len(kept)),
            )  # fmt: skip
        why = no_answer_reason(confidence, thresholds, len(kept), len(draft.sentences))
        asked_back = _asked_back(state)
        mismatch = language_mismatch(language, result.chunks)
        if mismatch is not None and not asked_back:  # says which language it can answer in
            return finish(
                ctx, mismatch.line, "clarify", judged.reply_confidence(False), [],
                state.procedure_state, rule=f"{why}; {mismatch.reason}",
            )  # fmt: skip
        cues = upset(ctx.understanding.sentiment)  # upset: a person, not a question back
        if procedures_own and cues is None:
            return finish(
                ctx, OWN_QUESTION_TEXT, "clarify", ctx.understanding.intent.confidence, [],
                state.procedure_state, rule=f"{why}; the question has intent '{procedures_own}',"
                " the waiting procedure's own: the procedure finds it out",
            )  # fmt: skip
        if confidence >= thresholds.clarify and not asked_back and cues is None:
            about, offered = result.resolved.current, draft.chunks.values()
            options = topics(offered, about=about)
            guidelines = guidelines_speak_to(offered, about)
            return finish(
                ctx, naming(options, more_found=guidelines), "clarify",
                judged.reply_confidence(False), [],
                state.procedure_state,
                rule=f"{why}, but >= clarify threshold {thresholds.clarify}: ask once, "
                f"naming the topics found ({'; '.join(options) or 'none'}"
                f"{'; guidelines for the agent, not named' if guidelines else ''})",
            )  # fmt: skip
        if cues is not None:
            why += f"; the end user is upset ({cues}): a person takes over"
        elif asked_back:
            why += "; already asked to clarify"
        sure = judged.reply_confidence(False)
        return handoff(ctx, why, found, sure, sorry=cues is not None)


def _asked_back(state: ConversationState) -> bool:
    """Whether the agent's last reply asked the end user to clarify. A reply that ends with a
    waiting procedure's question for its value (the procedure's own ask, or an interrupting
    question's reply followed by that ask again) asked for the value, not to clarify: the
    next question, if it is one, is a new one."""
    if state.last_decision != "clarify":
        return False
    running = saved_procedure(state.procedure_state).running
    return running is None or running.status != "waiting_input"
