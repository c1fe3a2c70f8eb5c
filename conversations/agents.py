"""Per-tenant agent configuration, procedures and the models built from them.

Admins change configuration and procedures through the API; each change bumps the config
version, which every trace records, and rebuilds that tenant's intent classifier and
procedure runner on next use.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import AgentConfig, clarify_problem
from agent.procedures.actions import ActionClient, HttpPool
from agent.procedures.connections import Connection
from agent.procedures.load import ProcedureSet
from agent.procedures.model import ProcedureError
from agent.procedures.runner import ProcedureRunner
from agent.replies import TenantAgent
from agent.understand.intents import IntentClassifier, examples_problem
from agent.understand.records import OUT_OF_SCOPE, intent_name_problem
from control.errors import BadRequest, Conflict, NotFound, quoted
from control.models import ProcedureRecord, TenantConfig
from control.regional import tenant_regions
from conversations import versions
from conversations.connections import ActionConnections, ConnectionSpec, ConnectionView
from conversations.versions import StoredProcedure
from knowledge.protocols import Embedder

logger = logging.getLogger(__name__)


def config_error(error: ValidationError) -> BadRequest:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "config"
    return BadRequest(f"invalid agent configuration at '{where}': {first['msg']}")


@tenant_regions
class TenantAgents:
    """Loads, validates, stores and caches each tenant's agent setup. `own_threshold`: a
    reader's own answer threshold (agent.answer.judge.AnswerabilityJudge.own_threshold)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        connections: ActionConnections,
        embedder: Embedder,
        own_threshold: Callable[[str], float],
        actions_timeout_s: float = 5.0,
    ) -> None:
        self._sessions, self._own_threshold = sessions, own_threshold
        self.connections = connections
        self._embedder = embedder
        self._actions_timeout_s = actions_timeout_s
        self._cache: dict[str, tuple[int, TenantAgent]] = {}
        self._building: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._http = HttpPool()  # shared; each tenant's client calls only its connections

    # -- configuration ---------------------------------------------------------------

    def config(self, tenant: str) -> AgentConfig:
        with self._sessions() as session:
            row = session.get(TenantConfig, tenant)
        if row is None:
            return AgentConfig()
        config = _stored_config(tenant, row.config)
        config.version = row.version
        return config

    def version(self, tenant: str) -> int:
        with self._sessions() as session:
            return versions.current(session, tenant)

    def update(
        self, tenant: str, changes: dict[str, object], expected: int | None = None
    ) -> AgentConfig:
        """Merge `changes` into the tenant's configuration as one compare-and-set change:
        VersionConflict if `expected` (the version the caller read) is not the stored one;
        invalid input changes nothing."""
        with self._sessions.begin() as session:
            version = versions.bump(session, tenant)
            versions.check("the agent configuration", expected, version - 1)
            row = session.get(TenantConfig, tenant)
            assert row is not None
            stored = _stored_config(tenant, row.config)
            try:
                config = stored.merged(changes, version)
            except ValidationError as error:
                raise config_error(error) from None
            self._check_intents(session, tenant, config, stored)
            if problem := clarify_problem(config, stored, self._own_threshold):
                raise BadRequest(f"invalid agent configuration at 'thresholds.clarify': {problem}")
            row.config = config.model_dump_json()
        return config

    def _check_intents(
        self, session: Session, tenant: str, config: AgentConfig, stored: AgentConfig
    ) -> None:
        """BadRequest if the change adds an intent whose name is reserved or malformed
        (agent.understand.records.intent_name_problem) or is a procedure's intent (the
        configuration's intents are those that start no procedure), removes an intent that
        `autonomous_intents` still lists, or if `autonomous_intents` adds a name that is no
        intent of the tenant's (its configuration's or its procedures'). Names stored before
        these rules stay: refusing them would block the admin's every other change (an
        intent named `out_of_scope` is left out when the agent is built)."""
        loaded: list[ProcedureSet] = []

        def procedures() -> ProcedureSet:
            if not loaded:
                loaded.append(self._stored_procedures(session, tenant))
            return loaded[0]

        for name in (n for n in config.intents if n not in stored.intents):
            problem = intent_name_problem(name)
            owner = None if problem else next((p for p in procedures() if name in p.intents), None)
            if owner is not None:
                problem = (
                    f"'{name}' is an intent of procedure '{owner.id}'; these intents start no "
                    "procedure, so add its examples to that procedure instead"
                )
            if problem:
                raise BadRequest(f"invalid agent configuration at 'intents': {problem}")
        if config.intents != stored.intents:
            problem = examples_problem(self._examples(config.intents, procedures()))
            if problem:
                raise BadRequest(f"invalid agent configuration at 'intents': {problem}")
        listed = set(config.autonomous_intents)
        gone = sorted((set(stored.intents) - set(config.intents)) & listed)
        if gone:
            names = ", ".join(gone)
            raise BadRequest(
                f"invalid agent configuration at 'intents': {names} "
                f"{'is' if len(gone) == 1 else 'are'} listed in autonomous_intents; take "
                f"{'it' if len(gone) == 1 else 'them'} out of autonomous_intents in the same change"
            )
        added = listed - set(stored.autonomous_intents)
        if not added:
            return
        known = set(config.intents) | {i for p in procedures() for i in p.intents}
        unknown = sorted(added - known)
        if unknown:
            raise BadRequest(
                f"invalid agent configuration at 'autonomous_intents': unknown intent(s) "
                f"{', '.join(unknown)}; known: {', '.join(sorted(known)) or 'none'} (the "
                "configuration's intents and the procedures' intents)"
            )

    def _stored_procedures(self, session: Session, tenant: str) -> ProcedureSet:
        rows = session.scalars(select(ProcedureRecord).where(ProcedureRecord.tenant == tenant))
        sources = {row.id: row.source for row in rows}
        return self._loadable(tenant, sources, self.connections.all(tenant, session))

    @staticmethod
    def _examples(
        intents: Mapping[str, list[str]], procedures: ProcedureSet
    ) -> dict[str, list[str]]:
        """Every example utterance the tenant's classifier is fitted on, by intent: the
        configuration's `intents` and the procedures'."""
        examples = {name: list(texts) for name, texts in intents.items()}
        for intent, texts in procedures.intent_examples().items():
            examples.setdefault(intent, []).extend(texts)
        return examples

    # -- procedures ------------------------------------------------------------------

    def procedure_sources(self, tenant: str) -> dict[str, str]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ProcedureRecord).where(ProcedureRecord.tenant == tenant)
            ).all()
        return {row.id: row.source for row in rows}

    def _load(self, sources: dict[str, str], connections: dict[str, Connection]) -> ProcedureSet:
        texts = {f"{pid}.yaml": text for pid, text in sources.items()}
        return ProcedureSet.from_texts(texts, connections)

    def _client(self, connections: dict[str, Connection]) -> ActionClient:
        return ActionClient(connections, self._actions_timeout_s, self._http)

    def procedures(self, tenant: str) -> list[StoredProcedure]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ProcedureRecord)
                .where(ProcedureRecord.tenant == tenant)
                .order_by(ProcedureRecord.id)
            ).all()
        return [StoredProcedure(row.id, row.source, row.version) for row in rows]

    def procedure(self, tenant: str, procedure_id: str) -> StoredProcedure:
        with self._sessions() as session:
            row = session.get(ProcedureRecord, (tenant, procedure_id))
        if row is None:
            raise NotFound(f"procedure {quoted(procedure_id)} does not exist")
        return StoredProcedure(row.id, row.source, row.version)

    def put_procedure(self, tenant: str, source: str) -> str:
        """Store one procedure whatever its version (the demo's set-up); returns its id."""
        return self.save_procedure(tenant, source).id

    def procedure_id(self, tenant: str, source: str) -> str:
        """The id of the procedure in `source`; BadRequest (saying where) if it is not a
        valid procedure for this tenant's connections on its own."""
        try:
            single = ProcedureSet.from_texts({"upload.yaml": source}, self.connections.all(tenant))
        except ProcedureError as error:
            raise BadRequest(str(error)) from None
        return next(iter(single)).id

    def save_procedure(
        self, tenant: str, source: str, expected: int | None = None
    ) -> StoredProcedure:
        """Validate one procedure (alone and with the tenant's others) against the tenant's
        own connections, then store it as one compare-and-set change: VersionConflict if
        `expected` is not its stored version (0: it must not exist yet)."""
        procedure_id = self.procedure_id(tenant, source)
        with self._sessions.begin() as session:
            versions.bump(session, tenant)  # first: the write lock, then a stable view
            connections = self.connections.all(tenant, session)
            rows = session.scalars(
                select(ProcedureRecord).where(ProcedureRecord.tenant == tenant)
            ).all()
            row = next((r for r in rows if r.id == procedure_id), None)
            versions.check(f"procedure '{procedure_id}'", expected, row.version if row else 0)
            sources = {r.id: r.source for r in rows} | {procedure_id: source}
            try:
                procedures = self._load(sources, connections)
                ProcedureRunner(procedures, self._client(connections))
            except ProcedureError as error:
                raise BadRequest(str(error)) from None
            saved = session.get(TenantConfig, tenant)
            config = _stored_config(tenant, saved.config) if saved else AgentConfig()
            shared = sorted(set(procedures.get(procedure_id).intents) & set(config.intents))
            if shared:
                raise BadRequest(
                    f"procedure '{procedure_id}': intent '{shared[0]}' is in the agent "
                    "configuration's intents, which start no procedure; remove it there first, "
                    "or give this procedure's intent another name"
                )
            problem = examples_problem(self._examples(config.intents, procedures))
            if problem:
                raise BadRequest(f"procedure '{procedure_id}': {problem}")
            if row is None:
                row = ProcedureRecord(tenant=tenant, id=procedure_id, source=source, version=1)
                session.add(row)
            else:
                row.source, row.version = source, row.version + 1
                row.updated_at = datetime.now(UTC)
            stored = StoredProcedure(procedure_id, source, row.version)
        return stored

    def delete_procedure(self, tenant: str, procedure_id: str, expected: int | None = None) -> None:
        """Remove one procedure; VersionConflict if `expected` is not its stored version."""
        with self._sessions.begin() as session:
            versions.bump(session, tenant)
            row = session.get(ProcedureRecord, (tenant, procedure_id))
            if row is None:
                raise NotFound(f"procedure {quoted(procedure_id)} does not exist")
            versions.check(f"procedure '{procedure_id}'", expected, row.version)
            session.delete(row)

    # -- action connections ----------------------------------------------------------

    def put_connection(self, tenant: str, name: str, spec: ConnectionSpec) -> ConnectionView:
        """Add or replace a connection as one change of the tenant's agent; refused if a
        stored procedure would stop working with it."""
        connection = self.connections.build(tenant, name, spec)
        with self._sessions.begin() as session:
            versions.bump(session, tenant)  # first: the write lock, then a stable view
            changed = {**self.connections.all(tenant, session), name: connection}
            self._check_procedures(session, tenant, changed)
            self.connections.save(session, tenant, connection)
        return self.connections.view(tenant, name)

    def delete_connection(self, tenant: str, name: str) -> None:
        """Remove a connection; refused while a stored procedure uses it."""
        with self._sessions.begin() as session:
            versions.bump(session, tenant)
            remaining = self.connections.all(tenant, session)
            if remaining.pop(name, None) is None:
                raise NotFound(f"connection {quoted(name)} does not exist")
            self._check_procedures(session, tenant, remaining)
            self.connections.delete(session, tenant, name)

    def _check_procedures(
        self, session: Session, tenant: str, connections: dict[str, Connection]
    ) -> None:
        rows = session.scalars(select(ProcedureRecord).where(ProcedureRecord.tenant == tenant))
        try:
            self._load({row.id: row.source for row in rows}, connections)
        except ProcedureError as error:
            raise Conflict(
                f"this change would break a stored procedure ({error}); change or delete "
                "that procedure first"
            ) from None

    # -- the built agent -------------------------------------------------------------

    def agent(self, tenant: str) -> TenantAgent:
        """The tenant's agent as of its current version: never an older one. One build per
        tenant at a time; a build during which the version moved is done again, and the
        cache only ever moves forward."""
        cached = self._cached(tenant, self.version(tenant))
        if cached is not None:
            return cached
        with self._lock:
            building = self._building.setdefault(tenant, threading.Lock())
        with building:
            cached = self._cached(tenant, self.version(tenant))
            if cached is not None:
                return cached
            for _ in range(5):
                config = self.config(tenant)
                built = self._build(tenant, config)
                if self.version(tenant) == config.version:
                    break  # nothing changed while building: `built` is that version's
            with self._lock:
                held = self._cache.get(tenant)
                if held is None or held[0] <= config.version:
                    self._cache[tenant] = (config.version, built)
        return built

    def _cached(self, tenant: str, version: int) -> TenantAgent | None:
        with self._lock:
            held = self._cache.get(tenant)
        return held[1] if held is not None and held[0] == version else None

    def _build(self, tenant: str, config: AgentConfig) -> TenantAgent:
        sources = self.procedure_sources(tenant)
        runner: ProcedureRunner | None = None
        by_intent: dict[str, str] = {}
        intents = dict(config.intents)
        if intents.pop(OUT_OF_SCOPE, None) is not None:  # stored before names were checked
            logger.error("tenant %s: the intent '%s' is left out: %s", tenant, OUT_OF_SCOPE,
                         intent_name_problem(OUT_OF_SCOPE))  # fmt: skip
        procedures = ProcedureSet([])
        if sources:
            connections = self.connections.all(tenant)
            procedures = self._loadable(tenant, sources, connections)
            runner = ProcedureRunner(procedures, self._client(connections))
            for procedure in procedures:
                for intent in procedure.intents:
                    by_intent[intent] = procedure.id
        examples = self._examples(intents, procedures)
        classifier = IntentClassifier(self._embedder, examples) if len(examples) >= 2 else None
        return TenantAgent(tenant, config, classifier, runner, by_intent)

    def _loadable(
        self, tenant: str, sources: dict[str, str], connections: dict[str, Connection]
    ) -> ProcedureSet:
        """The stored procedures that load; one that does not (stored before action
        connections existed, say) is left out and logged, so the tenant's agent still runs."""
        try:
            return self._load(sources, connections)
        except ProcedureError as error:
            logger.error("tenant %s: a stored procedure is left out until fixed: %s", tenant, error)
        good: dict[str, str] = {}
        for procedure_id, text in sources.items():
            try:
                self._load({procedure_id: text}, connections)
                good[procedure_id] = text
            except ProcedureError:
                continue
        return self._load(good, connections)

    def close(self) -> None:
        self._http.close()


_TEXTS = ("disclosure", "privacy_notice")


def _stored_config(tenant: str, text: str) -> AgentConfig:
    """A stored configuration. One saved before the disclosure and notice had rules (blank,
    control characters, over 4,000 characters) loads with the default text in that field
    and a warning, so the tenant's conversations and its admin's next change still work."""
    try:
        return AgentConfig.model_validate_json(text)
    except ValidationError as error:
        failed = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
        if not failed or not failed <= set(_TEXTS):
            raise
        logger.warning("tenant %s: stored %s broke the rules; the default is shown",
                       tenant, " and ".join(sorted(failed)))  # fmt: skip
        data = json.loads(text)
        for field in failed:
            data.pop(field, None)
        return AgentConfig.model_validate(data)
