"""A killed `clearline ingest` leaves no parse worker (nor resource tracker) behind.

The command is SIGKILLed, as a crash or an out-of-memory kill would end it: as soon as its
parse worker exists (the worker is still starting up), and once the first documents are done
(the worker has started and waits for work). The worker must notice that its parent is gone
and exit by itself; the multiprocessing resource tracker, whose pipe the worker held open,
must then exit too. Whatever the command started runs in a session of its own and is killed
in a `finally`, so a failing run does not leak processes into the rest of the suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import psutil
import pytest

DOCS = 300
DONE = re.compile(r"\b[1-9][0-9]*/[0-9]+ \[")  # tqdm: at least one document done


def _corpus(path: Path) -> None:
    lines = [
        json.dumps(
            {
                "id": f"faq-{i}",
                "title": f"Question {i}",
                "text": f"Orders of type {i} ship within {i + 2} days of payment.",
            }
        )
        for i in range(DOCS)
    ]
    path.write_text("\n".join(lines) + "\n")


def _role(process: psutil.Process) -> str | None:
    """'worker' for a spawned multiprocessing child, 'tracker' for the resource tracker."""
    with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        command = " ".join(process.cmdline())
        if "resource_tracker" in command:
            return "tracker"
        if "spawn_main" in command:
            return "worker"
    return None


def _wait_for_worker(command: psutil.Process, timeout: float) -> dict[str, psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found: dict[str, psutil.Process] = {}
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in command.children(recursive=True):
                role = _role(child)
                if role is not None:
                    found[role] = child
        if "worker" in found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"`clearline ingest` started no parse worker within {timeout:g} s")


def _wait_for_progress(stderr: IO[bytes], timeout: float) -> None:
    """Read the command's progress bar (in a thread, so the pipe never fills) until a
    document is done."""
    seen = bytearray()
    done = threading.Event()

    def read() -> None:
        while chunk := os.read(stderr.fileno(), 4096):
            seen.extend(chunk)
            if DONE.search(seen.decode(errors="replace")[-400:]):
                done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(timeout), f"no document done within {timeout:g} s: {seen[-400:]!r}"


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if _role(p) is not None]


@pytest.mark.slow
@pytest.mark.parametrize("when", ["worker-starting", "worker-ready"])
def test_a_killed_ingest_leaves_no_worker_behind(tmp_path: Path, when: str) -> None:
    corpus = tmp_path / "faq.jsonl"
    _corpus(corpus)
    env = {**os.environ, "CLEARLINE_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "ingest", str(corpus), "--tenant", "acme"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group, killed whole in `finally`
    )
    try:
        found = _wait_for_worker(psutil.Process(process.pid), timeout=120)
        assert set(found) == {"worker", "tracker"}, found  # the tracker starts first
        if when == "worker-ready":
            assert process.stderr is not None
            _wait_for_progress(process.stderr, timeout=180)
        assert process.poll() is None, "the command finished before it could be killed"
        process.send_signal(signal.SIGKILL)  # the command alone, as a crash would
        process.wait(timeout=30)

        left = list(found.values())
        # A worker killed while starting first finishes importing the command's main module
        # (multiprocessing's spawn does that before the initializer runs): allow for it.
        deadline = time.monotonic() + 20
        while _alive(left) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = {_role(p): p.pid for p in _alive(left)}
        assert survivors == {}, f"still running 20 s after the command was killed: {survivors}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
