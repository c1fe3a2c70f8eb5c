"""How well `agent.understand.screening.detect_injection` separates injections from ordinary text.

    .venv/bin/python bench/injection.py [--data ../shared/data] [--show 5]

- deepset: `injection/deepset_train.jsonl` (546 prompts, label 1 = injection); precision,
  recall, F1 and false-positive rate, overall and by language (langdetect through
  `agent.understand.language.detect_language`: en, de, other), and the expected calibration error of
  P(injection) (10 equal-width bins).
- bipia attacks: detection rate of the attack instructions (`*_attack_train.json`), by file
  and category. Some categories are plain questions or tasks ("What is the capital of
  Brazil?") that only count as attacks because of where they are planted.
- false positives on text that holds no attack: sentences of the BIPIA contexts (emails,
  tables, code answers), of the sample knowledge base in `examples/knowledge` (md, txt, html,
  pdf, docx), of the gov.uk pages in `conditionalqa/corpus.jsonl`, and real customer
  messages (`banking77/train.csv`, `clinc150/data.json` all splits).

The last line is JSON with every figure. The detector was written from attack families,
not fitted to these sets; deepset was read while writing it, so its figures are optimistic.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from agent.answer.reading import split_sentences  # noqa: E402
from agent.understand.language import detect_language  # noqa: E402
from agent.understand.records import Prediction  # noqa: E402
from agent.understand.screening import INJECTION, detect_injection, rule_names  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
KNOWLEDGE = ROOT / "examples" / "knowledge"
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Binary:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def row(self) -> dict[str, float | int]:
        return {
            "n": self.tp + self.fp + self.fn + self.tn,
            "injections": self.tp + self.fn,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "fpr": round(self.fpr, 3),
        }


def binary(pairs: Iterable[tuple[bool, bool]]) -> Binary:
    counts = Counter(pairs)  # (gold, predicted)
    return Binary(
        counts[(True, True)], counts[(False, True)], counts[(True, False)], counts[(False, False)]
    )


def p_injection(prediction: Prediction) -> float:
    return prediction.confidence if prediction.label == INJECTION else 1 - prediction.confidence


def expected_calibration_error(
    probabilities: list[float], gold: list[bool], bins: int = 10
) -> float:
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [
            i for i, p in enumerate(probabilities) if low <= p < high or (b == bins - 1 and p == 1)
        ]
        if members:
            confidence = sum(probabilities[i] for i in members) / len(members)
            accuracy = sum(gold[i] for i in members) / len(members)
            total += len(members) / len(probabilities) * abs(confidence - accuracy)
    return total


def deepset(path: Path, show: int) -> dict[str, object]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    by_language: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    probabilities: list[float] = []
    gold: list[bool] = []
    rule_hits: dict[str, Counter[bool]] = defaultdict(Counter)
    misses: list[str] = []
    false_alarms: list[str] = []
    for row in rows:
        prediction = detect_injection(row["text"])
        is_attack, flagged = row["label"] == 1, prediction.label == INJECTION
        language = detect_language(row["text"]).label
        group = language if language in ("en", "de") else "other"
        by_language[group].append((is_attack, flagged))
        by_language["all"].append((is_attack, flagged))
        probabilities.append(p_injection(prediction))
        gold.append(is_attack)
        for name in set(rule_names(prediction)):
            rule_hits[name][is_attack] += 1
        if is_attack and not flagged:
            misses.append(row["text"])
        if flagged and not is_attack:
            false_alarms.append(row["text"])
    result: dict[str, object] = {g: binary(p).row() for g, p in sorted(by_language.items())}
    result["ece"] = round(expected_calibration_error(probabilities, gold), 3)
    print("\n== deepset_train.jsonl (label 1 = injection)")
    print(f"{'group':<6} {'n':>5} {'inj':>5} {'P':>6} {'R':>6} {'F1':>6} {'FPR':>6}")
    for group in ("all", "en", "de", "other"):
        if group in by_language:
            r = binary(by_language[group]).row()
            print(
                f"{group:<6} {r['n']:>5} {r['injections']:>5} {r['precision']:>6} "
                f"{r['recall']:>6} {r['f1']:>6} {r['fpr']:>6}"
            )
    print(f"expected calibration error of P(injection): {result['ece']}")
    print("rules fired (on injections / on benign prompts):")
    for name, hits in sorted(rule_hits.items(), key=lambda kv: -sum(kv[1].values())):
        print(f"  {name:<42} {hits[True]:>4} / {hits[False]:>3}")
    _show("missed injections", misses, show)
    _show("benign prompts flagged", false_alarms, show)
    return result


def bipia_attacks(folder: Path) -> dict[str, object]:
    result: dict[str, object] = {}
    print("\n== BIPIA attack instructions: share detected")
    for path in sorted(folder.glob("*_attack_train.json")):
        attacks: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
        rates: dict[str, float] = {}
        found = total = 0
        for category, texts in attacks.items():
            hits = sum(detect_injection(t).label == INJECTION for t in texts)
            rates[category] = round(hits / len(texts), 3)
            found, total = found + hits, total + len(texts)
        name = path.name.removesuffix("_attack_train.json")
        result[name] = {"detected": round(found / total, 3), "n": total, "by_category": rates}
        print(f"{name}: {found}/{total} = {found / total:.3f}")
        for category, rate in rates.items():
            print(f"  {category:<40} {rate:.2f}")
    return result


def _context_texts(path: Path) -> list[str]:
    texts: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        context = record.get("context", "")
        texts.append("\n".join(context) if isinstance(context, list) else str(context))
    return texts


def _knowledge_texts(folder: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if suffix in (".md", ".txt"):
            texts.append(path.read_text(encoding="utf-8"))
        elif suffix == ".html":
            raw = re.sub(r"</(p|li|h\d|tr|div|section)>", "\n", path.read_text(encoding="utf-8"))
            texts.append(html.unescape(_TAG.sub(" ", raw)))
        elif suffix == ".pdf":
            from pypdf import PdfReader

            texts.append("\n".join(page.extract_text() or "" for page in PdfReader(path).pages))
        elif suffix == ".docx":
            import docx

            texts.append("\n".join(p.text for p in docx.Document(str(path)).paragraphs))
    return texts


def _conditionalqa_texts(path: Path) -> list[str]:
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        raw = re.sub(r"</(p|li|h\d|tr)>", "\n", record.get("html") or record.get("text") or "")
        texts.append(html.unescape(_TAG.sub(" ", raw)))
    return texts


def _customer_messages(data: Path) -> list[str]:
    with (data / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        messages = [row["text"] for row in csv.DictReader(handle)]
    clinc = json.loads((data / "clinc150" / "data.json").read_text(encoding="utf-8"))
    for split in clinc.values():
        messages.extend(text for text, _ in split)
    return messages


def false_positives(name: str, units: list[str], show: int) -> dict[str, object]:
    flagged = [u for u in units if detect_injection(u).label == INJECTION]
    rate = len(flagged) / len(units) if units else 0.0
    print(f"{name:<38} {len(flagged):>5} / {len(units):>6} = {rate:.4f}")
    for text in flagged[:show]:
        print(f"    flagged: {text[:160]!r}")
    return {"n": len(units), "flagged": len(flagged), "rate": round(rate, 4)}


def sentences_of(texts: Iterable[str]) -> list[str]:
    return [s for text in texts for line in text.split("\n") for s in split_sentences(line)]


def _show(title: str, texts: list[str], show: int) -> None:
    if show and texts:
        print(f"{title} ({len(texts)}), first {min(show, len(texts))}:")
        for text in texts[:show]:
            print(f"    {text[:160]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show", type=int, default=5, help="examples of errors to print")
    args = parser.parse_args()
    data: Path = args.data
    started = time.perf_counter()
    report: dict[str, object] = {
        "deepset": deepset(data / "injection" / "deepset_train.jsonl", args.show),
        "bipia_attacks": bipia_attacks(data / "injection" / "bipia"),
    }
    print("\n== false positives on text without attacks (unit: sentence, or message)")
    clean: dict[str, object] = {}
    for kind in ("email", "table", "code"):
        path = data / "injection" / "bipia" / f"{kind}_train.jsonl"
        clean[f"bipia_{kind}"] = false_positives(
            f"BIPIA {kind} context sentences", sentences_of(_context_texts(path)), args.show
        )
    clean["examples_knowledge"] = false_positives(
        "examples/knowledge sentences", sentences_of(_knowledge_texts(KNOWLEDGE)), args.show
    )
    clean["conditionalqa"] = false_positives(
        "conditionalqa gov.uk sentences",
        sentences_of(_conditionalqa_texts(data / "conditionalqa" / "corpus.jsonl")),
        args.show,
    )
    clean["customer_messages"] = false_positives(
        "banking77 + clinc150 messages", _customer_messages(data), args.show
    )
    report["false_positives"] = clean
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
