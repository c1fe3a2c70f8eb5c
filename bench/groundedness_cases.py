"""Answers with and without a planted unsupported sentence, for bench/groundedness_auc.py.

ConditionalQA dev (corpus.jsonl: one HTML page per line; questions.dev.jsonl): each page is cut
into passages (a heading starts one; elements are packed up to ~120 words). For every
answerable question the "retrieved" contexts are up to `n_contexts` passages of its reference
page, and a supported answer is 1-3 consecutive sentences of one of them, each citing it
(verbatim quotes, as the extractive composer writes).

mtrag_dev (corpus.jsonl passages; questions.jsonl): for every ANSWERABLE question the contexts
are its reference passages and a supported answer is 1-3 consecutive sentences of its
human-written reference answer, citing nothing (checked against every context): paraphrase,
not quotes. Reference answers are written from those passages, but a writer's sentence is not
always entailed by them, which bounds what any check can reach here.

Unsupported variants of the same answer:
- replace: one sentence swapped for a sentence from another page / another question's
  reference answer (its citation kept);
- add: such a sentence inserted, citing nothing (checked against every context);
- near: one sentence swapped for an on-topic sentence the contexts do not hold (ConditionalQA:
  a passage of the same page not among the contexts; mtrag: another turn's reference answer
  in the same conversation, with other reference passages);
- alter: one sentence's number changed or its negation flipped (only answers with a sentence
  that can be altered).
ConditionalQA also has "reworded" rows: supported and replace with every sentence reworded by
a fixed, generic table (contractions expanded, common words swapped).
Sentences are drawn with a fixed seed; nothing is tuned to individual records.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.answer.reading import split_sentences

PASSAGE_WORDS = 120
_ELEMENT = re.compile(r"<(h[1-6]|p|li|tr)\b[^>]*>(.*?)</\1>", re.S)
_TAGS = re.compile(r"<[^>]+>")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NEGATIONS = [
    (r"\bcannot\b", "can"), (r"\bcan not\b", "can"), (r"\bdo not\b", "do"),
    (r"\bdoes not\b", "does"), (r"\bwill not\b", "will"), (r"\bmust not\b", "must"),
    (r"\bshould not\b", "should"), (r"\bis not\b", "is"), (r"\bare not\b", "are"),
    (r"\bnot\b ", ""), (r"\bcan\b", "cannot"), (r"\bmust\b", "must not"),
    (r"\bwill\b", "will not"), (r"\bshould\b", "should not"), (r"\bis\b", "is not"),
    (r"\bare\b", "are not"),
]  # fmt: skip
_REWORD = [
    ("you’re", "you are"), ("you’ll", "you will"), ("it’s", "it is"), ("don’t", "do not"),
    ("can’t", "cannot"), ("won’t", "will not"), ("isn’t", "is not"), ("you’ve", "you have"),
    ("doesn’t", "does not"), ("they’re", "they are"), ("usually", "normally"),
    ("get", "receive"), ("need to", "have to"), ("before", "prior to"), ("about", "regarding"),
    ("help", "assistance"), ("find out", "learn"), ("contact", "get in touch with"),
    ("apply", "make an application"), ("check", "confirm"), ("tell", "inform"),
]  # fmt: skip
VARIANTS = ("supported", "replace", "add", "near", "alter")


@dataclass(frozen=True)
class Case:
    question: str
    contexts: list[str]
    sentences: list[str]
    cited: list[str | None]  # the passage each sentence cites (None: no citation)


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", markup)).split())


def passages(page_html: str) -> list[str]:
    """The page cut into passages: a heading starts one, elements packed to ~120 words."""
    out: list[str] = []
    current: list[str] = []
    words = 0
    for tag, inner in _ELEMENT.findall(page_html):
        text = _plain(inner)
        if not text:
            continue
        n = len(text.split())
        if current and (tag.startswith("h") or words + n > PASSAGE_WORDS):
            out.append("\n".join(current))
            current, words = [], 0
        current.append(text)
        words += n
    if current:
        out.append("\n".join(current))
    return out


def usable(text: str) -> list[str]:
    return [s for s in split_sentences(text) if len(s.split()) >= 5]


def alter(sentence: str, rng: random.Random) -> str | None:
    """The sentence with one number changed or its negation flipped; None if neither applies."""
    numbers = list(_NUMBER.finditer(sentence))
    if numbers:
        m = rng.choice(numbers)
        value = float(m.group().replace(",", ""))
        new = value * rng.choice([2, 3]) if value >= 10 else value + rng.randint(1, 5)
        text = str(int(new)) if new == int(new) else f"{new:.2f}"
        return sentence[: m.start()] + text + sentence[m.end() :]
    for pattern, replacement in _NEGATIONS:
        changed, count = re.subn(pattern, replacement, sentence, count=1)
        if count:
            return changed
    return None


def reword(sentence: str) -> str:
    out = sentence
    for old, new in _REWORD:
        out = re.sub(rf"\b{re.escape(old)}\b", new, out, flags=re.I)
    return out


def _variants(
    cases: dict[str, list[Case]], base: Case, foreign: str, near: str | None, rng: random.Random
) -> int:
    """Add `base` and its unsupported variants to `cases`; returns the replaced index."""
    sentences, cited, k = base.sentences, base.cited, len(base.sentences)
    cases["supported"].append(base)
    i = rng.randrange(k)

    def swap(sentence: str) -> list[str]:
        return [*sentences[:i], sentence, *sentences[i + 1 :]]

    cases["replace"].append(Case(base.question, base.contexts, swap(foreign), cited))
    j = rng.randrange(k + 1)
    cases["add"].append(Case(base.question, base.contexts,
                             [*sentences[:j], foreign, *sentences[j:]],
                             [*cited[:j], None, *cited[j:]]))  # fmt: skip
    if near is not None:
        cases["near"].append(Case(base.question, base.contexts, swap(near), cited))
    for index in rng.sample(range(k), k):
        changed = alter(sentences[index], rng)
        if changed and changed != sentences[index]:
            altered = [*sentences[:index], changed, *sentences[index + 1 :]]
            cases["alter"].append(Case(base.question, base.contexts, altered, cited))
            break
    return i


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def conditionalqa(
    data: Path, rng: random.Random, n_contexts: int, limit: int
) -> dict[str, list[Case]]:
    pages = {row["id"]: passages(row["html"]) for row in _read(data / "corpus.jsonl")}
    rows = [r for r in _read(data / "questions.dev.jsonl")
            if r.get("answerable", True) and r.get("reference_doc_ids")]  # fmt: skip
    foreign = [(doc, s) for doc, ps in pages.items() for p in ps for s in usable(p)]
    cases: dict[str, list[Case]] = {
        k: [] for k in (*VARIANTS, "supported_reworded", "replace_reworded")
    }
    for row in rows[:limit] if limit else rows:
        doc = str(row["reference_doc_ids"][0])
        page = pages.get(doc, [])
        choices = [p for p in page if usable(p)]
        if not choices:
            continue
        passage = rng.choice(choices)
        others = [p for p in page if p != passage]
        contexts = [passage, *rng.sample(others, min(len(others), n_contexts - 1))]
        rng.shuffle(contexts)
        pool = usable(passage)
        k = rng.randint(1, min(3, len(pool)))
        start = rng.randrange(len(pool) - k + 1)
        sentences = pool[start : start + k]
        question = f"{row.get('scenario') or ''} {row['question']}".strip()
        held = {s for c in contexts for s in split_sentences(c)}
        near_pool = [s for p in page if p not in contexts for s in usable(p) if s not in held]
        other = rng.choice([s for d, s in foreign if d != doc])
        near = rng.choice(near_pool) if near_pool else None
        base = Case(question, contexts, sentences, [passage] * k)
        i = _variants(cases, base, other, near, rng)
        reworded = [reword(s) for s in sentences]
        cases["supported_reworded"].append(Case(question, contexts, reworded, base.cited))
        replaced = [*reworded[:i], other, *reworded[i + 1 :]]
        cases["replace_reworded"].append(Case(question, contexts, replaced, base.cited))
    return cases


def mtrag(data: Path, rng: random.Random, limit: int) -> dict[str, list[Case]]:
    corpus = {row["id"]: row["text"] for row in _read(data / "corpus.jsonl")}
    rows = _read(data / "questions.jsonl")
    usable_rows = [r for r in rows if r.get("answerability") == "ANSWERABLE"
                   and r.get("reference_answer") and r.get("reference_doc_ids")
                   and usable(r["reference_answer"])]  # fmt: skip
    cases: dict[str, list[Case]] = {k: [] for k in VARIANTS}
    for row in usable_rows[:limit] if limit else usable_rows:
        docs = set(row["reference_doc_ids"])
        contexts = [corpus[d] for d in row["reference_doc_ids"] if d in corpus]
        if not contexts:
            continue
        pool = usable(row["reference_answer"])
        k = rng.randint(1, min(3, len(pool)))
        start = rng.randrange(len(pool) - k + 1)
        conversation = row["id"].split("<::>")[0]
        elsewhere = [r for r in usable_rows if not docs & set(r["reference_doc_ids"])]
        foreign = [r for r in elsewhere if r["id"].split("<::>")[0] != conversation]
        same = [r for r in elsewhere if r["id"].split("<::>")[0] == conversation]
        other = rng.choice(usable(rng.choice(foreign)["reference_answer"]))
        near = rng.choice(usable(rng.choice(same)["reference_answer"])) if same else None
        base = Case(row["question"], contexts, pool[start : start + k], [None] * k)
        _variants(cases, base, other, near, rng)
    return cases
