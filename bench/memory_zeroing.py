"""What clearing every new heap block costs (privacy.memory, glibc's M_PERTURB), measured in
one run against the same work without it.

    .venv/bin/python bench/memory_zeroing.py [--documents 80] [--questions 60] [--rounds 2]

The server and the CLI call `zero_new_allocations()` at start, so every malloc'd block is
filled before use and every freed one after. This runs the same work in fresh child
processes, with and without that call at start, in the order plain, zeroed, zeroed, plain
for each round (so a drift of the shared machine falls on both alike):
- ingest the first `--documents` ConditionalQA documents into a fresh data directory (parse,
  chunk, embed, store; models warmed before timing, as in a server), then
- answer the first `--questions` ConditionalQA dev questions through the agent (retrieval,
  the answerability model, composing and verifying), one at a time, after one untimed
  question that loads the agent's models.
It prints each run, then the medians and the ratios zeroed / plain. Last line:
`zeroed_vs_plain_answer_p50_ratio=<ratio>`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

DATA = ROOT.parent / "shared" / "data" / "conditionalqa"
MODES = ("plain", "zeroed")


def child(mode: str, documents: int, questions: int) -> dict[str, Any]:
    """One run in this process: ingest, then answer; the timings as a dict."""
    if mode == "zeroed":
        from privacy.memory import zero_new_allocations

        if not zero_new_allocations():
            raise SystemExit("M_PERTURB could not be set here: nothing to measure")
    from agent.replies import ConversationState
    from evaluation.questions import load_questions
    from ingest.sources import expand
    from service.lock import DataDirLock
    from service.runtime import Runtime
    from service.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        lines = (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:documents]
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        settings = Settings(data_dir=Path(tmp) / "data")
        with DataDirLock(settings.data_dir, "bench/memory_zeroing.py"):
            runtime = Runtime(settings)
            try:
                runtime.embedder.warm_up()
                runtime.ensure_tenant("bench")
                with runtime.ingestor("bench") as ingestor:  # closes its parse worker
                    ingestor.warm_up()
                    started = time.perf_counter()
                    results = ingestor.run("bench", list(expand([corpus])))
                    ingest_s = time.perf_counter() - started
                tenant = runtime.agents.agent("bench")
                agent = runtime.evaluation_agent
                asked = load_questions(DATA / "questions.dev.jsonl")[: questions + 1]
                timings = []
                for q in asked:  # the first loads the agent's models: not timed
                    state = ConversationState(history=q.query.history, scenario=q.query.scenario)
                    started = time.perf_counter()
                    agent.respond(tenant, state, q.query.text)
                    timings.append(time.perf_counter() - started)
                del timings[0]
            finally:
                runtime.close()
    return {
        "mode": mode,
        "documents": len(results),
        "failed": sum(1 for r in results if r.status == "failed"),
        "ingest_s": round(ingest_s, 2),
        "answer_p50_ms": round(statistics.median(timings) * 1000, 1),
        "answer_mean_ms": round(statistics.fmean(timings) * 1000, 1),
    }


def run(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """One child process; its last stdout line is its result."""
    command = [sys.executable, __file__, "--child", mode, "--documents", str(args.documents),
               "--questions", str(args.questions)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"the {mode} run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=80)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.documents, args.questions)))
        return
    runs = [run(mode, args) for _ in range(args.rounds) for mode in (*MODES, *MODES[::-1])]
    for key in ("ingest_s", "answer_p50_ms"):
        plain, zeroed = _median(runs, "plain", key), _median(runs, "zeroed", key)
        print(f"{key}: median plain {plain}, zeroed {zeroed}, ratio {zeroed / plain:.3f}")
    ratio = _median(runs, "zeroed", "answer_p50_ms") / _median(runs, "plain", "answer_p50_ms")
    print(f"zeroed_vs_plain_answer_p50_ratio={ratio:.3f}")


def _median(runs: list[dict[str, Any]], mode: str, key: str) -> float:
    return round(float(statistics.median(r[key] for r in runs if r["mode"] == mode)), 2)


if __name__ == "__main__":
    main()
