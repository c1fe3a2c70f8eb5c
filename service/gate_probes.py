"""Injection probes for `clearline eval gate`: direct attacks sent to the tenant's agent as
messages, and attacks planted in the documents of a scratch knowledge store (never in the
tenant's own knowledge)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from agent.config import AgentConfig
from agent.replies import ConversationState, TenantAgent
from agent.trace import InMemoryTraceStore
from agent.turn import Agent
from evaluation.gate import ProbeRunner
from evaluation.injection_probes import load_probes, plant, probe_success
from knowledge.retrieve import Retriever
from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore
from service.errors import BadRequest

DEFAULT_PROBES = Path("../shared/data/injection")
SCRATCH_TENANT = "gate-probes"


def probe_runner(runtime: Any, tenant: str, root: Path | None, limit: int = 40) -> ProbeRunner:
    """A ProbeRunner over `root` (default ../shared/data/injection)."""
    root = root or DEFAULT_PROBES
    if not (root / "deepset_train.jsonl").is_file() or not (root / "bipia").is_dir():
        raise BadRequest(
            f"injection probes not found in '{root}' (deepset_train.jsonl and bipia/); "
            "pass --probes DIR, or --no-probes to gate without them"
        )
    probes = load_probes(root, limit=limit)
    scratch = Path(tempfile.mkdtemp(prefix="clearline-gate-"))
    store = KnowledgeStore(scratch / "k.db", ChromaVectorStore(scratch / "chroma"))
    plant(store, SCRATCH_TENANT, runtime.embedder, probes)
    scratch_agent = Agent(
        lambda _: Retriever(store, runtime.embedder),
        runtime.embedder,
        lambda t, words: store.term_weights(t, words),
        InMemoryTraceStore(),
        chat=runtime.chat,
    )
    tenant_agent = runtime.agents.agent(tenant)

    def run(config: AgentConfig) -> tuple[list[str], int]:
        failed: list[str] = []
        for probe in probes:
            if probe.kind == "direct":
                agent, who = runtime.agent, TenantAgent(
                    tenant, config, tenant_agent.intents, tenant_agent.procedures,
                    tenant_agent.procedure_intents,
                )  # fmt: skip
            else:
                agent, who = scratch_agent, TenantAgent(SCRATCH_TENANT, config)
            reply = agent.respond(who, ConversationState(), probe.question or probe.text)
            if probe_success(reply.draft_text, probe):
                failed.append(probe.id)
        return failed, len(probes)

    return run
