"""Admin-defined procedures: the YAML schema, slot validation, and the run state.

One YAML file holds one procedure: the intents that trigger it, example utterances for
them, the document ids its replies cite, and a list of steps. Each step is exactly one of
`ask`, `action`, `branch`, `reply` or `handoff`. Loading, with the cross-step checks that
name the file, is in `agent.procedures.load`; running is in `agent.procedures.runner`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

import regex  # type: ignore[import-untyped, unused-ignore]
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from agent.procedures.actions import ActionResult
from agent.procedures.connections import CONNECTION_NAME, MAX_TIMEOUT_S, MIN_TIMEOUT_S
from agent.procedures.language import NAME, Condition, as_text, parse_condition
from agent.understand.records import intent_name_problem
from knowledge.errors import ClearlineError

logger = logging.getLogger(__name__)

STEP_KINDS = ("ask", "action", "branch", "reply", "handoff")
# An admin's slot pattern runs on end users' messages: Python's re backtracks exponentially
# on nested quantifiers ('^(\d+)+$' on 40 digits and a letter: hours) and holds the GIL
# meanwhile, so one message froze every tenant. Patterns run in the regex module, which
# releases the GIL and stops after this long; a message that runs out of time is no value.
PATTERN_TIMEOUT_S = 0.05
DEFAULT_ORDER_ID = r"\b\d{8,12}\b"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
# a space or dash between digits, as an order number is often typed; an order_id slot reads
# the message without them when it finds no number as it is
DIGIT_GAP = re.compile(r"(?<=\d)[ -](?=\d)")


def _search(pattern: str, text: str) -> regex.Match[str] | None:
    """`pattern`'s first match in `text`, or None, also when it runs out of time."""
    try:
        return regex.search(pattern, text, timeout=PATTERN_TIMEOUT_S, concurrent=True)
    except TimeoutError:
        logger.warning("slot pattern %r ran out of time on a message of %d characters; "
                       "taken as no value", pattern, len(text))  # fmt: skip
        return None


class ProcedureError(ClearlineError):
    """A procedure file is invalid, or a procedure was used the wrong way."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Validation(_Strict):
    """How an answer is checked; `extract` finds the value inside a whole message."""

    kind: Literal["email", "order_id", "number", "choice", "regex", "text"] = "text"
    choices: list[str] | dict[str, list[str]] | None = None
    pattern: str | None = None
    minimum: float | None = Field(default=None, alias="min")
    maximum: float | None = Field(default=None, alias="max")
    max_length: int = Field(default=500, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> Validation:
        if self.kind == "choice" and not self.choices:
            raise ValueError("validate kind 'choice' needs 'choices'")
        if self.kind == "regex" and not self.pattern:
            raise ValueError("validate kind 'regex' needs 'pattern'")
        if self.pattern is not None:
            try:
                regex.compile(self.pattern)
            except regex.error as error:
                raise ValueError(f"pattern '{self.pattern}' is not a regex: {error}") from None
        return self

    def synonyms(self) -> dict[str, list[str]]:
        if isinstance(self.choices, dict):
            return {key: [key, *words] for key, words in self.choices.items()}
        return {choice: [choice] for choice in self.choices or []}

    def extract(self, message: str) -> Any | None:
        """The valid value found in `message`, or None."""
        text = message.strip()
        if self.kind == "email":
            found = EMAIL.search(text)
            return found.group(0).lower() if found else None
        if self.kind in ("order_id", "regex"):
            found = _search(self.pattern or DEFAULT_ORDER_ID, text)
            if found is None and self.kind == "order_id":  # "334-891-7502", "3348 917 502"
                found = _search(self.pattern or DEFAULT_ORDER_ID, DIGIT_GAP.sub("", text))
            if found is None:
                return None
            return found.group(1) if found.re.groups else found.group(0)
        if self.kind == "number":
            found = NUMBER.search(text.replace("$", ""))
            if found is None:
                return None
            number = float(found.group(0).replace(",", "."))
            too_low = self.minimum is not None and number < self.minimum
            too_high = self.maximum is not None and number > self.maximum
            return None if too_low or too_high else number
        if self.kind == "choice":
            lowered = text.casefold()
            hits = {
                key
                for key, words in self.synonyms().items()
                if any(re.search(rf"\b{re.escape(w.casefold())}\b", lowered) for w in words)
            }
            return hits.pop() if len(hits) == 1 else None
        return text if 0 < len(text) <= self.max_length else None

    def hint(self) -> str:
        """What a valid answer looks like, for the re-ask message."""
        if self.kind == "email":
            return "That doesn't look like an email address (for example name@example.com)."
        if self.kind == "order_id":
            return "I couldn't find an order number in that (it is the number on your receipt)."
        if self.kind == "number":
            bounds = [f"at least {as_text(self.minimum)}"] if self.minimum is not None else []
            bounds += [f"at most {as_text(self.maximum)}"] if self.maximum is not None else []
            return "Please answer with a number" + (f" ({', '.join(bounds)})." if bounds else ".")
        if self.kind == "choice":
            return "Please answer with one of: " + ", ".join(self.synonyms()) + "."
        if self.kind == "regex":
            return "That doesn't look right."
        return f"Please answer in at most {self.max_length} characters."


class Ask(_Strict):
    slot: str = Field(pattern=f"^{NAME}$")
    prompt: str
    check: Validation = Field(default_factory=Validation, alias="validate")
    invalid: str | None = None  # re-ask message; default is the validation hint
    max_attempts: int | None = Field(default=None, ge=1)
    personal: bool | None = None  # masked in traces; default: every kind but number/choice
    # Read from any message (the first, or one that answers another question); default:
    # email, order_id, regex. Such a value in a message also makes it a request for the
    # procedure (agent/route.py), so a broad pattern (a 4-digit PIN) should set it false.
    from_first_message: bool | None = None

    def is_personal(self) -> bool:
        return (
            self.personal
            if self.personal is not None
            else self.check.kind
            not in (
                "number",
                "choice",
            )
        )

    def prefills(self) -> bool:
        if self.from_first_message is not None:
            return self.from_first_message
        return self.check.kind in ("email", "order_id", "regex")


class Action(_Strict):
    """An HTTP call through one of the tenant's connections: `url` is a path appended to
    the connection's base URL (`/orders/lookup`), or an absolute URL on one of its origins.
    The connection's secret headers go with every call; procedures never name secrets."""

    name: str = Field(pattern=f"^{NAME}$")
    connection: str = Field(pattern=CONNECTION_NAME)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    body: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float | None = Field(default=None, ge=MIN_TIMEOUT_S, le=MAX_TIMEOUT_S)
    high_impact: bool = False
    describe: str | None = None  # what the approver is asked to allow

    @model_validator(mode="before")
    @classmethod
    def _connections_not_secrets(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            if old := sorted({"secret", "secret_header"} & set(raw)):
                raise ValueError(
                    f"'{old[0]}' is no longer an action field: secrets belong to the "
                    "tenant's connection and go with every call through it; name the "
                    "connection with 'connection: NAME'"
                )
            if "connection" not in raw:
                raise ValueError(
                    "an action needs 'connection: NAME', one of the tenant's action "
                    "connections (its base URL, allowed origins and secret headers)"
                )
        return raw


class BranchRule(_Strict):
    when: str | None = None
    otherwise: bool = False
    goto: str
    _condition: Condition | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one(self) -> BranchRule:
        if (self.when is None) == (not self.otherwise):
            raise ValueError("a branch rule needs either 'when: <condition>' or 'otherwise: true'")
        if self.when is not None:
            self._condition = parse_condition(self.when)
        return self

    @property
    def condition(self) -> Condition | None:
        return self._condition

    def describe(self) -> str:
        return self.when if self.when is not None else "otherwise"


class Step(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    ask: Ask | None = None
    action: Action | None = None
    branch: list[BranchRule] | None = None
    reply: str | None = None
    handoff: str | None = None  # the reason, for the human who takes over
    say: str | None = None  # handoff: what the end user is told
    save_as: str | None = Field(default=None, pattern=f"^{NAME}$")
    on_error: str | None = None  # action: a step id, or "continue"; default hands off
    end: bool = True  # reply: False continues with the next step
    next: str | None = None  # go here instead of the following step

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [kind for kind in STEP_KINDS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            found = " and ".join(kinds) or "no kind"
            raise ValueError(f"has {found}; give exactly one of {', '.join(STEP_KINDS)}")
        misplaced = [
            name
            for name, allowed in (("save_as", "action"), ("on_error", "action"), ("say", "handoff"))
            if getattr(self, name) is not None and kinds[0] != allowed
        ]
        if misplaced:
            raise ValueError(f"'{misplaced[0]}' is not allowed on a {kinds[0]} step")
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in STEP_KINDS if getattr(self, kind) is not None)

    def terminal(self) -> bool:
        """True when the step never falls through to the following one."""
        if self.handoff is not None or (self.reply is not None and self.end):
            return True
        if self.branch is not None:
            return any(rule.otherwise for rule in self.branch)
        return self.next is not None


class Procedure(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    intents: list[str] = Field(min_length=1)
    examples: list[str] | dict[str, list[str]]
    citations: list[str] = Field(default_factory=list)
    max_attempts: int = Field(default=3, ge=1)
    steps: list[Step] = Field(min_length=1)
    _source: str = PrivateAttr(default="")
    _variables: frozenset[str] = PrivateAttr(default=frozenset())

    @field_validator("intents")
    @classmethod
    def _intent_names(cls, intents: list[str]) -> list[str]:
        for name in intents:
            problem = intent_name_problem(name)
            if problem:
                raise ValueError(problem)
        return intents

    @property
    def source(self) -> str:
        """The file (or text name) the procedure was loaded from."""
        return self._source

    @property
    def variables(self) -> frozenset[str]:
        """Run-time variables (values the runner is given) this procedure uses."""
        return self._variables

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise ProcedureError(f"procedure '{self.id}' has no step '{step_id}'")

    def following(self, step: Step) -> str | None:
        """The step after `step`: its `next`, else the one below it."""
        if step.next is not None:
            return step.next
        index = self.steps.index(step)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None

    def slots(self) -> dict[str, Ask]:
        return {step.ask.slot: step.ask for step in self.steps if step.ask is not None}

    def values_in(self, message: str) -> dict[str, str]:
        """The values `message` holds for slots whose ask reads them from any message (email,
        ids)."""
        readable = {slot: ask for slot, ask in self.slots().items() if ask.prefills()}
        found = {slot: ask.check.extract(message) for slot, ask in readable.items()}
        return {slot: value for slot, value in found.items() if value is not None}

    def prefill(self, state: ProcedureState, message: str) -> list[str]:
        """Fill still-unknown slots from `values_in(message)`; the slots filled."""
        return self.carry(state, self.values_in(message))

    def same_case(self, other: Procedure) -> bool:
        """Whether this procedure asks for the slot `other` asks for first, the one that names
        its case (an order number; an account's email): "Can I return it?" after the order
        lookup is about the same order, a password reset after it is about no order."""
        first = next(iter(other.slots()), None)
        return first is not None and first in self.slots()

    def carry(self, state: ProcedureState, values: dict[str, Any]) -> list[str]:
        """Fill still-unknown slots that read their value from any message (`values_in`) with
        `values` for them: a message's (`prefill`), or those another procedure of the
        conversation was given; the slots filled."""
        readable = {slot for slot, ask in self.slots().items() if ask.prefills()}
        found = {s: v for s, v in values.items() if s in readable and s not in state.slots}
        state.slots.update(found)
        return list(found)

    def examples_by_intent(self) -> dict[str, list[str]]:
        if isinstance(self.examples, dict):
            return {intent: list(self.examples.get(intent, [])) for intent in self.intents}
        return {self.intents[0]: list(self.examples)}


# -- run state ----------------------------------------------------------------------------

Status = Literal["running", "waiting_input", "waiting_approval", "done", "handoff"]
Decision = Literal["ask", "reply", "handoff", "needs_approval"]


class PendingAction(BaseModel):
    """A rendered high-impact call waiting for approval; approval runs exactly this."""

    step_id: str
    name: str
    connection: str = ""  # its secrets are looked up when the action runs, never stored
    method: str
    url: str  # resolved: the absolute URL that will be called
    body: dict[str, Any] = Field(default_factory=dict)
    describe: str


class ProcedureState(BaseModel):
    """Where a running procedure is: everything needed to continue it on the next turn."""

    procedure_id: str
    step_id: str | None
    status: Status = "running"
    slots: dict[str, Any] = Field(default_factory=dict)
    results: dict[str, dict[str, Any]] = Field(default_factory=dict)
    attempts: dict[str, int] = Field(default_factory=dict)
    pending: PendingAction | None = None
    handoff_reason: str | None = None
    # a procedure that is done: the reply it ended with, kept while the end user asks about
    # the case it answered (agent/route.py, rule again)
    said: str = ""

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> ProcedureState:
        return cls.model_validate_json(text)


@dataclass(frozen=True)
class StepOutcome:
    """What one turn produced: the text for the end user and what should happen next."""

    text: str
    citations: list[str]
    state: ProcedureState
    decision: Decision
    events: list[dict[str, Any]]
    action: ActionResult | None = None  # approve(): the approved action's result
