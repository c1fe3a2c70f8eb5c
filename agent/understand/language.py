"""The language of a message, as an ISO 639-1 code, from two detectors: langdetect (seeded,
so repeatable) and py3langid (langid.py's model, shipped in its package).

langdetect is reliable on a long sentence and guesses wildly on a word or two ("ok" comes
back as Slovak at 0.99). Under three words the answer therefore comes from a short list of
greetings and courtesy words (`language_short_words.yaml`) when one matches, else from
langdetect only if it names a common language, else the default language; either way with
a confidence that says the evidence is thin.

From three words on, langdetect still reads short English questions as other languages with
certainty ("How long does delivery take?" as Afrikaans at 0.99; 13 of 443 English
questions of 3 to 12 words in the dev sets, the demo's question sets and the routed set),
and the route step then starts a procedure on the intent alone (agent/route.py).
py3langid read all 443 as English, but is rarely confident on short text in any language.
So the confident answer is the one both give; when they differ the message gets the
default language if either names it, else py3langid's, at `DISAGREE_CONFIDENCE` (measured
by bench/language_detection.py; docs/benchmarks.md, "Language detection").

Both can agree on a text that is in no language: "12 Oak Street, Springfield, IL 62701"
came back as Afrikaans from both, and the agent answered an address with "Sorry, I can only
answer in English". py3langid then gives its language a probability near the rest (0.06
there; 0.25 or more on each of the bench's 29 short messages in other languages), so an
agreement counts only when py3langid gives at least `LANGID_FLOOR`; below it, it is read as a
disagreement.
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

from langdetect import DetectorFactory, detect_langs  # type: ignore[import-untyped, unused-ignore]
from langdetect.lang_detect_exception import LangDetectException  # type: ignore[import-untyped, unused-ignore]
from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped, unused-ignore]

from agent.understand.records import Prediction
from agent.understand.word_lists import plain, read_yaml, strings

SHORT_WORDS = 3
SURE = 0.8  # the confidence at which the agent acts on a message's language
DISAGREE_CONFIDENCE = 0.5  # below `SURE`, so a disagreement never acts
LANGID_FLOOR = 0.15  # py3langid's probability for an agreement to count
COMMON = frozenset({"en", "fr", "de", "es", "it", "pt", "nl"})
_CODES = {"zh-cn": "zh", "zh-tw": "zh"}
_WORD = re.compile(r"[^\W\d_]+")
_lock = threading.Lock()
SHORT_WORDS_FILE = Path(__file__).with_name("language_short_words.yaml")


@functools.cache
def short_words() -> dict[str, tuple[str, ...]]:
    """Word -> languages, for very short messages (`language_short_words.yaml`, read once)."""
    path = SHORT_WORDS_FILE
    data = read_yaml(path)
    strings(path, "words", list(data))
    return {word: tuple(strings(path, word, codes)) for word, codes in data.items()}


def surely_not_english(language: Prediction) -> bool:
    """The message is surely (`SURE`) in another language than English: English word lists
    (request words, the spelling check) say nothing about it."""
    return language.label != "en" and language.confidence >= SURE


def detect_language(text: str, default: str = "en") -> Prediction:
    """ISO 639-1 code of `text`; `default` when there is nothing to go on.

    >>> detect_language("Où est ma commande ?").label
    'fr'
    """
    words = [plain(w) for w in _WORD.findall(text)]
    if not words:
        return Prediction(default, 0.0, {"method": "default", "reason": "no letters"})
    candidates = _langdetect(text)
    detail: dict[str, object] = {"words": len(words), "langdetect": candidates[:3]}
    if len(words) >= SHORT_WORDS and candidates:
        code, probability = candidates[0]
        second, second_probability = _langid(text)
        detail["langid"] = [second, round(second_probability, 4)]
        if second == code and second_probability >= LANGID_FLOOR:
            return Prediction(code, min(probability, 0.99), {"method": "both agree", **detail})
        label = default if default in (code, second) else second
        return Prediction(label, DISAGREE_CONFIDENCE, {"method": "they disagree", **detail})
    votes: dict[str, float] = {}
    lexicon = short_words()
    for word in words:
        for code in lexicon.get(word, ()):
            votes[code] = votes.get(code, 0.0) + 1.0 / len(lexicon[word])
    if votes:
        code = max(votes, key=lambda c: (votes[c], c == default))
        share = votes[code] / sum(votes.values())
        confidence = min(0.7, 0.45 + 0.1 * votes[code]) * share
        return Prediction(code, round(confidence, 4), {"method": "short-word list", **detail})
    if candidates and candidates[0][0] in COMMON:
        code, probability = candidates[0]
        confidence = min(probability, 0.5) * len(words) / SHORT_WORDS
        return Prediction(code, round(confidence, 4), {"method": "langdetect (short)", **detail})
    return Prediction(default, 0.2, {"method": "default", "reason": "too short", **detail})


def _langdetect(text: str) -> list[tuple[str, float]]:
    with _lock:  # the seed is global state in langdetect
        DetectorFactory.seed = 0
        try:
            found = detect_langs(text)
        except LangDetectException:
            return []
    return [(_CODES.get(item.lang, item.lang), round(float(item.prob), 4)) for item in found]


@functools.cache
def _langid_model() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _langid(text: str) -> tuple[str, float]:
    code, probability = _langid_model().classify(text)
    return _CODES.get(code, code), float(probability)
