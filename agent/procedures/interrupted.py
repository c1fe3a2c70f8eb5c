"""The procedure saved with a conversation, as a turn reads it, whether a question asks
about the procedure's own question, and the lines the agent says about a procedure it
interrupted: closed, or its question again (agent/route.py `after_interruption`)."""

from __future__ import annotations

from typing import NamedTuple

from agent.answer.reading import content_terms
from agent.procedures.language import render
from agent.procedures.model import Ask
from agent.procedures.runner import ProcedureRunner, ProcedureState


class Saved(NamedTuple):
    """The procedure saved with the conversation, read once a turn: `running` is one that
    runs or waits for a value, `done` one that finished with a reply still remembered (rule
    again); at most one of them is set."""

    running: ProcedureState | None
    done: ProcedureState | None


def saved_procedure(procedure_state: str | None) -> Saved:
    """`Saved` from the conversation's stored procedure state (JSON or None)."""
    state = ProcedureState.from_json(procedure_state) if procedure_state else None
    if state is not None and state.status in ("running", "waiting_input"):
        return Saved(state, None)
    if state is not None and state.status == "done" and state.said:
        return Saved(None, state)
    return Saved(None, None)


# words that ask what the question means ("What do you mean?"), and what a choice offers
# ("What are my options?")
MEANING_WORDS = "mean meant"
OPTION_WORDS = "option options choice choices choose alternative alternatives"


def about_the_question(message: str, ask: Ask | None) -> bool:
    """The message names nothing but what the waiting question names, what it means, or, for
    a choice, its options ("How?", "Which email do you mean?", "What are my options?"): the
    procedure's to judge, and its hint says what it asks for. A question with a word of its
    own ("Which is fastest?") is searched in the knowledge. False when no question waits."""
    if ask is None:
        return False
    named = set(content_terms(f"{ask.prompt} {MEANING_WORDS}"))
    if ask.check.kind == "choice":
        named |= set(content_terms(OPTION_WORDS))
    return set(content_terms(message)) <= named


def title(runner: ProcedureRunner, state: ProcedureState) -> str:
    return runner.procedures.get(state.procedure_id).title


def stopped_line(runner: ProcedureRunner, state: ProcedureState) -> str:
    """The line that tells the end user a procedure was closed."""
    return f'I\'ve stopped "{title(runner, state)}".'


def resume_line(runner: ProcedureRunner, state: ProcedureState) -> str:
    """The waiting procedure's question again, after an answered interruption."""
    step = runner.procedures.get(state.procedure_id).step(state.step_id or "")
    assert step.ask is not None  # only waiting ask steps are interrupted
    scope = {**runner.variables, **state.slots, **state.results}
    return f'Back to "{title(runner, state)}": {render(step.ask.prompt, scope)}'
