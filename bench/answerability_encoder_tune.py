"""How the answerability encoder's tuning was chosen: fine-tune a copy of the packaged MiniLM
(training/answerability/encoder.py, as training does) with the dev AUC every 100 steps, and
measure what the pipeline would decide with it against the untuned encoder, in one run.

    .venv/bin/python -m training.answerability --work W     # once: caches W/examples-*.pickle
    .venv/bin/python bench/calibration_fit.py collect ...   # the two dev turn files
    .venv/bin/python bench/answerability_encoder_tune.py --work W \
        --turns turns-conditionalqa_dev.jsonl turns-mtrag_dev.jsonl [--epochs 1] [--seed 0]

1. Tune as training.answerability.encoder does (its docstring). Dev ROC AUC of the raw
   cosine (max over the top two passages) is printed every 100 steps.
2. Simulate the pipeline, once with the untuned and once with the tuned encoder (fp32): the
   four-scalar logistic head on ConditionalQA train, max over the top two passages, Platt on
   both dev sets weighted equally, then the blend with the train-fitted feature reader
   chosen on the `calibration_blend` grid from the collected turns.

Each run takes about 21 min of tuning and 4 min per simulation on two cores. Last line:
JSON. The dev passages here are the training script's retrieval, not the agent's; the
simulation's untuned row is the baseline to compare against, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # noqa: E402
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # noqa: E402

from agent.answer.answerability import pair_features, question_text  # noqa: E402
from bench.calibration_blend import BLEND_WEIGHTS, WEIGHTS, add_readers, choose  # noqa: E402
from knowledge.query import Query  # noqa: E402
from training.answerability import reply_calibration as rc  # noqa: E402
from training.answerability.data import DevTurn, Pair  # noqa: E402
from training.answerability.encoder import (  # noqa: E402
    LEARNING_RATE,
    QUESTION_TOKENS,
    THREADS,
    WINDOW_TOKENS,
    Encoder,
    pair_texts,
    reader_texts,
    tune,
)

SETS = ("conditionalqa_dev", "mtrag_dev")


def dev_auc(
    encoder: Encoder, dev: Sequence[tuple[DevTurn, list[tuple[str, str]]]]
) -> dict[str, float]:
    """ROC AUC per dev set of the raw cosine, max over the top two passages."""
    found: dict[str, tuple[list[int], list[float]]] = {s: ([], []) for s in SETS}
    with torch.no_grad():
        for turn, pairs in dev:
            q = encoder.embed([a for a, _ in pairs], QUESTION_TOKENS)
            p = encoder.embed([w for _, w in pairs], WINDOW_TOKENS)
            found[turn.dataset][0].append(int(turn.label or 0))
            found[turn.dataset][1].append(float((q * p).sum(-1).max()))
    return {s: round(float(roc_auc_score(*found[s])), 4) for s in SETS}


def scalar_rows(encoder: Encoder, cache: dict[str, np.ndarray], query: Query,
                windows: Sequence[str]) -> np.ndarray:  # fmt: skip
    """The head's four scalars (two cosines, two word overlaps) for each window."""
    asked = question_text(query)
    wanted = [t for t in {asked, query.text, *windows} if t not in cache]
    if wanted:
        with torch.no_grad():
            vectors = encoder.embed(wanted, 256).numpy().astype(np.float64)
        cache.update(zip(wanted, vectors, strict=True))
    return np.stack(
        [pair_features(cache[asked], cache[query.text], cache[w], query, w)[-4:] for w in windows]
    )


def simulate(encoder: Encoder, pairs: Sequence[Pair], dev: Sequence[DevTurn],
             turns: list[rc.Turn], tag: str) -> dict[str, Any]:  # fmt: skip
    """The shipped pipeline with this encoder: head, Platt, blend chosen on both dev sets."""
    cache: dict[str, np.ndarray] = {}
    x = np.concatenate(
        [scalar_rows(encoder, cache, p.query, [pair_texts(encoder, p)[1]]) for p in pairs]
    )
    mean, scale = x.mean(0), x.std(0)
    head = LogisticRegression(C=1.0, max_iter=2000).fit(
        (x - mean) / scale, [p.label for p in pairs]
    )
    logit = {}
    for turn in dev:
        windows = [reader_texts(encoder, turn.query, s.title, s.text)[1] for s in turn.passages[:2]]
        rows = (scalar_rows(encoder, cache, turn.query, windows) - mean) / scale
        logit[turn.question_id] = float(head.decision_function(rows).max())
    scored = [t for t in turns if t.knowledge and t.id in logit and t.answerable is not None]
    weights = [0.5 / sum(1 for u in scored if u.dataset == t.dataset) for t in scored]
    platt = LogisticRegression(C=1e6).fit(
        [[logit[t.id]] for t in scored], [int(bool(t.answerable)) for t in scored],
        sample_weight=weights,
    )  # fmt: skip
    for t in scored:
        p = float(platt.predict_proba([[logit[t.id]]])[0, 1])
        for w in BLEND_WEIGHTS:
            mixed = w * rc.logit(p) + (1 - w) * rc.logit(t.p["train_features"])
            t.p[f"{tag}{w}"] = rc.sigmoid(mixed)
    aucs = {
        s: round(float(roc_auc_score([int(bool(t.answerable)) for t in scored if t.dataset == s],
                                     [logit[t.id] for t in scored if t.dataset == s])), 4)
        for s in SETS
    }  # fmt: skip
    reader, threshold = choose(turns, [f"{tag}{w}" for w in BLEND_WEIGHTS])
    return {"head_auc": aucs, "blend_weight": float(reader[len(tag):]), "threshold": threshold,
            "rates": rc.rates(turns, reader, threshold)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="training's work folder")
    parser.add_argument("--turns", type=Path, nargs=2, required=True)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=LEARNING_RATE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    caches = sorted(args.work.glob("examples-*.pickle"), key=lambda p: p.stat().st_mtime)
    if not caches:
        raise SystemExit(f"no examples-*.pickle in {args.work}: run training.answerability first")
    with caches[-1].open("rb") as handle:
        pairs, dev = pickle.load(handle)
    dev = [d for d in dev if d.label is not None]
    turns = rc.load_turns(args.turns)
    add_readers(turns, json.loads(WEIGHTS.read_text(encoding="utf-8"))["weights"])
    encoder = Encoder()
    report: dict[str, Any] = {"examples": caches[-1].name, "epochs": args.epochs, "lr": args.lr,
                              "seed": args.seed}  # fmt: skip
    report["untuned"] = simulate(encoder, pairs, dev, turns, "untuned")
    print("untuned", report["untuned"], flush=True)
    train = [pair_texts(encoder, p) for p in pairs]
    dev_texts = [
        (d, [reader_texts(encoder, d.query, s.title, s.text) for s in d.passages[:2]]) for d in dev
    ]
    history = [{"step": 0, "dev_auc": dev_auc(encoder, dev_texts)}]
    print(history[-1], flush=True)

    def record(step: int) -> None:
        history.append({"step": step, "dev_auc": dev_auc(encoder, dev_texts)})
        print(history[-1], flush=True)

    report["tuning"] = tune(encoder, train, args.epochs, args.seed, args.lr, 100, record)
    report["history"] = history
    report["tuned"] = simulate(encoder, pairs, dev, turns, "tuned")
    print("tuned", report["tuned"], flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
