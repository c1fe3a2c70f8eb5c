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

# Digits in groups separated by one space, dot, dash or slash, brackets around a group; a
# leading "+" or "(+"; an extension ("x1234", "ext. 12"). Not inside a longer token, nor
# after a digit and a comma ("1,234,567"); after a comma that follows a word, yes
# ("0123 456789-Office,+44 7700 900123-Fax").
_PHONE = re.compile(
    r"(?<![\w+/.-])(?<!\d,)(?:\(?\+|\()?\d[\d ()./\-]{3,24}\d(?:\s?(?:x|ext\.?)\s?\d{1,6})?"
    r"(?![\w/]|[.,/-]\d)",
    re.IGNORECASE,
)
_LEADING_PUNCTUATION = re.compile(r"^[\s\-\u2013,:;(]+")
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,6}$", re.IGNORECASE)
_PHONE_WORDS = re.compile(
    r"\b(?:call(?:ing|ed)?|phones?|tel|telephone|mobile|cell(?:phone)?|text|sms|whatsapp|fax"
    r"|dial|ring|rang|phoned|reach|answering|office|home|work|desk|landline|extension|contact"
    r"|cel|voicemail|hotline|helpline|messages?)\b",
    re.IGNORECASE,
)
_NOT_PHONE = (
    re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$"),  # dates
    re.compile(r"^(?:19|20)\d{2} ?[-/] ?(?:19|20)\d{2}$"),  # year ranges
    re.compile(r"^(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$"),  # 20261201
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
        phones = list(_phones(text))
        yield from (card for card in _cards(text) if not _inside_a_phone(card, phones))
        yield from phones
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


def _inside_a_phone(card: Span, phones: list[Span]) -> bool:
    """A card-shaped run with no card word, inside a number that a phone word or a country
    code makes a phone ("Phone: +43 2911 20767 277", "0512 92309 591-Fax"), is that phone
    (or part of it)."""
    return card.score < 0.9 and any(
        p.score >= 0.6 and p.start <= card.start and card.end <= p.end for p in phones
    )


def _phones(text: str) -> Iterator[Span]:
    for m in _PHONE.finditer(text):
        score = phone_score(m.group(0), text, m.start(), m.end())
        if score:
            yield Span(m.start(), m.end(), PHONE_NUMBER, score)


def phone_score(candidate: str, text: str, start: int, end: int) -> float:
    """How likely `candidate` (at text[start:end]) is a phone number; 0.0 when it is not one.

    A word that names a phone (before it, or right after it: "555 0199 (mobile)",
    "0123 456789-Office") makes any phone shape count, down to six digits in groups
    (Greenland's "32 14 59"). Without one: a number with a country code ("+41 ...") or in
    groups ("618-226-1460", "0688 843 79 56") is a phone, and so is an unbroken run of 8-11
    digits ("5403926876"). Words right before it that make it an order, account or other
    reference number ("order no. 12345678") come first: `_identifiers` reports those.
    """
    core = _EXTENSION.sub("", candidate)
    digits = re.sub(r"\D", "", core)
    if not 6 <= len(digits) <= 15:
        return 0.0
    if core.count("(") != core.count(")") or re.search(r"[ ./\-]{2,}|[./\-][ ]|[ ][./\-]", core):
        return 0.0
    if any(p.match(core) for p in _NOT_PHONE) or _DATE_START.match(core):
        return 0.0
    if re.match(r"[:h]\d", text[end : end + 2]):
        return 0.0  # "2015-12-22 04:34": the hour of a time stamp
    groups = [g for g in re.split(r"\D+", core.lstrip("+(")) if g]
    before = window_before(text, start, 40)
    after = _LEADING_PUNCTUATION.sub("", window_after(text, end, 15))
    if _ID_CUE.search(before):
        return 0.3  # "order 0012-3456-78", "call about order 12345678": an identifier first
    if _PHONE_WORDS.search(before) or _PHONE_WORDS.match(after):
        return 0.75 if len(digits) >= 7 or len(groups) >= 3 else 0.0
    if len(digits) < 7:
        return 0.0
    if core.startswith(("+", "(+")) and len(digits) >= 8:
        return 0.6
    if len(groups) == 1:
        # An unbroken run: a national trunk shape (leading 0), or 8-11 digits. The score is
        # just above that of an uncued long number (an identifier of some kind, 0.4).
        if core.startswith("0") and 9 <= len(digits) <= 11:
            return 0.45
        return 0.41 if 8 <= len(digits) <= 11 else 0.0
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
