"""Builds the long-lived objects of one process from Settings, once.

The CLI (working directly on a data directory) and the HTTP app share this wiring; both
hold the data directory's lock while a Runtime is open.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import cached_property
from pathlib import Path

from agent.llm.chat import ChatModel
from agent.llm.openai_chat import build_chat_model
from agent.turn import Agent
from ingest.chunk import ChunkingConfig
from ingest.guards import Limits
from ingest.pipeline import Ingestor
from ingest.worker import Budget
from knowledge.embed import MiniLMEmbedder
from knowledge.embed_onnx import OnnxMiniLMEmbedder, Variant
from knowledge.protocols import Embedder
from knowledge.retrieve import Retriever
from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore
from service.agents import TenantAgents
from service.conversations import Conversations, SqlTraceStore
from service.db import make_engine, migrate, session_factory
from service.errors import NotFound
from service.models import AuditEntry, Tenant
from service.qa import QaService
from service.settings import Settings
from service.tenants import Tenants

logger = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder:
    """The embedding backend the settings ask for (all share one model and its vectors'
    meaning, but their vectors differ slightly, so switching re-embeds on next ingest)."""
    if settings.embedder == "torch":
        return MiniLMEmbedder(threads=settings.embed_threads, batch_size=settings.embed_batch)
    variant: Variant = "int8" if settings.embedder == "onnx-int8" else "fp32"
    return OnnxMiniLMEmbedder(
        settings.data_dir / "models", variant, settings.embed_threads, settings.embed_batch
    )


class Runtime:
    """Settings, control database, embedder and per-region knowledge stores."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(f"sqlite:///{settings.control_db}")
        migrate(self.engine)
        self.sessions = session_factory(self.engine)
        self.tenants = Tenants(self.sessions)
        self.embedder: Embedder = embedder or build_embedder(settings)
        self._stores: dict[str, KnowledgeStore] = {}
        self._lock = threading.Lock()

    def store_for_region(self, region: str) -> KnowledgeStore:
        with self._lock:
            store = self._stores.get(region)
            if store is None:
                root = self.settings.region_dir(region)
                store = KnowledgeStore(root / "knowledge.db", ChromaVectorStore(root / "chroma"))
                finished = store.recover()
                if finished:
                    logger.warning("finished %d interrupted knowledge writes in %s", finished, root)
                self._stores[region] = store
            return store

    def store(self, tenant: str) -> KnowledgeStore:
        return self.store_for_region(self.tenants.get(tenant).region)

    def ensure_tenant(self, name: str) -> Tenant:
        """The tenant, created in the default region if allowed by settings."""
        tenant = self.tenants.find(name)
        if tenant is not None:
            return tenant
        if not self.settings.auto_create_tenants:
            raise NotFound(
                f"tenant '{name}' does not exist; create it with "
                f"`clearline tenant create {name} --region eu`"
            )
        logger.info("creating tenant %s in region %s", name, self.settings.default_region)
        return self.tenants.create(name, self.settings.default_region)

    def ingestor(self, tenant: str) -> Ingestor:
        s = self.settings
        return Ingestor(
            self.store(tenant),
            self.embedder,
            limits=Limits(max_file_bytes=s.max_file_bytes, max_unpacked_bytes=s.max_unpacked_bytes),
            budget=Budget(seconds=s.parse_timeout_s, memory_mb=s.parse_memory_mb),
            chunking=ChunkingConfig(s.chunk_max_tokens, s.chunk_overlap_tokens),
            embed_batch=s.embed_batch,
        )

    @cached_property
    def chat(self) -> ChatModel | None:
        s = self.settings
        return build_chat_model(s.chat_base_url, s.chat_model, s.chat_api_key, s.chat_timeout_s)

    @cached_property
    def agents(self) -> TenantAgents:
        return TenantAgents(self.sessions, self.settings, self.embedder)

    @cached_property
    def agent(self) -> Agent:
        models = {"embedder": self.embedder.name}
        if self.chat is not None:
            models["chat"] = self.chat.name
        return Agent(
            lambda tenant: Retriever(self.store(tenant), self.embedder),
            self.embedder,
            lambda tenant, words: self.store(tenant).term_weights(tenant, words),
            SqlTraceStore(self.sessions),
            chat=self.chat,
            models=models,
        )

    @cached_property
    def conversations(self) -> Conversations:
        return Conversations(self.sessions, self.agents, self.agent)

    @cached_property
    def judge(self) -> ChatModel | None:
        """The QA judge model: the chat model, when one is configured and judging is on."""
        return self.chat if self.settings.qa_judge else None

    @cached_property
    def qa(self) -> QaService:
        from evaluation.scoring import ReplyScorer

        scorer = ReplyScorer(self.embedder, judge=self.judge)
        return QaService(self.sessions, self.agents, scorer)

    def audit(self, tenant: str, actor: str, action: str, **detail: object) -> None:
        with self.sessions.begin() as session:
            session.add(
                AuditEntry(tenant=tenant, actor=actor, action=action, detail=json.dumps(detail))
            )

    def uploads_dir(self) -> Path:
        return self.settings.data_dir / "uploads"

    def close(self) -> None:
        if "agents" in self.__dict__:
            self.agents.close()
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
        self.engine.dispose()
