"""Does groundedness tell supported answers from answers with a planted unsupported sentence?

    .venv/bin/python bench/groundedness_auc.py [--limit N] [--seed 13] [--contexts 5]

Cases (bench/groundedness_cases.py) come from ConditionalQA dev (answers quoted from the
reference page's passages, as the extractive composer writes them) and mtrag_dev (answers
from the human-written reference answers: paraphrase). Every answer is scored two ways:

- entailment: the groundedness score (evaluation.entailment: the answerability model in an
  entailment role + the number/negation check), independent of the reply filter;
- verifier: the verifier that filters replies (agent.answer.verify, support threshold 0.6)
  re-applied, with the same number/negation cap (evaluation.grounding.verifier_support). On
  a sent reply this one is true by construction; here it is measured for comparison.

For each dataset and check the script prints ROC AUC of the value (supported = positive)
against each unsupported variant, the share of unsupported answers under the check's
threshold and of supported ones at or over it, and the time per scored answer. It then prints,
for a grid of thresholds, the balanced accuracy (supported kept + unsupported flagged, over
all variants, halved) of the entailment check on each dataset, and the threshold with the best
mean over both datasets (how evaluation.entailment.SUPPORT_THRESHOLD was chosen).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # noqa: E402

from bench.groundedness_cases import Case, conditionalqa, mtrag  # noqa: E402
from evaluation.entailment import SUPPORT_THRESHOLD, EntailmentCheck  # noqa: E402
from evaluation.grounding import (  # noqa: E402
    CachedEmbedder,
    answer_sentences,
    sentence_pieces,
    verifier_support,
)
from knowledge.embed import MiniLMEmbedder  # noqa: E402
from knowledge.protocols import Embedder  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
VERIFIER_THRESHOLD = 0.6  # the agent's default thresholds.support
GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
Scorer = Callable[[Case, CachedEmbedder], float]


def scorers(embedder: Embedder) -> dict[str, tuple[Scorer, float]]:
    """Check name -> (score one case with a warm cache, the check's threshold)."""
    check = EntailmentCheck(embedder)

    def citations(case: Case) -> list[tuple[str, str]]:
        return [(s, p) for s, p in zip(case.sentences, case.cited, strict=True) if p]

    def sentences(case: Case) -> list[str]:
        return answer_sentences(" ".join(case.sentences), [s for s, _ in citations(case)])

    def entailment(case: Case, cache: CachedEmbedder) -> float:
        value = check.score(sentences(case), case.contexts, citations(case), cache).value
        assert value is not None
        return value

    def verifier(case: Case, cache: CachedEmbedder) -> float:
        value = verifier_support(sentences(case), case.contexts, citations(case), cache,
                                 VERIFIER_THRESHOLD).value  # fmt: skip
        assert value is not None
        return value

    return {"entailment": (entailment, check.threshold), "verifier": (verifier, VERIFIER_THRESHOLD)}


def measure(
    embedder: Embedder, cases: dict[str, list[Case]], checks: dict[str, tuple[Scorer, float]]
) -> dict[str, dict[str, list[float]]]:
    """check -> variant -> values; prints timings. Each check gets a fresh cache per case
    (as ReplyScorer does per reply), so the timings are comparable."""
    values: dict[str, dict[str, list[float]]] = {name: {} for name in checks}
    for name, (score, _) in checks.items():
        timings: list[float] = []
        for variant, group in cases.items():
            out = values[name].setdefault(variant, [])
            for case in group:
                started = time.perf_counter()
                texts = [*case.sentences, *(s for p in case.contexts for s in sentence_pieces(p))]
                out.append(score(case, CachedEmbedder(embedder, texts)))
                timings.append(time.perf_counter() - started)
        ms = np.asarray(timings) * 1000
        print(f"  {name}: time per scored answer p50 {np.percentile(ms, 50):.0f} ms, "
              f"p95 {np.percentile(ms, 95):.0f} ms over {len(ms)} answers")  # fmt: skip
    return values


def report(
    values: dict[str, dict[str, list[float]]], checks: dict[str, tuple[Scorer, float]]
) -> None:
    for name, by_variant in values.items():
        threshold = checks[name][1]
        for good in ("supported", "supported_reworded"):
            if good not in by_variant:
                continue
            bads = ["replace_reworded", "alter"] if good.endswith("reworded") else [
                v for v in by_variant if not v.startswith("supported") and "reworded" not in v
            ]  # fmt: skip
            for bad in bads:
                g, b = by_variant[good], by_variant[bad]
                if not g or not b:
                    continue
                auc = roc_auc_score([1] * len(g) + [0] * len(b), g + b)
                flagged = float(np.mean([v < threshold for v in b]))
                kept = float(np.mean([v >= threshold for v in g]))
                print(f"  {name:<10} {good:>18} vs {bad:<17} n={len(g)}/{len(b)}  AUC {auc:.3f}"
                      f"  unsupported flagged {flagged:.1%}  supported kept {kept:.1%}"
                      f"  (threshold {threshold})")  # fmt: skip


def balanced(by_variant: dict[str, list[float]], threshold: float) -> float:
    good = by_variant["supported"]
    bad = [v for k, vs in by_variant.items() if not k.startswith("supported")
           and "reworded" not in k for v in vs]  # fmt: skip
    kept = float(np.mean([v >= threshold for v in good]))
    flagged = float(np.mean([v < threshold for v in bad]))
    return (kept + flagged) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="first N usable questions per set")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--contexts", type=int, default=5)
    args = parser.parse_args()
    datasets = {
        "conditionalqa_dev": conditionalqa(args.data / "conditionalqa", random.Random(args.seed),
                                           args.contexts, args.limit),
        "mtrag_dev": mtrag(args.data / "mtrag_dev", random.Random(args.seed), args.limit),
    }  # fmt: skip
    embedder = MiniLMEmbedder(threads=1)
    embedder.warm_up()
    checks = scorers(embedder)
    results = {}
    for dataset, cases in datasets.items():
        print(f"{dataset}: {len(cases['supported'])} answers; seed {args.seed}")
        results[dataset] = measure(embedder, cases, checks)
        report(results[dataset], checks)
    print("entailment threshold -> balanced accuracy (supported kept + unsupported flagged) / 2")
    best = (0.0, 0.0)
    for threshold in GRID:
        each = [balanced(results[d]["entailment"], threshold) for d in datasets]
        mean = float(np.mean(each))
        best = max(best, (mean, threshold))
        cells = "  ".join(f"{d} {v:.3f}" for d, v in zip(datasets, each, strict=True))
        print(f"  {threshold:<5} {cells}  mean {mean:.3f}")
    print(f"best mean over both sets: {best[1]} ({best[0]:.3f}); shipped SUPPORT_THRESHOLD "
          f"{SUPPORT_THRESHOLD}")  # fmt: skip


if __name__ == "__main__":
    main()
