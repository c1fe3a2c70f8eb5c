"""What `privacy.detect.PiiDetector` reports as numbers of a person in text that holds none.

    .venv/bin/python bench/pii_clean_text.py [--pages 495] [--list [TYPE]]

The sample knowledge base (examples/knowledge, parsed as ingestion parses it) and the first
`--pages` ConditionalQA pages (gov.uk guidance: fees, dates, form numbers, and the phone
numbers of public services) are split into paragraphs and run through the detector. Prints
how many spans of each number-like type (and of PERSON) it reports per 1,000 paragraphs;
`--list` prints each phone, card, SSN, IBAN and account-number span with its surroundings, so
that an order number, a price, a date or a postcode reported as a phone number can be seen (a
public service's "Telephone: 0300 123 1072" is a phone number, though not a person's);
`--list PERSON` prints the names found instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from ingest.parse import parse  # noqa: E402
from ingest.sources import kind_of  # noqa: E402
from privacy.detect import PiiDetector  # noqa: E402

KNOWLEDGE = ROOT / "examples" / "knowledge"
CQA = ROOT.parent / "shared" / "data" / "conditionalqa" / "corpus.jsonl"
NUMBER_TYPES = ("PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "ACCOUNT_NUMBER")
COUNTED = (*NUMBER_TYPES, "PERSON")


def knowledge_paragraphs() -> list[str]:
    texts: list[str] = []
    for path in sorted(KNOWLEDGE.iterdir()):
        if path.is_file():
            texts += [e.text for e in parse(kind_of(path), path.name, path=path)]
    return [t for text in texts for t in text.split("\n\n") if t.strip()]


def cqa_paragraphs(pages: int) -> list[str]:
    texts: list[str] = []
    with CQA.open(encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if i >= pages:
                break
            page = json.loads(line)
            texts += [e.text for e in parse("corpus-html", str(page["id"]), text=page["html"])]
    return [t for text in texts for t in text.split("\n\n") if t.strip()]


def report(name: str, texts: list[str], detector: PiiDetector, listing: str) -> dict[str, int]:
    found = detector.detect_many(texts)
    counts: Counter[str] = Counter()
    for text, spans in zip(texts, found, strict=True):
        for s in spans:
            counts[s.entity_type] += 1
            if (listing == "numbers" and s.entity_type in NUMBER_TYPES) or listing == s.entity_type:
                left = " ".join(text[max(0, s.start - 40) : s.start].split())
                right = " ".join(text[s.end : s.end + 25].split())
                print(f"  {s.entity_type:<15} {text[s.start : s.end]!r:<24} …{left} [·] {right}…")
    per_k = {t: round(1000 * counts[t] / len(texts), 1) for t in COUNTED}
    print(
        f"{name}: {len(texts)} paragraphs; per 1,000 paragraphs: "
        + ", ".join(f"{t} {v}" for t, v in per_k.items())
    )
    return {t: counts[t] for t in COUNTED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=495, help="ConditionalQA pages to read")
    parser.add_argument(
        "--list",
        nargs="?",
        const="numbers",
        default="",
        help="print every number-like span (or every span of the type given, e.g. PERSON)",
    )
    args = parser.parse_args()
    detector = PiiDetector()
    figures = {
        "examples/knowledge": report(
            "examples/knowledge", knowledge_paragraphs(), detector, args.list
        ),
        "conditionalqa": report(
            f"conditionalqa (first {args.pages} pages)",
            cqa_paragraphs(args.pages),
            detector,
            args.list,
        ),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
