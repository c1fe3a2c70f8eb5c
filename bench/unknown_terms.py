"""Words the tenant's knowledge never mentions: does naming them mark an unanswerable turn?

    .venv/bin/python bench/unknown_terms.py \
        --set TURNS.jsonl DATA_DIR TENANT QUESTIONS.jsonl [--set ...]

Each --set is a dev set as `bench/calibration_fit.py collect` recorded it (its turn file),
the data directory and tenant it was collected on, and its questions file. Per knowledge turn
the script counts the content words of the question (the current turn, without scenario or
history) that no chunk of the tenant holds (document frequency 0 in the keyword index, after
its stemming), and prints how often answerable and unanswerable turns have one. Then it
lowers the shipped blend's logit by d * (the share of such words, or whether there is one)
and, for each d, chooses the blend weight and threshold by calibration_blend's rule (highest
lowest rate of answered and declined on all sets together). d is chosen on the dev sets
themselves here, so each row is an upper bound of what the flag could give, not a setting
to ship. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

from agent.answer.reading import content_terms  # noqa: E402
from bench.calibration_blend import BLEND_WEIGHTS, WEIGHTS, add_readers, choose  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402
from training.answerability import reply_calibration as rc  # noqa: E402

PENALTIES = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]


def unknown_words(
    data_dir: Path, tenant: str, questions: Path, ids: set[str]
) -> dict[str, tuple[list[str], int]]:
    """Turn id -> the question's content words that no chunk of the tenant holds, and how
    many content words the question has."""
    texts = {}
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            texts[str(record["id"])] = str(record["question"])
    runtime = Runtime(Settings(data_dir=data_dir))
    try:
        store = runtime.store(tenant)
        out = {}
        for turn_id in ids:
            words = list(content_terms(texts[turn_id]).values())
            counts, _ = store.keywords.document_frequencies(tenant, words)
            out[turn_id] = ([w for w in words if counts[w] == 0], len(words))
        return out
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs=4, action="append", required=True,
                        metavar=("TURNS", "DATA_DIR", "TENANT", "QUESTIONS"))  # fmt: skip
    args = parser.parse_args()
    weights = json.loads(WEIGHTS.read_text(encoding="utf-8"))["weights"]
    turns: list[rc.Turn] = []
    unknown: dict[tuple[str, str], tuple[list[str], int]] = {}  # (set, turn) -> unknown_words
    report: dict[str, Any] = {"with_unknown_word": {}, "penalised": []}
    for path, data_dir, tenant, questions in args.set:
        mine = rc.load_turns([Path(path)])
        found = unknown_words(Path(data_dir), tenant, Path(questions),
                              {x.id for x in mine if x.knowledge})  # fmt: skip
        unknown.update({(mine[0].dataset, turn): value for turn, value in found.items()})
        turns += mine
        for label, keep in (("answerable", True), ("unanswerable", False)):
            rows = [x for x in mine if x.knowledge and not x.underspecified
                    and (x.answerable is not False) == keep]  # fmt: skip
            share = sum(bool(found[x.id][0]) for x in rows) / len(rows)
            report["with_unknown_word"].setdefault(mine[0].dataset, {})[label] = round(share, 3)
            print(f"{mine[0].dataset:18} {label:13} {len(rows):4} turns, "
                  f"{share:.3f} with a word the knowledge never mentions")  # fmt: skip
    add_readers(turns, weights)
    for kind in ("share", "any"):
        for d in PENALTIES:
            readers = []
            for w in BLEND_WEIGHTS:
                name = f"blend{w}-{kind}{d}"
                readers.append(name)
                for x in turns:
                    if x.knowledge:
                        words, total = unknown[(x.dataset, x.id)]
                        flag = float(bool(words)) if kind == "any" else len(words) / max(1, total)
                        x.p[name] = rc.sigmoid(rc.logit(x.p[f"blend{w}"]) - d * flag)
            reader, t = choose(turns, readers)
            measured = rc.rates(turns, reader, t)
            lowest = min(v for row in measured.values() for v in row.values())
            report["penalised"].append({"kind": kind, "d": d, "reader": reader,
                                        "threshold": t, "lowest": lowest, **measured})  # fmt: skip
            print(f"{kind:5} d {d:4}: {reader} at {t:.2f}  lowest {lowest:.3f}  {measured}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
