"""A separate process that parses sources within a time and memory budget.

Parsing untrusted files is the riskiest step: a crafted PDF can spin for minutes, an odd
DOCX can balloon in memory. The worker process caps its address space (RLIMIT_AS) and
interrupts itself with SIGALRM; if it still dies or hangs, the parent kills it, reports that
file as failed, and starts a fresh worker for the rest.

If the parent itself dies (SIGKILL, a crash, the OOM killer), nothing would tell the worker:
it holds both ends of its own call queue, so it never reads end-of-file, and it keeps
multiprocessing's resource tracker alive by holding the tracker's pipe. So the worker watches
its parent and exits when the parent is gone (see `_exit_with_parent`); the tracker then
reads end-of-file and exits too.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib.metadata import EntryPoints
from types import FrameType

from ingest.errors import BudgetExceeded, IngestError
from ingest.ids import printable
from ingest.parse import ParsedElement, parse
from ingest.sources import Source

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    seconds: float = 120.0
    memory_mb: int = 2048


class _Timeout(BaseException):
    """BaseException, so that no parser's `except Exception` can swallow it."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


_cap_bytes = 0  # the address-space cap of this worker process, set by _init_worker


def _peak_address_space() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    return 0


_PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent_pid: int) -> None:
    """Exit this process, at once, when `parent_pid` is no longer its parent.

    An orphan is re-parented (to PID 1 or a subreaper), so a changed os.getppid() means the
    parent died, even if it died before this was called. A daemon thread polls (twice a
    second, negligible) rather than prctl(PR_SET_PDEATHSIG): that signal fires when the
    *thread* that started the worker exits, so a worker started from a thread that ends
    before the pool (possible in the server, which ingests on job threads) would be killed
    under a healthy parent; polling also works on every platform. os._exit, because the
    worker has nothing to flush and a normal exit would wait for its blocked main thread.
    """

    def watch() -> None:
        # The parse budget's SIGALRM must interrupt the main thread, not this one.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _skip_teardown_at_exit() -> None:
    """End this process, once the pool has shut it down, without the interpreter's teardown.

    Freeing the parsers' modules (torch, spaCy, unstructured) one object at a time took
    1.2-1.4 s, and every `clearline ingest` waited for it before exiting. Registered before
    those libraries are imported, so their own exit handlers (run last registered, first)
    still run before this one (temporary folders' finalizers among them); only module
    teardown is skipped. The pool has already received every result; stdio is flushed here.
    """

    def exit_now() -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)

    atexit.register(exit_now)


def _skip_presidio_in_spacy() -> None:
    """Keep spaCy from importing presidio in this process.

    presidio-analyzer (the redaction's PII detector, used by the parent) registers a spaCy
    factory as a package entry point, and spaCy loads every such entry point whenever it builds
    a pipeline: the sentence splitter unstructured loads here would import presidio and, with
    it, transformers' image and processing modules (about 4.6 s of the worker's start-up) for a
    component it never uses. `catalogue` reads the entry points it lists, so this process's
    list leaves presidio's out; spaCy loads the rest as before.
    """
    import catalogue

    listed = catalogue.AVAILABLE_ENTRY_POINTS  # grouped on Python 3.11, flat from 3.12
    kept = [
        entry
        for group in listed.groups
        for entry in listed.select(group=group)
        if not entry.value.startswith("presidio_analyzer")
    ]
    catalogue.AVAILABLE_ENTRY_POINTS = EntryPoints(kept)


def _init_worker(memory_mb: int, parent_pid: int) -> None:
    global _cap_bytes
    _exit_with_parent(parent_pid)  # first: the imports below take seconds
    _skip_teardown_at_exit()
    # One core for parsing, the other stays with the embedder: keep BLAS, OpenMP and torch
    # (imported by unstructured) single-threaded here, before they are imported.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    import torch

    # Import every parser once, before the memory cap, so the cap measures parsing only.
    import unstructured.partition.docx
    import unstructured.partition.html
    import unstructured.partition.md
    import unstructured.partition.pdf  # noqa: F401

    from ingest.parse import parse

    _skip_presidio_in_spacy()
    torch.set_num_threads(1)
    # Loads the sentence tokenizer now rather than during the first real file.
    parse("corpus-html", "warm-up", text="<p>Warm up the parser. It loads its models once.</p>")

    signal.signal(signal.SIGALRM, _alarm)
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[0])
    baseline = pages * resource.getpagesize()
    cap = baseline + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _cap_bytes = cap


def _ready() -> bool:
    return True


def _parse_in_worker(source: Source, budget: Budget) -> list[ParsedElement]:
    memory_error = BudgetExceeded(
        f"cannot ingest '{source.display}': parsing needed more than the "
        f"{budget.memory_mb} MB memory budget; split the file or raise CLEARLINE_PARSE_MEMORY_MB"
    )
    signal.setitimer(signal.ITIMER_REAL, budget.seconds)
    try:
        return parse(source.kind, source.display, source.path, source.text)
    except IngestError:
        # C parsers report a failed allocation in their own words ("unknown error"); if
        # this process came within 5% of its cap, the budget is the likely cause.
        if _cap_bytes and _peak_address_space() >= 0.95 * _cap_bytes:
            raise memory_error from None
        raise
    except _Timeout:
        raise BudgetExceeded(
            f"cannot ingest '{source.display}': parsing took longer than the "
            f"{budget.seconds:g} s budget; split the file or raise CLEARLINE_PARSE_TIMEOUT_S"
        ) from None
    except MemoryError:
        raise memory_error from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


class ParseWorker:
    """Parses sources in one child process, a few ahead of the consumer.

    >>> with ParseWorker(Budget()) as worker:
    ...     for source, result in worker.parse_all(sources): ...
    """

    def __init__(self, budget: Budget, window: int = 64) -> None:
        self._budget = budget
        self._window = window
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self._budget.memory_mb, os.getpid()),
            )
        return self._pool

    def start(self) -> None:
        """Start the worker process (its imports take seconds) without waiting for it."""
        self._start()

    def warm_up(self) -> None:
        """Start the worker and wait until it is ready to parse."""
        self._start().submit(_ready).result(timeout=self._budget.seconds + 60)

    def _kill(self) -> None:
        if self._pool is None:
            return
        for process in list(getattr(self._pool, "_processes", {}).values()):
            process.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def parse_all(
        self, sources: Iterable[Source], idle: Callable[[], None] | None = None
    ) -> Iterator[tuple[Source, list[ParsedElement] | IngestError]]:
        """Yield each source with its elements or its error, in the order given.

        `idle` is called whenever the next result is not ready yet, so the caller can use
        the wait (the pipeline embeds what it has instead of waiting for a full batch).
        """
        pending: deque[tuple[Source, Future[list[ParsedElement]]]] = deque()
        queue = iter(sources)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self._window:
                source = next(queue, None)
                if source is None:
                    exhausted = True
                    break
                pending.append(
                    (source, self._start().submit(_parse_in_worker, source, self._budget))
                )
            if not pending:
                return
            source, future = pending[0]
            if idle is not None and not future.done():
                idle()
            pending.popleft()
            try:
                # Everything submitted before this one is done, so it has been running for
                # at most the time we wait here: the budget plus start-up grace.
                yield source, future.result(timeout=self._budget.seconds + 60)
                continue
            except BudgetExceeded as error:
                # A worker that hit its memory cap or was interrupted is not trusted further.
                failure: IngestError = error
            except IngestError as error:
                yield source, error
                continue
            except (FutureTimeout, BrokenProcessPool) as error:
                shown = printable(source.display)  # a file name may hold a newline
                logger.warning("parse worker lost on %s (%s); restarting it", shown, error)
                failure = BudgetExceeded(
                    f"cannot ingest '{source.display}': the parser crashed, hung, or ran out "
                    f"of its {self._budget.memory_mb} MB memory budget; split the file or "
                    "raise CLEARLINE_PARSE_MEMORY_MB"
                )
            self._kill()
            yield source, failure
            retry = [s for s, _ in pending]
            pending.clear()
            for again in retry:
                pending.append((again, self._start().submit(_parse_in_worker, again, self._budget)))
