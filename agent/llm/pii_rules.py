"""The built-in personal-data rules of `PiiMasker`, used when no detector is injected.

Emails, phone numbers (by shape and context), payment cards (Luhn-checked), IBANs (mod-97
checked), US social security and other account/ID-style numbers, and names introduced by a
cue ("my name is", "Mr."). Each rule yields `PiiSpan`s; `PiiMasker` settles overlaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

PiiKind = Literal["EMAIL", "PHONE", "CARD", "IBAN", "ACCOUNT", "PERSON", "ADDRESS", "IP"]
KINDS: tuple[PiiKind, ...] = (
    "EMAIL",
    "PHONE",
    "CARD",
    "IBAN",
    "ACCOUNT",
    "PERSON",
    "ADDRESS",
    "IP",
)

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
# Country code, 2 check digits, then the account part, optionally in groups of four.
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}\b")
# Unbroken 12-19 digits, or groups of 4 (Visa/Mastercard style) or 4-6-5 (Amex style).
_CARD = re.compile(
    r"(?<![\d+])(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?!\d)"
)
_PHONE = re.compile(
    r"(?<![\w+/.-])(?:\+|\()?\d[\d ().\-]{4,24}\d(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w/])",
    re.IGNORECASE,
)
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_ACCOUNT = re.compile(r"(?<!\d)\d(?:[ -]?\d){7,}(?!\d)")
_DATE = re.compile(r"^(?:\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{2,4})(?![\d.-]?\d)")
_YEARS = re.compile(r"^\d{4} ?- ?\d{4}$")
_IP = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|phone|tel|telephone|mobile|cell|text|sms|whatsapp|fax|reach|dial)\w*",
    re.IGNORECASE,
)
_ID_CONTEXT = re.compile(
    r"\b(?:account|acct|order|invoice|reference|ref|tracking|customer|member|policy|contract"
    r"|ticket|case|parcel|shipment|booking|id)\b\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,6}$", re.IGNORECASE)
# Phrases that introduce a person's name in customer messages; the name is the next 1-3 words
# (capitalised, except right after "my name is", where people often type in lower case).
_NAME_CUE = re.compile(
    r"\b(?:(?P<named>my name is|my name's|name:)"
    r"|(?:mr|mrs|ms|miss|dr|prof)\.?|dear|call me)\s+",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_NOT_NAMES = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "not",
        "so",
        "very",
        "also",
        "just",
        "from",
        "with",
        "at",
        "in",
        "on",
        "of",
        "for",
        "to",
        "i",
        "me",
        "my",
        "we",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "it",
        "its",
        "they",
        "this",
        "that",
        "sir",
        "madam",
    }
)
TITLE = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|sir|madam)\.?\s+", re.IGNORECASE)


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data found in a text: `text == source[start:end]`."""

    start: int
    end: int
    kind: PiiKind
    text: str


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn checksum used by payment cards."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """True if `candidate` (spaces allowed) has an IBAN's shape and mod-97 checksum."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def cued_names(text: str) -> Iterator[PiiSpan]:
    for cue in _NAME_CUE.finditer(text):
        any_case = cue.group("named") is not None
        cursor, start, end = cue.end(), cue.end(), cue.end()
        for _ in range(3):
            word = _NAME_WORD.match(text, cursor)
            if word is None or word.group(0).lower() in _NOT_NAMES:
                break
            if not (any_case or word.group(0)[0].isupper()):
                break
            end = word.end()
            gap = re.match(r"[ ]+", text[end:])
            cursor = end + (gap.end() if gap else 0)
            if not gap:
                break
        name = text[start:end].rstrip(".'’-")
        if name:
            yield PiiSpan(start, start + len(name), "PERSON", name)


def emails(text: str) -> Iterator[PiiSpan]:
    for m in _EMAIL.finditer(text):
        yield PiiSpan(m.start(), m.end(), "EMAIL", m.group(0))


def ibans(text: str) -> Iterator[PiiSpan]:
    for m in _IBAN.finditer(text):
        candidate = m.group(0)
        # A spaced IBAN may run into the next word: drop trailing words until it checks out.
        while candidate:
            if iban_valid(candidate):
                yield PiiSpan(m.start(), m.start() + len(candidate), "IBAN", candidate)
                break
            if " " not in candidate:
                break
            candidate = candidate.rsplit(" ", 1)[0]


def cards(text: str) -> Iterator[PiiSpan]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 12 <= len(digits) <= 19 and luhn_valid(digits):
            yield PiiSpan(m.start(), m.end(), "CARD", m.group(0))


def ssns(text: str) -> Iterator[PiiSpan]:
    # US social security numbers (3-2-4) are ID numbers, not phones.
    for m in _SSN.finditer(text):
        yield PiiSpan(m.start(), m.end(), "ACCOUNT", m.group(0))


def phones(text: str) -> Iterator[PiiSpan]:
    for m in _PHONE.finditer(text):
        candidate = m.group(0)
        if _is_phone(candidate, text[max(0, m.start() - 30) : m.start()]):
            yield PiiSpan(m.start(), m.end(), "PHONE", candidate)


def _is_phone(candidate: str, before: str) -> bool:
    core = _EXTENSION.sub("", candidate)
    digits = re.sub(r"\D", "", core)
    if not 7 <= len(digits) <= 15:
        return False
    if core.count("(") != core.count(")") or re.search(r"[ .\-]{2,}|[.\-][ ]|[ ][.\-]", core):
        return False
    if any(p.match(core) for p in (_DATE, _YEARS, _IP, _THOUSANDS)):
        return False
    phone_words = bool(_PHONE_CONTEXT.search(before))
    if _ID_CONTEXT.search(before) and not phone_words:
        return False  # "order 0012-3456-78": an identifier, left to the account rule
    if core.isdigit():
        # A bare digit run is a phone only in phone shape (trunk or international prefix)
        # or when the text says so; otherwise it is left to the account-number rule.
        return core.startswith("0") or phone_words
    groups = [g for g in re.split(r"[^\d]+", core.lstrip("+(")) if g]
    international = core.startswith("+")
    singles = sum(1 for g in groups[1 if international else 0 :] if len(g) == 1)
    return singles <= 1


def accounts(text: str) -> Iterator[PiiSpan]:
    for m in _ACCOUNT.finditer(text):
        # Dates and year ranges written with separators are not identifiers.
        if not (_DATE.match(m.group(0)) or _YEARS.match(m.group(0))):
            yield PiiSpan(m.start(), m.end(), "ACCOUNT", m.group(0))
