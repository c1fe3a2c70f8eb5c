"""Sentiment of a customer message from a small lexicon and rules (no model ships offline).

Scoring, in the manner of VADER (Hutto & Gilbert, 2014), much reduced:

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

import math
import re
import unicodedata

from agent.understand.records import Prediction

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
THRESHOLD = 0.2  # |compound| below this is neutral
_ALPHA = 15.0

# fmt: off
_LEXICON: dict[str, float] = {
    # English, positive
    "good": 1.9, "great": 3.1, "excellent": 3.2, "amazing": 2.8, "awesome": 3.1, "perfect": 2.7,
    "love": 3.2, "happy": 2.7, "glad": 2.0, "thanks": 1.9, "thank": 1.5,
    "appreciate": 2.0, "helpful": 1.9, "fantastic": 2.9, "wonderful": 2.8, "nice": 1.8,
    "brilliant": 2.8, "pleased": 2.0, "satisfied": 1.8, "quick": 1.0, "fast": 1.0,
    "resolved": 1.5, "fixed": 1.2, "works": 1.0, "easy": 1.5, "best": 3.0, "cool": 1.3,
    "lovely": 2.8, "kind": 1.8, "super": 2.0,
    # English, negative
    "bad": -2.5, "terrible": -3.0, "awful": -3.0, "horrible": -3.0, "worst": -3.1,
    "hate": -2.7, "angry": -2.3, "annoyed": -2.0, "annoying": -2.0, "frustrated": -2.3,
    "frustrating": -2.3, "disappointed": -2.3, "disappointing": -2.3, "useless": -2.5,
    "ridiculous": -2.5, "unacceptable": -2.8, "poor": -2.1, "broken": -1.8, "wrong": -1.8,
    "problem": -0.7, "issue": -0.6, "fail": -2.0, "failed": -2.0, "error": -0.8,
    "slow": -1.2, "late": -0.8, "never": -0.8, "scam": -3.0, "fraud": -2.8, "rude": -2.5,
    "incompetent": -2.8, "pathetic": -2.9, "joke": -0.8, "furious": -3.0, "upset": -2.0,
    "sucks": -2.5, "crap": -2.5, "waste": -2.0, "lost": -0.7, "complaint": -1.8,
    "refuse": -1.5, "unhappy": -2.3, "sad": -2.1, "stuck": -1.2, "missing": -0.8,
    "nobody": -1.0, "ignored": -2.0, "overcharged": -2.3, "damaged": -2.0,
    "disgusting": -3.0, "shocking": -2.3, "nightmare": -2.8, "hopeless": -2.5,
    # French
    "merci": 1.9, "genial": 2.8, "parfait": 2.7, "bien": 1.5,
    "content": 2.0, "nul": -2.5, "nulle": -2.5, "mauvais": -2.3,
    "decu": -2.3, "decue": -2.3, "inacceptable": -2.8, "inadmissible": -2.8, "honte": -2.5,
    "arnaque": -3.0, "probleme": -0.7, "lent": -1.4,
    # German
    "danke": 1.9, "toll": 2.5, "prima": 2.3, "gut": 1.9, "zufrieden": 2.0,
    "hervorragend": 3.0, "schlecht": -2.5, "enttauscht": -2.3, "unmoglich": -2.3,
    "frechheit": -3.0, "katastrophe": -3.0, "argerlich": -2.3, "wutend": -2.8,
    "unverschamt": -2.8, "betrug": -3.0, "langsam": -1.2,
    # Spanish
    "gracias": 1.9, "perfecto": 2.7, "bueno": 1.9, "excelente": 3.0,
    "contento": 2.0, "malo": -2.5, "pesimo": -3.0, "decepcionado": -2.3,
    "inaceptable": -2.8, "estafa": -3.0, "problema": -0.7, "lento": -1.4, "fatal": -2.5,
}
# fmt: on

# Phrases matched on the folded text before single words; their words are not scored again.
_PHRASES: dict[str, float] = {
    r"this is (ridiculous|unacceptable|a joke|insane|absurd)": -3.2,
    r"what a (joke|scam|mess)": -3.0,
    r"still (waiting|nothing|not (arrived|working|fixed|resolved))": -2.5,
    r"(cancel|close|delete) my (account|subscription|membership)": -2.2,
    r"(waste|wasting) (of )?(my )?(time|money)": -2.8,
    r"(fed up|sick (and tired )?of|had enough)": -2.8,
    r"(no one|nobody|no-one) (has )?(ever )?(replied|responded|answered|helped|called)": -2.5,
    r"(doesn t|does not|don t|didn t|isn t|not) (work|working|arrive|arrived|help)": -2.0,
    r"(never|haven t|have not|hasn t|has not) (received|arrived|got|gotten|heard)": -2.2,
    r"(charged|billed) (me )?twice": -2.3,
    r"(third|fourth|fifth|several|many|multiple) times?": -1.0,
    r"want (a|my) refund": -1.5,
    r"(thank you|thanks) (so much|a lot|very much)": 2.8,
    r"(well|great) done": 2.5,
    r"(you|that) (saved|made) my day": 3.0,
    r"(c est|c etait) (nul|inadmissible|inacceptable|honteux)": -3.0,
    r"(ca|cela) ne marche (toujours )?pas": -2.0,
    r"j attends (toujours|encore)": -2.3,
    r"(das ist|so eine) (eine )?(frechheit|katastrophe|unverschamtheit)": -3.0,
    r"(funktioniert|geht) (immer noch )?nicht": -2.0,
    r"warte (immer noch|seit)": -2.3,
    r"(no funciona|sigo esperando|es una (verguenza|estafa))": -2.5,
    r"muchas gracias|merci beaucoup|vielen dank|danke schon": 2.6,
}
_PHRASE_RES = [(re.compile(rf"\b(?:{p})\b"), v) for p, v in _PHRASES.items()]

# "t" is what is left of "n't" once apostrophes are spaces.
_NEGATOR_WORDS = (
    "t not no never none nothing neither nor cannot cant dont doesnt didnt isnt wasnt arent "
    "werent wont wouldnt shouldnt couldnt hasnt havent hadnt without pas jamais plus rien "
    "nicht kein keine keinen nie niemals nunca tampoco ni"
)
_NEGATORS = frozenset(_NEGATOR_WORDS.split())
# fmt: off
_INTENSIFIERS: dict[str, float] = {
    "very": 1.3, "so": 1.3, "really": 1.3, "extremely": 1.5, "absolutely": 1.4,
    "totally": 1.3, "completely": 1.4, "incredibly": 1.5, "utterly": 1.5, "super": 1.3,
    "too": 1.2, "most": 1.3, "tres": 1.3, "vraiment": 1.3, "sehr": 1.3, "total": 1.3,
    "muy": 1.3, "bastante": 1.2, "slightly": 0.6, "somewhat": 0.7, "bit": 0.7,
    "little": 0.7, "kinda": 0.7, "peu": 0.7, "etwas": 0.7, "poco": 0.7,
}
# fmt: on
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def detect_sentiment(text: str) -> Prediction:
    """Label "negative", "neutral" or "positive", with a confidence that reflects the evidence.

    >>> detect_sentiment("I am still waiting for my refund, this is ridiculous!!!").label
    'negative'
    """
    folded = _fold(text)
    cues: list[tuple[str, float]] = []
    for pattern, value in _PHRASE_RES:
        for match in pattern.finditer(folded):
            cues.append((match.group(0), value))
        folded = pattern.sub(" ", folded)
    caps = {_fold(w) for w in _WORD.findall(text) if len(w) > 2 and w.isupper()}
    words = _WORD.findall(folded)
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word not in _LEXICON or (word in _INTENSIFIERS and following in _LEXICON):
            continue
        value = _LEXICON[word]
        before = words[max(0, index - 3) : index]
        if before and before[-1] in _INTENSIFIERS:
            value *= _INTENSIFIERS[before[-1]]
        if word in caps:
            value *= 1.3
        if any(w in _NEGATORS for w in before) or _negated_after(words, index):
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
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"['’`]", " ", plain)
