"""SIGKILL trials: `clearline privacy erase` killed at random points leaves consistent data,
and running the same command again finishes the erasure (no byte of the end user's data
left, and exactly one audit entry counting what was removed).

Each trial copies one prepared data directory (one end user's many conversations among
other end users'), starts the erasure, waits until its intent row exists, kills it with
SIGKILL after a random part of the rest of a full run's duration (every other trial: of the
time until the removal committed), and checks what the next
process sees: the database intact, the end user's rows all there or all gone, no row
pointing at a removed one, audit entries rewritten all or nothing. Then the same command
runs to completion.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from knowledge.testing import HashEmbedder
from service.runtime import Runtime
from service.settings import Settings
from tests.privacy.canary import occurrences
from tests.privacy.conversation_rows import (
    add_conversation,
    assert_consistent,
    control_db,
    count,
)

logger = logging.getLogger(__name__)

END_USER = "cust-sigkill-4711"
VALUE = "Zebulon Quillfeather"
MINE = 150
OTHERS = 300
TRIALS = 4
ANY_STEP = ("started", "removed", "finished")


def _prepare(tmp_path: Path) -> Path:
    data_dir = tmp_path / "pristine"
    sessions = control_db(data_dir)
    padding = " ".join(f"word{i}" for i in range(150))
    for i in range(MINE):
        add_conversation(
            sessions,
            end_user_id=END_USER,
            turns=2,
            labels=("late",),
            question=f"I am {VALUE}, order {i}: where is it? {padding}",
        )
    for i in range(OTHERS):
        add_conversation(
            sessions,
            end_user_id=f"cust-{i}",
            turns=2,
            question=f"Order {i}: can I return it? {padding}",
        )
    sessions.kw["bind"].dispose()
    # Written in one database, as before regions had their own: the first start moves the
    # rows into the region's database (control/regional_legacy.py).
    Runtime(Settings(data_dir=data_dir), embedder=HashEmbedder()).close()
    assert count(data_dir / "clearline.db", "SELECT COUNT(*) FROM conversations") == 0
    assert count(_control(data_dir), "SELECT COUNT(*) FROM conversations") == MINE + OTHERS
    return data_dir


def _control(data_dir: Path) -> Path:
    return data_dir / "regions" / "eu" / "clearline.db"


def _start(data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CLEARLINE_DATA_DIR": str(data_dir), "CLEARLINE_EMBEDDER": "torch"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "privacy",
            "erase",
            "--tenant",
            "acme",
            "--end-user",
            END_USER,
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _wait_step(data_dir: Path, process: subprocess.Popen[str], steps: tuple[str, ...]) -> float:
    """Block until the erasure's intent row is at one of `steps` (or the process ended);
    returns when."""
    marks = ", ".join("?" * len(steps))
    while process.poll() is None:
        try:
            uri = f"file:{_control(data_dir)}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as db:
                sql = f"SELECT COUNT(*) FROM privacy_operations WHERE step IN ({marks})"
                if db.execute(sql, steps).fetchone()[0]:
                    break
        except sqlite3.OperationalError:
            pass  # no such table yet, or locked for a moment
        time.sleep(0.005)
    return time.monotonic()


def _check(data_dir: Path) -> dict[str, Any]:
    """What the next process sees after a kill: an intact, consistent database."""
    assert_consistent(_control(data_dir))
    with sqlite3.connect(_control(data_dir)) as db:
        mine = db.execute(
            "SELECT COUNT(*) FROM conversations WHERE end_user_id = ?", (END_USER,)
        ).fetchone()[0]
        messages = db.execute(
            "SELECT COUNT(*) FROM messages WHERE text LIKE ?", (f"%{VALUE}%",)
        ).fetchone()[0]
        erased_audit = db.execute(
            "SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%[erased]%'"
        ).fetchone()[0]
        others = db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] - mine
        running = [
            r[0] for r in db.execute("SELECT id FROM privacy_operations WHERE status = 'running'")
        ]
    assert (mine, messages, erased_audit) in ((MINE, 4 * MINE, 0), (0, 0, 3 * MINE))
    assert others == OTHERS
    return {"mine": mine, "running": running}


def _erasures(data_dir: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(_control(data_dir)) as db:
        rows = db.execute(
            "SELECT detail FROM audit_log WHERE action LIKE 'privacy.erase%'"
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


@pytest.mark.slow
def test_sigkill_during_erasure_then_rerun_completes(tmp_path: Path) -> None:
    pristine = _prepare(tmp_path)
    assert _check(pristine)["mine"] == MINE

    timed = tmp_path / "timed"
    shutil.copytree(pristine, timed)
    full = _start(timed)
    began = _wait_step(timed, full, ANY_STEP)
    removed_at = _wait_step(timed, full, ("removed", "finished"))
    out, _ = full.communicate(timeout=900)
    assert full.returncode == 0, out
    # Half the kills fall before the removal is seen committed, half anywhere in the run.
    windows = (removed_at - began, time.monotonic() - began)
    assert json.loads(out)["counts"]["conversations"] == MINE

    rng = random.Random(int(os.environ.get("CLEARLINE_SIGKILL_SEED", time.time())))
    outcomes = []
    for trial in range(TRIALS):
        data_dir = tmp_path / f"trial-{trial}"
        shutil.copytree(pristine, data_dir)
        process = _start(data_dir)
        _wait_step(data_dir, process, ANY_STEP)
        time.sleep(rng.uniform(0.0, 1.1) * windows[trial % 2])
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        seen = _check(data_dir)
        outcomes.append(seen["mine"])

        final = _start(data_dir)
        out, _ = final.communicate(timeout=900)
        assert final.returncode == 0, out
        report = json.loads(out)
        assert set(seen["running"]) <= set(report["resumed"])
        assert _check(data_dir) == {"mine": 0, "running": []}
        assert occurrences(data_dir, (VALUE, END_USER)) == []
        removed = [e["counts"].get("conversations", 0) for e in _erasures(data_dir)]
        assert sum(removed) == MINE and removed.count(MINE) == 1, removed
    logger.info("end user's conversations left after each kill: %s", outcomes)
