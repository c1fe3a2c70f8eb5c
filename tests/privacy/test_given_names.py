"""Names that start with a known given name are found where spaCy's small model misses them,
and given names that are part of a date or of the name of a thing are not names."""

from __future__ import annotations

import pytest

from privacy.detect import PiiDetector

NAMES = [
    ("Please forward the invoice to Teresa before noon.", "Teresa"),
    ("It was Sanna Virtakallio who placed the order.", "Sanna Virtakallio"),
    ("Ines King from accounts approved the refund.", "Ines King"),
]


@pytest.mark.parametrize(("text", "name"), NAMES)
def test_a_known_given_name_starts_a_name(detector: PiiDetector, text: str, name: str) -> None:
    people = [text[s.start : s.end] for s in detector.detect(text) if s.entity_type == "PERSON"]
    assert name in people


NOT_NAMES = [
    "Pensions started before 6 April 2016 are paid monthly.",
    "Check with the German Embassy first.",
    "Email: refunds@example.com",
    "Tel. 0612 345 678 (weekdays only)",
    "IBAN: DE89370400440532013000",
    "We deliver on Friday and Saturday.",
]


@pytest.mark.parametrize("text", NOT_NAMES)
def test_dates_labels_and_named_things_are_not_names(detector: PiiDetector, text: str) -> None:
    assert [s for s in detector.detect(text) if s.entity_type == "PERSON"] == []
