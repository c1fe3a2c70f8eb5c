"""Does groundedness tell supported answers from answers with a planted unsupported sentence?

    .venv/bin/python bench/groundedness_auc.py [--limit N] [--seed 13] [--contexts 5]

Built from ../shared/data/conditionalqa (corpus.jsonl: one HTML page per line;
questions.dev.jsonl). Each page is cut into passages (a heading starts one; elements are
packed up to ~120 words). For every answerable dev question, the "retrieved" contexts are up to
`--contexts` passages of its reference page, and a supported answer is 1-3 consecutive
sentences of one of them, each citing it. Unsupported variants of the same answer:

- replace: one sentence swapped for a sentence of another page, keeping its citation;
- add: a sentence of another page inserted without a citation (checked against all contexts);
- alter: one sentence's number changed or its negation flipped (same page, same citation);
  only answers with a sentence that can be altered.

Supported sentences are verbatim quotes, which the verifier accepts outright. The "reworded"
rows repeat supported vs replace with every sentence reworded by a fixed, generic table
(contractions expanded, common words swapped), so the verifier's lexical + embedding path is
measured too. Every answer is scored by `ReplyScorer` (no judge); the script prints ROC AUC of
the groundedness value (supported = positive) per variant, how many answers fall under the
support threshold, and the time per scored reply. Pages and sentences are drawn with a fixed
seed; nothing is tuned to individual records.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # noqa: E402

from agent.answer.reading import split_sentences  # noqa: E402
from evaluation.scoring import ReplyScorer  # noqa: E402
from knowledge.embed import MiniLMEmbedder  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "conditionalqa"
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


def usable(passage: str) -> list[str]:
    return [s for s in split_sentences(passage) if len(s.split()) >= 5]


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


@dataclass(frozen=True)
class Case:
    question: str
    contexts: list[str]
    sentences: list[str]
    cited: list[str | None]  # the passage each sentence cites (None: no citation)


def score(scorer: ReplyScorer, case: Case, timings: list[float]) -> float:
    citations = [(s, p) for s, p in zip(case.sentences, case.cited, strict=True) if p]
    started = time.perf_counter()
    scores = scorer.score(case.question, " ".join(case.sentences), case.contexts, citations)
    timings.append(time.perf_counter() - started)
    value = scores["groundedness"].value
    assert value is not None
    return value


def build(
    questions: list[dict[str, object]], pages: dict[str, list[str]], rng: random.Random,
    n_contexts: int,
) -> dict[str, list[Case]]:  # fmt: skip
    foreign = [(doc, s) for doc, ps in pages.items() for p in ps for s in usable(p)]
    cases: dict[str, list[Case]] = {
        k: [] for k in ("supported", "replace", "add", "alter", "supported_reworded",
                        "replace_reworded")
    }  # fmt: skip
    for row in questions:
        doc = str(row["reference_doc_ids"][0])  # type: ignore[index]
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
        cited: list[str | None] = [passage] * k
        question = f"{row.get('scenario') or ''} {row['question']}".strip()
        cases["supported"].append(Case(question, contexts, sentences, cited))
        other = rng.choice([s for d, s in foreign if d != doc])
        i = rng.randrange(k)
        replaced = [*sentences[:i], other, *sentences[i + 1 :]]
        cases["replace"].append(Case(question, contexts, replaced, cited))
        j = rng.randrange(k + 1)
        cases["add"].append(
            Case(question, contexts, [*sentences[:j], other, *sentences[j:]],
                 [*cited[:j], None, *cited[j:]])
        )  # fmt: skip
        order = rng.sample(range(k), k)
        for index in order:
            changed = alter(sentences[index], rng)
            if changed and changed != sentences[index]:
                altered = [*sentences[:index], changed, *sentences[index + 1 :]]
                cases["alter"].append(Case(question, contexts, altered, cited))
                break
        reworded = [reword(s) for s in sentences]
        cases["supported_reworded"].append(Case(question, contexts, reworded, cited))
        replaced_rw = [*reworded[:i], other, *reworded[i + 1 :]]
        cases["replace_reworded"].append(Case(question, contexts, replaced_rw, cited))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="first N answerable questions")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--contexts", type=int, default=5)
    args = parser.parse_args()
    corpus = [json.loads(line) for line in (args.data / "corpus.jsonl").read_text().splitlines()]
    pages = {row["id"]: passages(row["html"]) for row in corpus}
    rows = [json.loads(x) for x in (args.data / "questions.dev.jsonl").read_text().splitlines()]
    answerable = [r for r in rows if r.get("answerable", True) and r.get("reference_doc_ids")]
    if args.limit:
        answerable = answerable[: args.limit]
    cases = build(answerable, pages, random.Random(args.seed), args.contexts)
    embedder = MiniLMEmbedder(threads=1)
    embedder.warm_up()
    scorer = ReplyScorer(embedder)
    scorer.score("warm up", "Warm up the scorer.", ["Warm up the scorer."], [])
    timings: list[float] = []
    values = {name: [score(scorer, c, timings) for c in group] for name, group in cases.items()}
    threshold = 0.6
    print(f"answerable dev questions used: {len(cases['supported'])}; seed {args.seed}; "
          f"contexts per answer <= {args.contexts}; support threshold {threshold}")  # fmt: skip
    pairs = [
        ("supported", "replace"), ("supported", "add"), ("supported", "alter"),
        ("supported_reworded", "replace_reworded"), ("supported_reworded", "alter"),
    ]  # fmt: skip
    for good, bad in pairs:
        y = [1] * len(values[good]) + [0] * len(values[bad])
        auc = roc_auc_score(y, values[good] + values[bad])
        flagged = float(np.mean([v < threshold for v in values[bad]]))
        passed = float(np.mean([v >= threshold for v in values[good]]))
        counts = f"n={len(values[good])}/{len(values[bad])}"
        print(f"{good:>18} vs {bad:<17} {counts}  AUC {auc:.3f}  "
              f"unsupported flagged {flagged:.1%}  supported kept {passed:.1%}")  # fmt: skip
    ms = np.asarray(timings) * 1000
    p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
    print(f"time per scored reply (all four scores, no judge): p50 {p50:.0f} ms  "
          f"p95 {p95:.0f} ms  max {ms.max():.0f} ms  over {len(ms)} replies")  # fmt: skip


if __name__ == "__main__":
    main()
