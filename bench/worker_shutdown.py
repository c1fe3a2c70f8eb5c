"""How long closing the parse worker takes, measured in one run against the same worker
with the interpreter's full teardown at exit (what it did before `_skip_teardown_at_exit`).

    .venv/bin/python bench/worker_shutdown.py [--rounds 3]

`clearline ingest` closes its worker before it exits, and waits for it. Each round starts a
fresh worker of each kind, in the order before, now, now, before (so a drift of the shared
machine falls on both alike), waits until it is ready, then times `shutdown(wait=True)`.
It prints each time, then the medians and the ratio. Last line:
`now_vs_before_close_ratio=<ratio>`.
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
    """The worker's initializer with the interpreter's teardown left in place."""
    worker._skip_teardown_at_exit = lambda: None
    worker._init_worker(memory_mb, parent_pid)


def close_seconds(kind: str) -> float:
    """Seconds to shut down a fresh, ready worker of `kind`."""
    initializer = worker._init_worker if kind == "now" else _init_before
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=(MEMORY_MB, os.getpid()),
    )
    pool.submit(worker._ready).result(timeout=300)
    started = time.perf_counter()
    pool.shutdown(wait=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"before": [], "now": []}
    for round_ in range(args.rounds):
        for kind in ("before", "now", "now", "before"):
            seconds = close_seconds(kind)
            times[kind].append(seconds)
            print(f"round {round_ + 1} {kind:6} close {seconds:6.2f} s")
    before, now = statistics.median(times["before"]), statistics.median(times["now"])
    print(f"median close: before {before:.2f} s, now {now:.2f} s")
    print(f"now_vs_before_close_ratio={now / before:.3f}")


if __name__ == "__main__":
    main()
