"""Recall of `privacy.detect.PiiDetector` per value format, on the generated format corpus.

    .venv/bin/python bench/pii_formats.py [--data bench/data/pii_formats.jsonl]
                                          [--errors TYPE] [--json]

The corpus (`bench/data/pii_formats.jsonl`, written by `bench/pii_faker_corpus.py`, which
needs Faker; this script does not) holds sentences with phone numbers in every format of the
generator behind presidio-research's synthetic set (its phone provider, its base records'
30 countries, Faker's locales of those countries), and Faker's cards, IBANs, SSNs and emails.
It measures whether the detector knows the formats, on numbers and sentences it was not
written against.

Per type: recall (a gold span overlapped by a prediction of its type), full cover (the whole
gold span inside predictions of its type: nothing of the value is left unmasked) and
precision (a prediction of the type that overlaps a gold span of the type). Phone recall is
also given by source of the format and by frame (`cued`: a word such as "call" or "Phone:"
names the number; `bare`: nothing does). Overall precision counts a prediction as right when
it overlaps a gold span of any type.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from bench.pii import Gold, count_type, overall_precision, overlap, parse_args  # noqa: E402
from privacy.detect import PiiDetector  # noqa: E402
from privacy.spans import Span  # noqa: E402

DATA = ROOT / "bench" / "data" / "pii_formats.jsonl"
TYPES = ("PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "EMAIL_ADDRESS")


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    frame: str
    source: str
    gold: tuple[Gold, ...]


def load(path: Path) -> list[Record]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "header" in row:
            continue
        gold = tuple(Gold(s["start"], s["end"], s["entity_type"]) for s in row["spans"])
        records.append(Record(row["id"], row["text"], row["frame"], row["source"], gold))
    return records


def _covered(spans: list[Span], gold: Gold) -> bool:
    """Every character of the gold span lies inside one of `spans`."""
    return all(any(s.start <= i < s.end for s in spans) for i in range(gold.start, gold.end))


def score(records: list[Record], predictions: list[list[Span]]) -> dict[str, object]:
    per_type: dict[str, dict[str, float]] = {}
    pairs = list(zip(records, predictions, strict=True))
    for entity_type in TYPES:
        counts = count_type(records, predictions, entity_type)
        full = sum(
            _covered([s for s in spans if s.entity_type == entity_type], g)
            for record, spans in pairs
            for g in record.gold
            if g.type == entity_type
        )
        per_type[entity_type] = {
            "gold": counts.gold,
            "predicted": counts.predicted,
            "precision": round(counts.right / counts.predicted, 3) if counts.predicted else 0.0,
            "recall": round(counts.found / counts.gold, 3) if counts.gold else 0.0,
            "full_cover": round(full / counts.gold, 3) if counts.gold else 0.0,
        }
    phone_by: dict[str, Counter[str]] = {"source": Counter(), "frame": Counter()}
    phone_hit: dict[str, Counter[str]] = {"source": Counter(), "frame": Counter()}
    for record, spans in pairs:
        ours = [s for s in spans if s.entity_type == "PHONE_NUMBER"]
        for g in record.gold:
            if g.type != "PHONE_NUMBER":
                continue
            hit = any(overlap(s, g) for s in ours)
            for key, value in (("source", record.source.split(",")[0]), ("frame", record.frame)):
                phone_by[key][value] += 1
                phone_hit[key][value] += hit
    return {
        "sentences": len(records),
        "per_type": per_type,
        "phone_recall_by_frame": {
            k: round(phone_hit["frame"][k] / n, 3) for k, n in sorted(phone_by["frame"].items())
        },
        "phone_recall_by_source": {
            k: round(phone_hit["source"][k] / n, 3) for k, n in sorted(phone_by["source"].items())
        },
        "overall_precision": overall_precision(records, predictions),
    }


def print_result(result: dict[str, object]) -> None:
    per_type = result["per_type"]
    assert isinstance(per_type, dict)
    print(f"{result['sentences']} sentences")
    print(f"{'type':<15} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'full':>6}")
    for entity_type, row in per_type.items():
        print(
            f"{entity_type:<15} {row['gold']:>5} {row['predicted']:>5} {row['precision']:>6.3f} "
            f"{row['recall']:>6.3f} {row['full_cover']:>6.3f}"
        )
    print(f"overall precision (overlap with any labelled span): {result['overall_precision']}")
    frames = result["phone_recall_by_frame"]
    sources = result["phone_recall_by_source"]
    assert isinstance(frames, dict) and isinstance(sources, dict)
    print("phone recall by frame: " + ", ".join(f"{k} {v:.3f}" for k, v in frames.items()))
    weak = {k: v for k, v in sources.items() if v < 1.0}
    print(
        "phone recall by format source below 1.0: "
        + (", ".join(f"{k} {v:.2f}" for k, v in weak.items()) or "none")
    )


def print_errors(records: list[Record], predictions: list[list[Span]], entity_type: str) -> None:
    for record, spans in zip(records, predictions, strict=True):
        ours = [s for s in spans if s.entity_type == entity_type]
        for g in record.gold:
            if g.type == entity_type and not _covered(ours, g):
                kind = "MISS" if not any(overlap(s, g) for s in ours) else "PART"
                got = [record.text[s.start : s.end] for s in spans if overlap(s, g)]
                print(
                    f"{kind} {record.text[g.start : g.end]!r} [{record.source}] got {got} "
                    f"in {record.text!r}"
                )
        for s in ours:
            if not any(overlap(s, g) for g in record.gold if g.type == entity_type):
                print(f"FP   {record.text[s.start : s.end]!r} in {record.text!r}")


def main() -> None:
    args = parse_args(__doc__, DATA, "list misses, partial finds and FPs")
    records = load(args.data)
    detector = PiiDetector()
    predictions = detector.detect_many([r.text for r in records])
    result = score(records, predictions)
    print_result(result)
    if args.errors:
        print_errors(records, predictions, args.errors)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
