"""Replace detected spans with typed placeholders such as `[EMAIL_ADDRESS]`.

Built on presidio-anonymizer's replace operator. Overlapping spans become one placeholder
covering all of them, typed after the span that would win the overlap (see
`privacy.spans.precedence`), so every character of every span is replaced and nothing of a
value survives; neighbouring spans of one type separated only by spaces become one
placeholder.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from privacy.spans import Span, precedence

if TYPE_CHECKING:
    from presidio_anonymizer import AnonymizerEngine


def placeholder(entity_type: str) -> str:
    """The text that stands in for a value of `entity_type`: `[EMAIL_ADDRESS]`."""
    return f"[{entity_type}]"


@lru_cache(maxsize=1)
def _engine() -> AnonymizerEngine:
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()  # type: ignore[no-untyped-call]


def redact(text: str, spans: Sequence[Span]) -> str:
    """`text` with each span replaced by its typed placeholder.

    Raises ValueError naming the span when a span does not lie inside `text`.
    """
    for span in spans:
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(
                f"span {span.start}-{span.end} ({span.entity_type}) is outside the text of "
                f"{len(text)} characters: detect spans on this same text before redacting"
            )
    kept = _covering(spans)
    if not kept:
        return text
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    results = [RecognizerResult(s.entity_type, s.start, s.end, s.score) for s in kept]
    operators = {
        entity_type: OperatorConfig("replace", {"new_value": placeholder(entity_type)})
        for entity_type in {s.entity_type for s in kept}
    }
    engine_result = _engine().anonymize(text=text, analyzer_results=results, operators=operators)
    return str(engine_result.text)


def _covering(spans: Sequence[Span]) -> list[Span]:
    """One span per group of overlapping spans: their union, typed after the winner."""
    groups: list[list[Span]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if groups and span.start < max(s.end for s in groups[-1]):
            groups[-1].append(span)
        else:
            groups.append([span])
    covering: list[Span] = []
    for group in groups:
        winner = max(group, key=precedence)
        start, end = min(s.start for s in group), max(s.end for s in group)
        covering.append(Span(start, end, winner.entity_type, winner.score))
    return covering
