"""Personal-data masking quality of `agent.llm.masking.PiiMasker` on Presidio's synthetic set.

    .venv/bin/python bench/pii.py [--data ../shared/data/pii/presidio_synth_dev.json] [--no-names]

The data (microsoft/presidio-research, MIT) is a JSON list of records
`{"full_text", "spans": [{"entity_type", "entity_value", "start_position", "end_position"}]}`.
Scores are at span-overlap level: a predicted span of our kind K is a true positive when it
overlaps a gold span of a type mapped to K; a gold span is found when a predicted span of
the mapped kind overlaps it. F2 weighs recall higher: a missed value leaks, an extra mask
mostly costs a little context. The second table is the privacy view: how often a gold span
of each type (targeted or not) is covered by any mask at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from agent.llm.masking import KINDS, PiiKind, PiiMasker, PiiSpan  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "pii" / "presidio_synth_dev.json"
GOLD_TYPES: dict[PiiKind, tuple[str, ...]] = {
    "PERSON": ("PERSON",),
    "EMAIL": ("EMAIL_ADDRESS",),
    "PHONE": ("PHONE_NUMBER",),
    "CARD": ("CREDIT_CARD",),
    "IBAN": ("IBAN_CODE",),
    # Account/ID-style numbers: the set has no account numbers, only these ID numbers.
    "ACCOUNT": ("US_SSN", "US_DRIVER_LICENSE"),
}


@dataclass(frozen=True)
class Gold:
    start: int
    end: int
    type: str


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def load(path: Path) -> list[tuple[str, list[Gold]]]:
    records = json.loads(path.read_text(encoding="utf-8"))
    return [
        (
            r["full_text"],
            [Gold(s["start_position"], s["end_position"], s["entity_type"]) for s in r["spans"]],
        )
        for r in records
    ]


def f_beta(precision: float, recall: float, beta: float = 2.0) -> float:
    b2 = beta * beta
    denominator = b2 * precision + recall
    return (1 + b2) * precision * recall / denominator if denominator else 0.0


def score(
    records: list[tuple[str, list[Gold]]], predictions: list[list[PiiSpan]]
) -> dict[str, object]:
    per_kind: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        types = GOLD_TYPES[kind]
        predicted = tp_pred = gold_total = found = 0
        for (_, gold), spans in zip(records, predictions, strict=True):
            ours = [s for s in spans if s.kind == kind]
            theirs = [g for g in gold if g.type in types]
            predicted += len(ours)
            gold_total += len(theirs)
            tp_pred += sum(
                any(_overlaps(s.start, s.end, g.start, g.end) for g in theirs) for s in ours
            )
            found += sum(
                any(_overlaps(s.start, s.end, g.start, g.end) for s in ours) for g in theirs
            )
        precision = tp_pred / predicted if predicted else 0.0
        recall = found / gold_total if gold_total else 0.0
        per_kind[kind] = {
            "gold": gold_total,
            "predicted": predicted,
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f2": round(f_beta(precision, recall), 3),
        }
    covered: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for (_, gold), spans in zip(records, predictions, strict=True):
        for g in gold:
            totals[g.type] += 1
            covered[g.type] += any(_overlaps(s.start, s.end, g.start, g.end) for s in spans)
    masked_any = {t: round(covered[t] / totals[t], 3) for t in sorted(totals)}
    return {"per_kind": per_kind, "masked_by_any_kind": masked_any, "gold_counts": dict(totals)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-names", action="store_true", help="skip spaCy person names")
    args = parser.parse_args()
    records = load(args.data)
    masker = PiiMasker(detect_names=not args.no_names)
    started = time.perf_counter()
    masker.warm_up()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    predictions = [masker.find(text) for text, _ in records]
    elapsed = time.perf_counter() - started
    result = score(records, predictions)
    result.update(
        records=len(records),
        model_load_s=round(load_s, 2),
        ms_per_text=round(1000 * elapsed / len(records), 2),
    )
    per_kind = result["per_kind"]
    assert isinstance(per_kind, dict)
    print(f"{'kind':<8} {'gold types':<28} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'F2':>6}")
    for kind, row in per_kind.items():
        types = ",".join(GOLD_TYPES[kind])
        print(
            f"{kind:<8} {types:<28} {row['gold']:>5} {row['predicted']:>5} "
            f"{row['precision']:>6.3f} {row['recall']:>6.3f} {row['f2']:>6.3f}"
        )
    print("\nmasked by any kind (privacy view), per gold type:")
    masked_any = result["masked_by_any_kind"]
    gold_counts = result["gold_counts"]
    assert isinstance(masked_any, dict) and isinstance(gold_counts, dict)
    for gold_type, share in masked_any.items():
        print(f"  {gold_type:<18} {gold_counts[gold_type]:>4}  {share:.3f}")
    print(f"\n{len(records)} texts, {result['ms_per_text']} ms/text, load {load_s:.2f} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
