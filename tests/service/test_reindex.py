"""A damaged vector index, and `clearline reindex`, which rebuilds it from the knowledge
database (knowledge/reindex.py).

Before, a region whose Chroma files no longer opened (a failed copy, a disk fault) stopped
every question with a Chroma traceback in the CLI and 500 "internal error" over HTTP, and
nothing rebuilt it, although every vector is derived from knowledge.db. Now both name the
index and the command; the command re-embeds every visible chunk into a new index, whose
vectors equal the ones ingestion wrote, and removes the old files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.errors import DAMAGED
from tests.conftest import DATA, LiveServer
from tests.service.helpers import auth

FILES = [DATA / "valid" / "contact.txt", DATA / "valid" / "account-help.md"]
QUESTION = "When do you answer phone calls?"

# The tenants' stored vectors, read in a separate process (Chroma caches one client per
# folder in a process, so the test's own process never opens the index).
VECTORS = """
import json, sys
from pathlib import Path
from knowledge.vector_chroma import ChromaVectorStore
store = ChromaVectorStore(Path(sys.argv[1]))
store.warm_up()
out = {}
for tenant in sys.argv[2:]:
    found = store._collection(tenant).get(include=["embeddings"])
    out[tenant] = {i: [round(float(x), 6) for x in v]
                   for i, v in zip(found["ids"], found["embeddings"], strict=True)}
print(json.dumps(out))
"""


def clearline(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True,
        env={**os.environ, "CLEARLINE_DATA_DIR": str(data_dir)}, timeout=600,
    )  # fmt: skip


def _vectors(index: Path, *tenants: str) -> dict[str, dict[str, list[float]]]:
    done = subprocess.run(
        [sys.executable, "-c", VECTORS, str(index), *tenants], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, list[float]]] = json.loads(done.stdout)
    return found


def _rows(knowledge: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(knowledge)
    try:
        documents = db.execute("SELECT * FROM documents ORDER BY 1, 2").fetchall()
        return documents + db.execute("SELECT * FROM chunks ORDER BY 1").fetchall()
    finally:
        db.close()


def _damage(index: Path) -> bytes:
    (index / "chroma.sqlite3").write_bytes(b"\x00 not a database " * 400)
    return (index / "chroma.sqlite3").read_bytes()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tenants of one region, each with knowledge, made once by the CLI for the module."""
    data_dir = tmp_path_factory.mktemp("reindex") / "data"
    for tenant, path in (("acme", FILES[0]), ("globex", FILES[1])):
        made = clearline("tenant", "create", tenant, "--region", "eu", data_dir=data_dir)
        assert made.returncode == 0, made.stderr
        done = clearline("ingest", str(path), "--tenant", tenant, data_dir=data_dir)
        assert done.returncode == 0, done.stderr
    return data_dir


@pytest.fixture
def data_dir(ingested: Path, tmp_path: Path) -> Path:
    """A copy of `ingested` of this test's own, which it may damage."""
    return Path(shutil.copytree(ingested, tmp_path / "data"))


def test_reindex_rebuilds_a_damaged_index_with_the_vectors_ingestion_wrote(data_dir: Path) -> None:
    index = data_dir / "regions" / "eu" / "chroma"
    before = _vectors(index, "acme", "globex")
    assert before["acme"] and before["globex"]
    knowledge = _rows(data_dir / "regions" / "eu" / "knowledge.db")
    damaged = _damage(index)

    asked = clearline("ask", QUESTION, "--tenant", "acme", data_dir=data_dir)
    assert asked.returncode == 1
    assert asked.stderr.splitlines()[-1] == (  # after the first use's secrets-key line
        f"error: the vector index {index} is unusable (file is not a database); stop "
        "Clearline and run `clearline reindex` to rebuild it from the knowledge database "
        "(nothing else is lost)"
    )
    assert (index / "chroma.sqlite3").read_bytes() == damaged

    rebuilt = clearline("--json", "reindex", data_dir=data_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads(rebuilt.stdout)["regions"]["eu"]
    assert report["tenants"] == 2 and report["documents"] == 2
    assert report["chunks"] == len(before["acme"]) + len(before["globex"])
    assert "reindex eu" in rebuilt.stderr  # progress
    after = _vectors(index, "acme", "globex")
    assert after == before  # the same vectors, each tenant its own
    assert not (index.parent / "chroma.replaced").exists()  # the old files are gone
    assert _rows(data_dir / "regions" / "eu" / "knowledge.db") == knowledge  # only read

    asked = clearline("ask", QUESTION, "--tenant", "acme", data_dir=data_dir)
    assert asked.returncode == 0, asked.stderr
    assert "8 am to 6 pm" in asked.stdout


def test_an_interrupted_reindex_is_finished_by_the_next_one(data_dir: Path) -> None:
    """The old files wait in chroma.replaced until the new index is whole; a run that
    stopped half-way leaves both, and the next run starts the new index again."""
    region = data_dir / "regions" / "eu"
    before = _vectors(region / "chroma", "acme", "globex")
    _damage(region / "chroma")
    (region / "chroma").rename(region / "chroma.replaced")
    (region / "chroma").mkdir()
    (region / "chroma" / "half-built").write_bytes(b"an index that was never finished")

    rebuilt = clearline("reindex", "--region", "eu", data_dir=data_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("region eu: ")
    assert not (region / "chroma.replaced").exists()
    assert not (region / "chroma" / "half-built").exists()
    assert _vectors(region / "chroma", "acme", "globex") == before


def test_a_missing_index_beside_knowledge_is_refused_not_started_empty(data_dir: Path) -> None:
    """A backup restored without its chroma folder: Chroma would start an empty index, and
    every answer would come from keyword search alone, with nothing said."""
    index = data_dir / "regions" / "eu" / "chroma"
    before = _vectors(index, "acme", "globex")
    chunks = len(before["acme"]) + len(before["globex"])
    shutil.rmtree(index)

    asked = clearline("ask", QUESTION, "--tenant", "acme", data_dir=data_dir)
    assert asked.returncode == 1
    assert asked.stderr.splitlines()[-1] == (
        f"error: the vector index {index} is unusable (it is missing, and knowledge.db beside "
        f"it holds {chunks} chunks); stop Clearline and run `clearline reindex` to rebuild it "
        "from the knowledge database (nothing else is lost)"
    )
    assert not index.exists()

    rebuilt = clearline("reindex", data_dir=data_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _vectors(index, "acme", "globex") == before


def test_an_older_index_restored_beside_newer_knowledge_gets_the_missing_vectors(
    data_dir: Path,
) -> None:
    """An index that opens but lacks vectors (an older backup of the chroma folder, or a
    batch lost in a crash): before, its chunks were found by keyword search alone, with
    nothing said. Now the first use embeds the missing chunks, with a log line."""
    index = data_dir / "regions" / "eu" / "chroma"
    older = data_dir.parent / "chroma-backup"
    shutil.copytree(index, older)
    added = clearline("ingest", str(DATA / "valid" / "warranty.html"), "--tenant", "acme",
                      data_dir=data_dir)  # fmt: skip
    assert added.returncode == 0, added.stderr
    written = _vectors(index, "acme", "globex")
    shutil.rmtree(index)
    shutil.copytree(older, index)  # the backup, without the warranty's vectors
    lacking = len(written["acme"]) - len(_vectors(index, "acme")["acme"])
    assert lacking > 0

    asked = clearline("ask", "How long is the warranty?", "--tenant", "acme", data_dir=data_dir)
    assert asked.returncode == 0, asked.stderr
    assert (
        f"the vector index {index} lacked {lacking} of the {len(written['acme'])} vectors of "
        "tenant acme (an older backup of it, or a crash); they were made again from "
        "knowledge.db"
    ) in asked.stderr
    assert _vectors(index, "acme", "globex") == written  # the vectors ingestion wrote
    again = clearline("ask", "How long is the warranty?", "--tenant", "acme", data_dir=data_dir)
    assert again.returncode == 0 and "lacked" not in again.stderr


def _raw(index: Path, tenant: str) -> bytes:
    """One stored vector of `tenant` as the float32 bytes the index files hold."""
    script = VECTORS.replace("[round(float(x), 6) for x in v]", "[float(x) for x in v]")
    vectors = json.loads(subprocess.run(
        [sys.executable, "-c", script, str(index), tenant], capture_output=True, text=True,
        timeout=300, check=True,
    ).stdout)[tenant]  # fmt: skip
    return struct.pack(f"<{len(first := next(iter(vectors.values())))}f", *first)


def _anywhere(index: Path, raw: bytes) -> list[Path]:
    return [p for p in index.rglob("*") if p.is_file() and raw in p.read_bytes()]


def test_a_deleted_sources_vectors_brought_back_by_an_index_backup_are_removed(
    data_dir: Path,
) -> None:
    """A backup of the index restored after a source was deleted brought the source's
    vectors back, unseen: retrieval skipped them, and no delete could reach them, as
    knowledge.db names no such source. Now the first use removes them, with a log line, and
    no byte of them stays in the index folder."""
    index = data_dir / "regions" / "eu" / "chroma"
    older = data_dir.parent / "chroma-backup"
    shutil.copytree(index, older)
    written = _vectors(index, "acme", "globex")
    raw = _raw(index, "globex")
    deleted = clearline("delete-source", "account-help.md", "--tenant", "globex",
                        data_dir=data_dir)  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    shutil.rmtree(index)
    shutil.copytree(older, index)  # the backup, with the deleted source's vectors
    assert _vectors(index, "globex") == {"globex": written["globex"]} and _anywhere(index, raw)

    asked = clearline("ask", QUESTION, "--tenant", "acme", data_dir=data_dir)
    assert asked.returncode == 0, asked.stderr
    assert (
        f"the vector index {index} held {len(written['globex'])} vectors of tenant globex that "
        "knowledge.db has no chunk for (a backup of the index restored after sources were "
        "deleted, or an older knowledge.db); they were removed"
    ) in asked.stderr
    assert _anywhere(index, raw) == []
    assert _vectors(index, "acme", "globex") == {"acme": written["acme"], "globex": {}}
    again = clearline("ask", QUESTION, "--tenant", "acme", data_dir=data_dir)
    assert again.returncode == 0 and "held" not in again.stderr


def test_reindex_of_a_region_without_knowledge_is_refused(data_dir: Path) -> None:
    index = data_dir / "regions" / "eu" / "chroma"
    files = sorted(p.relative_to(index) for p in index.rglob("*"))
    refused = clearline("reindex", "--region", "mars", data_dir=data_dir)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"error: region 'mars' has no knowledge in {data_dir} (regions with knowledge: eu); "
        "nothing was changed\n"
    )
    assert sorted(p.relative_to(index) for p in index.rglob("*")) == files


def test_a_damaged_index_under_the_server_gives_503_and_the_log_says_how_to_repair_it(
    data_dir: Path, make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    index = data_dir / "regions" / "eu" / "chroma"
    _damage(index)
    with caplog.at_level(logging.ERROR), LiveServer(make_settings(data_dir=data_dir)) as live:
        user = live.runtime.tenants.create_key("acme", "end_user")
        started = httpx.post(f"{live.url}/v1/conversations", headers=auth(user), json={}).json()
        asked = httpx.post(
            f"{live.url}/v1/conversations/{started['conversation_id']}/messages",
            headers={**auth(user), "X-Conversation-Token": started["conversation_token"]},
            json={"text": QUESTION}, timeout=60,
        )  # fmt: skip
    assert asked.status_code == 503, asked.text
    assert asked.json()["error"] == {"code": "damaged_index", "message": DAMAGED}
    assert str(data_dir) not in asked.text
    assert any(
        f"the vector index {index} is unusable" in r.getMessage()
        and "run `clearline reindex`" in r.getMessage()
        for r in caplog.records
    )


def test_reindex_of_a_data_directory_without_knowledge_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "nothing-here"
    done = clearline("reindex", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"no knowledge in {data_dir} yet; nothing to rebuild\n"
    assert not data_dir.exists()
