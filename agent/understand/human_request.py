"""Explicit requests for a human, in English, French, German, Spanish, Italian, Portuguese, Dutch.

An explicit request always hands off, so this favours recall: a request verb ("talk",
"parler", "sprechen", "hablar", ...) within a few words of a person noun ("someone", "agent",
"conseiller", "Mitarbeiter", "asesor", ...) in either order (German and Dutch put the verb
last) fires; a verb of wanting ("want", "quiero", "ich möchte") fires before a noun for
service staff ("agent", "human"), and before any person noun only where that noun ends the
sentence ("I want a person.", "I need someone now"; not "I need someone to sign for my
parcel"). So does a service noun alone in a short message ("agent please") and a phrase
that only means a person, or passing to one ("real person", "escalate"). Text is folded
first: lower case, accents stripped, apostrophes and punctuation to spaces. Spans that name
a person without asking for one ("human resources", "the agent told me") are blanked before
matching. Negated requests ("I don't want a human") still fire: handing off is the
safe mistake. The word lists are data: `human_request_words.yaml` beside this module.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from agent.understand.records import Prediction
from agent.understand.word_lists import plain, read_yaml, strings

HUMAN, NONE = "human", "none"
WINDOW = 5  # words allowed between the verb and the person noun

WORDS_FILE = Path(__file__).with_name("human_request_words.yaml")
_SHORT = 4  # words: "agent please", "humain svp", "operatore per favore"
_SENTENCE_END = re.compile(r"[.!?;\n]+")


@dataclass(frozen=True)
class _Patterns:
    request: re.Pattern[str]  # a verb and a person noun, close together
    wanted: re.Pattern[str]  # a verb of wanting and a person noun that ends the sentence
    agent: re.Pattern[str]
    person: re.Pattern[str]
    strong: re.Pattern[str]
    exclude: re.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    """The word lists of `human_request_words.yaml`, compiled (read once per process)."""
    data = read_yaml(WORDS_FILE)
    talk, want, agents, others, articles, closing, strong, exclude = (
        "|".join(strings(WORDS_FILE, key, data[key]))
        for key in (
            "talk", "want", "agents", "persons", "articles", "closing", "strong", "not_requests"
        )
    )
    persons = f"{agents}|{others}"
    gap = rf"(?:\s+\S+){{0,{WINDOW}}}?\s+"
    request = re.compile(
        rf"\b(?:{talk}){gap}(?:{persons})\b|\b(?:{persons}){gap}(?:{talk})\b"
        rf"|\b(?:{want}){gap}(?:{agents})\b"  # not reversed: "the agent will call"
    )
    return _Patterns(
        request=request,
        wanted=re.compile(
            rf"\b(?:{want})\s+(?:(?:{articles})\s+)?(?:{others})(?:\s+(?:{closing}))?$"
        ),
        agent=re.compile(rf"\b(?:{agents})\b"),
        person=re.compile(rf"\b(?:{persons})\b"),
        strong=re.compile(rf"\b(?:{strong})\b"),
        exclude=re.compile(rf"\b(?:{exclude})\b"),
    )


def detect_human_request(text: str) -> Prediction:
    """Label "human" when the message asks for a person, else "none".

    >>> detect_human_request("je veux parler à un conseiller").label
    'human'
    """
    patterns = _patterns()
    folded = patterns.exclude.sub(" ", _fold(text))
    match = patterns.request.search(folded)
    if match:
        return Prediction(HUMAN, 0.95, {"rule": "verb + person", "matched": match.group(0)})
    for sentence in _SENTENCE_END.split(text):
        wanted = patterns.wanted.search(patterns.exclude.sub(" ", _fold(sentence)))
        if wanted:
            return Prediction(HUMAN, 0.9, {"rule": "wants a person", "matched": wanted.group(0)})
    strong = patterns.strong.search(folded)
    if strong:
        return Prediction(HUMAN, 0.9, {"rule": "person phrase", "matched": strong.group(0)})
    agent = patterns.agent.search(folded)
    if agent and len(folded.split()) <= _SHORT:
        return Prediction(HUMAN, 0.85, {"rule": "short message", "matched": agent.group(0)})
    person = patterns.person.search(folded)
    if person:
        return Prediction(
            NONE, 0.7, {"rule": "person mentioned, no request", "matched": person.group(0)}
        )
    return Prediction(NONE, 0.95, {"rule": "no person mentioned"})


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]|_", " ", plain(text)).split())
