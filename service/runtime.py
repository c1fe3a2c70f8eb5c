"""Builds the long-lived objects of one process from Settings, once.

The CLI (working directly on a data directory) and the HTTP app share this wiring; both
hold the data directory's lock while a Runtime is open.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from agent.answer.answerability import MODEL_DIR, AnswerabilityModel
from agent.answer.judge import AnswerabilityJudge
from agent.answer.planted import injection_rules
from agent.llm.chat import ChatModel
from agent.llm.openai_chat import build_chat_model
from agent.trace import InMemoryTraceStore, TraceStore
from agent.turn import Agent
from control import audit
from control.ai_usage import AiUsageBook
from control.db import DamagedDatabase, is_damaged, make_engine, migrate, refuse_emptied
from control.models import Tenant
from control.regional import RegionalSessions
from control.regional_legacy import move_to_regions
from control.secrets import SecretBox
from control.tenants import Tenants
from conversations.agents import TenantAgents
from conversations.connections import ActionConnections, own_api_origins
from conversations.dialogue import Conversations
from conversations.model_calls import CountingTraceStore, SizeLimitedChatModel
from conversations.regions import RegionalAgent, RegionalChatModel
from conversations.traces import SqlTraceStore
from evaluation.golden import GoldenSets
from evaluation.queue import ReviewQueue
from evaluation.worker import ReplyScoring
from ingest.chunk import ChunkingConfig
from ingest.guards import Limits
from ingest.pipeline import Ingestor, embedding_text
from ingest.planted import DocumentScreen
from ingest.worker import Budget
from knowledge.embed import MiniLMEmbedder
from knowledge.embed_onnx import OnnxMiniLMEmbedder, Variant
from knowledge.errors import DamagedVectorIndex
from knowledge.planted import PlantedInstructionClassifier
from knowledge.protocols import Embedder
from knowledge.reindex import drop_orphans, fill_missing
from knowledge.retrieve import Retriever
from knowledge.store import KnowledgeStore
from knowledge.vector_chroma import ChromaVectorStore
from privacy.detect import PiiDetector
from privacy.ingestion import PrivacySettingsStore
from service.settings import Settings

logger = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder:
    """The embedding backend the settings ask for (all share one model and its vectors'
    meaning, but their vectors differ slightly, so switching re-embeds on next ingest)."""
    if settings.embedder == "torch":
        return MiniLMEmbedder(threads=settings.embed_threads, batch_size=settings.embed_batch)
    variant: Variant = "int8" if settings.embedder == "onnx-int8" else "fp32"
    return OnnxMiniLMEmbedder(
        settings.model_cache, variant, settings.embed_threads, settings.embed_batch
    )


def open_region_store(root: Path) -> KnowledgeStore:
    """The knowledge store of the region folder `root`, refusing files that cannot be its:
    a damaged or emptied knowledge.db (DamagedDatabase), or a vector index missing beside a
    knowledge.db that holds chunks (DamagedVectorIndex: Chroma would start an empty one, and
    every question would go on with keyword search alone, unnoticed)."""
    path, index = root / "knowledge.db", root / "chroma"
    refuse_emptied(path, [index])
    had_index = index.exists()
    try:
        store = KnowledgeStore(path, ChromaVectorStore(index))
    except sqlite3.DatabaseError as error:  # the store opens SQLite itself
        if is_damaged(error):
            raise DamagedDatabase(str(path), str(error)) from error
        raise
    if not had_index:
        with store.transaction() as db:
            chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        if chunks:
            store.close()
            raise DamagedVectorIndex(
                str(index), f"it is missing, and {path.name} beside it holds {chunks} chunks"
            )
    return store


class Runtime:
    """Settings, control database, embedder and per-region knowledge stores."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        answerability_dir: Path | None = None,
    ) -> None:
        """`answerability_dir`: another answerability model directory than the shipped one
        (bench/calibration_fit.py collects with a retrained model before its reply map exists)."""
        self.settings = settings
        self._answerability_dir = answerability_dir
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}
        refuse_emptied(settings.control_db, [settings.data_dir / "regions"])
        self.engine = make_engine(f"sqlite:///{settings.control_db}")  # the directory
        migrate(self.engine)
        self.sessions = RegionalSessions(self.engine, self.region_engine)
        move_to_regions(settings.control_db, self._migrated_region_db)
        self.sessions.mirror_tenants()
        self.tenants = Tenants(self.sessions, on_create=self.sessions.mirror)
        self.embedder: Embedder = embedder or build_embedder(settings)
        self._stores: dict[str, KnowledgeStore] = {}

    def region_engine(self, region: str) -> Engine:
        """The region's control database (created and migrated on first use)."""
        with self._lock:
            engine = self._engines.get(region)
            if engine is None:
                path = self.settings.region_db(region)
                path.parent.mkdir(parents=True, exist_ok=True)
                refuse_emptied(path, [path.parent / "knowledge.db", path.parent / "chroma"])
                engine = make_engine(f"sqlite:///{path}")
                migrate(engine)
                self._engines[region] = engine
            return engine

    def _migrated_region_db(self, region: str) -> Path:
        self.region_engine(region)
        return self.settings.region_db(region)

    def store_for_region(self, region: str) -> KnowledgeStore:
        with self._lock:
            store = self._stores.get(region)
            if store is None:
                root = self.settings.region_dir(region)
                store = open_region_store(root)
                finished = store.recover()
                if finished:
                    logger.warning("finished %d interrupted knowledge writes in %s", finished, root)
                for gap in fill_missing(store, self.embedder, embedding_text):
                    logger.warning(
                        "the vector index %s lacked %d of the %d vectors of tenant %s (an "
                        "older backup of it, or a crash); they were made again from "
                        "knowledge.db",
                        root / "chroma", gap.filled, gap.chunks, gap.tenant,
                    )  # fmt: skip
                for extra in drop_orphans(store):
                    logger.warning(
                        "the vector index %s held %d vectors of tenant %s that knowledge.db "
                        "has no chunk for (a backup of the index restored after sources were "
                        "deleted, or an older knowledge.db); they were removed",
                        root / "chroma", extra.dropped, extra.tenant,
                    )  # fmt: skip
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
            return self.tenants.get(name)  # raises: the naming rule, or how to create it
        logger.info("creating tenant %s in region %s", name, self.settings.default_region)
        return self.tenants.create(name, self.settings.default_region)

    def ingestor(self, tenant: str) -> Ingestor:
        s = self.settings
        privacy = PrivacySettingsStore(self.sessions)  # redaction at ingestion, if switched on
        return Ingestor(
            self.store(tenant),
            self.embedder,
            limits=Limits(max_file_bytes=s.max_file_bytes, max_unpacked_bytes=s.max_unpacked_bytes),
            budget=Budget(seconds=s.parse_timeout_s, memory_mb=s.parse_memory_mb),
            chunking=ChunkingConfig(s.chunk_max_tokens, s.chunk_overlap_tokens),
            embed_batch=s.embed_batch,
            redaction=privacy.ingest_redaction(tenant, self.pii_detector),
            # planted instructions: Clearline's classifier and the injection rules
            screen=DocumentScreen(PlantedInstructionClassifier(self.embedder), injection_rules),
        )

    @cached_property
    def chat(self) -> ChatModel | None:
        s = self.settings
        if s.region_chat_base_urls:  # each region its own endpoint (conversations/regions.py)
            urls = s.region_chat_base_urls
            return RegionalChatModel({region: self._chat_at(url) for region, url in urls.items()})
        base_url = (s.chat_base_url or "").strip()
        return self._chat_at(base_url) if base_url else None

    def _chat_at(self, base_url: str) -> ChatModel:
        s = self.settings
        chat = build_chat_model(
            base_url, s.chat_model, s.chat_api_key, s.chat_timeout_s, detector=self.pii_detector
        )
        assert chat is not None  # a base URL was given
        return SizeLimitedChatModel(chat, s.chat_max_request_chars)

    @cached_property
    def pii_detector(self) -> PiiDetector:
        """The one personal-data detector of the process (models load on first use)."""
        return PiiDetector()

    @cached_property
    def agents(self) -> TenantAgents:
        s = self.settings
        key = s.secrets_key.get_secret_value() if s.secrets_key else None
        box = SecretBox.from_settings(key, s.data_dir / "secrets.key")
        connections = ActionConnections(self.sessions, box, own_api_origins(s.host, s.port))
        return TenantAgents(
            self.sessions, connections, self.embedder, self.answerability.own_threshold,
            s.actions_timeout_s,
        )

    def models(self) -> dict[str, str]:
        """The models every tenant's turns may use, by kind: the embedder, and the chat
        model when one is configured (a trace adds what estimated P(answerable))."""
        models = {"embedder": self.embedder.name}
        if self.chat is not None:
            models["chat"] = self.chat.name
        return models

    def _agent(self, traces: TraceStore) -> Agent:
        return RegionalAgent(
            lambda tenant: Retriever(self.store(tenant), self.embedder),
            self.embedder,
            lambda tenant, words: self.store(tenant).term_weights(tenant, words),
            lambda tenant, words: self.store(tenant).absent_words(tenant, words),
            traces,
            chat=self.chat,
            models=self.models(),
            answerability=self.answerability,
            corrections=lambda tenant, message: self.store(tenant).corrections(tenant, message),
            region_of=self.region_of,
        )

    @cached_property
    def agent(self) -> Agent:
        """The production agent: its traces go to the control database, where the QA loop
        scores them."""
        usage = AiUsageBook(self.sessions)  # model calls counted per tenant (GET /v1/ai/usage)
        traces = SqlTraceStore(self.sessions)
        return self._agent(CountingTraceStore(traces, usage, self.region_of))

    @cached_property
    def answerability(self) -> AnswerabilityJudge:
        """What estimates P(answerable), for the production and the evaluation agent alike
        (the shipped model unless `answerability_dir` names another; loaded on first use)."""
        directory = self._answerability_dir or MODEL_DIR
        return AnswerabilityJudge(AnswerabilityModel(self.embedder, directory))

    def region_of(self, tenant: str) -> str:
        return self.tenants.get(tenant).region

    @cached_property
    def evaluation_agent(self) -> Agent:
        """The same agent on the same knowledge for `eval answers` and `eval gate`: its
        traces stay in this process's memory, so the QA loop never scores them, they never
        enter the review queue or the quality report, and `clearline trace` does not find
        them."""
        return self._agent(InMemoryTraceStore())

    @cached_property
    def conversations(self) -> Conversations:
        return Conversations(self.sessions, self.agents, self.agent,
                             on_reply=self.review_queue.on_reply)  # fmt: skip

    @cached_property
    def judge(self) -> ChatModel | None:
        """The QA judge model: the chat model, when one is configured and judging is on."""
        return self.chat if self.settings.qa_judge else None

    @cached_property
    def golden(self) -> GoldenSets:
        return GoldenSets(self.sessions)

    @cached_property
    def review_queue(self) -> ReviewQueue:
        return ReviewQueue(self.sessions, self.golden)

    @cached_property
    def scoring(self) -> ReplyScoring:
        """Scores production replies (the traces in the control database)."""
        from evaluation.scoring import ReplyScorer

        scorer = ReplyScorer(self.embedder, judge=self.judge)
        return ReplyScoring(self.sessions, self.agents.config, scorer, self.golden,
                            self.review_queue)  # fmt: skip

    def audit(self, tenant: str, actor: str, action: str, **detail: object) -> None:
        """Append to the tenant's audit log (audit.record enters the tenant's region)."""
        audit.record(self.sessions, tenant, actor, action, **detail)

    def uploads_dir(self, tenant: str) -> Path:
        """Where uploads wait for ingestion: under the tenant's region's root."""
        return self.settings.region_dir(self.region_of(tenant)) / "uploads"

    def close(self) -> None:
        if "agents" in self.__dict__:
            self.agents.close()
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        self.engine.dispose()
