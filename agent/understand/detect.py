"""The understand step's work on one message: every detector the tenant's configuration
allows, each answer a `Prediction`, and the switched-off ones named."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from agent.config import AgentConfig
from agent.understand.human_request import detect_human_request
from agent.understand.intents import IntentClassifier
from agent.understand.language import detect_language, surely_not_english
from agent.understand.records import OUT_OF_SCOPE, Prediction, Understanding
from agent.understand.screening import detect_injection
from agent.understand.sentiment import detect_sentiment
from agent.understand.small_talk import detect_small_talk
from knowledge.spelling import corrected

SWITCHABLE = ("intent_prediction", "sentiment")  # features that turn a detector off


@dataclass(frozen=True)
class Detection:
    """What the detectors made of one message; `injection` is routed on, not understood."""

    understanding: Understanding
    injection: Prediction
    skipped: tuple[str, ...]  # features switched off, so their detector did not run

    def predictions(self) -> dict[str, Prediction]:
        """Every detector's answer by name, in the order the trace lists them."""
        found = self.understanding
        return {
            "intent": found.intent,
            "language": found.language,
            "sentiment": found.sentiment,
            "human_request": found.human_request,
            "small_talk": found.small_talk,
            "injection": self.injection,
        }


def detect_all(
    message: str,
    config: AgentConfig,
    intents: IntentClassifier | None,
    spell: Callable[[str], dict[str, str]] | None = None,
) -> Detection:
    """Run the detectors on `message`; a switched-off one answers with confidence 0 and says
    why in its detail. `spell(message)`: its misspelt words -> the tenant's words they stand
    for; the intent is predicted on the message with them corrected, so "is my subscripton
    active" starts the subscription check (read as typed, it got no confident intent). Not
    for a message surely in another language than English: the corrections are to English
    words."""
    human = detect_human_request(message)
    injection = detect_injection(message)
    language = detect_language(message)
    fixed = spell(message) if spell is not None and not surely_not_english(language) else {}
    if not config.enabled("intent_prediction"):
        intent = Prediction(OUT_OF_SCOPE, 0.0, {"skipped": "intent_prediction is off"})
    elif intents is None:
        why = "fewer than two intents defined (procedures or config.intents)"
        intent = Prediction(OUT_OF_SCOPE, 0.0, {"skipped": why})
    else:
        intent = intents.predict(corrected(message, fixed))
        if fixed:
            intent = replace(intent, detail={**intent.detail, "spelling": fixed})
    if config.enabled("sentiment"):
        sentiment = detect_sentiment(message)
    else:
        sentiment = Prediction("neutral", 0.0, {"skipped": "sentiment is off"})
    skipped = tuple(f for f in SWITCHABLE if not config.enabled(f))
    small_talk = detect_small_talk(message)
    understanding = Understanding(intent, language, sentiment, human, small_talk, fixed)
    return Detection(understanding, injection, skipped)
