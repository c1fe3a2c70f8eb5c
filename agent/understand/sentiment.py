"""Sentiment of a customer message from a small lexicon and rules (no model ships offline).

Scoring, in the manner of VADER (Hutto & Gilbert, 2014), much reduced (the word lists and
their values are data: `sentiment_lexicon.yaml` beside this module, read once):

- each lexicon word carries a valence from -3 to +3 (English, plus common French, German and
  Spanish words); complaint phrases typical of customer service ("still waiting", "cancel my
  account", "this is ridiculous") carry their own valence and are matched first;
- a negator ("not", "never", "n't", "ne ... pas", "nicht", "no") in the three words before
  a word flips and damps it; an intensifier ("very", "so", "extremely") before it scales it
  up, a softener ("a bit", "slightly") down; an ALL-CAPS word counts extra;
- "!" adds emphasis in the direction of the total, up to three of them;
- the total is squashed to [-1, 1] with x / sqrt(x^2 + 15).

Confidence reflects the evidence, not a measurement: it grows with the size of the score and
the number of sentiment cues, and shrinks when positive and negative cues are mixed. With no
cue at all the label is "neutral" at 0.6.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

from agent.understand.records import Prediction
from agent.understand.word_lists import plain, read_yaml, strings, weights

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
THRESHOLD = 0.2  # |compound| below this is neutral
UPSET = -0.5  # at or below: the end user is upset (agent/turn.py hands off, not asks back)
_ALPHA = 15.0
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
LEXICON_FILE = Path(__file__).with_name("sentiment_lexicon.yaml")


@dataclass(frozen=True)
class Lexicon:
    """Word valences, complaint phrases, negators and intensifiers (sentiment_lexicon.yaml)."""

    words: dict[str, float]
    phrases: tuple[tuple[re.Pattern[str], float], ...]  # matched in this order, before words
    negators: frozenset[str]
    intensifiers: dict[str, float]


@functools.cache
def lexicon() -> Lexicon:
    """The lexicon of `sentiment_lexicon.yaml` (read once per process)."""
    path = LEXICON_FILE
    data = read_yaml(path)
    phrases = weights(path, "phrases", dict(data["phrases"]))  # [pattern, valence] pairs
    return Lexicon(
        words=weights(path, "words", data["words"]),
        phrases=tuple((re.compile(rf"\b(?:{p})\b"), v) for p, v in phrases.items()),
        negators=frozenset(strings(path, "negators", data["negators"])),
        intensifiers=weights(path, "intensifiers", data["intensifiers"]),
    )


def detect_sentiment(text: str) -> Prediction:
    """Label "negative", "neutral" or "positive", with a confidence that reflects the evidence.

    >>> detect_sentiment("I am still waiting for my refund, this is ridiculous!!!").label
    'negative'
    """
    lex = lexicon()
    valence, negators, intensifiers = lex.words, lex.negators, lex.intensifiers
    folded = _fold(text)
    cues: list[tuple[str, float]] = []
    for pattern, value in lex.phrases:
        for match in pattern.finditer(folded):
            cues.append((match.group(0), value))
        folded = pattern.sub(" ", folded)
    caps = {_fold(w) for w in _WORD.findall(text) if len(w) > 2 and w.isupper()}
    words = _WORD.findall(folded)
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word not in valence or (word in intensifiers and following in valence):
            continue
        value = valence[word]
        before = words[max(0, index - 3) : index]
        if before and before[-1] in intensifiers:
            value *= intensifiers[before[-1]]
        if word in caps:
            value *= 1.3
        if any(w in negators for w in before) or _negated_after(words, index):
            value *= -0.6
        cues.append((word, value))
    total = sum(value for _, value in cues)
    exclamations = min(text.count("!"), 3)
    if total and exclamations:
        total += math.copysign(0.3 * exclamations, total)
    compound = total / math.sqrt(total * total + _ALPHA)
    label = POSITIVE if compound >= THRESHOLD else NEGATIVE if compound <= -THRESHOLD else NEUTRAL
    detail: dict[str, object] = {
        "compound": round(compound, 4),
        "cues": [(phrase, round(value, 2)) for phrase, value in cues],
    }
    return Prediction(label, _confidence(label, compound, cues), detail)


def _negated_after(words: list[str], index: int) -> bool:
    """French "ne ... pas" and German verb-final negation put the negator after the word."""
    return any(w in {"pas", "nicht", "jamais"} for w in words[index + 1 : index + 3])


def _confidence(label: str, compound: float, cues: list[tuple[str, float]]) -> float:
    if not cues:
        return 0.6
    positive = sum(v for _, v in cues if v > 0)
    negative = -sum(v for _, v in cues if v < 0)
    mixed = min(positive, negative) / max(positive, negative)  # 0 = one-sided, 1 = balanced
    if label == NEUTRAL:
        return round(0.55 - 0.15 * mixed, 4)
    evidence = 1.0 - 0.5 ** len(cues)  # 0.5 for one cue, 0.75 for two, ...
    confidence = 0.5 + 0.45 * abs(compound) * (0.6 + 0.4 * evidence) * (1.0 - 0.6 * mixed)
    return round(min(confidence, 0.95), 4)


def _fold(text: str) -> str:
    """Lower case, accents stripped, apostrophes to spaces ("don't" -> "don t")."""
    return re.sub(r"['’`]", " ", plain(text))


def upset(sentiment: Prediction) -> str | None:
    """The cues of a message whose sentiment is `UPSET` or worse, for the trace; else None.
    A switched-off detector (no compound) is never upset."""
    compound = sentiment.detail.get("compound")
    if not isinstance(compound, float) or compound > UPSET:
        return None
    cues = sentiment.detail.get("cues") or []
    shown = ", ".join(f"'{c[0]}'" for c in cues) if isinstance(cues, list) else ""
    return f"sentiment {compound:.2f}: {shown}"
