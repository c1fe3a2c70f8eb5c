"""The one place that imports ragas: a stand-in for a module it needs, and no network.

ragas 0.4.3 imports `ChatVertexAI` from `langchain_community.chat_models.vertexai`, which no
current langchain-community release ships, so `import ragas` fails. It uses the class only in
an isinstance check, so an empty stand-in class is enough. Upstream:
https://github.com/vibrantlabsai/ragas/issues/2745 (also #2741, #2753, #2995).

Offline: usage analytics are switched off (`RAGAS_DO_NOT_TRACK`, read by ragas on first use),
and ragas's default tokenizer, which would download a tiktoken encoding on first use (only
the testset generators use it), is replaced by a byte-level one that needs no files. The
metrics Clearline uses need neither tiktoken nor nltk data.

    ragas = import_ragas()
    from ragas.metrics._rouge_score import RougeScore
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import types
import warnings
from typing import Any

_STAND_IN = "langchain_community.chat_models.vertexai"
_lock = threading.Lock()


class ChatVertexAI:
    """Stand-in for the removed langchain-community class; never instantiated."""


class _ByteTokenizerMixin:
    """Counts UTF-8 bytes as tokens (about 4x tiktoken's count for English); offline."""

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, tokens: list[int]) -> str:
        return bytes(tokens).decode("utf-8", errors="replace")


def _register_stand_in() -> None:
    if _STAND_IN in sys.modules:
        return
    try:
        importlib.import_module(_STAND_IN)
        return  # an older langchain-community still ships it
    except ImportError:
        pass
    module = types.ModuleType(_STAND_IN)
    module.__dict__["ChatVertexAI"] = ChatVertexAI
    sys.modules[_STAND_IN] = module


def _offline_tokenizer(ragas_tokenizers: Any) -> None:
    base = ragas_tokenizers.BaseTokenizer
    tokenizer_class = type("OfflineByteTokenizer", (_ByteTokenizerMixin, base), {})
    ragas_tokenizers._default_tokenizer = tokenizer_class()


def import_ragas() -> types.ModuleType:
    """Import ragas offline and return the module (idempotent, thread-safe)."""
    with _lock:
        os.environ["RAGAS_DO_NOT_TRACK"] = "true"
        with warnings.catch_warnings():
            # langchain-community announces its own sunset on import; nothing for us to do
            warnings.simplefilter("ignore", DeprecationWarning)
            _register_stand_in()
            ragas = importlib.import_module("ragas")
        _offline_tokenizer(importlib.import_module("ragas.tokenizers"))
        return ragas
