"""SIGKILL trials: `clearline privacy redact` killed at random points leaves consistent data,
and running the same command again finishes the redaction (no byte of the value left).

Each trial copies one prepared data directory (knowledge with the value in many chunks,
conversations quoting it), starts the redaction, kills it with SIGKILL after a random part
of a full run's duration, and checks what the next process sees: SQLite files intact, the
knowledge registry, chunks, keyword index and vectors in agreement, and every rewrite
all-or-nothing. Then the same command runs to completion.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore
from tests.privacy.canary import clearline, occurrences

VALUE = "Zebulon Quillfeather"
DOCS = 30
TRIALS = 4


def _corpus(path: Path) -> None:
    lines = []
    for i in range(DOCS):
        paragraphs = [
            f"Policy {i} paragraph {p}: customers may return item type {i} within {p + 10} days; "
            f"questions about order {i * 100 + p} go to {VALUE} at the returns desk."
            for p in range(8)
        ]
        lines.append(json.dumps({"id": f"policy-{i}", "title": f"Policy {i}",
                                 "text": "\n\n".join(paragraphs)}))  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def _prepare(tmp_path: Path) -> Path:
    from service.runtime import Runtime
    from service.settings import Settings

    data_dir = tmp_path / "pristine"
    corpus = tmp_path / "corpus.jsonl"
    _corpus(corpus)
    done = clearline("ingest", str(corpus), "--tenant", "acme", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    runtime = Runtime(Settings(data_dir=data_dir, embedder="torch"))
    try:
        for i in range(3):
            conversation = runtime.conversations.start("acme")
            runtime.conversations.post(
                "acme", conversation.id, f"I am {VALUE}; can I return item type {i}?"
            )
    finally:
        runtime.close()
    return data_dir


def _start(data_dir: Path) -> subprocess.Popen[str]:
    """The redaction, its error output in `<data dir>.log` (outside the scanned directory)."""
    env = {**os.environ, "CLEARLINE_DATA_DIR": str(data_dir), "CLEARLINE_EMBEDDER": "torch"}
    with data_dir.with_suffix(".log").open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", "privacy", "redact", "--tenant", "acme",
             "--value", VALUE, "--type", "PERSON", "--json"],
            stdout=subprocess.PIPE, stderr=log, text=True, env=env,
        )  # fmt: skip


def _count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        value: int = db.execute(sql, (f"%{VALUE}%",)).fetchone()[0]
    return value


def _check(data_dir: Path, chunks_total: int, messages_total: int) -> dict[str, Any]:
    """What the next process sees after a kill: consistent stores, all-or-nothing rewrites."""
    root = data_dir / "regions" / "eu"
    store = KnowledgeStore(root / "knowledge.db", ChromaVectorStore(root / "chroma"))
    try:
        store.recover()
        assert store.consistency_problems("acme") == []
    finally:
        store.close()
    chunks = _count(root / "knowledge.db", "SELECT COUNT(*) FROM chunks WHERE text LIKE ?")
    control = data_dir / "regions" / "eu" / "clearline.db"
    messages = _count(control, "SELECT COUNT(*) FROM messages WHERE text LIKE ?")
    assert chunks in (0, chunks_total) and messages in (0, messages_total)
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        running = [r[0] for r in db.execute(
            "SELECT id FROM privacy_operations WHERE status='running'")]  # fmt: skip
    return {"chunks": chunks, "messages": messages, "running": running}


@pytest.mark.slow
def test_sigkill_during_redaction_then_rerun_completes(tmp_path: Path, minilm: Any) -> None:
    pristine = _prepare(tmp_path)
    chunks_total = _count(pristine / "regions/eu/knowledge.db",
                          "SELECT COUNT(*) FROM chunks WHERE text LIKE ?")  # fmt: skip
    messages_total = _count(pristine / "regions" / "eu" / "clearline.db",
                            "SELECT COUNT(*) FROM messages WHERE text LIKE ?")  # fmt: skip
    assert chunks_total >= DOCS and messages_total >= 3  # the questions (and replies quoting)

    timed = tmp_path / "timed"
    shutil.copytree(pristine, timed)
    started = time.monotonic()
    full = _start(timed)
    full.communicate(timeout=900)
    assert full.returncode == 0
    duration = time.monotonic() - started

    operation_s = _operation_seconds(timed)
    rng = random.Random(int(os.environ.get("CLEARLINE_SIGKILL_SEED", time.time())))
    interrupted = 0
    for trial in range(TRIALS):
        data_dir = tmp_path / f"trial-{trial}"
        shutil.copytree(pristine, data_dir)
        process = _start(data_dir)
        if trial % 2 == 0:  # anywhere in the run, start-up included
            time.sleep(rng.uniform(0.3, 1.0) * duration)
        else:  # inside the redaction itself, once its intent row is written
            _wait_for_intent(data_dir, process)
            time.sleep(rng.uniform(0.05, 0.8) * operation_s)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        seen = _check(data_dir, chunks_total, messages_total)
        interrupted += bool(seen["running"])

        final = _start(data_dir)
        out, _ = final.communicate(timeout=900)
        assert final.returncode == 0, data_dir.with_suffix(".log").read_text()
        report = json.loads(out)
        assert set(seen["running"]) <= set(report["resumed"])
        after = _check(data_dir, chunks_total, messages_total)
        assert after == {"chunks": 0, "messages": 0, "running": []}
        assert occurrences(data_dir, (VALUE, "zebulo", "quillf")) == []
        _vectors_are_fresh(data_dir, minilm)
    assert interrupted >= 1, "no trial killed the redaction while it ran"


def _operation_seconds(data_dir: Path) -> float:
    """How long the redaction itself took (intent row written to closed)."""
    with sqlite3.connect(data_dir / "regions" / "eu" / "clearline.db") as db:
        started, ended = db.execute(
            "SELECT created_at, updated_at FROM privacy_operations WHERE kind='redact'"
        ).fetchone()
    return (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()


def _wait_for_intent(data_dir: Path, process: subprocess.Popen[str]) -> None:
    database = data_dir / "regions" / "eu" / "clearline.db"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(sqlite3.Error), sqlite3.connect(database, timeout=1) as db:
            if db.execute("SELECT 1 FROM privacy_operations WHERE status='running'").fetchone():
                return
        time.sleep(0.02)


def _vectors_are_fresh(data_dir: Path, embedder: Any) -> None:
    """A rewritten chunk is found by its new text with a similarity of 1: its vector was
    re-embedded, not left from the old text."""
    from ingest.pipeline import embedding_text

    root = data_dir / "regions" / "eu"
    store = KnowledgeStore(root / "knowledge.db", ChromaVectorStore(root / "chroma"))
    try:
        with sqlite3.connect(root / "knowledge.db") as db:
            assert db.execute("SELECT COUNT(*) FROM stale_vectors").fetchone()[0] == 0
        chunk = store.document_chunks("acme", "policy-7")[-1]
        assert "[PERSON]" in chunk.text
        vector = embedder.embed([embedding_text("Policy 7", chunk)])[0]
        best = store.vectors.query("acme", vector, 1)[0]
        assert best.chunk_id == chunk.chunk_id and best.score > 0.999
    finally:
        store.close()
