"""Person names that begin with a known given name: "Sanna Virtakallio", "ask Teresa".

spaCy's small model misses names it has not seen, and many of the names in customer messages
are not English. A capitalised word that is a given name in `data/given_names.txt` (Faker's
given names of 26 locales, less English words such as "Will" or "Grace") starts a name, with
the capitalised words and initial that follow it ("Ana M. Dias", "Ines King": English words
only when they are family names too, `data/word_surnames.txt`). Not where spaCy says the
word is part of a place, a nationality or a date ("Victoria Falls", "6 April"), nor when a
capitalised word that is not a name follows ("Diana Award", "German Embassy").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from privacy.recognizers.base import TextRecognizer, lowercase_text, word_list
from privacy.recognizers.names import not_a_name
from privacy.spans import PERSON, Span

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

# spaCy labels under which a given name is something else: a place, a nationality, a month
# ("from 6 April"), a brand.
_NOT_PERSON_ENTITIES = frozenset({"GPE", "LOC", "FAC", "NORP", "DATE", "TIME", "PRODUCT"})


class GivenNameRecognizer(TextRecognizer):
    """A known given name and the family name or initial that follow it."""

    ENTITIES = (PERSON,)

    def __init__(self) -> None:
        super().__init__()
        self._given = frozenset(word_list("given_names.txt"))
        self._common = frozenset(word_list("english_words.txt"))
        self._word_surnames = frozenset(word_list("word_surnames.txt"))

    def find(self, text: str, doc: Doc | None) -> Iterator[Span]:
        if doc is None:
            return
        lower = lowercase_text(text)
        other = {t.i for e in doc.ents if e.label_ in _NOT_PERSON_ENTITIES for t in e}
        i = 0
        while i < len(doc):
            token = doc[i]
            word = token.text
            name = word.capitalize() if lower else word
            if token.i in other or name not in self._given or not_a_name(word):
                i += 1
                continue
            last = i
            while (
                last + 1 < len(doc)
                and last - i < 3
                and self._follows(doc[last], doc[last + 1], lower)
            ):
                last += 1
            if last + 1 < len(doc) and self._capitalised_next(doc[last], doc[last + 1]):
                # "Diana Award", "German Embassy": the name of a thing, not of a person.
                i = last + 2
                continue
            end = doc[last].idx + len(doc[last].text)
            yield Span(token.idx, end, PERSON, 0.6 if last > i else 0.5)
            i = last + 1

    @staticmethod
    def _capitalised_next(previous: Token, token: Token) -> bool:
        return (
            token.idx == previous.idx + len(previous.text) + 1
            and token.text[:1].isupper()
            and token.text.isalpha()
        )

    def _follows(self, previous: Token, token: Token, lower: bool) -> bool:
        """`token` continues the name: one space after it, capitalised, not a place or date,
        not a common word unless a family name (`data/word_surnames.txt`)."""
        if token.idx != previous.idx + len(previous.text) + 1:
            return False
        word = token.text.rstrip(".")
        if not word.isalpha() or not (lower or word[0].isupper()) or not_a_name(word):
            return False
        if len(word) == 1:
            return True  # an initial
        if token.ent_type_ in _NOT_PERSON_ENTITIES:
            return False
        # Not a common word ("Diana Award"), unless it is a family name too ("Ines King").
        return word.lower() not in self._common or word.capitalize() in self._word_surnames
