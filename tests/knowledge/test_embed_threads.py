"""The torch embedder is shared by the request threads and the QA worker's thread. The fast
tokenizer under it (transformers 5) sets its padding and truncation on every call, which is
not thread-safe: found in session 34 when tests/privacy/test_redact_canary.py failed with
"Unable to create tensor, you should probably activate truncation and/or padding" while a
request and the QA worker embedded at once (huggingface/transformers#47085)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np


def test_counting_tokens_and_embedding_on_many_threads_at_once(minilm: Any) -> None:
    """Half the calls count the tokens of a long text (as ingestion does), half embed a
    batch of texts of different lengths; each gives what it gives on one thread. Without
    the lock, 6 of 600 such calls failed on this machine."""
    batches = [[f"question {i} " * (1 + i % 13)] * (1 + i % 5) + ["short"] for i in range(600)]

    def use(at: int) -> Any:
        if at % 2:
            return minilm.count_tokens(batches[at][0] * 50)
        return minilm.embed(batches[at])

    with ThreadPoolExecutor(max_workers=16) as pool:
        together = list(pool.map(use, range(len(batches))))
    for at in range(4):
        alone = use(at)
        assert np.allclose(alone, together[at], atol=1e-5) if at % 2 == 0 else alone == together[at]
