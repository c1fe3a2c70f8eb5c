"""Street addresses, which Presidio has no recognizer for.

A street is found from an anchor and grown from there:

- a street type after the name ("221B Baker Street", "17 Elm Ave"; `data/street_types.txt`),
- a street type before it ("Rue de Rivoli 5", "ul. Długa 3"; `data/street_prefixes.txt`),
- a one-word street name with a telling ending next to a number ("Vesterskovvej 79";
  `data/street_endings.txt`),
- a unit ("Apt. 5", "Suite 300", "P.O. Box 12") or a US military address ("PSC 1234, Box 5678
  APO AE 09876"),
- words that announce an address ("my address is", "lives at", "ship it to") followed by
  numbers and capitalised words, or a line of its own shaped number-name-number.

The street then takes in its house numbers and what follows on the same address: units,
town, region, country and postcode, separated by spaces, commas or line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spacy.lang.en.stop_words import STOP_WORDS

from privacy.recognizers.base import TextRecognizer, alternation, lowercase_text, word_list
from privacy.spans import STREET_ADDRESS, Span

if TYPE_CHECKING:
    from spacy.tokens import Doc

_TOKEN = re.compile(r"[^\s,;:!?()\"“”>]+")
_NUMBER = re.compile(r"^\d{1,6}(?:[-/]\d{1,5})?[A-Za-z]?\.?$")
# fmt: off
_PARTICLES = frozenset([
    "de", "da", "do", "dos", "das", "del", "della", "di", "du", "des", "la", "le", "les", "el",
    "van", "von", "der", "den", "ten", "ter", "e", "y", "d'", "z", "u", "na", "nad", "pod", "im",
    "am", "an",
])
# fmt: on
_NOT_NAME = frozenset(STOP_WORDS) - {"via"} | {
    "thanks",
    "thank",
    "hello",
    "hi",
    "regards",
    "phone",
    "email",
    "e-mail",
    "website",
    "tel",
    "fax",
    "mobile",
    "office",
    "date",
    "address",
    "dear",
    "ok",
    "yes",
}  # fmt: skip
_UNIT = r"(?:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|bldg|building|box|p\.?o\.? box)"
_UNIT_RE = re.compile(rf"(?i:{_UNIT})\.?\s?#?\s?\d{{1,6}}[A-Za-z]?(?![\w])")
_MILITARY = re.compile(
    r"\b(?:(?:PSC|CMR|Unit) \d{3,5},? Box \d{3,5}|(?:USNS|USNV|USS|USCGC) [A-Z][a-z]+)"
    r"\s*\n?\s*[AFD]PO A[AEP] \d{5}\b"
)
_CUE = re.compile(
    r"\b(?:address(?: is|:)?|(?:live[sd]?|living|stay(?:ing|s)?|reside[sd]?) (?:at|on)"
    r"|located at|office is at|deliver(?:ed|y)? (?:it |them )?to|ship(?:ped|ping)? (?:it |them )?to"
    r"|sen[dt] (?:it |them |this )?to|mail(?:ed)? (?:it |them )?to|moved to|meet (?:me |us )?at"
    r"|arrived at|drop(?:s|ped)? (?:me |you |it )?(?:off )?at|visit (?:us |me )?at|corner of)"
    r"[ \t:]*\n?[ \t]*",
    re.IGNORECASE,
)
_CORNER = re.compile(r"(?i:the corner of)\s+")
_POSTCODE = r"(?:\d{4,6}(?:-\d{3,4})?|\d{2}-\d{3}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})"
_SEPARATOR = re.compile(r"(?:[ \t]*,[ \t]*\n?|[ \t]*\n(?:[ \t>]*,)?|[ \t]+)[ \t>]*")
_PART = re.compile(rf"(?:{_UNIT_RE.pattern}|{_POSTCODE}(?![\w-])|[^\W\d_][\w'’.-]*)")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def bare(self) -> str:
        return self.text.lower().rstrip(".")


class AddressRecognizer(TextRecognizer):
    """Street addresses, from street anchors grown to the whole written address."""

    ENTITIES = (STREET_ADDRESS,)

    def __init__(self) -> None:
        super().__init__()
        self._types = frozenset(word_list("street_types.txt"))
        self._strong_types = frozenset(word_list("street_types_strong.txt"))
        self._prefixes = frozenset(p.rstrip(".") for p in word_list("street_prefixes.txt"))
        self._endings = tuple(e.rstrip(".") for e in word_list("street_endings.txt"))
        self._ending_re = re.compile(rf"(?:{alternation(self._endings)})$")

    def find(self, text: str, doc: Doc | None) -> Iterator[Span]:
        lower = lowercase_text(text)
        tokens = [_Token(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
        cores: list[tuple[int, int, float]] = []
        cores += self._street_cores(text, tokens, lower)
        cores += [(m.start(), m.end(), 0.5) for m in _UNIT_RE.finditer(text)]
        cores += [(m.start(), m.end(), 0.8) for m in _MILITARY.finditer(text)]
        cores += _cued_cores(text, lower)
        grown = [(start, _grow(text, end, lower), score) for start, end, score in cores]
        for start, end, score in _merge(text, grown):
            yield Span(start, end, STREET_ADDRESS, score)

    def _street_cores(
        self, text: str, tokens: list[_Token], lower: bool
    ) -> Iterator[tuple[int, int, float]]:
        for i, token in enumerate(tokens):
            abbreviation = token.text.endswith(".") and token.bare in self._types
            if not (
                lower or token.text[0].isupper() or abbreviation or token.bare in self._prefixes
            ):
                continue
            if token.bare in self._types and i > 0:
                first = _names_before(text, tokens, i, lower)
                if first < i:
                    numbered, start = _numbers_before(text, tokens, first)
                    after = _number_after(text, tokens, i)
                    end = tokens[after].end if after is not None else token.end
                    if numbered or after is not None:
                        yield tokens[start].start, end, 0.75
                    elif token.bare in self._strong_types:
                        yield tokens[first].start, token.end, 0.5
            if token.bare in self._prefixes:
                last = _names_after(text, tokens, i, lower)
                if last > i:
                    numbered, start = _numbers_before(text, tokens, i)
                    after = _number_after(text, tokens, last)
                    if numbered or after is not None:
                        end = tokens[after].end if after is not None else tokens[last].end
                        yield tokens[start].start, end, 0.75
            if _is_name(token, lower) and self._ending_re.search(token.bare):
                stem_only = token.bare in self._endings
                first = _names_before(text, tokens, i, lower) if stem_only else i
                if stem_only and first == i:
                    continue
                numbered, start = _numbers_before(text, tokens, first)
                after = _number_after(text, tokens, i)
                if numbered or after is not None:
                    end = tokens[after].end if after is not None else token.end
                    yield tokens[start].start, end, 0.65
        yield from _numbered_lines(text, tokens, lower)


def _is_name(token: _Token, lower: bool) -> bool:
    word = token.text
    if not word[0].isalpha() or token.bare in _NOT_NAME:
        return False
    return lower or word[0].isupper()


def _joined(text: str, left: _Token, right: _Token) -> bool:
    """True when only spaces separate two tokens (same line, same clause)."""
    gap = text[left.end : right.start]
    return not gap.strip(" \t")


def _names_before(text: str, tokens: list[_Token], i: int, lower: bool) -> int:
    first = i
    while (
        first > 0
        and i - first < 4
        and _joined(text, tokens[first - 1], tokens[first])
        and (_is_name(tokens[first - 1], lower) or tokens[first - 1].bare in _PARTICLES)
    ):
        first -= 1
    while first < i and tokens[first].bare in _PARTICLES:
        first += 1
    return first


def _names_after(text: str, tokens: list[_Token], i: int, lower: bool) -> int:
    last = i
    while (
        last + 1 < len(tokens)
        and last - i < 6
        and _joined(text, tokens[last], tokens[last + 1])
        and (_is_name(tokens[last + 1], lower) or tokens[last + 1].bare in _PARTICLES)
    ):
        last += 1
    while last > i and tokens[last].bare in _PARTICLES:
        last -= 1
    return last


def _numbers_before(text: str, tokens: list[_Token], first: int) -> tuple[bool, int]:
    start = first
    while (
        start > 0
        and first - start < 2
        and _NUMBER.match(tokens[start - 1].text)
        and _joined(text, tokens[start - 1], tokens[start])
    ):
        start -= 1
    return start < first, start


def _number_after(text: str, tokens: list[_Token], i: int) -> int | None:
    nxt = i + 1
    if (
        nxt < len(tokens)
        and _NUMBER.match(tokens[nxt].text)
        and _joined(text, tokens[i], tokens[nxt])
    ):
        return nxt
    return None


def _numbered_lines(
    text: str, tokens: list[_Token], lower: bool
) -> Iterator[tuple[int, int, float]]:
    """A line that is only "number name... number", the street line of a written address."""
    for m in re.finditer(r"(?m)^[ \t>]*(\S.*?)[ \t]*$", text):
        line = [t for t in tokens if m.start(1) <= t.start and t.end <= m.end(1)]
        if (
            3 <= len(line) <= 6
            and _NUMBER.match(line[0].text)
            and _NUMBER.match(line[-1].text)
            and all(_is_name(t, lower) for t in line[1:-1] if not _NUMBER.match(t.text))
            and any(not _NUMBER.match(t.text) for t in line[1:-1])
        ):
            yield line[0].start, line[-1].end, 0.5


def _cued_cores(text: str, lower: bool) -> Iterator[tuple[int, int, float]]:
    """After words that announce an address: numbers and names, at least one of each."""
    for cue in _CUE.finditer(text):
        cursor = cue.end()
        corner = _CORNER.match(text, cursor)
        if corner:
            cursor = corner.end()
        start = cursor
        words = numbers = 0
        end = cursor
        for m in _TOKEN.finditer(text, cursor):
            gap = text[end : m.start()] if end > cursor else ""
            if gap.strip(" \t,") or (words + numbers) >= 12:
                break
            token = _Token(m.start(), m.end(), m.group(0))
            if _NUMBER.match(token.text):
                numbers += 1
            elif _is_name(token, lower) or token.bare in _PARTICLES:
                words += 1
            elif corner and token.bare == "and":
                pass
            else:
                break
            end = token.end
        if words and numbers:
            yield start, end, 0.6


def _grow(text: str, end: int, lower: bool) -> int:
    """Extend an address over the units, town, region, country and postcode after it."""
    for _ in range(6):
        separator = _SEPARATOR.match(text, end)
        if separator is None:
            break
        part = _PART.match(text, separator.end())
        if part is None:
            break
        value = part.group(0)
        if value[0].isalpha():
            if value.lower().rstrip(".") in _NOT_NAME or not (lower or value[0].isupper()):
                break
            if text[part.end() : part.end() + 1] == ":" or "@" in value:
                break
        if "\n" in separator.group(0) and _looks_like_other_line(text, separator.end()):
            break
        end = part.end()
        while end > 0 and text[end - 1] in ".-'’":
            end -= 1
    return end


def _looks_like_other_line(text: str, start: int) -> bool:
    """A following line that holds a phone number, an email or a label is not the address."""
    line = text[start:].split("\n", 1)[0]
    return "@" in line or ":" in line or len(re.sub(r"\D", "", line)) >= 7


def _merge(text: str, found: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Union overlapping or adjacent (only spaces/commas between) candidates; best score."""
    merged: list[tuple[int, int, float]] = []
    for start, end, score in sorted(found):
        if merged:
            last_start, last_end, last_score = merged[-1]
            if start <= last_end or not text[last_end:start].strip(" \t,"):
                merged[-1] = (last_start, max(last_end, end), max(last_score, score))
                continue
        merged.append((start, end, score))
    return merged
