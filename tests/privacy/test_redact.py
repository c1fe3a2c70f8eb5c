"""redact(): typed placeholders in place of detected values; nothing of a value survives."""

from __future__ import annotations

import pytest

from privacy.detect import PiiDetector
from privacy.redact import placeholder, redact
from privacy.spans import Span


def test_detected_values_become_typed_placeholders(detector: PiiDetector) -> None:
    text = (
        "I'm Tomasz Kowalczyk, email tomasz.k@example.pl, card 4111 1111 1111 1111, "
        "address 17 Elm Avenue, Leeds."
    )
    redacted = redact(text, detector.detect(text))
    for marker in ("[PERSON]", "[EMAIL_ADDRESS]", "[CREDIT_CARD]", "[STREET_ADDRESS]"):
        assert marker in redacted, redacted
    for value in ("Tomasz", "Kowalczyk", "tomasz.k@", "4111", "Elm Avenue"):
        assert value not in redacted
    assert redacted.startswith("I'm [PERSON], email [EMAIL_ADDRESS], card [CREDIT_CARD]")


def test_text_without_spans_is_unchanged() -> None:
    assert redact("nothing here", []) == "nothing here"


def test_overlapping_spans_leave_no_fragment() -> None:
    text = "Write to Ana Silva at 12 Rua Augusta, Lisboa today"
    spans = [
        Span(9, 18, "PERSON", 0.85),
        Span(22, 44, "STREET_ADDRESS", 0.75),
        Span(38, 50, "LOCATION", 0.85),  # overlaps the address, which names the placeholder
    ]
    assert text[22:44] == "12 Rua Augusta, Lisboa"
    assert redact(text, spans) == "Write to [PERSON] at [STREET_ADDRESS]"


def test_same_type_overlaps_merge_into_one_placeholder() -> None:
    text = "Ask Mary Ann Jones"
    spans = [Span(4, 12, "PERSON", 0.6), Span(9, 18, "PERSON", 0.85)]
    assert redact(text, spans) == "Ask [PERSON]"


def test_a_span_outside_the_text_is_an_error() -> None:
    with pytest.raises(ValueError, match="outside the text"):
        redact("short", [Span(2, 40, "PERSON", 0.9)])


def test_placeholder_shape() -> None:
    assert placeholder("EMAIL_ADDRESS") == "[EMAIL_ADDRESS]"
