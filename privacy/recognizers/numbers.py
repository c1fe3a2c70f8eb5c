"""Numbers that identify a person: payment cards, phone numbers, account and ID numbers.

Presidio's card pattern knows only some issuer prefixes and lengths, its phone recognizer
(libphonenumber) misses short national formats ("780 6326", "72 128 827") and numbers written
without a region, and it has no account numbers. These rules look at the number's shape,
its checksum where there is one, and the words around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from agent.llm.pii_rules import luhn_valid
from privacy.recognizers.base import TextRecognizer, window_after, window_before
from privacy.spans import (
    ACCOUNT_NUMBER,
    CREDIT_CARD,
    PHONE_NUMBER,
    US_DRIVER_LICENSE,
    US_SSN,
    Span,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc

# Unbroken 12-19 digits, or groups separated by one space or dash each.
_CARD = re.compile(r"(?<![\d+.,-])\d{4}(?:[ -]?\d{2,7}){1,4}(?![\d,]|[.-]\d)")
_CARD_WORDS = re.compile(r"\b(?:card|visa|master ?card|amex|credit|debit|cc)\b", re.I)

_PHONE = re.compile(
    r"(?<![\w+/.,-])(?:\+|\()?\d[\d ().\-]{4,24}\d(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w/]|[.,-]\d)",
    re.IGNORECASE,
)
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,6}$", re.IGNORECASE)
_PHONE_WORDS = re.compile(
    r"\b(?:call(?:ing|ed)?|phone|tel|telephone|mobile|cell(?:phone)?|text|sms|whatsapp|fax"
    r"|dial|ring|reach|answering|office|home|work|landline|extension|contact|cel)\b",
    re.IGNORECASE,
)
_NOT_PHONE = (
    re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$"),  # dates
    re.compile(r"^(?:19|20)\d{2} ?- ?(?:19|20)\d{2}$"),  # year ranges
    re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$"),  # IPv4
    re.compile(r"^\d{1,3}(?:[.,]\d{3})+$"),  # thousands
    re.compile(r"^\d{3}-\d{2}-\d{4}$"),  # US SSN shape
)

_DATE_START = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})\b")

# Words that make the next number an identifier; the ID type follows from the words.
_ID_CUE = re.compile(
    r"\b(?P<cue>(?P<licence>driver'?s? licen[cs]e|driving licen[cs]e|licen[cs]e)"
    r"|(?P<ssn>social security|ssn)"
    r"|account|acct|a/c|order|invoice|reference|ref|tracking|customer|member(?:ship)?|policy"
    r"|contract|ticket|case|booking|confirmation|loyalty|passport|routing|sort code|id)"
    r"(?:\W+(?:number|no|num|nr|id|code|is|was|#|:)){0,3}\W{0,3}$",
    re.IGNORECASE,
)
_ID_VALUE = re.compile(
    r"(?<![\w-])(?=[A-Z0-9-]*\d{4})[A-Z0-9][A-Z0-9-]{4,24}[A-Z0-9](?![\w-])", re.I
)
_LONG_DIGITS = re.compile(r"(?<![\w.,+-])\d(?:[ -]?\d){7,}(?![\w]|[.,-]\d)")


class NumberRecognizer(TextRecognizer):
    """Payment cards (Luhn-checked), phone numbers by shape and context, cued ID numbers."""

    ENTITIES = (CREDIT_CARD, PHONE_NUMBER, ACCOUNT_NUMBER, US_DRIVER_LICENSE, US_SSN)

    def find(self, text: str, doc: Doc | None) -> Iterator[Span]:
        yield from _cards(text)
        yield from _phones(text)
        yield from _identifiers(text)


def _cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if not 12 <= len(digits) <= 19 or not luhn_valid(digits):
            continue
        if _CARD_WORDS.search(window_before(text, m.start(), 50)):
            score = 0.9
        else:
            score = 0.6 if len(digits) >= 13 else 0.45
        yield Span(m.start(), m.end(), CREDIT_CARD, score)


def _phones(text: str) -> Iterator[Span]:
    for m in _PHONE.finditer(text):
        score = phone_score(m.group(0), text, m.start(), m.end())
        if score:
            yield Span(m.start(), m.end(), PHONE_NUMBER, score)


def phone_score(candidate: str, text: str, start: int, end: int) -> float:
    """How likely `candidate` (at text[start:end]) is a phone number; 0.0 when it is not one."""
    core = _EXTENSION.sub("", candidate)
    digits = re.sub(r"\D", "", core)
    if not 7 <= len(digits) <= 15:
        return 0.0
    if core.count("(") != core.count(")") or re.search(r"[ .\-]{2,}|[.\-][ ]|[ ][.\-]", core):
        return 0.0
    if any(p.match(core) for p in _NOT_PHONE) or _DATE_START.match(core):
        return 0.0
    if re.match(r"[:h]\d", text[end : end + 2]):
        return 0.0  # "2015-12-22 04:34": the hour of a time stamp
    before = window_before(text, start, 40)
    if _PHONE_WORDS.search(before) or _PHONE_WORDS.match(window_after(text, end, 15).strip()):
        return 0.75
    if _ID_CUE.search(before):
        return 0.3  # "order 0012-3456-78": an identifier first
    if core.startswith("+") and len(digits) >= 8:
        return 0.6
    groups = [g for g in re.split(r"\D+", core.lstrip("+(")) if g]
    if len(groups) == 1:
        # A bare digit run is a phone only in a national trunk shape (leading 0).
        return 0.45 if core.startswith("0") and 9 <= len(digits) <= 11 else 0.0
    # A leading single digit is a country or trunk code ("1-800-555-0199"); others are not.
    singles = sum(1 for g in groups[1:] if len(g) == 1)
    return 0.45 if singles == 0 else 0.0


def _identifiers(text: str) -> Iterator[Span]:
    cued: list[tuple[int, int]] = []
    for m in _ID_VALUE.finditer(text):
        cue = _ID_CUE.search(window_before(text, m.start(), 45))
        if cue is None:
            continue
        if cue.group("licence"):
            entity_type, score = US_DRIVER_LICENSE, 0.8
        elif cue.group("ssn"):
            entity_type, score = US_SSN, 0.8
        else:
            entity_type, score = ACCOUNT_NUMBER, 0.6
        cued.append((m.start(), m.end()))
        yield Span(m.start(), m.end(), entity_type, score)
    # Long digit runs with no cue are still identifiers of some kind: report them weakly.
    for m in _LONG_DIGITS.finditer(text):
        if _DATE_START.match(m.group(0)) or re.match(r"[:h]\d", text[m.end() : m.end() + 2]):
            continue
        if not any(m.start() < end and start < m.end() for start, end in cued):
            yield Span(m.start(), m.end(), ACCOUNT_NUMBER, 0.4)
