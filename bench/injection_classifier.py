"""The shipped planted-instruction classifier (knowledge/planted.py) on data it never saw.

    .venv/bin/python bench/injection_classifier.py [--data ../shared/data] [--blind]
        [--model-dir DIR]

With the service's default embedder (MiniLM ONNX int8) and the shipped threshold:

1. held-out sets (training/injection_eval.py names them; seeded split of
   training/injection_data.py): the classifier, the regex message detector
   (agent.understand.screening) and either of the two;
2. planted instructions in documents: every held-out positive sentence (planted-policy
   templates a/b/c, BIPIA text and code attacks, deepset injections) inserted into a
   held-out ConditionalQA page or a sample-KB document (its own paragraph, or run into a
   paragraph before or after its text), parsed by the real parser, screened by the real
   ingestion screen (ingest.planted) with the classifier alone and with the injection rules
   the service adds: is the planted sentence cut, and how many other sentences go with it;
3. false positives per sentence, as ingestion screens them, on the sample knowledge base
   (examples/knowledge: in-domain, the ABCD guidelines it is built from are training data),
   all ConditionalQA pages and the held-out ones, and the mtrag_dev corpus (never trained
   on); per message on banking77 + clinc150 customer messages;
4. screening cost: sentences per second, against embedding the same documents' chunks.

`--blind` adds the evaluation families d-i (training/injection_blind*.yaml, never trained
on; each pair blind until its one scoring, see docs/benchmarks.md) to 1 and 2.
`--model-dir` scores another model folder than the shipped one.

The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from agent.answer.planted import injection_rules  # noqa: E402
from agent.understand.screening import is_injection  # noqa: E402
from ingest.parse import ParsedElement, parse  # noqa: E402
from ingest.planted import DocumentScreen  # noqa: E402
from ingest.sources import kind_of  # noqa: E402
from knowledge.embed_onnx import OnnxMiniLMEmbedder  # noqa: E402
from knowledge.planted import PlantedInstructionClassifier, sentence_spans  # noqa: E402
from training.injection_data import (  # noqa: E402
    DATA,
    SEED,
    Example,
    all_examples,
    blind,
)
from training.injection_eval import heldout_name, heldout_sets, result  # noqa: E402

KNOWLEDGE = ROOT / "examples" / "knowledge"
Flagger = Callable[[Sequence[str]], list[bool]]


class MemoClassifier(PlantedInstructionClassifier):
    """The shipped classifier, remembering each text's score: the documents that planted
    sentences are inserted into are screened again and again."""

    def __init__(self, embedder: OnnxMiniLMEmbedder, model_dir: Path | None = None) -> None:
        super().__init__(embedder, model_dir)
        self._memo: dict[str, float] = {}

    def scores(self, texts: Sequence[str]) -> list[float]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        self._memo.update(zip(missing, super().scores(missing), strict=True))
        return [self._memo[t] for t in texts]


def compare(sets: dict[str, list[Example]], flaggers: dict[str, Flagger]) -> dict[str, object]:
    print(f"\n== held-out sets (seed {SEED})")
    print(f"{'set':<28} {'n':>5} {'pos':>5}  " + "  ".join(f"{n:>22}" for n in flaggers))
    figures: dict[str, object] = {}
    for name, members in sets.items():
        texts, labels = [e.text for e in members], [e.label for e in members]
        rows = {k: result(labels, f(texts)).row() for k, f in flaggers.items()}
        figures[name] = rows
        cells = []
        for row in rows.values():
            if row["recall"] is not None and row["fpr"] is not None:
                cells.append(f"P {row['precision']} R {row['recall']} FPR {row['fpr']}")
            elif row["recall"] is not None:
                cells.append(f"recall {row['recall']}")
            else:
                cells.append(f"FPR {row['fpr']} ({row['flagged']})")
        print(
            f"{name:<28} {len(members):>5} {sum(labels):>5}  "
            + "  ".join(f"{c:>22}" for c in cells)
        )
    return figures


def parsed(path: Path) -> list[ParsedElement]:
    return parse(kind_of(path), path.name, path=path)


def cqa_pages(data: Path, part: str) -> list[list[ParsedElement]]:
    """Parsed ConditionalQA pages of the held-out (or every) part, as ingestion parses them."""
    from training.injection_data import _held

    pages = [json.loads(line) for line in (data / "conditionalqa" / "corpus.jsonl").open()]
    held = _held(pages, 0.4, "conditionalqa")
    return [
        parse("corpus-html", str(page["id"]), text=page["html"])
        for i, page in enumerate(pages)
        if part == "all" or i in held
    ]


def sentences(documents: Sequence[Sequence[ParsedElement]]) -> list[str]:
    return [
        " ".join(e.text[a:b].split())
        for elements in documents
        for e in elements
        for a, b in sentence_spans(e.text)
    ]


def false_positives(name: str, units: list[str], flag: Flagger) -> dict[str, object]:
    flags = flag(units)
    hits = [u for u, f in zip(units, flags, strict=True) if f]
    rate = len(hits) / len(units) if units else 0.0
    print(f"{name:<44} {len(hits):>4} / {len(units):>6} = {rate:.4f}")
    for text in hits[:8]:
        print(f"    flagged: {text[:150]!r}")
    return {"n": len(units), "flagged": len(hits), "rate": round(rate, 4)}


def planted_in_documents(
    documents: list[list[ParsedElement]], planted: list[Example], screen: DocumentScreen, name: str
) -> dict[str, object]:
    """Insert each planted sentence into one document; the share cut out by the screen."""
    rng = random.Random(SEED)
    by_family: dict[str, list[bool]] = {}
    collateral = total_legit = 0
    for example in planted:
        elements = list(rng.choice(documents))
        narrative = [i for i, e in enumerate(elements) if e.category != "Title"] or [0]
        at = rng.choice(narrative)
        host = elements[at]
        if rng.random() < 0.5:  # a sentence of a paragraph, or a paragraph of its own
            text = (
                f"{host.text} {example.text}"
                if rng.random() < 0.5
                else f"{example.text} {host.text}"
            )
            elements[at] = ParsedElement(text, host.category, host.section, host.page)
        else:
            elements.insert(
                at + 1, ParsedElement(example.text, "NarrativeText", host.section, None)
            )
        screened = screen.screen(elements)
        kept = "\n".join(e.text for e in screened.elements)
        cut = " ".join(example.text.split()) not in " ".join(kept.split())
        family = heldout_name(example) or example.source
        by_family.setdefault(family, []).append(cut)
        legit = sentences([elements])
        total_legit += len(legit) - 1
        collateral += sum(1 for f in screened.flagged if f.text not in example.text)
    figures: dict[str, object] = {
        name: {"n": len(cuts), "excluded": round(sum(cuts) / len(cuts), 4)}
        for name, cuts in sorted(by_family.items())
    }
    everything = [c for cuts in by_family.values() for c in cuts]
    figures["all"] = {"n": len(everything), "excluded": round(sum(everything) / len(everything), 4)}
    figures["legit_sentences_cut"] = {"n": total_legit, "cut": collateral}
    print(f"\n== planted sentences inserted into held-out documents: share excluded ({name})")
    for name, row in figures.items():
        print(f"  {name:<30} {row}")
    return figures


def customer_messages(data: Path) -> list[str]:
    with (data / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        messages = [row["text"] for row in csv.DictReader(handle)]
    clinc = json.loads((data / "clinc150" / "data.json").read_text(encoding="utf-8"))
    for split in clinc.values():
        messages.extend(text for text, _ in split)
    return messages


def mtrag_documents(data: Path) -> list[list[ParsedElement]]:
    rows = [json.loads(line) for line in (data / "mtrag_dev" / "corpus.jsonl").open()]
    return [[ParsedElement(r["text"], "NarrativeText", r.get("title", ""), None)] for r in rows]


def screening_cost(
    units: list[str], embedder: OnnxMiniLMEmbedder, model_dir: Path | None
) -> dict[str, object]:
    """Seconds to screen the sentences (a fresh classifier: nothing remembered) against
    seconds to embed the same text as ~900-character chunks."""
    started = time.perf_counter()
    PlantedInstructionClassifier(embedder, model_dir).scores(units)
    screen_s = time.perf_counter() - started
    chunks: list[str] = [""]
    for unit in units:
        if len(chunks[-1]) + len(unit) > 900:
            chunks.append("")
        chunks[-1] += unit + "\n"
    started = time.perf_counter()
    embedder.embed(chunks)
    embed_s = time.perf_counter() - started
    cost: dict[str, object] = {
        "sentences": len(units),
        "screen_s": round(screen_s, 1),
        "sentences_per_s": round(len(units) / screen_s, 1),
        "chunks": len(chunks),
        "embed_chunks_s": round(embed_s, 1),
        "screen_over_chunk_embedding": round(screen_s / embed_s, 2),
    }
    print(f"\n== cost: {cost}")
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--onnx-cache", type=Path, default=ROOT / "data" / "models")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--blind", action="store_true", help="add blind families d and e")
    args = parser.parse_args()
    started = time.perf_counter()
    embedder = OnnxMiniLMEmbedder(args.onnx_cache, "int8", threads=2)
    classifier = MemoClassifier(embedder, args.model_dir)
    classifier.warm_up()
    screen = DocumentScreen(classifier)
    print(f"classifier {classifier.signature}, threshold {classifier.threshold}")

    def regex(texts: Sequence[str]) -> list[bool]:
        return [is_injection(t) for t in texts]

    def either(texts: Sequence[str]) -> list[bool]:
        return [a or b for a, b in zip(classifier.flags(texts), regex(texts), strict=True)]

    examples = all_examples(args.data) + (blind() if args.blind else [])
    sets = heldout_sets(examples)
    flaggers: dict[str, Flagger] = {
        "classifier": classifier.flags,
        "regex": regex,
        "either": either,
    }
    report: dict[str, object] = {
        "threshold": classifier.threshold,
        "heldout": compare(sets, flaggers),
    }

    kb = {
        path.name: parsed(path) for path in sorted(KNOWLEDGE.iterdir()) if path.suffix != ".jsonl"
    }
    cqa_held = cqa_pages(args.data, "heldout")
    planted = [e for e in examples if e.label == 1 and heldout_name(e) is not None]
    planted = [e for e in planted if heldout_name(e) != "bipia-questions-heldout"]
    hosts = cqa_held + list(kb.values())
    report["documents"] = planted_in_documents(hosts, planted, screen, "classifier")
    served = DocumentScreen(classifier, injection_rules)  # as service/runtime.py builds it
    report["documents_with_rules"] = planted_in_documents(
        hosts, planted, served, "classifier + injection rules"
    )

    print("\n== false positives on sentences without planted instructions (classifier)")
    clean: dict[str, object] = {}
    clean["sample_kb"] = false_positives(
        "examples/knowledge (all files)", sentences(list(kb.values())), classifier.flags
    )
    clean["conditionalqa_heldout"] = false_positives(
        "conditionalqa (held-out pages)", sentences(cqa_held), classifier.flags
    )
    cqa_all = sentences(cqa_pages(args.data, "all"))
    clean["conditionalqa_all"] = false_positives(
        "conditionalqa (all pages)", cqa_all, classifier.flags
    )
    clean["mtrag_dev"] = false_positives(
        "mtrag_dev corpus (never trained)", sentences(mtrag_documents(args.data)), classifier.flags
    )
    report["false_positives"] = clean

    print("\n== customer messages (whole messages): flagged as injection")
    messages = customer_messages(args.data)
    report["messages"] = {
        name: false_positives(f"banking77 + clinc150 ({name})", messages, flag)
        for name, flag in flaggers.items()
    }
    report["cost"] = screening_cost(cqa_all, embedder, args.model_dir)
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
