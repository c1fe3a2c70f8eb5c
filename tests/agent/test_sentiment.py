"""detect_sentiment: lexicon and rules on clear cases, honest confidence on thin evidence."""

from __future__ import annotations

import pytest

from agent.understand.records import Prediction
from agent.understand.sentiment import detect_sentiment, upset


@pytest.mark.parametrize(
    "text",
    [
        "I am still waiting for my refund, this is ridiculous!!!",
        "This is the WORST service I have ever had",
        "I want to cancel my account, you are useless",
        "The app is not good at all",
        "My card doesn't work and nobody has replied",
        "C'est nul, je suis très déçu",
        "Das ist eine Frechheit, ich warte seit zwei Wochen",
        "Es pésimo, no funciona",
    ],
)
def test_clear_complaints_are_negative(text: str) -> None:
    prediction = detect_sentiment(text)
    assert prediction.label == "negative", prediction.detail
    assert prediction.confidence > 0.6


@pytest.mark.parametrize(
    "text",
    [
        "Thank you so much, that was really helpful",
        "Great, it works perfectly now!",
        "Not bad at all, I'm happy with it",
        "Merci beaucoup, c'est parfait",
        "Vielen Dank, super Service",
        "Muchas gracias, excelente atención",
    ],
)
def test_clear_praise_is_positive(text: str) -> None:
    prediction = detect_sentiment(text)
    assert prediction.label == "positive", prediction.detail
    assert prediction.confidence > 0.6


@pytest.mark.parametrize(
    "text", ["How do I change my delivery address?", "What are your opening hours", "ok"]
)
def test_plain_questions_are_neutral(text: str) -> None:
    assert detect_sentiment(text).label == "neutral"


def test_confidence_grows_with_evidence_and_drops_when_mixed() -> None:
    thin = detect_sentiment("the delivery was slow")
    strong = detect_sentiment("TERRIBLE service, still waiting, this is unacceptable!!!")
    mixed = detect_sentiment("Thanks for the quick answer, but the product is terrible")
    assert thin.label == strong.label == "negative"
    assert thin.confidence < strong.confidence
    assert mixed.confidence < strong.confidence
    assert "cues" in strong.detail


def test_upset_names_the_cues_of_a_strongly_negative_message_only() -> None:
    found = upset(detect_sentiment("This is ridiculous, your service is terrible!"))
    assert found is not None and "'this is ridiculous'" in found and "'terrible'" in found
    assert upset(detect_sentiment("I am a bit unhappy with the delivery")) is None  # mildly
    assert upset(detect_sentiment("How long does shipping take?")) is None
    assert upset(Prediction("neutral", 0.0, {"skipped": "sentiment is off"})) is None
