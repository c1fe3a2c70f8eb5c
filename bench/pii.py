"""Personal-data detection quality of `privacy.detect.PiiDetector` on Presidio's synthetic set.

    .venv/bin/python bench/pii.py [--data ../shared/data/pii/presidio_synth_dev.json]
                                  [--errors TYPE] [--json]

The data (microsoft/presidio-research, MIT) is a JSON list of records `{"full_text",
"template_id", "spans": [{"entity_type", "start_position", "end_position", ...}]}`. It is
split once, with a fixed seed, into a dev half (used to develop the recognizers) and a
held-out half (only measured). The split is by sentence template, so no held-out sentence
shares its template with a dev sentence; both halves are reported.

Scores are at span-overlap level. Per type T: a predicted span of type T is right when it
overlaps a gold span of T (gold `GPE` counts as LOCATION, `DOMAIN_NAME` as URL); a gold span
of T is found when a predicted span of T overlaps it. F2 weighs recall higher (a missed value
leaks; an extra placeholder costs a little context). Overall precision counts a predicted span
as right when it overlaps a gold span of ANY type. The last table is the privacy view: the
share of gold spans of each type covered by a span of any type.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from privacy.detect import PiiDetector  # noqa: E402
from privacy.spans import ENTITY_TYPES, Span  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "pii" / "presidio_synth_dev.json"
SEED = 20261201
GOLD_ALIASES = {"GPE": "LOCATION", "DOMAIN_NAME": "URL"}
TARGETS = {
    "EMAIL_ADDRESS": 0.95,
    "PHONE_NUMBER": 0.95,
    "CREDIT_CARD": 0.95,
    "IBAN_CODE": 0.95,
    "US_SSN": 0.95,
    "PERSON": 0.85,
    "STREET_ADDRESS": 0.80,
}
OVERALL_PRECISION_TARGET = 0.80


@dataclass(frozen=True)
class Gold:
    start: int
    end: int
    type: str


class Labelled(Protocol):
    """A sentence with its gold spans (this script's `Record`, bench/pii_formats.py's)."""

    @property
    def gold(self) -> tuple[Gold, ...]: ...


@dataclass(frozen=True)
class Record:
    text: str
    template: int
    gold: tuple[Gold, ...]


def load(path: Path) -> list[Record]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        Record(
            r["full_text"],
            int(r["template_id"]),
            tuple(
                Gold(
                    s["start_position"],
                    s["end_position"],
                    GOLD_ALIASES.get(s["entity_type"], s["entity_type"]),
                )
                for s in r["spans"]
            ),
        )
        for r in rows
    ]


def split(records: list[Record], seed: int = SEED) -> tuple[list[Record], list[Record]]:
    """(dev, held_out): whole templates, shuffled with `seed`, until dev holds half."""
    sizes = Counter(r.template for r in records)
    templates = sorted(sizes)
    random.Random(seed).shuffle(templates)
    dev_templates: set[int] = set()
    count = 0
    for template in templates:
        if count >= len(records) / 2:
            break
        dev_templates.add(template)
        count += sizes[template]
    dev = [r for r in records if r.template in dev_templates]
    held_out = [r for r in records if r.template not in dev_templates]
    return dev, held_out


def overlap(span: Span, gold: Gold) -> bool:
    return span.start < gold.end and gold.start < span.end


@dataclass(frozen=True)
class TypeCounts:
    """Span counts of one entity type over a set of sentences."""

    predicted: int  # predicted spans of the type
    right: int  # predicted spans of the type that overlap a gold span of the type
    gold: int  # gold spans of the type
    found: int  # gold spans of the type overlapped by a predicted span of the type


def count_type(
    records: Sequence[Labelled], predictions: list[list[Span]], entity_type: str
) -> TypeCounts:
    predicted = right = gold_total = found = 0
    for record, spans in zip(records, predictions, strict=True):
        ours = [s for s in spans if s.entity_type == entity_type]
        theirs = [g for g in record.gold if g.type == entity_type]
        predicted += len(ours)
        gold_total += len(theirs)
        right += sum(any(overlap(s, g) for g in theirs) for s in ours)
        found += sum(any(overlap(s, g) for s in ours) for g in theirs)
    return TypeCounts(predicted, right, gold_total, found)


def overall_precision(records: Sequence[Labelled], predictions: list[list[Span]]) -> float:
    """Share of predicted spans that overlap a gold span of any type, to 3 places."""
    predicted = sum(len(spans) for spans in predictions)
    overlapping = sum(
        any(overlap(s, g) for g in record.gold)
        for record, spans in zip(records, predictions, strict=True)
        for s in spans
    )
    return round(overlapping / predicted, 3) if predicted else 0.0


def f_beta(precision: float, recall: float, beta: float = 2.0) -> float:
    b2 = beta * beta
    denominator = b2 * precision + recall
    return (1 + b2) * precision * recall / denominator if denominator else 0.0


def score(records: list[Record], predictions: list[list[Span]]) -> dict[str, object]:
    per_type: dict[str, dict[str, float]] = {}
    for entity_type in ENTITY_TYPES:
        counts = count_type(records, predictions, entity_type)
        if not counts.predicted and not counts.gold:
            continue
        precision = counts.right / counts.predicted if counts.predicted else 0.0
        recall = counts.found / counts.gold if counts.gold else 0.0
        per_type[entity_type] = {
            "gold": counts.gold,
            "predicted": counts.predicted,
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f2": round(f_beta(precision, recall), 3),
        }
    covered: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for record, spans in zip(records, predictions, strict=True):
        for g in record.gold:
            totals[g.type] += 1
            covered[g.type] += any(overlap(s, g) for s in spans)
    return {
        "sentences": len(records),
        "per_type": per_type,
        "overall_precision": overall_precision(records, predictions),
        "predicted": sum(len(spans) for spans in predictions),
        "covered_by_any_type": {t: round(covered[t] / totals[t], 3) for t in sorted(totals)},
        "gold_counts": dict(totals),
    }


def print_table(name: str, result: dict[str, object]) -> None:
    per_type = result["per_type"]
    assert isinstance(per_type, dict)
    print(f"\n{name}: {result['sentences']} sentences")
    print(f"{'type':<18} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'F2':>6}  target R")
    for entity_type, row in per_type.items():
        target = TARGETS.get(entity_type)
        mark = (
            ""
            if target is None
            else f"  >= {target:.2f} {'ok' if row['recall'] >= target else 'MISS'}"
        )
        print(
            f"{entity_type:<18} {row['gold']:>5} {row['predicted']:>5} {row['precision']:>6.3f} "
            f"{row['recall']:>6.3f} {row['f2']:>6.3f}{mark}"
        )
    overall = result["overall_precision"]
    assert isinstance(overall, float)
    verdict = "ok" if overall >= OVERALL_PRECISION_TARGET else "MISS"
    print(f"overall precision (overlap with any labelled span): {overall:.3f}  {verdict}")
    covered = result["covered_by_any_type"]
    assert isinstance(covered, dict)
    print("covered by a span of any type: " + ", ".join(f"{t} {v:.2f}" for t, v in covered.items()))


def print_errors(records: list[Record], predictions: list[list[Span]], entity_type: str) -> None:
    """Misses and false positives of one type (use on the dev half only)."""
    for record, spans in zip(records, predictions, strict=True):
        ours = [s for s in spans if s.entity_type == entity_type]
        theirs = [g for g in record.gold if g.type == entity_type]
        for g in theirs:
            if not any(overlap(s, g) for s in ours):
                print(f"MISS {record.text[g.start : g.end]!r}  in {record.text!r}")
        for s in ours:
            if not any(overlap(s, g) for g in theirs):
                others = [g.type for g in record.gold if overlap(s, g)]
                print(f"FP   {record.text[s.start : s.end]!r} (gold {others}) in {record.text!r}")


def parse_args(doc: str, data: Path, errors_help: str) -> argparse.Namespace:
    """The command line of this script and bench/pii_formats.py: [--data] [--errors] [--json]."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, default=data)
    parser.add_argument("--errors", metavar="TYPE", help=errors_help)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    return parser.parse_args()


def main() -> None:
    args = parse_args(__doc__, DATA, "list dev-half misses and false positives")
    dev, held_out = split(load(args.data))
    detector = PiiDetector()
    started = time.perf_counter()
    detector.warm_up()
    load_s = time.perf_counter() - started
    results: dict[str, object] = {"model_load_s": round(load_s, 2)}
    for name, records in (("dev", dev), ("held_out", held_out)):
        started = time.perf_counter()
        predictions = [detector.detect(r.text) for r in records]
        elapsed = time.perf_counter() - started
        result = score(records, predictions)
        result["sentences_per_s"] = round(len(records) / elapsed, 1)
        results[name] = result
        print_table(name, result)
        print(f"speed: {result['sentences_per_s']} sentences/s (detect(), one at a time)")
        if args.errors and name == "dev":
            print_errors(records, predictions, args.errors)
    texts = [r.text for r in dev + held_out]
    started = time.perf_counter()
    detector.detect_many(texts)
    batch_rate = round(len(texts) / (time.perf_counter() - started), 1)
    results["batch_sentences_per_s"] = batch_rate
    print(f"\nbatched detect_many(): {batch_rate} sentences/s; model load {load_s:.2f} s")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
