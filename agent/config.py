"""A tenant's agent configuration: autonomy, thresholds, AI feature switches, notices."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

Autonomy = Literal["copilot", "autonomous", "per_intent"]
Reader = Literal["model", "features"]

# name -> (what it does, whether it uses a generative model)
FEATURES: dict[str, tuple[str, bool]] = {
    "intent_prediction": ("Predict the intent of each message to trigger procedures.", False),
    "sentiment": (
        "Estimate the end user's sentiment; the trace records it and the handoff summary "
        "shows it to the human agent (it does not change the route).",
        False,
    ),
    "procedures": ("Run admin-defined procedures when their intent is recognised.", False),
    "generative_composition": (
        "Compose replies with the configured chat model instead of quoting passages.",
        True,
    ),
    "query_rewriting": (
        "Rewrite follow-up questions into standalone ones with the configured chat model.",
        True,
    ),
    "quality_scoring": (
        "Score every reply in the background (groundedness, relevance, correctness) and queue "
        "replies for QA review.",
        False,
    ),
}

# Generative features stay off until an admin turns them on (and configures a chat model).
DEFAULT_FEATURES = {name: not generative for name, (_, generative) in FEATURES.items()}

DEFAULT_DISCLOSURE = (
    "You are chatting with an AI assistant. Its answers come only from this company's "
    "published guidance; ask for a human at any time."
)
DEFAULT_PRIVACY_NOTICE = (
    "Messages in this conversation are stored to answer you and to check answer quality. "
    "Personal data is masked before any text is sent to an external model."
)
MAX_NOTICE_CHARS = 4000  # the disclosure and the privacy notice, each


class Thresholds(BaseModel):
    """Decision thresholds. `answer` unset means the reader's own threshold, chosen with it
    on ConditionalQA dev and mtrag_dev together: the answerability model's is in its
    manifest (agent/answer/models/answerability/manifest.json), the feature reader's is
    0.39 (docs/benchmarks.md).
    """

    model_config = ConfigDict(extra="forbid")

    answer: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Answer when P(answerable) is at least this; unset: the reader's own "
        "threshold, chosen with it on the dev sets.",
    )
    clarify: float = Field(
        0.30, ge=0, le=1, description="Below `answer` but at least this: ask to clarify."
    )
    intent: float = Field(
        0.50,
        ge=0,
        le=1,
        description="Start a procedure at this intent confidence or more.",
    )
    switch: float = Field(
        0.80,
        ge=0,
        le=1,
        description="Leave a procedure that waits for a value for another procedure at this "
        "intent confidence or more (never below `intent`); the answers given so far are lost.",
    )
    support: float = Field(
        0.60,
        ge=0,
        le=1,
        description="A draft sentence is supported at this score or more.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.answer is not None and self.clarify > self.answer:
            raise ValueError(
                f"thresholds.clarify ({self.clarify}) must not exceed "
                f"thresholds.answer ({self.answer})"
            )
        return self


class QaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Replies whose groundedness or correctness is below this enter the queue.",
    )
    relevance_threshold: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Replies whose answer or context relevance is below this enter the queue "
        "(embedding cosines sit lower than the other scores, hence a lower bar).",
    )
    sample_rate: float = Field(
        0.05, ge=0, le=1, description="Share of other replies sampled into the review queue."
    )


class AgentConfig(BaseModel):
    """Everything an admin sets about how the agent behaves for one tenant."""

    model_config = ConfigDict(extra="forbid")

    autonomy: Autonomy = "autonomous"
    autonomous_intents: list[str] = Field(
        default_factory=list, description="With autonomy per_intent: intents that reply directly."
    )
    reader: Reader = Field(
        "model",
        description="What estimates P(answerable): 'model', Clearline's answerability model "
        "(agent/answer/answerability.py), or 'features', the logistic model over the "
        "reader's similarity, coverage and agreement (agent/answer/reading.py).",
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    features: dict[str, StrictBool] = Field(default_factory=lambda: dict(DEFAULT_FEATURES))
    intents: dict[str, list[str]] = Field(
        default_factory=dict, description="Tenant intents (name -> example utterances)."
    )
    qa: QaSettings = Field(default_factory=QaSettings)
    disclosure: str = DEFAULT_DISCLOSURE
    privacy_notice: str = DEFAULT_PRIVACY_NOTICE
    version: int = 1

    @field_validator("disclosure")
    @classmethod
    def _says_it_is_an_ai(cls, disclosure: str) -> str:
        return _checked_text(disclosure, _DISCLOSURE_RULES)

    @field_validator("privacy_notice")
    @classmethod
    def _readable_notice(cls, notice: str) -> str:
        return _checked_text(notice, _NOTICE_RULES)

    @model_validator(mode="after")
    def _known_features(self) -> AgentConfig:
        unknown = sorted(set(self.features) - set(FEATURES))
        if unknown:
            raise ValueError(
                f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(sorted(FEATURES))}"
            )
        for name in FEATURES:
            self.features.setdefault(name, DEFAULT_FEATURES[name])
        for intent, examples in self.intents.items():
            if len([e for e in examples if e.strip()]) < 2:
                raise ValueError(f"intent '{intent}' needs at least 2 example utterances")
        return self

    def merged(self, changes: Mapping[str, Any], version: int | None = None) -> AgentConfig:
        """This configuration with `changes` merged in (nested mappings too), validated
        (pydantic.ValidationError if the result is invalid). In a nested mapping a None
        (JSON null) removes the key, as in JSON merge patch (RFC 7396): an intent is
        deleted, a threshold or a feature switch goes back to its default."""
        data = self.model_dump()
        for key, value in changes.items():
            if isinstance(value, Mapping) and isinstance(data.get(key), dict):
                merged = {**data[key], **value}
                data[key] = {k: v for k, v in merged.items() if v is not None}
            else:
                data[key] = value
        if version is not None:
            data["version"] = version
        return AgentConfig.model_validate(data)

    def enabled(self, feature: str) -> bool:
        return self.features.get(feature, False)

    def autonomous_for(self, intent: str | None) -> bool:
        if self.autonomy == "autonomous":
            return True
        if self.autonomy == "copilot":
            return False
        return intent is not None and intent in self.autonomous_intents


READERS = {"model": "answerability model", "features": "feature reader"}


def clarify_problem(
    config: AgentConfig, stored: AgentConfig, own_threshold: Callable[[str], float]
) -> str | None:
    """Why a change leaves `thresholds.clarify` above the answer threshold in effect (with
    `thresholds.answer` unset, the reader's own, `own_threshold(reader)`), or None. The
    decide step takes the lower of the two, so the agent would never ask a clarifying
    question, unnoticed. Only a change to the thresholds or the reader is checked: a
    configuration stored so before this rule takes the admin's other changes."""
    if config.thresholds.answer is not None:  # Thresholds refuses clarify > answer itself
        return None
    if config.thresholds == stored.thresholds and config.reader == stored.reader:
        return None
    clarify, own = config.thresholds.clarify, own_threshold(config.reader)
    if clarify <= own:
        return None
    return (
        f"{clarify} is above the answer threshold in effect, {own} (the "
        f"{READERS.get(config.reader, config.reader)}'s own, as thresholds.answer is unset), "
        f"so the agent would never ask a clarifying question; set it to at most {own}, or set "
        "thresholds.answer as well"
    )


@dataclass(frozen=True)
class _TextRules:
    """How one text that end users are shown is checked: `what` names it in the messages;
    `blank_error`/`blank_message` and `control_message` are its refusals' own words, and
    `allowed` the control characters it may hold."""

    what: str
    blank_error: str
    blank_message: str
    control_message: str
    allowed: str = ""


_DISCLOSURE_RULES = _TextRules(
    what="the AI disclosure",
    blank_error="blank_disclosure",
    blank_message="the AI disclosure must not be blank: conversations show it to tell end "
    "users they are talking to an AI; write a sentence saying so",
    control_message="the AI disclosure must not hold control characters (such as NUL or line "
    "breaks); write it as one line of plain text",
)
_NOTICE_RULES = _TextRules(
    what="the privacy notice",
    blank_error="blank_notice",
    blank_message="the privacy notice must not be blank: conversations show it to end users; "
    "write what happens to their messages",
    control_message="the privacy notice must not hold control characters other than line "
    "breaks and tabs (such as NUL); write it as plain text",
    allowed="\r\n\t",
)


def _checked_text(text: str, rules: _TextRules) -> str:
    """`text`, if it reads as it shows: not blank, no control characters but `rules.allowed`,
    no invisible format characters, at most MAX_NOTICE_CHARS; else PydanticCustomError,
    which pydantic reports as a validation error of the field."""
    if is_blank(text):
        raise PydanticCustomError(rules.blank_error, rules.blank_message)
    if control_characters(text, allowed=rules.allowed):
        raise PydanticCustomError("control_characters", rules.control_message)
    _check_invisible(rules.what, text)
    _check_length(rules.what, text)
    return text


# Zero-width non-joiner and joiner: Persian and Indic spelling and emoji sequences need them,
# and they hide or reorder nothing. Every other format character (Cf) is refused.
_JOINERS = frozenset("\u200c\u200d")


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing: only whitespace and invisible format characters."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def invisible_character(text: str) -> str | None:
    """The first invisible format character in `text` (zero-width space, bidi control,
    byte-order mark...: Unicode category Cf, joiners aside), as "U+200B ZERO WIDTH SPACE";
    None if there is none."""
    for c in text:
        if unicodedata.category(c) == "Cf" and c not in _JOINERS:
            return f"U+{ord(c):04X} {unicodedata.name(c, 'FORMAT CHARACTER')}"
    return None


def invisible_message(what: str, character: str) -> str:
    return (
        f"{what} must not hold invisible format characters ({character}): they hide or "
        "reorder what end users read; remove them"
    )


def _check_invisible(what: str, text: str) -> None:
    found = invisible_character(text)
    if found is not None:
        raise PydanticCustomError(
            "invisible_characters", "{message}", {"message": invisible_message(what, found)}
        )


def control_characters(text: str, allowed: str = "") -> bool:
    """Whether `text` holds a control character (NUL, a line break...) not in `allowed`."""
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def _check_length(what: str, text: str) -> None:
    if len(text) > MAX_NOTICE_CHARS:
        raise PydanticCustomError(
            "too_long",
            "{what} is {length} characters long; keep it to {limit} characters and link to "
            "the full text",
            {"what": what, "length": f"{len(text):,}", "limit": f"{MAX_NOTICE_CHARS:,}"},
        )
