"""The records of the "understand" step of a turn: one `Prediction` per question asked of a message.

The detectors live beside this module, one per concern, and all return `Prediction`:

- `agent.understand.intents.IntentClassifier` (tenant intents, or `OUT_OF_SCOPE`),
- `agent.understand.language.detect_language`, `agent.understand.sentiment.detect_sentiment`,
- `agent.understand.human_request.detect_human_request`,
- `agent.understand.screening.detect_injection`.

`Understanding` gathers the first four for one message so the router and the handoff summary
get one typed record; the injection verdict goes to the trace, where the router reads it
(`agent.understand.detect` runs them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

OUT_OF_SCOPE = "out_of_scope"


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

    @property
    def wants_human(self) -> bool:
        """True when the end user explicitly asked for a person (always hands off)."""
        return self.human_request.label == "human"
