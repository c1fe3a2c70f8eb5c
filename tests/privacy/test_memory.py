"""Freed memory does not reach files: new heap blocks start zeroed (glibc M_PERTURB), and
every SQLite connection of the product overwrites deleted content and zeroes new pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# In a fresh interpreter: keep big blocks on the heap (as a long-running process ends up
# doing, when glibc's dynamic mmap threshold has grown), write a canary into a block, free
# it, allocate the same size again and look for the canary in the new block.
PROBE = """
import ctypes, sys
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallopt(-3, 64 * 1024 * 1024)  # M_MMAP_THRESHOLD: no mmap for these blocks
if sys.argv[1] == "zeroed":
    from privacy.memory import zero_new_allocations
    assert zero_new_allocations()
size = 200_000
canary = b"Zebulon Quillfeather 415-555-0199 " * 100
first = libc.malloc(size)
ctypes.memmove(first + 4096, canary, len(canary))
libc.free(first)
second = libc.malloc(size)
print(ctypes.string_at(second, size).count(b"Zebulon"))
"""


def _canaries_left(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=120, check=True)  # fmt: skip
    return int(done.stdout.strip())


def test_a_new_block_holds_no_text_a_freed_one_had() -> None:
    assert _canaries_left("default") > 0  # what glibc does unasked: the old text is there
    assert _canaries_left("zeroed") == 0


def test_sqlite_connections_overwrite_deleted_content(tmp_path: Path) -> None:
    from control.db import make_engine
    from knowledge.store import KnowledgeStore
    from knowledge.vector_chroma import ChromaVectorStore

    engine = make_engine(f"sqlite:///{tmp_path / 'control.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()
    store = KnowledgeStore(tmp_path / "knowledge.db", ChromaVectorStore(tmp_path / "chroma"))
    try:
        assert store._db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    finally:
        store.close()
