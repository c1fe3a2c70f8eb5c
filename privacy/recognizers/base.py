"""What Clearline's recognizers share: the Presidio adapter, casing and context helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING

from presidio_analyzer import LocalRecognizer, RecognizerResult

from privacy.spans import Span

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from spacy.tokens import Doc

_WORD = re.compile(r"[^\W\d_]+")


class TextRecognizer(LocalRecognizer):
    """A recognizer that scores its own findings, context included.

    Subclasses implement `find(text, doc)`; `doc` is the spaCy Doc of the text when the
    analyzer ran spaCy (None otherwise). Results are marked as already context-enhanced so
    Presidio does not raise their scores a second time.
    """

    ENTITIES: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__(
            supported_entities=list(self.ENTITIES),
            supported_language="en",
            name=type(self).__name__,
        )

    def load(self) -> None:
        """Nothing to load: patterns and word lists are read at construction."""

    def find(self, text: str, doc: Doc | None) -> Iterable[Span]:
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        doc = nlp_artifacts.tokens if nlp_artifacts is not None else None
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: type(self).__name__,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
        }
        return [
            RecognizerResult(
                s.entity_type, s.start, s.end, s.score, recognition_metadata=dict(metadata)
            )
            for s in self.find(text, doc)
            if s.entity_type in entities
        ]


def word_list(name: str) -> list[str]:
    """Entries of `privacy/data/<name>`: one per line, `#` starts a comment."""
    raw = resources.files("privacy").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    entries = (line.split("#", 1)[0].strip() for line in raw.splitlines())
    return [entry for entry in entries if entry]


def alternation(words: Sequence[str]) -> str:
    """A regex alternation of `words`, longest first so that no prefix shadows a longer one."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def lowercase_text(text: str) -> bool:
    """True when the writer did not capitalise (almost no word starts upper case), so
    capitalisation cannot be required of names and street names."""
    words = _WORD.findall(text)
    if len(words) < 3:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) < 0.05


def capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper()


def window_before(text: str, start: int, chars: int = 40) -> str:
    return text[max(0, start - chars) : start]


def window_after(text: str, end: int, chars: int = 20) -> str:
    return text[end : end + chars]
