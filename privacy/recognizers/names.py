"""Person names that the small spaCy model misses.

spaCy's `en_core_web_sm` finds most full names in ordinary sentences but misses single given
names, names it has not seen (many non-English ones) and names in lists, forms and dialogue.
These rules add names from evidence in the text itself:

- words that introduce a name ("my name is", "Mr.", "Dear", "I'm", "Name:"),
- a given name, an initial and a family name ("Brad L Key", "Ella H. Snider"),
- a speaker label at the start of a line ("Ella: What a wife."),
- words whose letters spell the local part of an email in the same text
  ("leone mazzi ... leonemazzi@example.com"),
- a proper noun with an ending typical of family names (`data/surname_endings.txt`),
- a proper noun after a word that takes a person ("speak to", "with", "said") or as the
  subject of a verb at the start of a sentence ("Sunniva is very reliable"),
- and every other occurrence of a word of a name found anywhere in the text.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

from spacy.lang.en.stop_words import STOP_WORDS

from privacy.recognizers.base import TextRecognizer, alternation, lowercase_text, word_list
from privacy.spans import PERSON, Span

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.tokens import Span as SpacySpan

_WORD = re.compile(r"[^\W\d_][\w'’-]*\.?")
# fmt: off
_NOT_NAMES = frozenset(STOP_WORDS) | frozenset([
    "thanks", "thank", "hello", "hi", "hey", "dear", "regards", "sir", "madam", "please", "ok",
    "okay", "yes", "no", "sorry", "date", "name", "phone", "email", "e-mail", "website",
    "address", "when", "where", "subject", "from", "to", "cc", "note", "re", "time", "tel",
    "fax", "mobile", "agent", "customer", "user", "bot", "assistant", "support", "system",
    "operator", "company", "order", "question", "answer", "personal", "info", "team", "manager",
    "admin", "staff", "client", "guest",
    # Labels of form fields, which start a line as a speaker's name would ("IBAN: ...").
    "iban", "bic", "swift", "ssn", "dob", "passport", "licence", "license", "card", "account",
    "id", "postcode", "zip", "telephone", "cell", "desk", "office", "home", "work", "url",
    "ref", "reference", "invoice", "amount", "total",
    # Days of the week: capitalised, after "by" or "on", and never a person in these texts.
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
])
# fmt: on
_STRONG_CUE = re.compile(
    r"\b(?:(?P<named>my name is|my name's|name is|names? ?:|full name ?:|i am called|signed)"
    r"|(?:mr|mrs|ms|miss|mx|dr|prof)\.?|dear|call me|i'm|i am|this is|it's|regards,?"
    r"|sincerely,?)[ \t]+",
    re.IGNORECASE,
)
# Words after which a name-like word is a person even where spaCy says it is a place.
_PERSON_CUE = re.compile(
    r"\b(?:said|says|asked|told|tell|thanks,?|thank you,?|hi,?|hello,?|hey,?|dear|ask for"
    r"|contact|invite|add|spoke (?:to|with)|speak (?:to|with)|talk (?:to|with)|assistant to"
    r"|behalf of|follow up with|meet with|married|shouted at|called)[ \t]+$",
    re.IGNORECASE,
)
# Words after which a name-like word that spaCy does not call a place is a person.
_WEAK_CUE = re.compile(r"\b(?:with|for|by|and|under|met|meet)[ \t]+$", re.IGNORECASE)
_SPEAKER = re.compile(r"(?m)^[ \t>]*([^\W\d_][\w'’-]*(?: [^\W\d_][\w'’-]*)?)[ \t]*:[ \t]*(?=\S)")
_EMAIL = re.compile(r"([\w.+-]+)@[\w-]+(?:\.[\w-]+)+")
_PLACE_ENTITIES = frozenset({"GPE", "LOC", "FAC", "NORP"})
_FOLLOWER = re.compile(r" ([^\W\d_][\w’-]+)(?='s\b|’s\b|[^\w'’]|$)")
_LATIN = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "þ": "th", "ð": "d"})


def not_a_name(value: str) -> bool:
    """True when every word of `value` is a word that is never a name here ("Tel.", "Email")."""
    words = [w.rstrip(".").lower() for w in _WORD.findall(value)]
    return bool(words) and all(w in _NOT_NAMES for w in words)


class NameRecognizer(TextRecognizer):
    """Person names from cues, shapes and repetition in the text (see the module doc)."""

    ENTITIES = (PERSON,)

    def __init__(self) -> None:
        super().__init__()
        self._surname = re.compile(rf"(?:{alternation(word_list('surname_endings.txt'))})$")
        self._common = frozenset(word_list("english_words.txt"))

    def find(self, text: str, doc: Doc | None) -> Iterator[Span]:
        lower = lowercase_text(text)
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        found: list[Span] = []
        found += _cued(text, lower)
        found += _initials(text, words, lower)
        found += _emailed(text, words)
        if doc is not None:
            names = _Candidates(doc, self._common, lower)
            found += _speakers(text, names)
            found += _first_line(text, names)
            found += self._surnames(text, doc)
            found += _proper_nouns(text, names)
        spacy_names = [
            Span(e.start_char, e.end_char, PERSON, 0.85)
            for e in (doc.ents if doc is not None else ())
            if e.label_ == PERSON
        ]
        found += _repeated(text, found + spacy_names, lower, self._common)
        yield from found

    def _surnames(self, text: str, doc: Doc) -> Iterator[Span]:
        places = _entity_tokens(doc, _PLACE_ENTITIES)
        for token in doc:
            word = token.text
            ending = self._surname.search(word.lower())
            if (
                ending is None
                or len(word) < len(ending.group(0)) + 2
                or not word[0].isupper()
                or token.pos_ != "PROPN"
                or token.i in places
                or word.lower() in _NOT_NAMES
            ):
                continue
            first = token.i
            previous = doc[first - 1] if first > 0 else None
            if (
                previous is not None
                and previous.pos_ == "PROPN"
                and previous.text[:1].isupper()
                and previous.text.lower() not in _NOT_NAMES
                and previous.i not in places
            ):
                first -= 1
            yield Span(doc[first].idx, token.idx + len(word), PERSON, 0.65)


def _entity_tokens(doc: Doc, labels: frozenset[str]) -> set[int]:
    return {t.i for e in doc.ents if e.label_ in labels for t in e}


def _name_words(text: str, start: int, any_case: bool, limit: int = 3) -> int:
    """End of up to `limit` name words (initials allowed between) starting at `start`."""
    end = start
    cursor = start
    for _ in range(limit):
        word = _WORD.match(text, cursor)
        if word is None:
            break
        value = word.group(0).rstrip(".")
        if value.lower() in _NOT_NAMES and len(value) > 1:
            break
        if not (any_case or value[0].isupper()):
            break
        end = word.end() if len(value) == 1 else word.start() + len(value)
        gap = re.match(r"[ ]+", text[word.end() :])
        if not gap:
            break
        cursor = word.end() + gap.end()
    return end


def _cued(text: str, lower: bool) -> Iterator[Span]:
    for cue in _STRONG_CUE.finditer(text):
        any_case = lower or cue.group("named") is not None
        end = _name_words(text, cue.end(), any_case)
        if end > cue.end():
            yield Span(cue.end(), end, PERSON, 0.8)


def _initials(text: str, words: list[tuple[int, int]], lower: bool) -> Iterator[Span]:
    """Given name, initial, family name: "Brad L Key", "Ella H. Snider", "codey m ross"."""
    for (s1, e1), (s2, e2), (s3, e3) in zip(words, words[1:], words[2:], strict=False):
        first, initial, last = text[s1:e1], text[s2:e2].rstrip("."), text[s3:e3].rstrip(".")
        if text[e1:s2] != " " or text[e2:s3] != " " or len(initial) != 1:
            continue
        capitalised = first[0].isupper() and initial.isupper() and last[0].isupper()
        if not capitalised and not (lower and (e2 - s2 == 2 or initial not in "ai")):
            continue
        if first.rstrip(".").lower() in _NOT_NAMES or last.lower() in _NOT_NAMES:
            continue
        yield Span(s1, s3 + len(last), PERSON, 0.75)


def _fold(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value.lower().translate(_LATIN))
    return "".join(c for c in plain if c.isalpha() and c.isascii())


def _emailed(text: str, words: list[tuple[int, int]]) -> Iterator[Span]:
    """Two to four words on one line whose letters spell an email's local part."""
    locals_ = {_fold(m.group(1)) for m in _EMAIL.finditer(text)}
    locals_ = {local for local in locals_ if len(local) >= 5}
    if not locals_:
        return
    for i in range(len(words)):
        for size in (2, 3, 4):
            window = words[i : i + size]
            if len(window) < size:
                break
            if any(text[a[1] : b[0]] != " " for a, b in itertools.pairwise(window)):
                break
            parts = [_fold(text[s:e]) for s, e in window]
            if "".join(parts) in locals_ or parts[0] + parts[-1] in locals_:
                yield Span(window[0][0], window[-1][1], PERSON, 0.8)


class _Candidates:
    """Which spaCy tokens may be (part of) a name: capitalised (unless the whole text is lower
    case), not a stop word, and either tagged a proper noun and not a common English word, or
    not an English word at all."""

    def __init__(self, doc: Doc, common: frozenset[str], lower: bool) -> None:
        self.doc = doc
        self.places = _entity_tokens(doc, _PLACE_ENTITIES)
        self._common = common
        self._lower = lower

    def name_like(self, i: int) -> bool:
        token = self.doc[i]
        word = token.text
        if not word[:1].isalpha() or word.lower() in _NOT_NAMES or len(word) < 2:
            return False
        if not (self._lower or word[0].isupper()):
            return False
        unknown = word.lower() not in self._common
        return unknown or (token.pos_ == "PROPN" and not self._lower)

    def unknown(self, i: int) -> bool:
        return self.doc[i].text.lower() not in self._common

    def run(self, i: int) -> int:
        """Index after the run of up to three name-like tokens starting at i."""
        j = i
        while j < len(self.doc) and j - i < 3 and self.name_like(j):
            j += 1
        return j


def _speakers(text: str, names: _Candidates) -> Iterator[Span]:
    """Speaker labels of a dialogue: "Ella: What a wife." (names, not form labels)."""
    for m in _SPEAKER.finditer(text):
        span = names.doc.char_span(m.start(1), m.end(1), alignment_mode="expand")
        if span is None or any(w.lower() in _NOT_NAMES for w in m.group(1).split()):
            continue
        if all(names.name_like(t.i) for t in span) and any(names.unknown(t.i) for t in span):
            yield Span(m.start(1), m.end(1), PERSON, 0.6)


def _first_line(text: str, names: _Candidates) -> Iterator[Span]:
    """The first line of a contact card or signature block: a name on a line of its own."""
    lines = [line for line in text.split("\n") if line.strip(" \t>")]
    if len(lines) < 3:
        return
    first = names.doc.char_span(
        text.index(lines[0]), text.index(lines[0]) + len(lines[0]), alignment_mode="expand"
    )
    if first is None:
        return
    words = [t for t in first if not (t.is_punct or t.is_space)]
    single = [t for t in words if len(t.text.rstrip(".")) == 1]
    full = [t for t in words if t not in single]
    shaped = 2 <= len(full) <= 3 and len(single) <= 1
    if shaped and all(names.name_like(t.i) for t in full) and any(names.unknown(t.i) for t in full):
        yield Span(words[0].idx, words[-1].idx + len(words[-1].text), PERSON, 0.55)


def _proper_nouns(text: str, names: _Candidates) -> Iterator[Span]:
    """Name-like tokens after a word that takes a person, or as the subject of a verb."""
    doc = names.doc
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(doc):
        j = names.run(i)
        if j > i:
            runs.append((i, j))
        i = max(j, i + 1)
    for k, (i, j) in enumerate(runs):
        run: SpacySpan = doc[i:j]
        before = text[max(0, run.start_char - 25) : run.start_char]
        in_place = any(t.i in names.places for t in run)
        # An organisation spaCy recognised by its known words ("Boston Consulting Group").
        known_org = any(t.ent_type_ == "ORG" for t in run) and not all(
            names.unknown(t.i) for t in run
        )
        if _PERSON_CUE.search(before):
            yield Span(run.start_char, run.end_char, PERSON, 0.5)
            continue
        if in_place or known_org:
            continue
        # "Usamov and Bowers were ...": the subject may be a pair joined by "and".
        partner = runs[k + 1] if k + 1 < len(runs) else None
        paired = partner is not None and partner[0] == j + 1 and doc[j].lower_ == "and"
        last = partner[1] if paired and partner is not None else j
        group = [t.i for t in doc[i:last] if t.lower_ != "and"]
        subject = _verb_follows(doc, last) and any(names.unknown(t) for t in group)
        determined = i > 0 and doc[i - 1].pos_ in {"DET", "PRON"} and doc[i - 1].lower_ != "that"
        if _WEAK_CUE.search(before) or (subject and not determined):
            yield Span(run.start_char, run.end_char, PERSON, 0.5)
            if paired and partner is not None and subject:
                yield Span(
                    doc[partner[0]].idx,
                    doc[partner[1] - 1].idx + len(doc[partner[1] - 1]),
                    PERSON,
                    0.5,
                )


def _verb_follows(doc: Doc, j: int) -> bool:
    """A verb (possibly after an adverb such as "just") or a vocative comma comes next."""
    if j < len(doc) and doc[j].pos_ == "ADV":
        j += 1
    return j < len(doc) and (doc[j].pos_ in {"VERB", "AUX"} or (j == 1 and doc[j].text == ","))


def _repeated(text: str, found: list[Span], lower: bool, common: frozenset[str]) -> Iterator[Span]:
    """Other occurrences of the words of names already found, with the uncommon capitalised
    words that follow them ("Sunniva" found, "Sunniva Haugen's name" gives "Sunniva Haugen")."""
    names = {
        word
        for span in found
        if span.score >= 0.5
        for word in re.findall(r"[^\W\d_][\w’-]+", text[span.start : span.end])
        if len(word) >= 3 and word.lower() not in _NOT_NAMES and (lower or word[0].isupper())
    }
    if not names:
        return
    pattern = re.compile(rf"(?<![\w@.])(?:{alternation(sorted(names))})(?![\w@]|\.\w)")
    for m in pattern.finditer(text):
        end = m.end()
        for _ in range(2):
            follower = _FOLLOWER.match(text, end)
            if follower is None or follower.group(1).lower() in common | _NOT_NAMES:
                break
            if not (lower or follower.group(1)[0].isupper()):
                break
            end = follower.end()
        yield Span(m.start(), end, PERSON, 0.6)
