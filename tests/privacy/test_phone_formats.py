"""Phone numbers in the formats of many countries are found whole, and other numbers are not
taken for phones. The formats are those of bench/data/pii_formats.jsonl (Faker's locales and
the generator of presidio-research's synthetic set); the digits here are made up."""

from __future__ import annotations

import pytest

from privacy.detect import PiiDetector

FOUND_WHOLE = [
    # US: dashes, dots, brackets, extensions, +1- and 001- prefixes, a bare run of ten.
    ("Call me at {} after six.", "617-555-0148x2231"),
    ("My phone number is {}, please update it.", "(617)555-0148x904"),
    ("Phone: {}", "617.555.0148x31"),
    ("Can someone ring me back on {}?", "+1-617-555-0148x301"),
    ("You can reach me on {} during the day.", "001-617-555-0148"),
    ("Is {} still registered to my account?", "6175550148"),
    ("I did not get the code on {}. Could you check?", "+1 (617) 555-0148"),
    # UK, with a country code, a trunk zero in brackets, or a bracketed area code.
    ("Nobody picks up at {}, I tried three times.", "+44(0)20 7946 0958"),
    ("Tel. {} (weekdays only)", "(01632) 960 123"),
    ("{} is the number on my account.", "+447700 900 123"),
    # Continental Europe and beyond.
    ("Mobile: {}", "+41 (0)44 668 18 00"),
    ("The messages still go to {} instead of the new one.", "+46 (0)8 123 456 78"),
    ("Phone: {}", "03.93.92.16.85"),
    ("Call me at {} after six.", "(+358) 401234567"),
    ("Phone: {}", "(29)/993-0296"),
    ("Phone: {}", "0664/1234567"),
    ("Name: Jo Smith\nPhone: {}\nEmail: jo@example.com", "+43 2911 20767 277"),
    ("Call me at {} after six.", "32 14 59"),
    ("I changed my number to {} last week.", "52476105"),
    ("{}-Office, 0612 345 678-Fax", "296792280"),
    ("Can someone call me on {}? I have a question.", "(64) 3591-3246"),
]


@pytest.mark.parametrize(("frame", "number"), FOUND_WHOLE)
def test_phone_numbers_are_found_whole(detector: PiiDetector, frame: str, number: str) -> None:
    text = frame.format(number)
    start = text.index(number)
    phones = [s for s in detector.detect(text) if s.entity_type == "PHONE_NUMBER"]
    assert any(s.start <= start and start + len(number) <= s.end for s in phones), [
        (text[s.start : s.end], s.entity_type) for s in detector.detect(text)
    ]


NOT_PHONES = [
    ("Your order no. 12345678 ships on 2026-12-01.", "12345678"),
    ("Order 0012-3456-78 was refunded.", "0012-3456-78"),
    ("The sale ran from 20261201 to 20261224.", "20261201"),
    ("Valid for the 2025/2026 season only.", "2025/2026"),
    ("The premium plan costs 1,250.00 euros a year.", "1,250.00"),
    ("Send it to 12 Elm Street, Springfield 62704.", "62704"),
    ("Delivery between 12/05/2026 and 19/05/2026.", "12/05/2026"),
    ("The server at 192.168.10.200 answered.", "192.168.10.200"),
    ("Please call about invoice 48213377 before Friday.", "48213377"),
]


@pytest.mark.parametrize(("text", "number"), NOT_PHONES)
def test_other_numbers_are_not_phone_numbers(detector: PiiDetector, text: str, number: str) -> None:
    start = text.index(number)
    end = start + len(number)
    phones = [
        text[s.start : s.end]
        for s in detector.detect(text)
        if s.entity_type == "PHONE_NUMBER" and s.start < end and start < s.end
    ]
    assert phones == []
