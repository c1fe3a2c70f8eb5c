"""Blend of the answerability model and the TRAIN-fitted feature reader: choose the blend
weight and threshold on ConditionalQA dev and mtrag_dev together, and cross-fitted.

    .venv/bin/python bench/calibration_blend.py turns-conditionalqa_dev.jsonl \
        turns-mtrag_dev.jsonl [--weights training/answerability/results/feature_weights.json] \
        [--write]

The turns are recorded by `bench/calibration_fit.py collect` (with the reading's features).
The feature reader's P is recomputed from the recorded features with the weights fitted on
ConditionalQA train (`python -m training.answerability.feature_weights`); the blend's P is
sigmoid(w * logit(P model) + (1 - w) * logit(P features)). On a coarse grid (w 0, 0.1, ...,
1; threshold 0.10, 0.12, ..., 0.98) the setting with the highest lowest rate of the four
(answered and declined on each set; ties: the higher mean of the four, then the first in
the grid: the lower blend weight, then the lower threshold) is chosen on both
sets together, and on each set alone and measured on the other. `--write` stores the blend
chosen on both sets in the shipped manifest (`blend`, which the agent then decides with) and
drops its `reply_calibration`, which was fitted on the P before: fit it again with
`bench/calibration_fit.py fit <both turn files> --write`. Last line: JSON.
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

from agent.answer.answerability import Blend, FeatureWeights  # noqa: E402
from training.answerability import reply_calibration as rc  # noqa: E402

WEIGHTS = ROOT / "training" / "answerability" / "results" / "feature_weights.json"
MANIFEST = ROOT / "agent" / "answer" / "models" / "answerability" / "manifest.json"
BLEND_WEIGHTS = [round(0.1 * i, 1) for i in range(11)]
THRESHOLDS = [round(0.10 + 0.02 * i, 2) for i in range(45)]
NAMES = ("similarity", "coverage", "agreement")


def add_readers(turns: list[rc.Turn], weights: dict[str, float]) -> None:
    """p['train_features'] and p['blend<w>'] on every knowledge turn; each blend's P is the
    one the agent would decide with (`Blend.probability`) at that weight."""
    features = FeatureWeights(intercept=weights["intercept"],
                              **{n: weights[f"w_{n}"] for n in NAMES})  # fmt: skip
    blends = {w: Blend(model_weight=w, features=features, threshold=0.5) for w in BLEND_WEIGHTS}
    for turn in turns:
        if not turn.knowledge:
            continue
        if set(NAMES) - set(turn.features):
            raise SystemExit(f"turn {turn.id} has no recorded features: collect again")
        read = {n: turn.features[n] for n in NAMES}
        for w, blend in blends.items():
            turn.p[f"blend{w}"] = blend.probability(turn.p["model"], **read)
        turn.p["train_features"] = turn.p["blend0.0"]  # weight 0: the features alone


def _key(found: dict[str, dict[str, float]]) -> tuple[float, float]:
    values = [v for row in found.values() for v in row.values()]
    return min(values), sum(values) / len(values)


def choose(turns: list[rc.Turn], readers: list[str]) -> tuple[str, float]:
    return max(((r, t) for r in readers for t in THRESHOLDS),
               key=lambda c: _key(rc.rates(turns, c[0], c[1])))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("turns", type=Path, nargs="+")
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--write", action="store_true", help="ship the blend chosen on both")
    args = parser.parse_args()
    weights = json.loads(args.weights.read_text(encoding="utf-8"))["weights"]
    turns = rc.load_turns(args.turns)
    add_readers(turns, weights)
    sets = sorted({x.dataset for x in turns})
    blends = [f"blend{w}" for w in BLEND_WEIGHTS]
    report: dict[str, Any] = {"feature_weights": weights, "per_reader": {}, "cross": {}}
    for reader in ["model", "features", "train_features", *blends]:
        t = choose(turns, [reader])[1]
        report["per_reader"][reader] = {"threshold": t, **rc.rates(turns, reader, t)}
        print(f"{reader:16} best threshold on both {t:.2f}: {rc.rates(turns, reader, t)}")
    reader, t = choose(turns, blends)
    report["chosen_on_both"] = {"reader": reader, "threshold": t, **rc.rates(turns, reader, t)}
    print(f"chosen on both: {reader} at {t:.2f}: {rc.rates(turns, reader, t)}")
    for d in sets:
        alone = [x for x in turns if x.dataset == d]
        r, t = choose(alone, blends)
        report["cross"][d] = {"reader": r, "threshold": t, **rc.rates(turns, r, t)}
        print(f"chosen on {d} alone: {r} at {t:.2f}, measured on both: {rc.rates(turns, r, t)}")
    print("grid of the chosen blend (threshold: rates):")
    chosen = report["chosen_on_both"]["reader"]
    for t in THRESHOLDS[::3]:
        cells = "  ".join(f"{v['answered']:.3f}/{v['declined']:.3f}"
                          for v in rc.rates(turns, chosen, t).values())  # fmt: skip
        print(f"  {t:.2f}  {cells}")
    if args.write:
        write(report, args)
    print(json.dumps(report))


def write(report: dict[str, Any], args: argparse.Namespace) -> None:
    """The chosen blend into the shipped manifest; its reply map is dropped (refit it)."""
    chosen = report["chosen_on_both"]
    weights = report["feature_weights"]
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    manifest.pop("reply_calibration", None)
    manifest["blend"] = {
        "model_weight": float(chosen["reader"].removeprefix("blend")),
        "features": {"intercept": weights["intercept"],
                     **{n: weights[f"w_{n}"] for n in NAMES}},
        "threshold": chosen["threshold"],
        "dev_rates": {k: v for k, v in chosen.items() if k not in ("reader", "threshold")},
        "feature_weights": str(args.weights.resolve().relative_to(ROOT)),
        "chosen_by": "highest lowest rate of answered/declined on both dev sets (ties: the "
        "higher mean of the four, then the lower blend weight, then the lower threshold)",
        "command": "python bench/calibration_blend.py " + " ".join(p.name for p in args.turns)
        + " --write",
    }  # fmt: skip
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote the blend to {MANIFEST}; now refit its reply map: "
          "python bench/calibration_fit.py fit <both turn files> --write")  # fmt: skip


if __name__ == "__main__":
    main()
