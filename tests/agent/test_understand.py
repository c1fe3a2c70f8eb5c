"""The understand step's records, filled by the real detectors."""

from __future__ import annotations

import pytest

from agent.understand.human_request import detect_human_request
from agent.understand.language import detect_language
from agent.understand.records import OUT_OF_SCOPE, Prediction, Understanding
from agent.understand.sentiment import detect_sentiment


def test_confidence_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        Prediction("refund", 1.2)


def test_an_angry_french_request_for_a_person_is_understood() -> None:
    text = "C'est inadmissible, j'attends toujours mon colis. Je veux parler à un conseiller !"
    understanding = Understanding(
        intent=Prediction(OUT_OF_SCOPE, 0.6),
        language=detect_language(text),
        sentiment=detect_sentiment(text),
        human_request=detect_human_request(text),
    )
    assert understanding.language.label == "fr"
    assert understanding.sentiment.label == "negative"
    assert understanding.wants_human


def test_a_plain_question_does_not_want_a_human() -> None:
    text = "What are your opening hours on Sunday?"
    understanding = Understanding(
        intent=Prediction("opening_hours", 0.9),
        language=detect_language(text),
        sentiment=detect_sentiment(text),
        human_request=detect_human_request(text),
    )
    assert (understanding.language.label, understanding.sentiment.label) == ("en", "neutral")
    assert not understanding.wants_human
