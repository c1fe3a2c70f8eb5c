"""Per-tenant agent configuration, procedures and the models built from them.

Admins change configuration and procedures through the API; each change bumps the config
version, which every trace records, and rebuilds that tenant's intent classifier and
procedure runner on next use.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import AgentConfig
from agent.procedures.actions import ActionClient
from agent.procedures.load import ProcedureSet
from agent.procedures.model import ProcedureError
from agent.procedures.runner import ProcedureRunner
from agent.replies import TenantAgent
from agent.understand.intents import IntentClassifier
from knowledge.protocols import Embedder
from service.errors import BadRequest, NotFound
from service.models import ProcedureRecord, TenantConfig
from service.settings import Settings


def config_error(error: ValidationError) -> BadRequest:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "config"
    return BadRequest(f"invalid agent configuration at '{where}': {first['msg']}")


class TenantAgents:
    """Loads, validates, stores and caches each tenant's agent setup."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, embedder: Embedder
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._embedder = embedder
        self._cache: dict[str, tuple[int, TenantAgent]] = {}
        self._lock = threading.Lock()
        self.actions = ActionClient(
            set(settings.actions_allowed_hosts),
            {"actions_token": settings.actions_token},
            settings.actions_timeout_s,
        )

    # -- configuration ---------------------------------------------------------------

    def config(self, tenant: str) -> AgentConfig:
        with self._sessions() as session:
            row = session.get(TenantConfig, tenant)
        if row is None:
            return AgentConfig()
        config = AgentConfig.model_validate_json(row.config)
        config.version = row.version
        return config

    def update(self, tenant: str, changes: dict[str, object]) -> AgentConfig:
        """Merge `changes` into the tenant's configuration; invalid input changes nothing."""
        existing = self.config(tenant)
        try:
            config = existing.merged(changes, version=existing.version + 1)
        except ValidationError as error:
            raise config_error(error) from None
        self._save(tenant, config)
        return config

    def _save(self, tenant: str, config: AgentConfig) -> None:
        with self._sessions.begin() as session:
            row = session.get(TenantConfig, tenant)
            if row is None:
                row = TenantConfig(tenant=tenant)
                session.add(row)
            row.version = config.version
            row.config = config.model_dump_json()
            row.updated_at = datetime.now(UTC)

    def _bump(self, tenant: str) -> None:
        config = self.config(tenant)
        config.version += 1
        self._save(tenant, config)

    # -- procedures ------------------------------------------------------------------

    def procedure_sources(self, tenant: str) -> dict[str, str]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ProcedureRecord).where(ProcedureRecord.tenant == tenant)
            ).all()
        return {row.id: row.source for row in rows}

    def _load(self, sources: dict[str, str]) -> ProcedureSet:
        texts = {f"{pid}.yaml": text for pid, text in sources.items()}
        return ProcedureSet.from_texts(texts, self._settings.actions_allowed_hosts)

    def put_procedure(self, tenant: str, source: str) -> str:
        """Validate one procedure (alone and with the tenant's others), then store it."""
        try:
            single = ProcedureSet.from_texts(
                {"upload.yaml": source}, self._settings.actions_allowed_hosts
            )
            procedure_id = next(iter(single)).id
            others = self.procedure_sources(tenant)
            others[procedure_id] = source
            procedures = self._load(others)
            ProcedureRunner(procedures, self.actions, {"actions_url": self._settings.actions_url})
        except ProcedureError as error:
            raise BadRequest(str(error)) from None
        with self._sessions.begin() as session:
            row = session.get(ProcedureRecord, (tenant, procedure_id))
            if row is None:
                session.add(ProcedureRecord(tenant=tenant, id=procedure_id, source=source))
            else:
                row.source = source
                row.updated_at = datetime.now(UTC)
        self._bump(tenant)
        return procedure_id

    def delete_procedure(self, tenant: str, procedure_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(ProcedureRecord, (tenant, procedure_id))
            if row is None:
                raise NotFound(f"procedure '{procedure_id}' does not exist")
            session.delete(row)
        self._bump(tenant)

    # -- the built agent -------------------------------------------------------------

    def agent(self, tenant: str) -> TenantAgent:
        config = self.config(tenant)
        with self._lock:
            cached = self._cache.get(tenant)
            if cached and cached[0] == config.version:
                return cached[1]
        built = self._build(tenant, config)
        with self._lock:
            self._cache[tenant] = (config.version, built)
        return built

    def _build(self, tenant: str, config: AgentConfig) -> TenantAgent:
        sources = self.procedure_sources(tenant)
        runner: ProcedureRunner | None = None
        by_intent: dict[str, str] = {}
        examples: dict[str, list[str]] = {k: list(v) for k, v in config.intents.items()}
        if sources:
            procedures = self._load(sources)
            runner = ProcedureRunner(
                procedures, self.actions, {"actions_url": self._settings.actions_url}
            )
            for procedure in procedures:
                for intent in procedure.intents:
                    by_intent[intent] = procedure.id
            for intent, texts in procedures.intent_examples().items():
                examples.setdefault(intent, []).extend(texts)
        classifier = IntentClassifier(self._embedder, examples) if len(examples) >= 2 else None
        return TenantAgent(tenant, config, classifier, runner, by_intent)

    def close(self) -> None:
        self.actions.close()
