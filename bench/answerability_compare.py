"""P(answerable) three ways on one dev set: the answerability model, the feature reader, and
retrieval similarity alone; the trade-off curve and ROC AUC of each, and the latency of a
whole turn with each reader, measured in the same run.

    .venv/bin/python bench/answerability_compare.py --data-dir D --tenant T --questions Q.jsonl

Every question is asked twice through the agent, once with `reader: model` and once with
`reader: features` (alternating which goes first, so both see the same machine load);
the other settings are the tenant's. "Retrieval similarity" is the cosine of the query
(with its context) and the best chunk of dense search. AUC: answerable against
unanswerable questions; questions labelled underspecified are left out of both (their
clarify rate is reported by `clearline eval answers`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]  # noqa: E402

from agent.answer.verify import Verifier  # noqa: E402
from agent.replies import ConversationState  # noqa: E402
from evaluation.answers import Outcome, summarise  # noqa: E402
from evaluation.questions import load_questions  # noqa: E402
from evaluation.retrieval import percentile  # noqa: E402
from knowledge.retrieve import Retriever  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
SCORES = ("answerability_model", "answerability_features", "retrieval_similarity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    runtime = Runtime(Settings(data_dir=args.data_dir))
    try:
        tenant = runtime.agents.agent(args.tenant)
        readers = {
            name: replace(tenant, config=tenant.config.merged({"reader": name}))
            for name in ("model", "features")
        }
        retriever = Retriever(runtime.store(args.tenant), runtime.embedder)
        agent = runtime.agent
        questions = load_questions(args.questions)[: args.limit or None]
        warm = ConversationState()
        for config in readers.values():
            agent.respond(config, warm, "warm up")
        outcomes: dict[str, list[Outcome]] = {name: [] for name in readers}
        rows: list[dict[str, float | int | None]] = []
        for number, question in enumerate(questions):
            state = ConversationState(
                history=question.query.history, scenario=question.query.scenario
            )
            order = list(readers) if number % 2 == 0 else list(reversed(readers))
            for name in order:
                started = time.perf_counter()
                reply = agent.respond(readers[name], state, question.query.text)
                elapsed = (time.perf_counter() - started) * 1000
                outcomes[name].append(Outcome(question, reply, elapsed))
            step = outcomes["model"][-1].reply.trace.ran("retrieve")
            scores = step.scores if step else {}
            dense = retriever.search(args.tenant, question.query, k=1, method="dense").chunks
            label = None if question.underspecified else int(question.answerable is not False)
            rows.append({
                "label": label,
                "answerability_model": scores.get("answerability_model"),
                "answerability_features": scores.get("answerability_features"),
                "retrieval_similarity": dense[0].score if dense else 0.0,
            })  # fmt: skip
        verifier = Verifier(runtime.embedder, tenant.config.thresholds.support)
        store = runtime.store(args.tenant)
        report = {
            "questions": len(questions),
            "auc": {name: _auc(rows, name) for name in SCORES},
            "tradeoff": {name: _tradeoff(rows, name) for name in SCORES},
            "readers": {},
        }
        for name, found in outcomes.items():
            summary = summarise(found, store, args.tenant, runtime.embedder, verifier)
            report["readers"][name] = {  # type: ignore[index]
                key: summary[key]
                for key in ("answered_rate", "declined_rate", "clarify_rate_underspecified",
                            "calibration", "latency_ms", "groundedness", "citation_validity")
            }  # fmt: skip
        p50 = {n: percentile([o.elapsed_ms for o in found], 0.5) for n, found in outcomes.items()}
        report["latency_p50_ratio_model_over_features"] = round(p50["model"] / p50["features"], 3)
    finally:
        runtime.close()
    print(json.dumps(report, indent=2))


def _labelled(
    rows: list[dict[str, float | int | None]], name: str
) -> tuple[list[int], list[float]]:
    kept = [r for r in rows if r["label"] is not None and r[name] is not None]
    return [int(r["label"] or 0) for r in kept], [float(r[name] or 0.0) for r in kept]


def _auc(rows: list[dict[str, float | int | None]], name: str) -> float | None:
    labels, values = _labelled(rows, name)
    if len(set(labels)) < 2:
        return None
    return round(float(roc_auc_score(labels, values)), 4)


def _tradeoff(rows: list[dict[str, float | int | None]], name: str) -> list[dict[str, float]]:
    """Answered / declined if each threshold decided on this score alone (a curve: where it
    crosses 0.8/0.8 matters, not the threshold's own value, which differs per score)."""
    labels, values = _labelled(rows, name)
    y, v = np.array(labels), np.array(values)
    grid = THRESHOLDS if name != "retrieval_similarity" else tuple(np.quantile(v, q) for q in (
        0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7))  # fmt: skip
    out = []
    for t in grid:
        out.append({
            "threshold": round(float(t), 3),
            "answered": round(float((v[y == 1] >= t).mean()), 3) if (y == 1).any() else 0.0,
            "declined": round(float((v[y == 0] < t).mean()), 3) if (y == 0).any() else 0.0,
        })  # fmt: skip
    return out


if __name__ == "__main__":
    main()
