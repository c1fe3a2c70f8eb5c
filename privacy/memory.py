"""New heap allocations start zeroed, so no file gets bytes the process freed earlier.

Native libraries write some buffers to disk whole, unused capacity included: Chroma's HNSW
index writes its element array (`data_level0.bin`) sized for the index's capacity, not its
contents. glibc's malloc hands out memory freed before without clearing it, so those files
could carry any text the process once held: a deleted source's sentence, a redacted name.
Seen in the test suite, where a rebuilt vector file held sentences deleted minutes earlier.

`zero_new_allocations()` sets glibc's M_PERTURB (mallopt(3)): every block malloc returns is
filled with zeros and every freed block with 0xFF. Memory the kernel maps fresh is zero
already. Call it once at process start (the server and the CLI do). Elsewhere than glibc it
does nothing and says so. Its cost, measured by bench/memory_zeroing.py: about 2 % on ingest
and 5 % on answering, near the noise between runs (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

logger = logging.getLogger(__name__)

M_PERTURB = -6  # glibc's mallopt parameter
_FREED_FILL = 0xFF  # freed blocks get this byte; new blocks its complement, 0x00


def zero_new_allocations() -> bool:
    """Ask glibc to clear every new allocation; True when it is in effect."""
    if not sys.platform.startswith("linux"):
        logger.info("not on Linux: freed memory is not cleared before reuse")
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        logger.warning("no glibc mallopt: freed memory is not cleared before reuse")
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_PERTURB, _FREED_FILL))
