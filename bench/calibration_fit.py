"""Reply-confidence calibration on ConditionalQA dev and mtrag_dev together.

    .venv/bin/python bench/calibration_fit.py collect --data-dir D --tenant T \
        --questions Q.jsonl --dataset NAME --out turns-NAME.jsonl
    .venv/bin/python bench/calibration_fit.py fit turns-conditionalqa_dev.jsonl \
        turns-mtrag_dev.jsonl [--write]

`collect` asks every question through the agent once (as `clearline eval answers` does)
and records per turn what re-deciding needs: both readers' P(answerable), the reading's
similarity, coverage and agreement (bench/calibration_blend.py re-scores them), whether a
sentence survived verification, which documents the verified sentences cite, the labels.
After a retrain the manifest has no reply map yet, and the agent refuses to reply without
one; `collect` then runs on a copy of the model with a provisional map (the recorded P and
decisions do not depend on it) and says so.
`fit` fits the reply map of training/answerability/reply_calibration.py for each reader on
both sets together and prints the ECE of the reply's confidence (as `eval answers` defines
it) before, in-sample, cross-fitted (fit on one set, measured on the other) and 5-fold
out-of-fold (folds of whole conversations, fitted on both sets); then answered / declined
at a grid of thresholds. The model reader is P as the agent decides with it: the manifest's
blend of the model's P and the recorded features when it has one (bench/calibration_blend.py
--write), with the blend's threshold. `--write` stores the model reader's map in the shipped
manifest (agent/answer/models/answerability/manifest.json); the feature reader's constants are
printed for agent/answer/reading.py. `--blends` adds blends of the two readers' P (not
shipped; its feature weights were fitted on dev questions: docs/benchmarks.md; the
train-fitted blend is bench/calibration_blend.py). Last line: every figure as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

from evaluation.answers import expected_calibration_error  # noqa: E402
from training.answerability import reply_calibration as rc  # noqa: E402

MANIFEST = ROOT / "agent" / "answer" / "models" / "answerability" / "manifest.json"
READERS = {"model": "answerability_model", "features": "answerability_features"}
FEATURES = ("similarity", "coverage", "agreement")  # the reading's, as the trace records them
GRID = (0.3, 0.39, 0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.85, 0.88, 0.9, 0.91, 0.92, 0.94)
K = 5


def collect(args: argparse.Namespace) -> None:
    from agent.replies import ConversationState
    from evaluation.questions import load_questions
    from service.runtime import Runtime
    from service.settings import Settings

    provisional = _provisional_model()
    runtime = Runtime(Settings(data_dir=args.data_dir), answerability_dir=provisional)
    questions = load_questions(args.questions)[: args.limit or None]
    started = time.perf_counter()
    try:
        tenant = runtime.agents.agent(args.tenant)
        agent = runtime.evaluation_agent
        with args.out.open("w", encoding="utf-8") as out:
            for number, q in enumerate(questions, 1):
                state = ConversationState(history=q.query.history, scenario=q.query.scenario)
                reply = agent.respond(tenant, state, q.query.text)
                turn = _turn(args.dataset, q, reply)
                out.write(json.dumps(dataclasses.asdict(turn)) + "\n")
                if number % 25 == 0:
                    print(f"{number}/{len(questions)} {time.perf_counter() - started:.0f} s",
                          file=sys.stderr)  # fmt: skip
    finally:
        runtime.close()
        if provisional is not None:
            shutil.rmtree(provisional.parent, ignore_errors=True)


# Stands in for the reply map while the turns that fit it are collected: P(right) = P for an
# answer, 1 - P otherwise. No reply's confidence is recorded, so nothing depends on it.
PROVISIONAL_MAP = {"answered": {"a": 1.0, "b": 0.0}, "declined": {"a": -1.0, "b": 0.0}}


def _provisional_model() -> Path | None:
    """None when the shipped manifest has its reply map; else a copy of the model folder
    whose manifest has PROVISIONAL_MAP (in a temporary folder: remove its parent after)."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    if manifest.get("reply_calibration"):
        return None
    copy = Path(tempfile.mkdtemp(prefix="clearline-collect-")) / "answerability"
    shutil.copytree(MANIFEST.parent, copy)
    manifest["reply_calibration"] = {**PROVISIONAL_MAP, "provisional": "collect only"}
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(
        f"{MANIFEST} has no reply_calibration yet (retrained): collecting with a provisional "
        "map, which no recorded figure uses; `fit --write` fits the real one",
        file=sys.stderr,
    )
    return copy


def _turn(dataset: str, q: Any, reply: Any) -> rc.Turn:
    trace = reply.trace
    retrieve = trace.ran("retrieve")
    scores = retrieve.scores if retrieve else {}
    knowledge = "answerability" in scores
    documents = {str(c["chunk_id"]): str(c["document_id"]) for c in trace.retrieved()}
    verify = trace.ran("verify")
    kept = [s for s in (verify.outputs.get("sentences", []) if verify else []) if s["supported"]]
    return rc.Turn(
        dataset=dataset, id=q.id, answerable=q.answerable, underspecified=q.underspecified,
        knowledge=knowledge, proposed=reply.proposed,
        p={name: float(scores[key]) for name, key in READERS.items() if key in scores},
        verified=bool(kept),
        cited=tuple(sorted({documents[s["chunk_ids"][0]] for s in kept if s["chunk_ids"]})),
        text=" ".join(s["text"] for s in kept),
        reference_doc_ids=tuple(q.reference_doc_ids),
        reference_answer=q.reference_answer or "",
        features={n: float(scores[n]) for n in FEATURES if n in scores},
    )  # fmt: skip


def _per_set(turns: list[rc.Turn], reader: str, t: float, conf: rc.Confidence) -> dict[str, float]:
    sets = sorted({x.dataset for x in turns})
    return {d: round(rc.reply_ece([x for x in turns if x.dataset == d], reader, t, conf), 4)
            for d in sets}  # fmt: skip


def cross_fitted(turns: list[rc.Turn], reader: str, t: float) -> dict[str, Any]:
    """ECE per set of maps not fitted on the turns measured."""
    sets = sorted({x.dataset for x in turns})
    other: dict[str, float] = {}
    for d in sets:
        fitted = rc.fit(rc.examples([x for x in turns if x.dataset != d], reader, t))
        mine = [x for x in turns if x.dataset == d]
        other[d] = round(rc.reply_ece(mine, reader, t, rc.mapped(fitted, reader)), 4)
    held: dict[str, tuple[list[float], list[bool]]] = {d: ([], []) for d in sets}
    parts = rc.folds(turns, K)
    for i, part in enumerate(parts):
        rest = [x for j, p in enumerate(parts) if j != i for x in p]
        conf = rc.mapped(rc.fit(rc.examples(rest, reader, t)), reader)
        for x in part:
            done = rc.answers(x, reader, t)
            held[x.dataset][0].append(conf(x, done))
            held[x.dataset][1].append(rc.right(x, done))
    kfold = {d: round(expected_calibration_error(*held[d]), 4) for d in sets}
    return {"fit_on_the_other_set": other, f"{K}_fold_by_conversation": kfold}


def auc(turns: list[rc.Turn], reader: str) -> dict[str, float]:
    """ROC AUC of the reader's P, answerable vs unanswerable knowledge turns, per set
    (underspecified turns left out, as the rates do)."""
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    out = {}
    for d in sorted({x.dataset for x in turns}):
        mine = [x for x in turns if x.dataset == d and x.knowledge and not x.underspecified]
        labels = [x.answerable is not False for x in mine]
        out[d] = round(float(roc_auc_score(labels, [x.p[reader] for x in mine])), 4)
    return out


def fit_reader(turns: list[rc.Turn], reader: str, threshold: float) -> dict[str, Any]:
    reply = rc.fit(rc.examples(turns, reader, threshold))
    result: dict[str, Any] = {
        "threshold": threshold,
        "auc": auc(turns, reader),
        "map": reply.as_dict(),
        "rates": rc.rates(turns, reader, threshold),
        "ece_before": _per_set(turns, reader, threshold, rc.unmapped(reader)),
        "ece_in_sample": _per_set(turns, reader, threshold, rc.mapped(reply, reader)),
        **cross_fitted(turns, reader, threshold),
    }
    result["grid"] = {str(t): rc.rates(turns, reader, t) for t in GRID}
    return result


def _floor(turns: list[rc.Turn], reader: str, t: float, only: str | None = None) -> float:
    found = rc.rates([x for x in turns if only in (None, x.dataset)], reader, t)
    return min(min(v.values()) for v in found.values())


def blends(turns: list[rc.Turn]) -> dict[str, Any]:
    """Not shipped, printed for the record: P from w * logit(model) + (1 - w) *
    logit(features); per weight the threshold with the best lowest rate over both sets, and
    (w, threshold) chosen on one set alone, measured on both."""
    grid = [round(0.05 + 0.005 * i, 3) for i in range(188)]
    weights = [round(0.1 * i, 1) for i in range(11)]
    for turn in turns:
        if turn.knowledge:
            for w in weights:
                z = w * rc.logit(turn.p["model"]) + (1 - w) * rc.logit(turn.p["features"])
                turn.p[f"blend{w}"] = rc.sigmoid(z)
    best = {}
    for w in weights:
        t = max(grid, key=lambda x: _floor(turns, f"blend{w}", x))
        best[str(w)] = {"threshold": t, **rc.rates(turns, f"blend{w}", t)}
    chosen = {}
    for d in sorted({x.dataset for x in turns}):
        w, t = max(((w, t) for w in weights for t in grid),
                   key=lambda c: _floor(turns, f"blend{c[0]}", c[1], d))  # fmt: skip
        chosen[d] = {"weight": w, "threshold": t, **rc.rates(turns, f"blend{w}", t)}
    return {"best_threshold_per_weight": best, "chosen_on_one_set": chosen}


def as_decided(turns: list[rc.Turn], manifest: dict[str, Any]) -> float:
    """p['model'] of every knowledge turn made the P the agent decides with (the manifest's
    blend, if any); returns that P's threshold."""
    if manifest.get("blend") is None:
        return float(manifest["threshold"])
    from agent.answer.answerability import Blend

    blend = Blend.model_validate(manifest["blend"])
    for turn in turns:
        if turn.knowledge:
            if set(FEATURES) - set(turn.features):
                raise SystemExit(f"turn {turn.id} has no recorded features: collect again")
            turn.p["model"] = blend.probability(
                turn.p["model"], *(turn.features[n] for n in FEATURES)
            )
    return blend.threshold


def fit_command(args: argparse.Namespace) -> None:
    turns = rc.load_turns(args.turns)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    thresholds = {"model": as_decided(turns, manifest), "features": 0.39}
    recorded = [x for x in turns if x.knowledge]
    mismatch = sum(rc.answers(x, "model", thresholds["model"]) != (x.proposed == "answered")
                   for x in recorded)  # fmt: skip
    report: dict[str, Any] = {
        "turns": {
            d: sum(x.dataset == d for x in turns) for d in sorted({x.dataset for x in turns})
        },
        "knowledge_turns": len(recorded),
        "re_decided_differently_from_the_run": mismatch,
        "readers": {r: fit_reader(turns, r, thresholds[r]) for r in READERS},
    }
    for name, found in report["readers"].items():
        print(f"== reader {name}, threshold {found['threshold']}: map {found['map']}")
        for key in ("auc", "rates", "ece_before", "ece_in_sample", "fit_on_the_other_set",
                    f"{K}_fold_by_conversation"):  # fmt: skip
            print(f"  {key:28} {found[key]}")
        print("  threshold  " + "  ".join(f"{d} answered/declined" for d in found["rates"]))
        for t, row in found["grid"].items():
            cells = "  ".join(f"{v['answered']:.3f} / {v['declined']:.3f}" for v in row.values())
            print(f"  {t:>9}  {cells}")
    print(f"re-decided differently from the recorded run: {mismatch} of {len(recorded)}")
    if args.blends:
        report["blends"] = blends(turns)
        for w, row in report["blends"]["best_threshold_per_weight"].items():
            print(f"blend weight {w} (model): {row}")
        for d, row in report["blends"]["chosen_on_one_set"].items():
            print(f"blend chosen on {d} alone: {row}")
    if args.write:
        model = report["readers"]["model"]
        manifest["reply_calibration"] = {
            **model["map"],
            "fitted_on": sorted(report["turns"]),
            "command": "python bench/calibration_fit.py fit " + " ".join(
                p.name for p in args.turns) + " --write",
            "ece": {k: model[k] for k in ("ece_in_sample", "fit_on_the_other_set",
                                          f"{K}_fold_by_conversation")},
        }  # fmt: skip
        MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        print(f"wrote reply_calibration to {MANIFEST}")
    print(json.dumps(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--data-dir", type=Path, required=True)
    c.add_argument("--tenant", required=True)
    c.add_argument("--questions", type=Path, required=True)
    c.add_argument("--dataset", required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--limit", type=int, default=0)
    f = sub.add_parser("fit")
    f.add_argument("turns", type=Path, nargs="+")
    f.add_argument("--write", action="store_true")
    f.add_argument("--blends", action="store_true", help="also the two-reader blends")
    args = parser.parse_args()
    collect(args) if args.command == "collect" else fit_command(args)


if __name__ == "__main__":
    main()
