"""The records of the "understand" step of a turn: one `Prediction` per question asked of a message.

The detectors live beside this module, one per concern, and all return `Prediction`:

- `agent.understand.intents.IntentClassifier` (tenant intents, or `OUT_OF_SCOPE`),
- `agent.understand.language.detect_language`, `agent.understand.sentiment.detect_sentiment`,
- `agent.understand.human_request.detect_human_request`,
- `agent.understand.small_talk.detect_small_talk`,
- `agent.understand.screening.detect_injection`.

`Understanding` gathers the first five for one message so the router and the handoff summary
get one typed record; the injection verdict goes to the trace, where the router reads it
(`agent.understand.detect` runs them all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OUT_OF_SCOPE = "out_of_scope"
_INTENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def intent_name_problem(name: str) -> str | None:
    """Why `name` cannot name an intent (of the configuration or of a procedure), or None.
    `OUT_OF_SCOPE` is the label of a message that names no intent; a name is 1-64 letters,
    digits, '_', '-' or '.', so that it reads the same in a trace, a comma-separated list
    and a URL."""
    if name == OUT_OF_SCOPE:
        return (
            f"'{OUT_OF_SCOPE}' is reserved (the label of a message that names no intent); "
            "choose another name"
        )
    if _INTENT_NAME.fullmatch(name) is None:
        shown = name if len(name) <= 40 else name[:40] + "..."
        return (
            f"intent name '{shown}' must be 1-64 letters, digits, '_', '-' or '.', starting "
            "with a letter or digit"
        )
    return None


@dataclass(frozen=True)
class Prediction:
    """A label with a confidence in [0, 1] and the evidence behind it.

    `confidence` is meant to be calibrated (among predictions at ~0.8, about 80% right) where
    the detector could measure it; `detail` holds what a reviewer needs to see why, such as
    the runner-up, raw scores or the phrase that matched.
    """

    label: str
    confidence: float
    detail: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(
                f"confidence {self.confidence!r} for label '{self.label}' is outside [0, 1]"
            )


@dataclass(frozen=True)
class Understanding:
    """What the agent understood of one message, each part with its own confidence."""

    intent: Prediction
    language: Prediction
    sentiment: Prediction
    human_request: Prediction
    small_talk: Prediction = field(
        default_factory=lambda: Prediction("none", 0.0, {"skipped": "not detected"})
    )
    # misspelt word -> the tenant's word it stands for (knowledge.spelling); the intent is
    # predicted, and the knowledge searched, with them corrected
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def wants_human(self) -> bool:
        """True when the end user explicitly asked for a person (always hands off)."""
        return self.human_request.label == "human"

    @property
    def small_talk_kind(self) -> str | None:
        """The kind of small talk the message is (agent.understand.small_talk), or None."""
        return None if self.small_talk.label == "none" else self.small_talk.label
