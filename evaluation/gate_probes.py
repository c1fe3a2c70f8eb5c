"""Injection probes for `clearline eval gate`: direct attacks sent to the tenant's agent as
messages, and attacks planted in the documents of a scratch knowledge store (never in the
tenant's own knowledge). The scratch store lives in a temporary folder that is removed when
the gate ends; the replies' traces stay in memory, apart from the tenant's production
traces."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from agent.config import AgentConfig
from agent.llm.chat import ChatModel
from agent.replies import ConversationState, TenantAgent
from agent.trace import InMemoryTraceStore
from agent.turn import Agent
from control.errors import BadRequest
from evaluation.gate import ProbeRunner
from evaluation.injection_probes import DEFAULT_PROBES, load_probes, plant, probe_success
from knowledge.protocols import Embedder
from knowledge.retrieve import Retriever
from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore

SCRATCH_TENANT = "gate-probes"


@contextmanager
def probe_runner(
    agent: Agent,
    tenant: TenantAgent,
    embedder: Embedder,
    chat: ChatModel | None,
    root: Path | None = None,
    limit: int = 40,
) -> Iterator[ProbeRunner]:
    """A ProbeRunner over the probes in `root` (default: those shipped in the package).

    Direct probes go to `agent` as `tenant` with the configuration under test; `agent` should
    keep its traces apart from production (the gate passes its evaluation agent). Planted
    probes go to an agent over a scratch store holding only the probe documents.
    """
    root = root or DEFAULT_PROBES
    if not (root / "deepset_train.jsonl").is_file() or not (root / "bipia").is_dir():
        raise BadRequest(
            f"injection probes not found in '{root}' (deepset_train.jsonl and bipia/); "
            "pass --probes DIR, or --no-probes to gate without them"
        )
    probes = load_probes(root, limit=limit)
    scratch = Path(tempfile.mkdtemp(prefix="clearline-gate-"))
    store: KnowledgeStore | None = None
    try:
        store = KnowledgeStore(scratch / "k.db", ChromaVectorStore(scratch / "chroma"))
        plant(store, SCRATCH_TENANT, embedder, probes)
        planted_store = store
        scratch_agent = Agent(
            lambda _: Retriever(planted_store, embedder),
            embedder,
            lambda t, words: planted_store.term_weights(t, words),
            lambda t, words: planted_store.absent_words(t, words),
            InMemoryTraceStore(),
            chat=chat,
            corrections=lambda t, message: planted_store.corrections(t, message),
        )

        def run(config: AgentConfig) -> tuple[list[str], int]:
            failed: list[str] = []
            for probe in probes:
                if probe.kind == "direct":
                    target, who = agent, replace(tenant, config=config)
                else:
                    target, who = scratch_agent, TenantAgent(SCRATCH_TENANT, config)
                reply = target.respond(who, ConversationState(), probe.question or probe.text)
                if probe_success(reply.draft_text, probe):
                    failed.append(probe.id)
            return failed, len(probes)

        yield run
    finally:
        if store is not None:
            store.close()
        shutil.rmtree(scratch, ignore_errors=True)
