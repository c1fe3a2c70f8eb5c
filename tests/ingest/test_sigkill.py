"""SIGKILL trials: ingestion killed at random points never leaves a half document.

Each trial starts `clearline ingest` on a corpus (alternating between two versions of the
same documents, so every trial has replacements to do), kills it with SIGKILL after a random
delay, then reopens the store as the next process would and checks that the registry, the
chunk table, the keyword index and the vectors agree and that every visible document is
exactly one whole version. Finally the same command runs to completion.

Only the `clearline` process is killed, as a crash would. Its parse worker notices and exits
(ingest/worker.py; tests/ingest/test_worker_orphan.py checks that), and the resource tracker
with it; each command still runs in a session of its own, and whatever is left of the
session is killed after each trial, so a regression there cannot leak into the suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore

DOCS = 40
TRIALS = 5


def _corpus(path: Path, version: str) -> None:
    lines = []
    for i in range(DOCS):
        paragraphs = [
            f"Policy {i} version {version} paragraph {p}: customers may return item type {i} "
            f"within {p + 10} days when the receipt shows order number {i * 100 + p}."
            for p in range(6 + (i % 5) + (3 if version == "b" else 0))
        ]
        lines.append(
            json.dumps(
                {"id": f"policy-{i}", "title": f"Policy {i}", "text": "\n\n".join(paragraphs)}
            )
        )
    path.write_text("\n".join(lines) + "\n")


def _run(corpus: Path, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CLEARLINE_DATA_DIR": str(data_dir), "CLEARLINE_EMBED_BATCH": "8"}
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "ingest", str(corpus), "--tenant", "acme", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # its process group: the command and every child it starts
    )


def _kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL the command alone, then whatever is still running (the parse worker notices
    within half a second that the command is gone and exits by itself)."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):  # nothing was left
        os.killpg(process.pid, signal.SIGKILL)


def _check(data_dir: Path) -> int:
    root = data_dir / "regions" / "eu"
    if not (root / "knowledge.db").exists():
        return 0
    store = KnowledgeStore(root / "knowledge.db", ChromaVectorStore(root / "chroma"))
    try:
        store.recover()
        assert store.consistency_problems("acme") == []
        documents = store.list_documents("acme")
        for document in documents:
            chunks = store.document_chunks("acme", document.document_id)
            assert len(chunks) == document.chunk_count > 0
            assert {c.version for c in chunks} == {document.version}
            versions = {
                word for c in chunks for word in ("version a", "version b") if word in c.text
            }
            assert len(versions) == 1, f"{document.document_id} mixes {versions}"
        return len(documents)
    finally:
        store.close()


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_the_store_consistent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    corpora = {v: tmp_path / f"corpus-{v}.jsonl" for v in ("a", "b")}
    for version, path in corpora.items():
        _corpus(path, version)

    started = time.monotonic()
    full = _run(corpora["a"], data_dir)
    full.communicate(timeout=600)
    assert full.returncode == 0
    duration = time.monotonic() - started
    assert _check(data_dir) == DOCS

    rng = random.Random(int(os.environ.get("CLEARLINE_SIGKILL_SEED", time.time())))
    for trial in range(TRIALS):
        corpus = corpora["b" if trial % 2 == 0 else "a"]
        process = _run(corpus, data_dir)
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        _kill(process)
        _check(data_dir)

    final = _run(corpora["b"], data_dir)
    out, _ = final.communicate(timeout=600)
    assert final.returncode == 0
    statuses = {d["status"] for d in json.loads(out)["documents"]}
    assert statuses <= {"replaced", "unchanged", "ingested"}
    assert _check(data_dir) == DOCS
