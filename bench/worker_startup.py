"""How long the parse worker takes to become ready, measured in one run against the same
worker that lets spaCy import presidio (what it did before `_skip_presidio_in_spacy`).

    .venv/bin/python bench/worker_startup.py [--rounds 3]

Every `clearline ingest`, and every server's first upload, waits for this start-up before
its first file is parsed. Each round starts a fresh worker process of each kind, in the
order before, now, now, before (so a drift of the shared machine falls on both alike), waits
until it has parsed its warm-up page, and closes it. It prints each time, then the medians
and the ratio. Last line: `now_vs_before_ready_ratio=<ratio>`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from service.offline import go_offline  # noqa: E402

go_offline()  # before any library reads its settings at import

from ingest import worker  # noqa: E402

MEMORY_MB = 2048


def _init_before(memory_mb: int, parent_pid: int) -> None:
    """The worker's initializer with presidio's spaCy entry point left in place."""
    worker._skip_presidio_in_spacy = lambda: None
    worker._init_worker(memory_mb, parent_pid)


def _presidio_loaded() -> bool:
    return "presidio_analyzer" in sys.modules


def ready_seconds(kind: str) -> tuple[float, bool]:
    """Seconds until a fresh worker of `kind` has run its initializer, and whether presidio
    was imported in it."""
    initializer = worker._init_worker if kind == "now" else _init_before
    started = time.perf_counter()
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=(MEMORY_MB, os.getpid()),
    )
    try:
        presidio = pool.submit(_presidio_loaded).result(timeout=300)
        return time.perf_counter() - started, presidio
    finally:
        pool.shutdown(wait=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"before": [], "now": []}
    for round_ in range(args.rounds):
        for kind in ("before", "now", "now", "before"):
            seconds, presidio = ready_seconds(kind)
            times[kind].append(seconds)
            print(f"round {round_ + 1} {kind:6} ready {seconds:6.2f} s, presidio: {presidio}")
    before, now = statistics.median(times["before"]), statistics.median(times["now"])
    print(f"median ready: before {before:.2f} s, now {now:.2f} s")
    print(f"now_vs_before_ready_ratio={now / before:.3f}")


if __name__ == "__main__":
    main()
