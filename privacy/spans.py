"""Detected personal data as typed spans, and how overlapping candidates are settled.

Entity types use Presidio's names (`EMAIL_ADDRESS`, `PHONE_NUMBER`...) plus Clearline's own
`STREET_ADDRESS` and `ACCOUNT_NUMBER`. Offsets are character offsets into the analysed text:
`text[span.start:span.end]` is the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PERSON = "PERSON"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
CREDIT_CARD = "CREDIT_CARD"
IBAN_CODE = "IBAN_CODE"
US_SSN = "US_SSN"
US_DRIVER_LICENSE = "US_DRIVER_LICENSE"
STREET_ADDRESS = "STREET_ADDRESS"
IP_ADDRESS = "IP_ADDRESS"
LOCATION = "LOCATION"
DATE_TIME = "DATE_TIME"
URL = "URL"
ACCOUNT_NUMBER = "ACCOUNT_NUMBER"

ENTITY_TYPES: tuple[str, ...] = (
    PERSON,
    EMAIL_ADDRESS,
    PHONE_NUMBER,
    CREDIT_CARD,
    IBAN_CODE,
    US_SSN,
    US_DRIVER_LICENSE,
    STREET_ADDRESS,
    IP_ADDRESS,
    LOCATION,
    DATE_TIME,
    URL,
    ACCOUNT_NUMBER,
)

# Where candidates of different types overlap, the higher rank keeps the text. Values that
# carry their own proof (a checksum, an @, dotted quads) come first; then the structured
# shapes Clearline recognises itself; then names; then the looser context entities.
_RANK: dict[str, int] = {
    EMAIL_ADDRESS: 5,
    CREDIT_CARD: 5,
    IBAN_CODE: 5,
    US_SSN: 5,
    IP_ADDRESS: 5,
    URL: 4,
    STREET_ADDRESS: 3,
    PHONE_NUMBER: 3,
    ACCOUNT_NUMBER: 3,
    US_DRIVER_LICENSE: 3,
    PERSON: 2,
    LOCATION: 1,
    DATE_TIME: 1,
}


@dataclass(frozen=True)
class Span:
    """One piece of personal data: `text[start:end]`, its type and the detector's confidence."""

    start: int
    end: int
    entity_type: str
    score: float

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def precedence(span: Span) -> tuple[int, float, int]:
    """Sort key: which of two overlapping spans keeps the text (higher wins)."""
    return _RANK.get(span.entity_type, 0), span.score, span.end - span.start


def settle(candidates: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans in text order. Overlapping spans of one type become their union
    (with the best score); across types the higher-ranked type wins, then the higher score,
    then the longer span."""
    ordered = sorted(
        _unite(candidates),
        key=lambda s: (-_RANK.get(s.entity_type, 0), -s.score, -(s.end - s.start), s.start),
    )
    accepted: list[Span] = []
    for span in ordered:
        if span.end > span.start and not any(span.overlaps(a) for a in accepted):
            accepted.append(span)
    return sorted(accepted, key=lambda s: s.start)


def _unite(candidates: Iterable[Span]) -> list[Span]:
    by_type: dict[str, list[Span]] = {}
    for span in candidates:
        by_type.setdefault(span.entity_type, []).append(span)
    united: list[Span] = []
    for entity_type, spans in by_type.items():
        spans.sort(key=lambda s: s.start)
        current = spans[0]
        for span in spans[1:]:
            if span.start < current.end:
                current = Span(
                    current.start,
                    max(current.end, span.end),
                    entity_type,
                    max(current.score, span.score),
                )
            else:
                united.append(current)
                current = span
        united.append(current)
    return united
