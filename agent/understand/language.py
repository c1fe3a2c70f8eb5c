"""The language of a message, as an ISO 639-1 code, with langdetect (seeded, so repeatable).

langdetect is reliable on a sentence and guesses wildly on a word or two ("ok" comes back as
Slovak at 0.99). Under three words the answer therefore comes from a short list of greetings
and courtesy words when one matches, else from langdetect only if it names a common language,
else the default language; either way with a confidence that says the evidence is thin.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from langdetect import DetectorFactory, detect_langs  # type: ignore[import-untyped, unused-ignore]
from langdetect.lang_detect_exception import LangDetectException  # type: ignore[import-untyped, unused-ignore]

from agent.understand.records import Prediction

SHORT_WORDS = 3
COMMON = frozenset({"en", "fr", "de", "es", "it", "pt", "nl"})
_CODES = {"zh-cn": "zh", "zh-tw": "zh"}
_WORD = re.compile(r"[^\W\d_]+")
_lock = threading.Lock()

# Words that settle the language of a very short message (accents stripped, lower case).
# fmt: off
_SHORT_LEXICON: dict[str, tuple[str, ...]] = {
    "hello": ("en",), "hi": ("en",), "hey": ("en",), "thanks": ("en",), "thank": ("en",),
    "you": ("en",), "yes": ("en",), "please": ("en",), "ok": ("en",), "okay": ("en",),
    "bye": ("en",), "help": ("en",), "no": ("en", "es", "it"), "agent": ("en", "fr", "nl"),
    "bonjour": ("fr",), "salut": ("fr",), "merci": ("fr",), "oui": ("fr",), "non": ("fr", "it"),
    "svp": ("fr",), "stp": ("fr",), "aide": ("fr",), "bonsoir": ("fr",),
    "hallo": ("de", "nl"), "danke": ("de",), "bitte": ("de",), "ja": ("de", "nl"),
    "nein": ("de",), "hilfe": ("de",), "tschuss": ("de",), "guten": ("de",),
    "hola": ("es",), "gracias": ("es",), "si": ("es", "it"), "adios": ("es",),
    "ayuda": ("es",), "buenos": ("es",), "favor": ("es", "pt"),
    "ciao": ("it",), "grazie": ("it",), "buongiorno": ("it",), "prego": ("it",),
    "aiuto": ("it",), "ola": ("pt",), "oi": ("pt",), "obrigado": ("pt",), "obrigada": ("pt",),
    "ajuda": ("pt",), "sim": ("pt",), "nao": ("pt",),
    "hoi": ("nl",), "dank": ("nl",), "bedankt": ("nl",), "alsjeblieft": ("nl",), "nee": ("nl",),
}
# fmt: on


def detect_language(text: str, default: str = "en") -> Prediction:
    """ISO 639-1 code of `text`; `default` when there is nothing to go on.

    >>> detect_language("Où est ma commande ?").label
    'fr'
    """
    words = [_fold(w) for w in _WORD.findall(text)]
    if not words:
        return Prediction(default, 0.0, {"method": "default", "reason": "no letters"})
    candidates = _langdetect(text)
    detail: dict[str, object] = {"words": len(words), "langdetect": candidates[:3]}
    if len(words) >= SHORT_WORDS and candidates:
        code, probability = candidates[0]
        return Prediction(code, min(probability, 0.99), {"method": "langdetect", **detail})
    votes: dict[str, float] = {}
    for word in words:
        for code in _SHORT_LEXICON.get(word, ()):
            votes[code] = votes.get(code, 0.0) + 1.0 / len(_SHORT_LEXICON[word])
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


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
