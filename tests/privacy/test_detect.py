"""PiiDetector on realistic customer messages: each entity type, offsets, overlaps, batches.

The detector is the real one (Presidio, spaCy's small English model, Clearline's
recognizers), loaded once per session; the network guard in tests/conftest.py fails the
session if anything tries to download.
"""

from __future__ import annotations

import itertools

import pytest

from privacy.detect import PiiDetector
from privacy.spans import ENTITY_TYPES, Span

CASES = [
    ("Hi, my name is Ana Silva and I need help with my order.", "Ana Silva", "PERSON"),
    ("Please ask Marcus Okafor to call me back.", "Marcus Okafor", "PERSON"),
    (
        "You can write to ana.silva@example.co.uk about it.",
        "ana.silva@example.co.uk",
        "EMAIL_ADDRESS",
    ),
    ("Call me on +44 20 7946 0958 after six.", "+44 20 7946 0958", "PHONE_NUMBER"),
    ("My mobile is (212) 555-0187.", "(212) 555-0187", "PHONE_NUMBER"),
    ("They're not answering at 71-33-52-22", "71-33-52-22", "PHONE_NUMBER"),
    ("The card 4111 1111 1111 1111 was charged twice.", "4111 1111 1111 1111", "CREDIT_CARD"),
    (
        "Please refund to GB82 WEST 1234 5698 7654 32 today.",
        "GB82 WEST 1234 5698 7654 32",
        "IBAN_CODE",
    ),
    ("My social security number is 536-22-8147.", "536-22-8147", "US_SSN"),
    ("My driver's license number is D1234567.", "D1234567", "US_DRIVER_LICENSE"),
    (
        "Ship it to 1428 Elm Street, Springfield please.",
        "1428 Elm Street, Springfield",
        "STREET_ADDRESS",
    ),
    ("The parcel went to Rue de Rivoli 99 by mistake.", "Rue de Rivoli 99", "STREET_ADDRESS"),
    ("I logged in from 192.168.10.24 yesterday.", "192.168.10.24", "IP_ADDRESS"),
    ("I moved from Manchester last year.", "Manchester", "LOCATION"),
    ("I was born on 14 March 1987.", "14 March 1987", "DATE_TIME"),
    ("My account number is 00123456789.", "00123456789", "ACCOUNT_NUMBER"),
]


@pytest.mark.parametrize(("text", "value", "entity_type"), CASES)
def test_each_entity_type_is_found_with_exact_offsets(
    detector: PiiDetector, text: str, value: str, entity_type: str
) -> None:
    spans = detector.detect(text)
    found = [(text[s.start : s.end], s.entity_type) for s in spans]
    assert (value, entity_type) in found, found
    span = next(s for s in spans if s.entity_type == entity_type)
    assert span.start == text.index(value) and span.end == span.start + len(value)
    assert 0.0 < span.score <= 1.0


def test_every_reported_type_is_covered_by_a_case() -> None:
    covered = {entity_type for _, _, entity_type in CASES}
    assert covered == set(ENTITY_TYPES) - {"URL"}


def test_a_message_with_many_values(detector: PiiDetector) -> None:
    text = (
        "Hello, this is Priya Raman. My card 5555 5555 5555 4444 was declined; "
        "reach me at priya.raman@example.com or 020 7946 0958. "
        "Send the new card to 42 Wallaby Way, Sydney."
    )
    spans = detector.detect(text)
    types = [s.entity_type for s in spans]
    assert types == [
        "PERSON",
        "CREDIT_CARD",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "STREET_ADDRESS",
    ], [(text[s.start : s.end], s.entity_type) for s in spans]
    for span in spans:
        value = text[span.start : span.end]
        assert value == value.strip(" .,;") and value
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize(
    "text",
    [
        "What are your opening hours on public holidays?",
        "How do I reset my password?",
        "Can I return 2 items bought 30 days ago for a full refund?",
        "The premium plan costs 12.50 euros a month.",
    ],
)
def test_plain_questions_have_no_personal_data(detector: PiiDetector, text: str) -> None:
    assert detector.detect(text) == []


def test_a_name_is_found_again_where_it_repeats(detector: PiiDetector) -> None:
    text = "Please put the refund in Sunniva Haugen's name. Sunniva asked twice already."
    values = [text[s.start : s.end] for s in detector.detect(text) if s.entity_type == "PERSON"]
    assert "Sunniva Haugen" in values and "Sunniva" in values


def test_contact_card_lines(detector: PiiDetector) -> None:
    text = "Leone Mazzi\nNurse\nPhone: 0393 1144137\nE-mail: leonemazzi@example.com"
    found = {(text[s.start : s.end], s.entity_type) for s in detector.detect(text)}
    assert ("Leone Mazzi", "PERSON") in found
    assert ("0393 1144137", "PHONE_NUMBER") in found
    assert ("leonemazzi@example.com", "EMAIL_ADDRESS") in found


def test_timestamps_are_not_phone_numbers(detector: PiiDetector) -> None:
    text = "Date: 2015-12-22 04:34:22"
    types = {s.entity_type for s in detector.detect(text)}
    assert "PHONE_NUMBER" not in types and "ACCOUNT_NUMBER" not in types


def test_detect_many_matches_detect(detector: PiiDetector) -> None:
    texts = [text for text, _, _ in CASES[:6]] + ["", "   "]
    assert detector.detect_many(texts) == [detector.detect(t) for t in texts]


def test_empty_text(detector: PiiDetector) -> None:
    assert detector.detect("") == [] and detector.detect(" \n ") == []


def test_unknown_entity_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown entity types"):
        PiiDetector(entity_types=["EMAIL_ADDRESS", "SHOE_SIZE"])


def test_spans_are_typed_records(detector: PiiDetector) -> None:
    span = detector.detect("write to bo@example.org")[0]
    assert span == Span(9, 23, "EMAIL_ADDRESS", span.score)
