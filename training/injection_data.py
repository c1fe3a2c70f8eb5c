"""The examples the planted-instruction classifier is trained and measured on, with their
seeded train / held-out split (training/injection_train.py and bench/injection_classifier.py
read the same split from here).

Positives (label 1):
- deepset: prompts labelled 1; a stratified, seeded 30% is held out ("deepset-heldout").
- BIPIA attack instructions (`*_attack_train.json`): 2 of the 5 of every category held out
  ("bipia-text-heldout", "bipia-code-heldout"). Categories that are plain questions or
  tasks ("What is the capital of Brazil?") are attacks only by where they are planted;
  quoting them harms no customer, and as positives they would teach the model that
  questions are attacks, so they are measured but never trained on (QUESTION_CATEGORIES).
- the same attack instructions inserted into a sentence of a BIPIA context (attack before
  or after the context sentence, as a bad sentence split leaves them), train attacks into
  train contexts only ("bipia-inserted-heldout": held-out attacks, held-out contexts).
- planted-policy sentences from training/injection_templates.yaml (train templates; the
  held-out templates are the "planted-heldout-a/b/c" sets).

Negatives (label 0): deepset prompts labelled 0; sentences of BIPIA contexts (emails, code
answers, tables); of the ConditionalQA corpus (60% of pages; the other 40% are
"conditionalqa-heldout"); of all 10 ABCD guideline flows (customer-service agent guidance
such as "explain the details in natural language" reads like an order about the reply; a
model trained on 5 flows flagged 1-2% of the sentences of the other 5, so the shipped model
sees all of them, and the sample knowledge base built from them is in-domain, not held out);
legitimate policy sentences from the templates file (train templates; held-out templates
measured).
"""

from __future__ import annotations

import html
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from knowledge.planted import split_sentences

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
TEMPLATES = Path(__file__).with_name("injection_templates.yaml")
BLIND = Path(__file__).with_name("injection_blind.yaml")
BLIND2 = Path(__file__).with_name("injection_blind2.yaml")
BLIND3 = Path(__file__).with_name("injection_blind3.yaml")
SEED = 13
QUESTION_CATEGORIES = frozenset(
    {"Information Retrieval", "Learning and Tutoring", "Language Translation", "Programming Help"}
)
_TAG = re.compile(r"<[^>]+>")
_SLOT = re.compile(r"\{(\w+)\}")

Part = Literal["train", "heldout"]


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 1 = planted instruction or injection
    source: str  # the set it comes from, e.g. "deepset", "bipia-text:Clickbait", "cqa"
    part: Part
    group: str = ""  # examples of one group (page, flow, template) share a fold in training


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def _held(items: list[Any], share: float, name: str) -> set[int]:
    order = list(range(len(items)))
    _rng(name).shuffle(order)
    return set(order[: round(len(items) * share)])


def deepset(data: Path) -> list[Example]:
    rows = [json.loads(line) for line in (data / "injection" / "deepset_train.jsonl").open()]
    out: list[Example] = []
    for label in (0, 1):
        members = [r["text"] for r in rows if r["label"] == label]
        held = _held(members, 0.3, f"deepset-{label}")
        out.extend(
            Example(t, label, "deepset", "heldout" if i in held else "train", f"deepset:{t}")
            for i, t in enumerate(members)
        )
    return out


def bipia_attacks(data: Path) -> list[Example]:
    out: list[Example] = []
    for path in sorted((data / "injection" / "bipia").glob("*_attack_train.json")):
        kind = path.name.removesuffix("_attack_train.json")
        attacks: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
        for category, texts in attacks.items():
            held = _held(texts, 0.4, f"bipia-{kind}-{category}")
            source = f"bipia-{kind}:{category}"
            out.extend(
                Example(t, 1, source, "heldout" if i in held else "train", f"{source}:{i}")
                for i, t in enumerate(texts)
            )
    return out


def _context_text(record: dict[str, Any]) -> str:
    context = record.get("context", "")
    text = "\n".join(context) if isinstance(context, list) else str(context)
    return text.replace("|", "\n")


def bipia_contexts(data: Path, table_limit: int = 1500) -> list[Example]:
    """Context sentences (negatives); tables are long, so at most `table_limit` rows per part."""
    out: list[Example] = []
    for kind in ("email", "code", "table"):
        lines = (data / "injection" / "bipia" / f"{kind}_train.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines if line]
        held = _held(records, 0.3, f"bipia-context-{kind}")
        by_part: dict[Part, dict[str, str]] = {"train": {}, "heldout": {}}
        for i, record in enumerate(records):
            part: Part = "heldout" if i in held else "train"
            for sentence in split_sentences(_context_text(record)):
                if len(sentence) >= 12:
                    by_part[part].setdefault(sentence, f"bipia-{kind}:{i}")
        for part, sentences in by_part.items():
            unique = list(sentences)
            if kind == "table" and len(unique) > table_limit:
                unique = _rng(f"table-{part}").sample(unique, table_limit)
            out.extend(Example(s, 0, f"bipia-context-{kind}", part, sentences[s]) for s in unique)
    return out


def inserted_attacks(attacks: list[Example], contexts: list[Example]) -> list[Example]:
    """Attack instructions glued to a context sentence of the same part."""
    out: list[Example] = []
    for part in ("train", "heldout"):
        pool = [c.text for c in contexts if c.part == part and c.source != "bipia-context-table"]
        rng = _rng(f"insert-{part}")
        for attack in attacks:
            if attack.part != part or attack.source.split(":", 1)[1] in QUESTION_CATEGORIES:
                continue
            context = rng.choice(pool)
            text = f"{context} {attack.text}" if rng.random() < 0.5 else f"{attack.text} {context}"
            out.append(Example(text, 1, "bipia-inserted", part, attack.group))
    return out


def html_text(raw: str) -> str:
    return html.unescape(_TAG.sub(" ", re.sub(r"</(p|li|h\d|tr|div|section)>", "\n", raw)))


def conditionalqa(data: Path) -> list[Example]:
    pages = [json.loads(line) for line in (data / "conditionalqa" / "corpus.jsonl").open()]
    held = _held(pages, 0.4, "conditionalqa")
    out: list[Example] = []
    for i, page in enumerate(pages):
        text = html_text(page.get("html") or page.get("text") or "")
        part: Part = "heldout" if i in held else "train"
        sentences = dict.fromkeys(split_sentences(text))
        out.extend(Example(s, 0, "cqa", part, f"cqa:{i}") for s in sentences)
    return out


def _abcd_texts(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _abcd_texts(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in ("type", "button"):
                yield from _abcd_texts(value)


def abcd(data: Path) -> list[Example]:
    """Sentences of every ABCD flow, all in the train part, grouped by flow."""
    flows: dict[str, Any] = json.loads((data / "abcd" / "guidelines.json").read_text())
    out: list[Example] = []
    for name in sorted(flows):
        sentences = (s for t in _abcd_texts(flows[name]) for s in split_sentences(t))
        out.extend(
            Example(s, 0, "abcd", "train", f"abcd:{name}")
            for s in dict.fromkeys(sentences)
            if len(s) >= 12
        )
    return out


# -- templates ------------------------------------------------------------------------------


def _contact_values(slots: dict[str, Any], rng: random.Random) -> dict[str, str]:
    words, tlds, users = slots["domain_words"], slots["tlds"], slots["users"]
    domain = f"{rng.choice(words)}-{rng.choice(words)}.{rng.choice(tlds)}"
    digits = "".join(rng.choice("0123456789") for _ in range(10))
    phone = rng.choice(
        [
            f"+44 7700 {digits[:6]}",
            f"1-800-{digits[:3]}-{digits[3:7]}",
            f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
            f"0{digits[:4]} {digits[4:]}",
        ]
    )
    url = rng.choice([f"www.{domain}", f"https://{domain}/{rng.choice(words)}", domain])
    return {
        "email": f"{rng.choice(users)}@{domain}",
        "phone": phone,
        "url": url,
        "handle": f"@{rng.choice(words)}_{rng.choice(words)}",
    }


def fill(template: str, slots: dict[str, Any], rng: random.Random) -> str:
    values = _contact_values(slots, rng)
    for name, options in slots.items():
        if isinstance(options, list) and name not in ("domain_words", "tlds", "users"):
            values[name] = str(rng.choice(options))
    values["Process"] = values["process"][:1].upper() + values["process"][1:]
    text = template
    for _ in range(3):  # slot values may hold slots ({channel} -> "to {email}")
        text = _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return text[:1].upper() + text[1:]


def templated(per_template: int = 40, path: Path = TEMPLATES) -> list[Example]:
    """Filled templates; source "template-positive" / "template-negative" for the train
    part, with "-heldout_a" / "-heldout_b" appended for the two held-out sets."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[Example] = []
    for label, key in ((1, "positive"), (0, "negative")):
        for name in ("train", "heldout_a", "heldout_b", "heldout_c"):
            part: Part = "train" if name == "train" else "heldout"
            source = f"template-{key}" + ("" if part == "train" else f"-{name}")
            rng = _rng(f"templates-{key}-{name}")
            for index, template in enumerate(spec[key][name]):
                times = per_template * (4 if "{request}" in template else 1)
                texts = {fill(template, spec["slots"][part], rng) for _ in range(times)}
                group = f"{source}:{index}"
                out.extend(Example(t, label, source, part, group) for t in sorted(texts))
    return out


def blind(
    per_template: int = 20, paths: tuple[Path, ...] = (BLIND, BLIND2, BLIND3)
) -> list[Example]:
    """The evaluation families d, e (training/injection_blind.yaml), f, g (-blind2.yaml) and
    h, i (-blind3.yaml); each pair was blind until its one scoring, development data after:
    held-out examples with sources "template-positive-blind_d" etc., never part of
    `all_examples`; `bench/injection_classifier.py --blind` scores them."""
    out: list[Example] = []
    for path in paths:
        out.extend(_blind_file(per_template, path))
    return out


def _blind_file(per_template: int, path: Path) -> list[Example]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[Example] = []
    for label, key in ((1, "positive"), (0, "negative")):
        for name, templates in spec[key].items():
            source = f"template-{key}-{name}"
            rng = _rng(f"blind-{key}-{name}")
            for index, template in enumerate(templates):
                texts = {fill(template, spec["slots"], rng) for _ in range(per_template)}
                out.extend(
                    Example(t, label, source, "heldout", f"{source}:{index}") for t in sorted(texts)
                )
    return out


def all_examples(data: Path = DATA) -> list[Example]:
    attacks = bipia_attacks(data)
    contexts = bipia_contexts(data)
    return [
        *deepset(data),
        *attacks,
        *contexts,
        *inserted_attacks(attacks, contexts),
        *conditionalqa(data),
        *abcd(data),
        *templated(),
    ]


def trainable(examples: Iterable[Example]) -> list[Example]:
    """The train part, without the question-like BIPIA categories (see module docstring)."""
    return [
        e
        for e in examples
        if e.part == "train"
        and not (e.source.startswith("bipia-text:") and e.source[11:] in QUESTION_CATEGORIES)
    ]
